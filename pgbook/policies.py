"""Parameterized stochastic policies and their score functions.

The softmax (Boltzmann) policies act on finite state and action spaces, over preferences ``h_theta(s, a)``:

    pi_theta(a|s) = exp h_theta(s, a) / sum_b exp h_theta(s, b),
    grad log pi_theta(a|s) = grad h_theta(s, a) - sum_b pi_theta(b|s) grad h_theta(s, b).

:class:`TabularSoftmax` has one preference per pair, ``h = theta[s, a]``; :class:`LinearSoftmax` has
linear preferences ``h = theta . phi(s, a)`` over features ``phi`` of shape (S, A, d). Their
``probs``, ``grad_log_probs`` and ``weighted_score`` also take a *batch* of parameters, an array of
shape ``batch_shape + theta_shape``, and then return results with the same leading ``batch_shape``.

:class:`GaussianPolicy` is the continuous-action policy ``a ~ N(theta_mu . phi(s), sigma^2)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .validation import as_float_array, check_positive_int, make_rng, reduce_keepdims


def softmax(h: np.ndarray, axis: int = -1) -> np.ndarray:
    """Numerically stable softmax along ``axis``: ``exp(h - max h) / sum exp(h - max h)``."""
    h = np.asarray(h, dtype=float)
    z = h - reduce_keepdims(np.maximum, h, axis)
    e = np.exp(z, out=z)
    e /= reduce_keepdims(np.add, e, axis)
    return e


def cdf_table(probs: np.ndarray) -> np.ndarray:
    """Row-wise cumulative sums of a table of distributions, scaled so that each row ends at exactly 1."""
    cdf = np.cumsum(probs, axis=-1)
    return cdf / cdf[..., -1:]


def draw_from_cdf(cdf: np.ndarray, rows: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One inverse-CDF draw from each row ``cdf[rows]``: the number of entries ``<= u``, ``u ~ U[0, 1)``.

    Each row ends at exactly 1 > u, so the draw is a valid index, and an outcome of probability 0 (an
    entry equal to the one before it) is never drawn. Vectorized over any shape of ``rows``.
    """
    u = rng.random(np.shape(rows))
    return (u[..., None] >= cdf[rows]).sum(axis=-1)


