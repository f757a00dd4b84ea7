"""Monte Carlo policy-gradient (REINFORCE) estimators from a :class:`~pgbook.sampling.Batch`.

The target is the gradient of ``J(theta) = E[sum_t gamma^t r_t]``, the quantity
``exact.policy_gradient`` computes. With the score ``g_t = grad log pi_theta(a_t|s_t)``, the return
``R(tau) = sum_t gamma^t r_t`` and the return-to-go ``G_t = sum_{t' >= t} gamma^(t'-t) r_t'``, each
episode gives one gradient sample:

    full_return:   (sum_t g_t) (R(tau) - b)                     b a constant
    reward_to_go:  sum_t gamma^t g_t (G_t - b(s_t))             b a constant or a per-state table

Both are unbiased for ``grad J`` (the likelihood-ratio identity; reward-to-go drops the rewards before
step t, which are independent of ``g_t`` given the past), whatever the baseline, because
``E[g_t | s_t] = 0`` makes every baseline term vanish in expectation. Episodes cut at
a horizon ``H`` make them unbiased for the gradient of the truncated objective
``J_H = E[sum_{t < H} gamma^t r_t]`` instead. On a continuing MDP with gamma < 1 the difference
``grad J - grad J_H = sum_{t >= H} gamma^t E[r_t sum_{k <= t} g_k]`` is of order ``H gamma^H``, so
choose ``H`` with ``gamma^H`` negligible (``gamma = 0.9, H = 200``: ``gamma^H ~ 7e-10``).

Implementation: every per-step weight ``w_t`` is summed into a per-episode table
``W[i, s, a] = sum_t w_t 1[s_t = s, a_t = a]``, and one call ``policy.weighted_score(theta, W)``
turns all tables into gradients, since ``sum_t w_t g_t = sum_{s,a} W[s, a] grad log pi(a|s)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .policies import SoftmaxPolicy, check_policy
from .sampling import Batch
from .validation import as_float_array, check_gamma, check_real

ESTIMATORS = ("full_return", "reward_to_go")


def returns_to_go(rewards: Any, mask: Any, gamma: float) -> np.ndarray:
    """``G[i, t] = sum_{t' >= t} gamma^(t'-t) r[i, t']`` on real steps, 0 on padded ones; shape (N, T).

    ``mask`` (N, T) is True on real steps and must be a prefix of each row (padding only at the end).
    Computed backwards, ``G_t = r_t + gamma G_{t+1}``.
    """
    r = as_float_array("rewards", rewards, ndim=2)
    m = np.asarray(mask)
    if m.dtype != bool:
        raise ValueError(f"mask: expected a boolean array, got dtype {m.dtype}")
    if m.shape != r.shape:
        raise ValueError(f"mask: expected shape {r.shape} like rewards, got {m.shape}")
    if np.any(m[:, 1:] & ~m[:, :-1]):
        raise ValueError("mask: each row must be True on a prefix and False after it (padding only at the end)")
    gamma = check_gamma(gamma)
    r = np.where(m, r, 0.0)
    G = np.zeros_like(r)
    running = np.zeros(r.shape[0])
    for t in range(r.shape[1] - 1, -1, -1):
        running = r[:, t] + gamma * running
        G[:, t] = running
    return np.where(m, G, 0.0)


def episode_returns(batch: Batch) -> np.ndarray:
    """Discounted return of each episode, ``R(tau_i) = sum_t gamma^t r_t``; shape (N,)."""
    batch = _check_batch(batch)
    return (batch.discounts() * batch.rewards).sum(axis=1)


@dataclass(frozen=True, eq=False)
class GradientEstimate:
    """One gradient sample per episode, ``per_episode`` of shape (N,) + theta.shape, and their summary.

    ``mean`` is the estimate; ``stderr`` is the sample standard deviation (ddof = 1) over sqrt(N),
    per parameter (``inf`` when N = 1: one sample says nothing about the spread).
    """

    per_episode: np.ndarray
    estimator: str
    drop_gamma_t: bool = False

    @property
    def n_episodes(self) -> int:
        return self.per_episode.shape[0]

    @property
    def mean(self) -> np.ndarray:
        return self.per_episode.mean(axis=0)

    @property
    def stderr(self) -> np.ndarray:
        if self.n_episodes < 2:
            return np.full(self.per_episode.shape[1:], np.inf)
        return self.per_episode.std(axis=0, ddof=1) / np.sqrt(self.n_episodes)

    @property
    def total_variance(self) -> float:
        """Trace of the per-episode sample covariance: ``sum_k Var(sample_k)`` over parameters ``k``."""
        if self.n_episodes < 2:
            return float("inf")
        return float(self.per_episode.var(axis=0, ddof=1).sum())

    def confidence_interval(self, z: float = 1.96) -> tuple[np.ndarray, np.ndarray]:
        """``(mean - z stderr, mean + z stderr)``, per parameter (1.96: about 95 % under normality)."""
        z_value = check_real("z", z, "a positive number")
        if not np.isfinite(z_value) or z_value <= 0:
            raise ValueError(f"z: expected a positive number, got {z!r}")
        half = z_value * self.stderr
        return self.mean - half, self.mean + half


def reinforce_gradient(
    batch: Batch,
    policy: SoftmaxPolicy,
    theta: Any,
    estimator: str = "full_return",
    baseline: Any = None,
    drop_gamma_t: bool = False,
    allow_truncated: bool = False,
) -> GradientEstimate:
    """REINFORCE estimate of ``grad J(theta)`` from a batch sampled with ``policy.probs(theta)``.

    ``estimator="full_return"``: per episode ``(sum_t g_t) (R(tau) - b)``; ``baseline`` a number (or
    None for 0).
    ``estimator="reward_to_go"``: per episode ``sum_t gamma^t g_t (G_t - b(s_t))``; ``baseline`` a
    number or an (S,) array of per-state baselines.

    ``drop_gamma_t=True`` (reward_to_go only) uses ``sum_t g_t (G_t - b(s_t))``, as many implementations
    do. **It is a biased estimate of grad J when gamma < 1**: its mean is
    ``sum_t E[q(s_t, a_t) grad log pi(a_t|s_t)]`` (q counting rewards before the horizon only), which
    weights step t by 1 instead of gamma^t, so it is not the gradient of J (in general not the gradient
    of any function: Nota and Thomas, 2020). With gamma = 1 it coincides with the default, unbiased, one.

    Truncated episodes on an episodic MDP raise an error unless ``allow_truncated=True``: their returns
    miss the rest of the episode, so the estimate targets the gradient of the horizon-truncated objective,
    not of J, and that bias should be a deliberate choice (raise the horizon instead). Continuing MDPs are
    always truncated and allowed; there the bias is of order ``horizon * gamma^horizon``.

    The batch must have been sampled with the policy ``policy.probs(theta)``; that cannot be checked here.
    """
    batch = _check_batch(batch)
    policy = check_policy(policy, batch.n_states, batch.n_actions)
    theta = policy.check_theta(theta)
    if estimator not in ESTIMATORS:
        raise ValueError(f"estimator: expected one of {', '.join(map(repr, ESTIMATORS))}, got {estimator!r}")
    if not isinstance(drop_gamma_t, (bool, np.bool_)):
        raise ValueError(f"drop_gamma_t: expected True or False, got {drop_gamma_t!r}")
    if drop_gamma_t and estimator != "reward_to_go":
        raise ValueError(
            "drop_gamma_t: only applies to estimator='reward_to_go' (the full return has no gamma^t factor to drop)"
        )
    if batch.episodic and batch.truncated.any() and not allow_truncated:
        raise ValueError(
            f"batch: {int(batch.truncated.sum())} of {batch.n_episodes} episodes were cut at the horizon "
            f"({batch.horizon}) before terminating, which biases the estimate; sample with a longer horizon "
            "or pass allow_truncated=True"
        )
    b = _check_baseline(baseline, estimator, batch.n_states)

    if estimator == "full_return":
        weights = np.where(batch.mask, (episode_returns(batch) - b)[:, None], 0.0)
    else:
        G = returns_to_go(batch.rewards, batch.mask, batch.gamma)
        b_t = b[np.where(batch.mask, batch.states, 0)] if np.ndim(b) else b
        weights = np.where(batch.mask, G - b_t, 0.0)
        if not drop_gamma_t:
            weights = weights * batch.discounts()
    per_episode = policy.weighted_score(theta, batch.sum_by_pair(weights))
    return GradientEstimate(per_episode=per_episode, estimator=estimator, drop_gamma_t=bool(drop_gamma_t))


def _check_batch(batch: Any) -> Batch:
    if not isinstance(batch, Batch):
        raise ValueError(f"batch: expected a pgbook.sampling.Batch (from rollouts), got {type(batch).__name__}")
    return batch


def _check_baseline(baseline: Any, estimator: str, n_states: int) -> float | np.ndarray:
    """A scalar, or for reward_to_go also an (S,) per-state table; None means 0."""
    if baseline is None:
        return 0.0
    b = as_float_array("baseline", baseline)
    if b.ndim == 0:
        return float(b)
    if estimator == "full_return":
        raise ValueError(
            f"baseline: full_return takes a constant baseline, got an array of shape {b.shape} "
            "(a state-dependent baseline needs estimator='reward_to_go')"
        )
    if b.shape != (n_states,):
        raise ValueError(f"baseline: expected a number or shape ({n_states},), got shape {b.shape}")
    return b


# --------------------------------------------------------------------------------------------------
# Constant baselines (chapter 4)


def baseline_terms(
    batch: Batch,
    policy: SoftmaxPolicy,
    theta: Any,
    estimator: str = "full_return",
    drop_gamma_t: bool = False,
    allow_truncated: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-episode ``(Y, Z)`` such that the estimate with a constant baseline ``b`` is ``Y - b Z``.

    Every REINFORCE estimator of :func:`reinforce_gradient` is affine in a constant baseline:

        full_return:   Y = (sum_t g_t) R(tau),            Z = sum_t g_t
        reward_to_go:  Y = sum_t gamma^t g_t G_t,         Z = sum_t gamma^t g_t   (no gamma^t with drop_gamma_t)

    with ``g_t = grad log pi_theta(a_t|s_t)``. Both arrays have shape ``(N,) + theta.shape``, so ``b`` may
    be one number or one baseline per parameter (an array of ``theta``'s shape), which
    :func:`reinforce_gradient` does not take. ``E[Z] = 0`` (the expected score is zero), which is why no
    constant ``b`` changes the mean of ``Y - b Z``; it changes only its spread.

    The arguments and their checks are those of :func:`reinforce_gradient`.
    """
    Y = reinforce_gradient(batch, policy, theta, estimator, None, drop_gamma_t, allow_truncated).per_episode
    if estimator == "full_return" or drop_gamma_t:
        weights = batch.mask.astype(float)
    else:
        weights = batch.discounts()
    Z = policy.weighted_score(theta, batch.sum_by_pair(weights))
    return Y, Z


def optimal_constant_baseline(
    batch: Batch,
    policy: SoftmaxPolicy,
    theta: Any,
    estimator: str = "full_return",
    per_parameter: bool = False,
    drop_gamma_t: bool = False,
    allow_truncated: bool = False,
) -> float | np.ndarray:
    """Sample estimate of the constant baseline that minimizes the variance of a REINFORCE estimator.

    With ``(Y, Z)`` of :func:`baseline_terms`, the per-episode estimate is ``Y - b Z`` and, since
    ``E[Z] = 0``, its variance in parameter ``k`` is the parabola
    ``E[Z_k^2] b^2 - 2 E[Z_k Y_k] b + const``. Hence:

    * ``per_parameter=False``: one number, ``b* = E[Z . Y] / E[|Z|^2]``, minimizing the *total* variance
      (the trace of the covariance). For the full return it is ``E[|sum_t g_t|^2 R] / E[|sum_t g_t|^2]``:
      returns weighted by the squared norm of the score sum, not their plain mean.
    * ``per_parameter=True``: an array of ``theta``'s shape, ``b*_k = E[Z_k Y_k] / E[Z_k^2]``, each
      component's own minimizer (use it as ``Y - b Z`` with the arrays of :func:`baseline_terms`).

    Expectations are replaced by averages over the batch's episodes. Where the denominator is 0 (a
    parameter whose score sums are all 0 in the batch) the baseline is 0: any value gives the same
    estimate there.

    **Bias.** A baseline computed from the batch it is then applied to depends on that batch's actions,
    so ``Y - b Z`` with it is no longer exactly unbiased (the bias is of order 1/N). For an unbiased
    estimate, fit the baseline on other episodes (the previous batch, or all episodes but the one it
    is applied to).

    The other arguments and their checks are those of :func:`reinforce_gradient`.
    """
    if not isinstance(per_parameter, (bool, np.bool_)):
        raise ValueError(f"per_parameter: expected True or False, got {per_parameter!r}")
    Y, Z = baseline_terms(batch, policy, theta, estimator, drop_gamma_t, allow_truncated)
    if per_parameter:
        numerator, denominator = (Z * Y).sum(axis=0), (Z * Z).sum(axis=0)
        positive = denominator > 0
        return np.where(positive, numerator / np.where(positive, denominator, 1.0), 0.0)
    denominator = float((Z * Z).sum())
    return float((Z * Y).sum()) / denominator if denominator > 0 else 0.0
