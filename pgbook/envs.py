"""The book's tabular problems as gymnasium environments, and the standard reset/step loop on them.

:class:`TabularEnv` runs any :class:`~pgbook.mdp.TabularMDP` one step at a time through gymnasium's
interface, with states and actions as integer indices (``Discrete`` spaces):

    s_0 ~ rho0,   then for each action a_t:   r_t = r(s_t, a_t),   s_{t+1} ~ p(.|s_t, a_t).

``R[s, a]`` is the *expected* reward ``r(s, a)``, so the environment pays it deterministically: the
only randomness is in the start state and the transitions. Expected returns, and hence the objective
``J = E[sum_t gamma^t r_t]``, are the same as under any random reward with that mean, which is all
that :mod:`pgbook.exact` computes.

Importing this module registers the short corridor as ``"pgbook/ShortCorridor-v0"``, so
``gymnasium.make("pgbook/ShortCorridor-v0")`` builds it from :func:`pgbook.mdp.short_corridor`.

:func:`run_episodes` is the textbook loop ``reset(); while not done: step(a)`` written out once, for
any environment with ``Discrete`` spaces. It exists to be *read*, and to show that the sequential
gymnasium loop agrees with :mod:`pgbook.exact`; for numbers, use :func:`pgbook.sampling.rollouts`,
which samples all episodes of a :class:`~pgbook.mdp.TabularMDP` at once and is much faster.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.error import ResetNeeded

from .mdp import TabularMDP, check_mdp, short_corridor
from .policies import cdf_table, draw_from_cdf
from .validation import as_float_array, check_distribution, check_gamma, check_positive_int, check_shape, make_rng

SHORT_CORRIDOR_ID = "pgbook/ShortCorridor-v0"
SHORT_CORRIDOR_MAX_EPISODE_STEPS = 10_000


class TabularEnv(gym.Env):
    """A :class:`~pgbook.mdp.TabularMDP` as a ``gymnasium.Env`` with ``Discrete(S)`` observations and
    ``Discrete(A)`` actions; the observation is the state index. ``env.mdp`` is the MDP itself.

    ``step(a)`` from state ``s`` pays ``mdp.R[s, a]`` (the expected reward, paid deterministically) and
    draws ``s' ~ mdp.P[s, a]``. It returns ``terminated=True`` when ``s'`` is terminal (the terminal
    state is the last observation: no action is taken and no reward is collected there), and
    ``truncated=True`` when ``max_episode_steps`` steps have been taken without terminating. Without a
    limit, an episode of a continuing MDP (no terminal states) never ends.

    Stepping before ``reset`` or after the episode has ended raises ``gymnasium.error.ResetNeeded``.
    ``reset(options={"start_state": s})`` starts in the non-terminal state ``s`` instead of drawing
    ``s_0 ~ rho0`` (e.g. to estimate ``v(s)``). ``info`` dicts are empty.
    """

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(self, mdp: TabularMDP, max_episode_steps: int | None = None) -> None:
        self.mdp = check_mdp(mdp)
        self.max_episode_steps = None if max_episode_steps is None else check_positive_int("max_episode_steps", max_episode_steps)
        self.observation_space = spaces.Discrete(mdp.n_states)
        self.action_space = spaces.Discrete(mdp.n_actions)
        self._start_cdf = cdf_table(mdp.rho0[None, :])
        self._next_state_cdf = cdf_table(mdp.P.reshape(mdp.n_states * mdp.n_actions, mdp.n_states))
        self.state: int | None = None  # current state index; None before the first reset
        self.elapsed_steps = 0
        self._ended = False

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
        """Start an episode in ``s_0 ~ rho0`` (or ``options["start_state"]``); returns ``(s_0, {})``.

        As in every gymnasium environment, pass ``seed`` on the first reset only: later resets continue
        the same random stream, so consecutive episodes differ yet the whole run is reproducible.
        """
        super().reset(seed=seed)
        start = self._check_options(options)
        if start is None:
            start = int(draw_from_cdf(self._start_cdf, np.asarray(0), self.np_random))
        self.state, self.elapsed_steps, self._ended = start, 0, False
        return start, {}

    def step(self, action: Any) -> tuple[int, float, bool, bool, dict[str, Any]]:
        """Take ``action`` in the current state ``s``: pay ``R[s, a]``, move to ``s' ~ P[s, a]``.

        Returns ``(s', r, terminated, truncated, {})``; ``truncated`` is True only when the time limit
        cuts an episode that has not terminated.
        """
        if self.state is None:
            raise ResetNeeded("Cannot call step() before reset(): call env.reset() first")
        if self._ended:
            raise ResetNeeded("Cannot call step() after the episode ended (terminated or truncated): call env.reset() first")
        if isinstance(action, (bool, np.bool_)) or not self.action_space.contains(action):
            raise ValueError(
                f"action: expected an integer in [0, {self.mdp.n_actions - 1}] (the action space "
                f"{self.action_space}), got {action!r}"
            )
        s, a = self.state, int(action)
        reward = float(self.mdp.R[s, a])
        s_next = int(draw_from_cdf(self._next_state_cdf, np.asarray(s * self.mdp.n_actions + a), self.np_random))
        self.state = s_next
        self.elapsed_steps += 1
        terminated = bool(self.mdp.terminal[s_next])
        truncated = not terminated and self.max_episode_steps is not None and self.elapsed_steps >= self.max_episode_steps
        self._ended = terminated or truncated
        return s_next, reward, terminated, truncated, {}

    def _check_options(self, options: dict[str, Any] | None) -> int | None:
        """The requested start state, if any, after checking that ``options`` is valid."""
        if options is None:
            return None
        if not isinstance(options, dict):
            raise ValueError(f"options: expected a dict or None, got {type(options).__name__}")
        unknown = set(options) - {"start_state"}
        if unknown:
            raise ValueError(f"options: unknown key(s) {sorted(unknown)}; the only option is 'start_state'")
        if "start_state" not in options:
            return None
        s = options["start_state"]
        if isinstance(s, (bool, np.bool_)) or not self.observation_space.contains(s) or self.mdp.terminal[int(s)]:
            raise ValueError(f"options: start_state must be a non-terminal state index in [0, {self.mdp.n_states - 1}], got {s!r}")
        return int(s)

    def __repr__(self) -> str:
        limit = "" if self.max_episode_steps is None else f", max_episode_steps={self.max_episode_steps}"
        return f"TabularEnv({self.mdp!r}{limit})"


def _make_short_corridor(max_episode_steps: int | None = None) -> TabularEnv:
    """Entry point of ``"pgbook/ShortCorridor-v0"``: built by :func:`pgbook.mdp.short_corridor` on each
    ``make``, so the environment and the exact computations share one definition."""
    return TabularEnv(short_corridor(), max_episode_steps=max_episode_steps)


# Registration. The corridor ends with probability 1 under any policy that gives both actions positive
# probability, but a deterministic always-left (or always-right) policy never reaches the goal. The
# registered TimeLimit of 10,000 steps keeps such a run from hanging a notebook, and is harmless
# otherwise: for every p(right) in [0.01, 0.99] an episode is cut with probability below 1e-12, so
# simulated returns agree with exact.objective. gymnasium.make(..., max_episode_steps=-1) removes it.
# Registering only when absent makes importing or reloading this module idempotent (no override warning).
if SHORT_CORRIDOR_ID not in gym.registry:
    gym.register(
        id=SHORT_CORRIDOR_ID,
        entry_point=f"{__name__}:_make_short_corridor",
        max_episode_steps=SHORT_CORRIDOR_MAX_EPISODE_STEPS,
    )


def run_episodes(
    env: gym.Env, pi: Any, n_episodes: int, seed: Any = None, gamma: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Play ``n_episodes`` episodes of the policy table ``pi[s, a] = pi(a|s)`` with the plain gymnasium
    loop; returns ``(returns, lengths)``, the returns ``G = sum_t gamma^t r_t`` and the step counts.

    ``env`` needs ``Discrete`` observation and action spaces (a :class:`TabularEnv`, FrozenLake, ...),
    and every episode must end: on a continuing MDP give the env a time limit. ``gamma`` defaults to
    the MDP's discount for a :class:`TabularEnv` and to 1 otherwise. ``seed`` (int, None or
    ``np.random.Generator``) fixes both the actions and the environment (seeded on the first reset).
    """
    if not isinstance(env, gym.Env):
        raise ValueError(f"env: expected a gymnasium.Env, got {type(env).__name__}")
    if not isinstance(env.observation_space, spaces.Discrete) or not isinstance(env.action_space, spaces.Discrete):
        raise ValueError(f"env: needs Discrete observation and action spaces, got {env.observation_space} and {env.action_space}")
    S, A = int(env.observation_space.n), int(env.action_space.n)
    pi = as_float_array("pi", pi, ndim=2)
    check_shape("pi", pi, (S, A))
    check_distribution("pi", pi, axis=1)
    N = check_positive_int("n_episodes", n_episodes)
    mdp = getattr(env.unwrapped, "mdp", None)
    gamma = check_gamma((mdp.gamma if isinstance(mdp, TabularMDP) else 1.0) if gamma is None else gamma)
    rng = make_rng(seed)
    action_cdf = cdf_table(pi)

    returns, lengths = np.zeros(N), np.zeros(N, dtype=np.int64)
    s, _ = env.reset(seed=int(rng.integers(2**31)))  # the env's own stream, independent of the actions'
    for i in range(N):
        if i > 0:
            s, _ = env.reset()
        done, discount = False, 1.0
        while not done:
            a = int(draw_from_cdf(action_cdf, np.asarray(s), rng))
            s, r, terminated, truncated, _ = env.step(a)
            returns[i] += discount * r
            discount *= gamma
            lengths[i] += 1
            done = terminated or truncated
    return returns, lengths