def sample_actions(pi: np.ndarray, states: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Draw one action per entry of ``states`` from the rows ``pi[states]`` of a policy table."""
    return draw_from_cdf(cdf_table(pi), np.asarray(states), rng)


class SoftmaxPolicy:
    """Common interface: ``probs``, ``grad_log_probs``, ``weighted_score`` and ``sample``.

    ``probs``, ``grad_log_probs`` and ``weighted_score`` accept one parameter (shape ``theta_shape``)
    or a batch of them (shape ``batch_shape + theta_shape``); ``sample`` takes one parameter.
    """

    n_states: int
    n_actions: int
    theta_shape: tuple[int, ...]

    @property
    def n_params(self) -> int:
        return int(np.prod(self.theta_shape))

    def check_theta(self, theta: Any, batch: bool = False) -> np.ndarray:
        """Return ``theta`` as a float array, raising ``ValueError`` on a wrong shape or NaN.

        The shape must be ``theta_shape``; with ``batch=True`` also ``batch_shape + theta_shape``.
        """
        arr = as_float_array("theta", theta)
        k = len(self.theta_shape)
        if arr.ndim < k or arr.shape[arr.ndim - k :] != self.theta_shape or (arr.ndim > k and not batch):
            batched = f" or a batch of them, (..., {', '.join(map(str, self.theta_shape))})" if batch else ""
            raise ValueError(f"theta: expected shape {self.theta_shape}{batched} for {self!r}, got {arr.shape}")
        return arr

    def zeros(self) -> np.ndarray:
        """The parameter with all preferences equal: the uniform policy."""
        return np.zeros(self.theta_shape)

    def preferences(self, theta: Any) -> np.ndarray:  # pragma: no cover - overridden
        raise NotImplementedError

    def probs(self, theta: Any) -> np.ndarray:
        """``pi[..., s, a] = pi_theta(a|s)``, shape ``batch_shape + (S, A)``; rows sum to 1."""
        return softmax(self.preferences(theta), axis=-1)

    def grad_log_probs(self, theta: Any) -> np.ndarray:  # pragma: no cover - overridden
        raise NotImplementedError

    def weighted_score(self, theta: Any, weights: Any) -> np.ndarray:
        """``sum_{s,a} w[..., s, a] grad log pi_theta(a|s)``, without forming the score table.

        With one ``theta``, leading axes of ``weights`` (shape ``leading + (S, A)``) are kept: one
        gradient per weight table, shape ``leading + theta_shape`` (how ``estimators`` turns per-episode
        tables into per-episode gradients). With a batch ``theta`` of shape ``batch_shape + theta_shape``,
        ``theta[i]`` pairs with ``weights[i]``: ``batch_shape`` and ``leading`` are broadcast together
        (NumPy rules, aligned from the right), and the result has shape ``broadcast + theta_shape``.
        """
        return self._weighted_score_at(self.probs(theta), weights)

    def _weighted_score_at(self, pi: np.ndarray, weights: Any) -> np.ndarray:  # pragma: no cover - overridden
        """``weighted_score`` given the table ``pi = probs(theta)`` (``exact`` has it already)."""
        raise NotImplementedError

    def _centred_weights(self, pi: np.ndarray, weights: Any) -> np.ndarray:
        """``c[..., s, b] = w[..., s, b] - pi(b|s) sum_a w[..., s, a]``, checking ``weights``.

        ``c`` is the weighted score with respect to the preferences:
        ``sum_{s,a} w[s, a] d log pi(a|s) / d h(s', b) = c[s', b]``.
        """
        w = as_float_array("weights", weights)
        if w.ndim < 2 or w.shape[-2:] != (self.n_states, self.n_actions):
            raise ValueError(f"weights: expected trailing shape ({self.n_states}, {self.n_actions}), got {w.shape}")
        try:
            np.broadcast_shapes(pi.shape[:-2], w.shape[:-2])
        except ValueError:
            raise ValueError(
                f"weights: leading shape {w.shape[:-2]} does not broadcast with theta's batch shape "
                f"{pi.shape[:-2]} (NumPy rules, aligned from the right)"
            ) from None
        return w - pi * reduce_keepdims(np.add, w, -1)

    def sample(self, theta: Any, states: Any, seed: Any = None) -> np.ndarray:
        """Draw ``a ~ pi_theta(.|s)`` for every entry of the integer array ``states`` (one ``theta``)."""
        s = check_states(states, self.n_states)
        return sample_actions(self.probs(self.check_theta(theta)), s, make_rng(seed))


def check_states(states: Any, n_states: int) -> np.ndarray:
    """Return ``states`` as an integer array, raising unless every entry is a state index in [0, S)."""
    s = np.asarray(states)
    if not np.issubdtype(s.dtype, np.integer):
        raise ValueError(f"states: expected integer state indices, got dtype {s.dtype}")
    if s.size and (s.min() < 0 or s.max() >= n_states):
        raise ValueError(f"states: indices must lie in [0, {n_states - 1}], got range [{s.min()}, {s.max()}]")
    return s


class TabularSoftmax(SoftmaxPolicy):
    """One preference per state-action pair: ``theta`` has shape (S, A) and ``h(s, a) = theta[s, a]``.

    Score: ``d log pi(a|s) / d theta[s', b] = 1[s' = s] (1[b = a] - pi(b|s))``.
    A batch of parameters has shape ``batch_shape + (S, A)``.
    """

    def __init__(self, n_states: int, n_actions: int) -> None:
        self.n_states = check_positive_int("n_states", n_states)
        self.n_actions = check_positive_int("n_actions", n_actions)
        self.theta_shape = (self.n_states, self.n_actions)

    def __repr__(self) -> str:
        return f"TabularSoftmax(n_states={self.n_states}, n_actions={self.n_actions})"

    def preferences(self, theta: Any) -> np.ndarray:
        return self.check_theta(theta, batch=True)

    def grad_log_probs(self, theta: Any) -> np.ndarray:
        """Score table of shape ``batch_shape + (S, A, S, A)``: entry ``[..., s, a, s', b]`` is
        ``d log pi(a|s) / d theta[s', b] = 1[s' = s] (1[b = a] - pi(b|s))``."""
        pi = self.probs(theta)
        S, A = self.theta_shape
        return np.eye(S)[:, None, :, None] * (np.eye(A)[:, None, :] - pi[..., :, None, None, :])

    def _weighted_score_at(self, pi: np.ndarray, weights: Any) -> np.ndarray:
        """For the tabular softmax, ``sum_{s,a} w[s, a] grad log pi(a|s)`` is ``w[s, b] - pi(b|s) sum_a w[s, a]``."""
        return self._centred_weights(pi, weights)


class LinearSoftmax(SoftmaxPolicy):
    """Boltzmann policy over linear preferences ``h(s, a) = theta . phi(s, a)``, ``phi`` of shape (S, A, d).

    Score: ``grad log pi(a|s) = phi(s, a) - sum_b pi(b|s) phi(s, b)``.
    A batch of parameters has shape ``batch_shape + (d,)``.
    """

    def __init__(self, features: Any) -> None:
        self.features = _frozen_features(features, ndim=3)
        self.n_states, self.n_actions, d = self.features.shape
        self.theta_shape = (d,)
        self._features_by_param = np.ascontiguousarray(self.features.reshape(-1, d).T)  # (d, S * A)

    def __repr__(self) -> str:
        S, A, d = self.features.shape
        return f"LinearSoftmax(S={S}, A={A}, d={d})"

    def preferences(self, theta: Any) -> np.ndarray:
        theta = self.check_theta(theta, batch=True)
        return (theta @ self._features_by_param).reshape(theta.shape[:-1] + self.features.shape[:2])

    def grad_log_probs(self, theta: Any) -> np.ndarray:
        """Score table of shape ``batch_shape + (S, A, d)``: ``phi(s, a) - E_{b ~ pi(.|s)} phi(s, b)``."""
        pi = self.probs(theta)
        mean_phi = np.einsum("...sb,sbd->...sd", pi, self.features)
        return self.features - mean_phi[..., :, None, :]

    def _weighted_score_at(self, pi: np.ndarray, weights: Any) -> np.ndarray:
        """``sum_{s,a} w[s, a] grad log pi(a|s) = sum_{s,b} c[s, b] phi(s, b)``, with ``c`` the tabular
        weighted score ``w[s, b] - pi(b|s) sum_a w[s, a]``: one matrix product."""
        c = self._centred_weights(pi, weights)
        lead = c.shape[:-2]
        return (c.reshape(lead + (-1,)) @ self._features_by_param.T).reshape(lead + self.theta_shape)


class GaussianPolicy:
    """Continuous actions: ``a ~ N(mu_theta(s), sigma_theta^2)``, with a mean linear in state features,
    ``mu(s) = theta_mu . phi(s)``, and a learned log standard deviation shared by all states.

    ``features`` has shape (S, d), ``phi(s) = features[s]`` for integer states ``s``. Parameter layout:
    ``theta`` has shape (d + 1,), ``theta[:d] = theta_mu`` and ``theta[d] = log sigma``. Then

        log pi(a|s) = -(a - mu)^2 / (2 sigma^2) - log sigma - log(2 pi) / 2,
        d log pi / d theta_mu = (a - mu) / sigma^2 phi(s),    d log pi / d log sigma = (a - mu)^2 / sigma^2 - 1.

    It is not a :class:`SoftmaxPolicy`: it has no finite set of actions, so ``pgbook.exact`` and
    ``pgbook.estimators``, which sum over the actions of a tabular MDP, refuse it (and
    ``pgbook.sampling`` rolls out tables ``pi[s, a]`` only).
    """

    def __init__(self, features: Any) -> None:
        self.features = _frozen_features(features, ndim=2)
        self.n_states, d = self.features.shape
        self.theta_shape = (d + 1,)

    def __repr__(self) -> str:
        return f"GaussianPolicy(S={self.n_states}, d={self.theta_shape[0] - 1})"

    @property
    def n_params(self) -> int:
        return self.theta_shape[0]

    def check_theta(self, theta: Any) -> np.ndarray:
        """Return ``theta`` as a float array of shape (d + 1,) whose ``sigma = exp(theta[d])`` is a
        positive finite number whose square is too (|log sigma| up to about 350)."""
        arr = as_float_array("theta", theta)
        if arr.shape != self.theta_shape:
            raise ValueError(
                f"theta: expected shape {self.theta_shape} (theta_mu, then log sigma) for {self!r}, got {arr.shape}"
            )
        if not 0.0 < np.exp(2.0 * arr[-1]) < np.inf:
            raise ValueError(
                f"theta: log sigma = theta[{self.theta_shape[0] - 1}] = {arr[-1]:.6g} makes sigma^2 under- or overflow"
            )
        return arr

    def mean(self, theta: Any, states: Any) -> np.ndarray:
        """``mu(s) = theta_mu . phi(s)`` for every entry of ``states``; shape ``states.shape``."""
        theta = self.check_theta(theta)
        return self.features[check_states(states, self.n_states)] @ theta[:-1]

    def std(self, theta: Any) -> float:
        """``sigma = exp(theta[d])``."""
        return float(np.exp(self.check_theta(theta)[-1]))

    def sample(self, theta: Any, states: Any, seed: Any = None) -> np.ndarray:
        """Draw ``a ~ N(mu(s), sigma^2)`` for every entry of the integer array ``states``."""
        mu = self.mean(theta, states)
        return mu + self.std(theta) * make_rng(seed).standard_normal(mu.shape)

    def _standardized(self, theta: Any, states: Any, actions: Any) -> tuple[np.ndarray, np.ndarray, float]:
        """``phi(s)``, ``z = (a - mu(s)) / sigma`` and ``sigma``, with ``states`` and ``actions`` broadcast together."""
        theta = self.check_theta(theta)
        s = check_states(states, self.n_states)
        a = as_float_array("actions", actions)
        try:
            shape = np.broadcast_shapes(s.shape, a.shape)
        except ValueError:
            raise ValueError(f"actions: shape {a.shape} does not broadcast with the states' shape {s.shape}") from None
        phi = self.features[np.broadcast_to(s, shape)]
        sigma = float(np.exp(theta[-1]))
        return phi, (a - phi @ theta[:-1]) / sigma, sigma

    def log_prob(self, theta: Any, states: Any, actions: Any) -> np.ndarray:
        """``log pi(a|s) = -z^2 / 2 - log sigma - log(2 pi) / 2`` with ``z = (a - mu(s)) / sigma``."""
        _, z, sigma = self._standardized(theta, states, actions)
        return -0.5 * z**2 - np.log(sigma) - 0.5 * np.log(2.0 * np.pi)

    def grad_log_prob(self, theta: Any, states: Any, actions: Any) -> np.ndarray:
        """The score ``grad_theta log pi(a|s)``, shape ``broadcast(states, actions).shape + (d + 1,)``:
        ``[z / sigma phi(s), z^2 - 1]`` with ``z = (a - mu(s)) / sigma`` (the layout of ``theta``)."""
        phi, z, sigma = self._standardized(theta, states, actions)
        return np.concatenate([(z / sigma)[..., None] * phi, (z**2 - 1.0)[..., None]], axis=-1)


def _frozen_features(features: Any, ndim: int) -> np.ndarray:
    """``features`` as a read-only float copy with ``ndim`` axes, none of them empty."""
    phi = as_float_array("features", features, ndim=ndim)
    if 0 in phi.shape:
        raise ValueError(f"features: every axis needs at least one entry, got shape {phi.shape}")
    phi = phi.copy()
    phi.setflags(write=False)
    return phi


def check_policy(policy: Any, n_states: int, n_actions: int) -> SoftmaxPolicy:
    """Return ``policy`` unchanged, raising ``ValueError`` unless it is a softmax policy object
    sized for ``n_states`` states and ``n_actions`` actions."""
    if not isinstance(policy, SoftmaxPolicy):
        raise ValueError(f"policy: expected a TabularSoftmax or LinearSoftmax, got {type(policy).__name__}")
    if (policy.n_states, policy.n_actions) != (n_states, n_actions):
        raise ValueError(
            f"policy: has {policy.n_states} states and {policy.n_actions} actions, "
            f"but the problem has {n_states} states and {n_actions} actions"
        )
    return policy
