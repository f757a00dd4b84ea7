"""Vectorized Monte Carlo rollouts of a fixed policy on a :class:`~pgbook.mdp.TabularMDP`.

All ``N`` episodes advance together, one time step per loop iteration:

    s_0 ~ rho0,   a_t ~ pi(.|s_t),   r_t = r(s_t, a_t),   s_{t+1} ~ p(.|s_t, a_t).

Each draw is an inverse-CDF draw over all still-running episodes at once. An episode ends when it
*enters* a terminal state (that state is not a step: no action is taken and no reward is collected
there) or after ``horizon`` steps, in which case it is marked *truncated*. A continuing MDP has no
terminal states, so each of its episodes is truncated at the horizon.

Episodes have different lengths, so a :class:`Batch` stores them as padded ``(N, T)`` arrays with a
boolean ``mask`` that is True on real steps; padded steps hold state and action ``-1`` and reward 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .mdp import TabularMDP, check_mdp
from .policies import cdf_table, draw_from_cdf
from .validation import check_positive_int, make_rng

PAD = -1  # state and action index stored on padded steps: not a state, so misuse is visible


@dataclass(frozen=True, eq=False)
class Batch:
    """``N`` episodes of one policy on one MDP, as padded arrays of shape (N, T).

    Attributes
    ----------
    states, actions : (N, T) int; ``-1`` on padded steps.
    rewards : (N, T) float; 0 on padded steps.
    mask : (N, T) bool; True on the first ``lengths[i]`` steps of row ``i``.
    lengths : (N,) int, number of steps (decisions) of each episode.
    truncated : (N,) bool, True when the episode was cut at the horizon before reaching a terminal state.
    final_states : (N,) int, the state after the last step: a terminal state, or the state where a
        truncated episode was cut (needed to bootstrap from it).
    gamma : the MDP's discount factor.
    horizon : the maximum episode length requested; ``T = max(lengths) <= horizon``.
    n_states, n_actions : sizes of the MDP the episodes come from.
    episodic : whether that MDP has terminal states.
    """

    states: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    mask: np.ndarray
    lengths: np.ndarray
    truncated: np.ndarray
    final_states: np.ndarray
    gamma: float
    horizon: int
    n_states: int
    n_actions: int
    episodic: bool

    def __post_init__(self) -> None:
        N, T = np.shape(self.states)
        for name in ("actions", "rewards", "mask"):
            if np.shape(getattr(self, name)) != (N, T):
                raise ValueError(f"{name}: expected shape {(N, T)} like states, got {np.shape(getattr(self, name))}")
        for name in ("lengths", "truncated", "final_states"):
            if np.shape(getattr(self, name)) != (N,):
                raise ValueError(f"{name}: expected shape {(N,)}, got {np.shape(getattr(self, name))}")
        if not np.array_equal(self.mask, np.arange(T) < np.asarray(self.lengths)[:, None]):
            raise ValueError("mask: must be True exactly on the first lengths[i] steps of each row")
        for name in ("states", "actions", "rewards", "mask", "lengths", "truncated", "final_states"):
            arr = np.array(getattr(self, name), copy=True)
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)

    @property
    def n_episodes(self) -> int:
        return self.states.shape[0]

    @property
    def n_steps(self) -> int:
        """Total number of real steps (transitions) in the batch."""
        return int(self.lengths.sum())

    def discounts(self) -> np.ndarray:
        """``gamma^t`` on real steps and 0 on padded ones, shape (N, T)."""
        return np.where(self.mask, self.gamma ** np.arange(self.states.shape[1]), 0.0)

    def sum_by_pair(self, weights: Any) -> np.ndarray:
        """Per-episode sums ``W[i, s, a] = sum_t weights[i, t] 1[s_t = s, a_t = a]`` over real steps.

        ``weights`` has shape (N, T); the result has shape (N, S, A).
        """
        w = np.asarray(weights, dtype=float)
        if w.shape != self.states.shape:
            raise ValueError(f"weights: expected shape {self.states.shape} like the batch, got {w.shape}")
        N, S, A = self.n_episodes, self.n_states, self.n_actions
        episode = np.broadcast_to(np.arange(N)[:, None], self.states.shape)
        flat = (episode * S + self.states) * A + self.actions
        W = np.bincount(flat[self.mask], weights=w[self.mask], minlength=N * S * A)
        return W.reshape(N, S, A)

    def state_visits(self, discounted: bool = True) -> np.ndarray:
        """Per-episode visit counts ``sum_t gamma^t 1[s_t = s]`` (plain counts if not ``discounted``), (N, S).

        Their mean over episodes is an unbiased estimate of the occupancy ``exact.occupancy`` (of its
        horizon-truncated version ``sum_{t < horizon} gamma^t Pr(s_t = s)`` when episodes are cut).
        """
        weights = self.discounts() if discounted else self.mask.astype(float)
        return self.sum_by_pair(weights).sum(axis=2)


def rollouts(mdp: TabularMDP, pi: Any, n_episodes: int, horizon: int, seed: Any = None) -> Batch:
    """Sample ``n_episodes`` episodes of the policy table ``pi`` (shape (S, A)) on ``mdp``, all at once.

    Each episode runs until it enters a terminal state or has taken ``horizon`` steps. The reward of a
    step is the expected reward ``mdp.R[s_t, a_t]``. ``seed`` is an int, None or a
    ``np.random.Generator``; the same seed gives the same batch. The time axis of the result is
    trimmed to the longest episode.
    """
    mdp = check_mdp(mdp)
    pi = mdp.check_policy(pi)
    N = check_positive_int("n_episodes", n_episodes)
    H = check_positive_int("horizon", horizon)
    rng = make_rng(seed)

    S, A = mdp.n_states, mdp.n_actions
    start_cdf = cdf_table(mdp.rho0[None, :])
    action_cdf = cdf_table(pi)
    next_state_cdf = cdf_table(mdp.P.reshape(S * A, S))  # row s * A + a is p(.|s, a)
    lengths = np.zeros(N, dtype=np.int64)
    final_states = np.full(N, PAD, dtype=np.int64)
    columns: dict[str, list[np.ndarray]] = {"states": [], "actions": [], "rewards": []}

    running = np.arange(N)  # indices of the episodes still running
    s = draw_from_cdf(start_cdf, np.zeros(N, dtype=np.int64), rng)
    for t in range(H):
        a = draw_from_cdf(action_cdf, s, rng)
        for name, value, pad in (("states", s, PAD), ("actions", a, PAD), ("rewards", mdp.R[s, a], 0.0)):
            column = np.full(N, pad, dtype=value.dtype)
            column[running] = value
            columns[name].append(column)
        s = draw_from_cdf(next_state_cdf, s * A + a, rng)
        lengths[running] = t + 1
        final_states[running] = s
        still_running = ~mdp.terminal[s]
        running, s = running[still_running], s[still_running]
        if running.size == 0:
            break
    truncated = np.zeros(N, dtype=bool)
    truncated[running] = True

    T = int(lengths.max())
    return Batch(
        states=np.stack(columns["states"], axis=1),
        actions=np.stack(columns["actions"], axis=1),
        rewards=np.stack(columns["rewards"], axis=1),
        mask=np.arange(T) < lengths[:, None],
        lengths=lengths,
        truncated=truncated,
        final_states=final_states,
        gamma=mdp.gamma,
        horizon=H,
        n_states=S,
        n_actions=A,
        episodic=mdp.episodic,
    )
