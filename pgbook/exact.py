"""Exact values, occupancy, policy gradients and Fisher matrices of tabular MDPs, by linear solves.

With ``P^pi`` and ``r^pi`` the policy's state kernel and reward (transitions into terminal states
removed), everything follows from the matrix ``M = I - gamma P^pi``:

    v^pi     = M^{-1} r^pi                                (Bellman evaluation equation)
    q^pi     = r + gamma P v^pi
    rho^pi   = rho0 M^{-1} = sum_t gamma^t Pr(s_t = s)     (discounted occupancy, unnormalized)
    J        = rho0 . v^pi = rho^pi . r^pi
    grad J   = sum_s rho^pi(s) sum_a pi(a|s) q^pi(s, a) grad log pi(a|s)   (policy gradient theorem)
    F        = sum_s rho^pi(s) sum_a pi(a|s) grad log pi grad log pi^T

``M`` is LU-factorized once per call and the factorization is reused for ``v`` and ``rho``.

**Batches.** Every function also takes many policies at once: ``pi`` of shape ``batch_shape + (S, A)``,
or ``theta`` of shape ``batch_shape + theta_shape``; the results gain the same leading axes and equal
those of single calls. A batch of n policies on S <= 40 states with n >= S^2 / 8 is factorized at once,
by Gaussian elimination vectorized over the batch axis (without pivoting, which is stable here because
``M`` is diagonally dominant by rows); otherwise each policy gets a LAPACK factorization, which is then
faster (measured: the vectorized elimination costs ~2 us x S^2 in NumPy calls, LAPACK ~20 us a policy,
and beyond ~40 states LAPACK's blocked O(S^3) work wins).

**Conditioning.** ``M`` is an M-matrix, so ``M^{-1} >= 0`` entrywise and ``||M^{-1}||_inf`` is the
largest entry of ``h = M^{-1} 1``, the expected discounted number of steps from the worst state. One
extra right-hand side gives ``h`` and with it the condition number ``kappa = ||M||_inf ||h||_inf``,
a relative test, unchanged when ``M`` is scaled (``kappa <= 2 ||h||_inf``, so it is computed only
when that bound is large). A policy that never terminates (gamma = 1) makes
``M`` singular, and ``kappa`` comes out of order 1/eps or infinite; whenever ``kappa > 1e8`` with
gamma = 1, a graph search over the transitions of positive probability decides exactly whether some
state never terminates (an error naming the policy). Otherwise values are refused only when
``kappa > 1e13``, where fewer than about 3 digits would be correct: a continuing MDP with
``gamma = 1 - 1e-12``, or an episodic policy that ends with probability 1e-8 per step, is accepted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.linalg.lapack import dgetrf, dgetrs

from .mdp import TabularMDP, check_mdp
from .policies import SoftmaxPolicy, check_policy
from .validation import check_real

VECTORIZED_MAX_STATES = 40  # larger MDPs are factorized one policy at a time (see the module docstring)
SUSPECT_CONDITION = 1e8  # above it, with gamma = 1, check by graph search whether the policy terminates
MAX_CONDITION = 1e13  # above it, values are refused as numerically meaningless (kappa * eps > 2e-3)
_CHUNK_ENTRIES = 2**19  # entries of M factorized together (4 MB: larger arrays cost page faults)


@dataclass(frozen=True)
class Evaluation:
    """Everything the exact computations share for one (MDP, policy) pair, or a batch of them
    (then every array has the batch's leading axes)."""

    pi: np.ndarray  # (..., S, A)
    v: np.ndarray  # (..., S)
    q: np.ndarray  # (..., S, A)
    rho: np.ndarray  # (..., S)


_Solution = tuple[np.ndarray | None, np.ndarray | None]  # (v, rho), each None when not asked for
_Where = int | tuple[int, ...] | None  # a policy's index in its batch, None for a single policy


def _solve(mdp: TabularMDP, pi: np.ndarray, values: bool = True, occupancy: bool = True) -> _Solution:
    """``v = M^{-1} r^pi`` (if ``values``) and ``rho = rho0 M^{-1}`` (if ``occupancy``) of the checked
    policy table(s) ``pi``, shape ``batch_shape + (S, A)``; each result has shape ``batch_shape + (S,)``."""
    if pi.ndim == 2:
        return _solve_one(mdp, pi, values, occupancy, None)
    S, A = mdp.n_states, mdp.n_actions
    batch_shape = pi.shape[:-2]
    flat = pi.reshape(-1, S, A)
    v = np.empty((len(flat), S)) if values else None
    rho = np.empty((len(flat), S)) if occupancy else None
    vectorized = _use_vectorized(S, len(flat))
    chunk = max(1, _CHUNK_ENTRIES // (S * S)) if vectorized else 1
    for start in range(0, len(flat), chunk):
        part = slice(start, start + chunk)
        if vectorized:
            v_part, rho_part = _solve_vectorized(mdp, flat[part], values, occupancy, batch_shape, start)
        else:
            v_part, rho_part = _solve_one(mdp, flat[start], values, occupancy, _batch_index(start, batch_shape))
        if values:
            v[part] = v_part
        if occupancy:
            rho[part] = rho_part
    out = tuple(None if x is None else x.reshape(batch_shape + (S,)) for x in (v, rho))
    return out[0], out[1]


def _use_vectorized(n_states: int, n_policies: int) -> bool:
    """Whether to eliminate the batch at once rather than factorize each policy with LAPACK."""
    return n_states <= VECTORIZED_MAX_STATES and 8 * n_policies >= n_states * n_states


def _solve_one(mdp: TabularMDP, pi: np.ndarray, values: bool, occupancy: bool, where: _Where) -> _Solution:
    """One policy, by LAPACK: LU factors of ``M^T``, then ``M h = 1``, ``M v = r^pi`` and ``rho M = rho0``.

    ``M`` is built in place in C order, so its transpose is Fortran-ordered and ``getrf`` factorizes it
    without a copy; ``getrs`` with ``trans=1`` solves ``M x = b``, with ``trans=0`` ``y M = b``.
    """
    M = mdp.policy_transition(pi)
    M *= -mdp.gamma
    M[np.diag_indices_from(M)] += 1.0
    lu, piv, _ = dgetrf(M.T, overwrite_a=True)
    # one right-hand side per call: two in one call make getrs use BLAS-3 kernels that wake OpenBLAS's
    # thread pool, which (measured) slows the next factorization, so that value() takes ~1.3x as long
    h = dgetrs(lu, piv, np.ones(mdp.n_states), trans=1)[0]
    horizon = float(np.abs(h).max())
    if not horizon <= SUSPECT_CONDITION / 2:
        _check_condition(mdp, pi, horizon, where)
    v = dgetrs(lu, piv, mdp.policy_reward(pi), trans=1)[0] if values else None
    rho = dgetrs(lu, piv, mdp.rho0, trans=0)[0] if occupancy else None
    return v, rho


def _solve_vectorized(
    mdp: TabularMDP, pi: np.ndarray, values: bool, occupancy: bool, batch_shape: tuple[int, ...], start: int
) -> _Solution:
    """n policies ``pi`` (n, S, A) at once, batch axis last: ``M[s, s', i]`` of shape (S, S, n) is LU-factorized
    in place by Gaussian elimination without pivoting, every NumPy operation acting on all n systems."""
    by_state = np.moveaxis(pi, 0, -1)  # (S, A, n)
    M = mdp.batch_transition(by_state)
    diag = np.arange(mdp.n_states)
    M *= -mdp.gamma
    M[diag, diag] += 1.0
    b = np.empty((mdp.n_states, 2 if values else 1, len(pi)))  # columns: [r^pi,] 1
    b[:, -1] = 1.0
    if values:
        b[:, 0] = np.einsum("san,sa->sn", by_state, mdp.R)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        _eliminate(M, b)
        rho = _solve_left(M, mdp.rho0) if occupancy else None
        horizon = np.abs(b[:, -1]).max(axis=0)
    for i in np.flatnonzero(~(horizon <= SUSPECT_CONDITION / 2)):
        _check_condition(mdp, pi[i], horizon[i], _batch_index(start + i, batch_shape))
    return (b[:, 0].T if values else None), (rho.T if occupancy else None)


def _eliminate(M: np.ndarray, b: np.ndarray) -> None:
    """In place, for every system ``i`` of the batch: ``M[..., i]`` (S, S) becomes its LU factors (unit
    lower ``L`` below the diagonal, ``U`` on and above) and ``b[..., i]`` (S, k) becomes ``M^{-1} b``.

    Row by row, with products written into one scratch buffer: the loop allocates nothing (a fresh
    temporary per operation costs more in page faults than the arithmetic).
    """
    S = M.shape[0]
    work = np.empty((S,) + b.shape[1:])
    row = work.reshape(-1, b.shape[-1])[: S - 1]
    for k in range(S - 1):
        for i in range(k + 1, S):
            l = M[i, k]
            l /= M[k, k]
            M[i, k + 1 :] -= np.multiply(l, M[k, k + 1 :], out=row[: S - 1 - k])
            b[i] -= np.multiply(l, b[k], out=work[0])
    for k in range(S - 1, -1, -1):
        b[k] /= M[k, k]
        b[:k] -= np.multiply(M[:k, k, None], b[k, None], out=work[:k])


def _solve_left(LU: np.ndarray, c: np.ndarray) -> np.ndarray:
    """``y`` with ``y^T M = c^T`` for every system of the batch, from the factors of ``_eliminate``:
    ``z^T U = c^T`` forwards, then ``y^T L = z^T`` backwards. Shape (S, n)."""
    S, n = LU.shape[0], LU.shape[2]
    z = np.repeat(c[:, None], n, axis=1)
    work = np.empty((S, n))
    for k in range(S):
        z[k] /= LU[k, k]
        z[k + 1 :] -= np.multiply(LU[k, k + 1 :], z[k], out=work[: S - 1 - k])
    for k in range(S - 1, 0, -1):
        z[:k] -= np.multiply(LU[k, :k], z[k], out=work[:k])
    return z


def _batch_index(flat_index: int, batch_shape: tuple[int, ...]) -> int | tuple[int, ...]:
    index = np.unravel_index(flat_index, batch_shape)
    return int(index[0]) if len(batch_shape) == 1 else tuple(int(i) for i in index)


def _check_condition(mdp: TabularMDP, pi: np.ndarray, horizon: float, where: _Where) -> None:
    """Raise if ``M`` of policy ``pi`` is singular (a policy that never terminates, gamma = 1) or too
    ill-conditioned for its values to mean anything (``kappa > MAX_CONDITION``); see the module docstring.

    ``horizon = ||M^{-1} 1||_inf``. Since ``||M||_inf <= 1 + gamma <= 2``, callers skip this check when
    ``2 horizon <= SUSPECT_CONDITION``. ``where`` is None for a single policy, else its index in the batch.
    """
    P_pi = mdp.policy_transition(pi)  # ||M||_inf: M's off-diagonal entries are <= 0 <= its diagonal
    kappa = horizon * (1.0 + mdp.gamma * float(np.max(P_pi.sum(axis=1) - 2.0 * P_pi.diagonal())))
    if kappa <= SUSPECT_CONDITION:
        return
    who = "this policy" if where is None else f"the policy at batch index {where}"
    if mdp.gamma == 1.0:
        stuck = mdp.never_terminating_states(pi)
        if stuck.size:
            raise ValueError(
                f"pi: under {who} some states never reach a terminal state with gamma = 1 (states "
                f"{stuck.tolist()}): their episodes never end, so their undiscounted values are not "
                "defined (give every action toward termination positive probability)"
            )
    if not kappa <= MAX_CONDITION:
        if mdp.gamma < 1.0:
            raise ValueError(
                f"gamma: {mdp.gamma!r} is so close to 1 that I - gamma P^pi is numerically singular for {who} "
                f"(condition number {kappa:.2g} > {MAX_CONDITION:.0e}); use a smaller gamma"
            )
        raise ValueError(
            f"pi: {who} terminates so rarely (expected episode length up to {horizon:.3g} steps) that "
            f"I - P^pi is numerically singular (condition number {kappa:.2g} > {MAX_CONDITION:.0e})"
        )


def _q_from_v(mdp: TabularMDP, v: np.ndarray) -> np.ndarray:
    """``q = r + gamma P v``, 0 at terminal states; ``v`` of shape (S,) or ``batch_shape + (S,)``."""
    S, A = mdp.n_states, mdp.n_actions
    if v.ndim == 1:
        # einsum rather than a BLAS matrix-vector product: as fast here, and it leaves OpenBLAS's thread
        # pool idle, which (measured) keeps the next LU factorization from slowing down by ~1.8x.
        q = mdp.R + mdp.gamma * np.einsum("sat,t->sa", mdp.P, v * ~mdp.terminal)
    else:  # one matrix product [v, 1] @ [gamma P^T; r] (adding r to a batch by broadcasting is 10x slower)
        v_one = np.ones(v.shape[:-1] + (S + 1,))
        v_one[..., :S] = v * ~mdp.terminal
        op = np.concatenate([mdp.gamma * mdp.P.reshape(S * A, S).T, mdp.R.reshape(1, S * A)])
        q = (v_one @ op).reshape(v.shape + (A,))
    q[..., mdp.terminal, :] = 0.0
    return q


def evaluate(mdp: TabularMDP, pi: Any) -> Evaluation:
    """``v``, ``q`` and ``rho`` of policy table ``pi`` (shape (S, A), or a batch ``batch_shape + (S, A)``)
    from one LU factorization."""
    mdp = check_mdp(mdp)
    return _evaluate(mdp, mdp.check_policy(pi, batch=True))


def _evaluate(mdp: TabularMDP, pi: np.ndarray) -> Evaluation:
    """``evaluate`` of a table known to be valid (from ``policy.probs``)."""
    v, rho = _solve(mdp, pi)
    return Evaluation(pi=pi, v=v, q=_q_from_v(mdp, v), rho=rho)


def value(mdp: TabularMDP, pi: Any) -> np.ndarray:
    """State values ``v^pi = (I - gamma P^pi)^{-1} r^pi``, shape (S,); 0 at terminal states.

    ``pi`` may be a batch of tables, ``batch_shape + (S, A)``; then the shape is ``batch_shape + (S,)``
    (and likewise for every function of this module).
    """
    mdp = check_mdp(mdp)
    pi = mdp.check_policy(pi, batch=True)
    return _solve(mdp, pi, occupancy=False)[0]


def q_value(mdp: TabularMDP, pi: Any) -> np.ndarray:
    """Action values ``q^pi(s, a) = r(s, a) + gamma sum_s' p(s'|s, a) v^pi(s')``, shape (S, A)."""
    return _q_from_v(mdp, value(mdp, pi))


def advantage(mdp: TabularMDP, pi: Any) -> np.ndarray:
    """Advantages ``A^pi(s, a) = q^pi(s, a) - v^pi(s)``, shape (S, A); ``sum_a pi(a|s) A(s, a) = 0``."""
    v = value(mdp, pi)
    return _q_from_v(mdp, v) - v[..., None]


def occupancy(mdp: TabularMDP, pi: Any) -> np.ndarray:
    """Discounted occupancy ``rho^pi(s) = sum_t gamma^t Pr(s_t = s) = [rho0 (I - gamma P^pi)^{-1}](s)``.

    Unnormalized: it sums to ``1 / (1 - gamma)`` on a continuing MDP and to the expected episode
    length on an undiscounted episodic one. Terminal states get 0 (no decision is taken there).
    """
    mdp = check_mdp(mdp)
    pi = mdp.check_policy(pi, batch=True)
    return _solve(mdp, pi, values=False)[1]


def state_distribution(mdp: TabularMDP, pi: Any) -> np.ndarray:
    """Normalized occupancy ``d^pi = rho^pi / sum_s rho^pi(s)``, a probability vector."""
    rho = occupancy(mdp, pi)
    return rho / rho.sum(axis=-1, keepdims=True)


def objective(mdp: TabularMDP, pi: Any) -> float | np.ndarray:
    """``J(pi) = sum_s rho0(s) v^pi(s)``, the expected (discounted) return from the start distribution.

    A float for one table; an array of shape ``batch_shape`` for a batch.
    """
    J = value(mdp, pi) @ mdp.rho0
    return float(J) if np.ndim(J) == 0 else J


def policy_gradient(mdp: TabularMDP, policy: SoftmaxPolicy, theta: Any) -> np.ndarray:
    """``grad_theta J`` by the policy gradient theorem, same shape as ``theta``:

    ``sum_s rho^pi(s) sum_a pi(a|s) q^pi(s, a) grad log pi(a|s)``. A batch ``theta`` of shape
    ``batch_shape + theta_shape`` gives one gradient per parameter, shape ``batch_shape + theta_shape``.
    """
    return objective_and_gradient(mdp, policy, theta)[1]


def objective_and_gradient(mdp: TabularMDP, policy: SoftmaxPolicy, theta: Any) -> tuple[float | np.ndarray, np.ndarray]:
    """``(J, grad J)`` at ``theta`` from one factorization (as ``objective`` and ``policy_gradient``).

    For a batch ``theta`` (shape ``batch_shape + theta_shape``), J has shape ``batch_shape``: a contour
    of J and of ``|grad J|`` over a grid of parameters is one call.
    """
    mdp = check_mdp(mdp)
    policy = check_policy(policy, mdp.n_states, mdp.n_actions)
    theta = policy.check_theta(theta, batch=True)
    ev = _evaluate(mdp, policy.probs(theta))
    J = ev.v @ mdp.rho0
    return (float(J) if np.ndim(J) == 0 else J), _gradient(policy, ev)


def _gradient(policy: SoftmaxPolicy, ev: Evaluation) -> np.ndarray:
    """The policy gradient theorem's sum, as the policy's weighted score with ``w = rho pi q``."""
    return policy._weighted_score_at(ev.pi, ev.rho[..., None] * ev.pi * ev.q)


def fisher(mdp: TabularMDP, policy: SoftmaxPolicy, theta: Any) -> np.ndarray:
    """Fisher matrix ``F = sum_s rho^pi(s) sum_a pi(a|s) g g^T`` with ``g = grad log pi(a|s)`` flattened.

    Shape (n_params, n_params), or ``batch_shape + (n_params, n_params)``. Weighted by the same
    unnormalized occupancy as the gradient. For the tabular softmax F is block-diagonal, with block
    ``rho(s) (diag pi_s - pi_s pi_s^T)`` for state s, and ``grad J[s, a] = rho(s) pi(a|s) A(s, a)``;
    so the least-norm solution of ``F x = grad J`` that ``natural_gradient`` returns is, at every state
    with ``rho(s) > 0``, the advantage centred by its *unweighted* mean over actions,
    ``x[s, a] = A(s, a) - (1/|A|) sum_b A(s, b)`` (softmax probabilities are positive, so the null space
    of the block is spanned by the constant vector), and ``x[s, :] = 0`` at every state the policy never
    visits (``rho(s) = 0``: unreachable, or terminal), where both the block and ``grad J[s]`` vanish.
    """
    mdp = check_mdp(mdp)
    policy = check_policy(policy, mdp.n_states, mdp.n_actions)
    theta = policy.check_theta(theta, batch=True)
    pi = policy.probs(theta)
    return _fisher(policy, theta, pi, occupancy(mdp, pi))


def _fisher(policy: SoftmaxPolicy, theta: np.ndarray, pi: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """``F`` from the (checked) parameters, their policy table and its occupancy."""
    g = policy.grad_log_probs(theta).reshape(pi.shape + (-1,))
    w = rho[..., None] * pi
    return np.einsum("...sa,...sai,...saj->...ij", w, g, g, optimize=True)


def natural_gradient(mdp: TabularMDP, policy: SoftmaxPolicy, theta: Any, rcond: float = 1e-10) -> np.ndarray:
    """``F^+ grad J`` (Moore-Penrose pseudo-inverse of the Fisher matrix), same shape as ``theta``.

    Of all solutions of ``F x = grad J`` it returns the one of least norm (for the tabular softmax, the
    per-state centred advantage: see ``fisher``). Eigenvalues of F below ``rcond`` times the largest,
    ``0 <= rcond < 1``, count as zero: their directions are left out of ``x`` (so a state visited so
    rarely that its tabular block falls below the cutoff is treated like an unvisited one).
    """
    rcond = check_real("rcond", rcond, "a number in [0, 1)")
    if not 0.0 <= rcond < 1.0:
        raise ValueError(f"rcond: must lie in [0, 1), got {rcond!r}")
    mdp = check_mdp(mdp)
    policy = check_policy(policy, mdp.n_states, mdp.n_actions)
    theta = policy.check_theta(theta, batch=True)
    ev = _evaluate(mdp, policy.probs(theta))
    F = _fisher(policy, theta, ev.pi, ev.rho)
    grad = _gradient(policy, ev)
    x = np.linalg.pinv(F, rcond=rcond, hermitian=True) @ grad.reshape(F.shape[:-1] + (1,))
    return x.reshape(grad.shape)
