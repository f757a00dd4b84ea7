"""Tabular Markov decision processes and the example problems of the book.

A :class:`TabularMDP` holds the transition tensor ``P[s, a, s'] = p(s' | s, a)``, the expected reward
``R[s, a] = r(s, a)``, the start distribution ``rho0`` and the discount ``gamma``. Episodic problems
mark some states as *terminal*: an episode ends on entering one, so a terminal state has value 0, takes
no decision and collects no reward. With ``gamma = 1`` every state must be able to reach a terminal
state, otherwise returns are infinite.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .validation import (
    as_float_array,
    check_distribution,
    check_gamma,
    check_positive_int,
    check_real,
    check_shape,
    make_rng,
)

LEFT, RIGHT = 0, 1


@dataclass(frozen=True, eq=False)
class TabularMDP:
    """A finite MDP ``(P, R, rho0, gamma)``, validated on construction.

    Parameters
    ----------
    P : (S, A, S) array, ``P[s, a, s'] = p(s'|s, a)``; every row ``P[s, a]`` sums to 1.
    R : (S, A) array of expected immediate rewards ``r(s, a)``.
    rho0 : (S,) start distribution, with no mass on terminal states.
    gamma : discount factor in [0, 1].
    terminal : optional (S,) boolean mask of terminal states (default: none).
    names : optional state names, for printing and plotting.
    """

    P: np.ndarray
    R: np.ndarray
    rho0: np.ndarray
    gamma: float
    terminal: np.ndarray | None = None
    names: tuple[str, ...] | None = field(default=None)

    def __post_init__(self) -> None:
        P = as_float_array("P", self.P, ndim=3)
        S, A, S2 = P.shape
        if S == 0 or A == 0:
            raise ValueError(f"P: needs at least one state and one action, got shape {P.shape}")
        if S2 != S:
            raise ValueError(f"P: expected shape (S, A, S), got {P.shape} (first and last axes differ)")
        check_distribution("P", P, axis=2)
        R = as_float_array("R", self.R, ndim=2)
        check_shape("R", R, (S, A))
        rho0 = as_float_array("rho0", self.rho0, ndim=1)
        check_shape("rho0", rho0, (S,))
        check_distribution("rho0", rho0, axis=0)
        gamma = check_gamma(self.gamma)
        if self.terminal is None:
            terminal = np.zeros(S, dtype=bool)
        else:
            terminal = np.asarray(self.terminal)
            if terminal.dtype != bool:
                raise ValueError(f"terminal: expected a boolean mask, got dtype {terminal.dtype}")
            check_shape("terminal", terminal, (S,))
        if terminal.all():
            raise ValueError("terminal: every state is terminal, so no decision is ever taken")
        if np.any(rho0[terminal] > 0):
            s = int(np.flatnonzero(terminal & (rho0 > 0))[0])
            raise ValueError(f"rho0: puts mass {rho0[s]:.3g} on terminal state {s}; episodes must start in a non-terminal state")
        if np.any(R[terminal] != 0):
            s = int(np.flatnonzero(np.any(R != 0, axis=1) & terminal)[0])
            raise ValueError(f"R: terminal state {s} has a nonzero reward, which would never be collected (an episode ends on entering it)")
        if gamma == 1.0:
            if not terminal.any():
                raise ValueError("gamma: gamma = 1 needs terminal states (returns would be infinite); use gamma < 1 or pass terminal=")
            stuck = _unable_to_terminate((P > 0).any(axis=1), terminal)  # some action leads s -> s'
            if stuck.size:
                raise ValueError(f"gamma: gamma = 1 but states {stuck.tolist()} can never reach a terminal state, so their return is infinite")
        if self.names is not None:
            if isinstance(self.names, str) or not hasattr(self.names, "__len__"):
                raise ValueError(f"names: expected a sequence of {S} state names, got {self.names!r}")
            if len(self.names) != S:
                raise ValueError(f"names: expected {S} state names, got {len(self.names)}")
        for name, arr in (("P", P), ("R", R), ("rho0", rho0), ("terminal", terminal)):
            arr = np.array(arr, copy=True)
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)
        object.__setattr__(self, "gamma", gamma)

    @property
    def n_states(self) -> int:
        return self.P.shape[0]

    @property
    def n_actions(self) -> int:
        return self.P.shape[1]

    @property
    def episodic(self) -> bool:
        """True when the MDP has terminal states."""
        return bool(self.terminal.any())

    def check_policy(self, pi: Any, name: str = "pi", batch: bool = False) -> np.ndarray:
        """Validate a policy table ``pi[s, a] = pi(a|s)`` of shape (S, A) and return it as an array.

        With ``batch=True``, also a batch of tables, shape ``batch_shape + (S, A)``.
        """
        pi = as_float_array(name, pi)
        S, A = self.n_states, self.n_actions
        if pi.ndim < 2 or pi.shape[-2:] != (S, A) or (pi.ndim > 2 and not batch):
            batched = f" or a batch of tables, (..., {S}, {A})" if batch else ""
            raise ValueError(f"{name}: expected shape {(S, A)}{batched}, got {pi.shape}")
        check_distribution(name, pi, axis=-1)
        return pi

    def policy_transition(self, pi: np.ndarray) -> np.ndarray:
        """The state-to-state kernel ``P^pi[s, s'] = sum_a pi(a|s) p(s'|s, a)`` of the controlled chain,
        with transitions into and out of terminal states removed (an episode that enters one has ended).

        ``pi`` of shape (S, A) gives (S, S); a batch ``batch_shape + (S, A)`` gives ``batch_shape + (S, S)``.
        """
        pi = np.asarray(pi, dtype=float)
        if pi.ndim == 2:
            return self._remove_terminal(np.matmul(pi[:, None, :], self.P)[:, 0, :])
        S, A = self.n_states, self.n_actions
        by_state = np.moveaxis(pi.reshape(-1, S, A), 0, -1)
        return np.moveaxis(self.batch_transition(by_state), -1, 0).reshape(pi.shape[:-2] + (S, S))

    def batch_transition(self, pi_by_state: np.ndarray) -> np.ndarray:
        """``policy_transition`` of n policies at once, batch axis last (the layout of ``exact``'s batched
        solves): ``pi_by_state[s, a, i] = pi_i(a|s)``, shape (S, A, n), gives ``P^pi_i[s, s']`` at
        ``[s, s', i]``, shape (S, S, n)."""
        return self._remove_terminal(np.matmul(self.P.transpose(0, 2, 1), pi_by_state))

    def _remove_terminal(self, P_pi: np.ndarray) -> np.ndarray:
        """Zero the rows and columns (first two axes) of terminal states, in place."""
        if self.episodic:
            P_pi[:, self.terminal] = 0.0
            P_pi[self.terminal] = 0.0
        return P_pi

    def policy_reward(self, pi: np.ndarray) -> np.ndarray:
        """Expected one-step reward ``r^pi(s) = sum_a pi(a|s) r(s, a)``; shape ``pi.shape[:-1]``."""
        return np.einsum("...sa,sa->...s", pi, self.R)

    def never_terminating_states(self, pi: np.ndarray) -> np.ndarray:
        """Non-terminal states from which the policy table ``pi`` (shape (S, A)) reaches no terminal state:
        no path of positive-probability transitions ``sum_a pi(a|s) p(s'|s, a) > 0`` leads to one.

        Empty when every state terminates with probability 1; with gamma = 1 the values of the returned
        states are infinite. On a continuing MDP (no terminal states) every state is returned.
        """
        support = np.einsum("sa,sat->st", np.asarray(pi, dtype=float), self.P) > 0
        return _unable_to_terminate(support, self.terminal)

    def __repr__(self) -> str:
        kind = f"episodic, {int(self.terminal.sum())} terminal" if self.episodic else "continuing"
        return f"TabularMDP(S={self.n_states}, A={self.n_actions}, gamma={self.gamma:g}, {kind})"


def check_mdp(mdp: Any) -> TabularMDP:
    """Return ``mdp`` unchanged, raising ``ValueError`` unless it is a :class:`TabularMDP`."""
    if not isinstance(mdp, TabularMDP):
        raise ValueError(f"mdp: expected a TabularMDP, got {type(mdp).__name__}")
    return mdp


def _unable_to_terminate(edges: np.ndarray, terminal: np.ndarray) -> np.ndarray:
    """Indices of the states from which no path along ``edges[s, s']`` (boolean, (S, S)) reaches a terminal
    state: a breadth-first search backwards from the terminal states, O(S^2) in all."""
    reach = terminal.copy()
    frontier = terminal.copy()
    while frontier.any():
        frontier = edges[:, frontier].any(axis=1) & ~reach
        reach |= frontier
    return np.flatnonzero(~reach)


def random_mdp(n_states: int, n_actions: int, seed: Any = 0, gamma: float = 0.9) -> TabularMDP:
    """A continuing MDP with Dirichlet(1) transition rows, standard normal rewards and a uniform start."""
    S = check_positive_int("n_states", n_states)
    A = check_positive_int("n_actions", n_actions)
    gamma = check_gamma(gamma)
    if gamma == 1.0:
        raise ValueError("gamma: random_mdp is continuing, so gamma must be < 1 (see random_episodic_mdp)")
    rng = make_rng(seed)
    P = rng.dirichlet(np.ones(S), size=(S, A))
    R = rng.standard_normal((S, A))
    return TabularMDP(P, R, np.full(S, 1.0 / S), gamma)


def random_episodic_mdp(n_states: int, n_actions: int, seed: Any = 0, termination: float = 0.2) -> TabularMDP:
    """An undiscounted episodic MDP: ``n_states`` decision states plus one terminal state (the last).

    Each action ends the episode with probability ``termination`` and otherwise moves to a
    Dirichlet(1)-random decision state; rewards are standard normal, the start is uniform, gamma = 1.
    """
    S = check_positive_int("n_states", n_states)
    A = check_positive_int("n_actions", n_actions)
    termination = check_real("termination", termination, "a probability in (0, 1]")
    if not 0.0 < termination <= 1.0:
        raise ValueError(f"termination: must lie in (0, 1], got {termination!r}")
    rng = make_rng(seed)
    P = np.zeros((S + 1, A, S + 1))
    P[:S, :, :S] = (1.0 - termination) * rng.dirichlet(np.ones(S), size=(S, A))
    P[:S, :, S] = termination
    P[S, :, S] = 1.0
    R = np.zeros((S + 1, A))
    R[:S] = rng.standard_normal((S, A))
    rho0 = np.append(np.full(S, 1.0 / S), 0.0)
    terminal = np.zeros(S + 1, dtype=bool)
    terminal[S] = True
    return TabularMDP(P, R, rho0, 1.0, terminal=terminal)


def short_corridor(reward: float = -1.0) -> TabularMDP:
    """Sutton & Barto's short corridor with switched actions (Example 13.1), episodic with gamma = 1.

    States 0, 1, 2 and the terminal goal 3; actions ``LEFT = 0`` and ``RIGHT = 1``. Moving left in
    state 0 stays put; in state 1 the actions are switched (right goes to 0, left to 2). Every step
    costs ``reward`` (-1). All decision states look alike to a policy that uses one feature per action.
    """
    reward = check_real("reward", reward, "a finite number")
    if not np.isfinite(reward):
        raise ValueError(f"reward: expected a finite number, got {reward!r}")
    P = np.zeros((4, 2, 4))
    P[0, LEFT, 0] = P[0, RIGHT, 1] = 1.0
    P[1, LEFT, 2] = P[1, RIGHT, 0] = 1.0
    P[2, LEFT, 1] = P[2, RIGHT, 3] = 1.0
    P[3, :, 3] = 1.0
    R = np.zeros((4, 2))
    R[:3] = reward
    terminal = np.array([False, False, False, True])
    return TabularMDP(P, R, np.array([1.0, 0, 0, 0]), 1.0, terminal=terminal, names=("s0", "s1 (switched)", "s2", "goal"))


def bandit(rewards: Any) -> TabularMDP:
    """A one-state, one-step problem: action ``a`` pays ``rewards[a]`` (gamma = 0, so J = sum_a pi(a) r(a))."""
    r = as_float_array("rewards", rewards, ndim=1)
    if r.size == 0:
        raise ValueError("rewards: needs at least one action")
    A = r.size
    return TabularMDP(np.ones((1, A, 1)), r[None, :], np.ones(1), 0.0, names=("s",))


def frozen_lake(map_name: str = "4x4", is_slippery: bool = True, gamma: float = 0.99) -> TabularMDP:
    """FrozenLake-v1 as a :class:`TabularMDP`, built from gymnasium's own transition table ``env.P``.

    Holes and the goal are terminal; reaching the goal pays 1. Actions are gymnasium's:
    0 left, 1 down, 2 right, 3 up.
    """
    import gymnasium as gym

    if not isinstance(map_name, str) or map_name not in ("4x4", "8x8"):
        raise ValueError(f"map_name: expected '4x4' or '8x8', got {map_name!r}")
    if not isinstance(is_slippery, (bool, np.bool_)):
        raise ValueError(f"is_slippery: expected True or False, got {is_slippery!r}")
    gamma = check_gamma(gamma)
    env = gym.make("FrozenLake-v1", map_name=map_name, is_slippery=bool(is_slippery))
    base = env.unwrapped
    S, A = base.observation_space.n, base.action_space.n
    desc = base.desc.astype(str).ravel()
    terminal = np.isin(desc, ["H", "G"])
    P = np.zeros((S, A, S))
    R = np.zeros((S, A))
    for s in range(S):
        for a in range(A):
            for prob, s_next, reward, _done in base.P[s][a]:
                P[s, a, s_next] += prob
                if not terminal[s]:
                    R[s, a] += prob * reward
    rho0 = (desc == "S").astype(float)
    env.close()
    names = tuple(f"{c}{s}" for s, c in enumerate(desc))
    return TabularMDP(P, R, rho0, gamma, terminal=terminal, names=names)
