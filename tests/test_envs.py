"""Tests of pgbook.envs: the gymnasium environments follow the API and agree with pgbook.exact."""

from __future__ import annotations

import importlib
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.error import ResetNeeded
from gymnasium.utils.env_checker import check_env

import pgbook.envs as envs
from pgbook import exact
from pgbook.envs import SHORT_CORRIDOR_ID, TabularEnv, run_episodes
from pgbook.mdp import LEFT, RIGHT, random_episodic_mdp, random_mdp, short_corridor
from pgbook.policies import softmax


def corridor_policy(p_right: float) -> np.ndarray:
    """The same action probabilities in every state (the corridor's states all look alike)."""
    return np.tile([1.0 - p_right, p_right], (4, 1))


def assert_mean_matches(returns: np.ndarray, expected: float) -> None:
    """|mean - expected| <= 4 SE, with SE < 5% of |expected| so that the check cannot pass vacuously."""
    mean = returns.mean()
    se = returns.std(ddof=1) / np.sqrt(returns.size)
    assert se < 0.05 * abs(expected), f"standard error {se:.3g} too large for J = {expected:.4g}"
    assert abs(mean - expected) <= 4 * se, f"mean return {mean:.4g} vs exact {expected:.4g} (SE {se:.3g})"


# ---------------------------------------------------------------- API and registration


def test_check_env_passes_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(gym.make(SHORT_CORRIDOR_ID).unwrapped)
        # A bare TabularEnv has no spec, so check_env could only warn that it cannot try other render
        # modes; there are none to try, so that check is skipped.
        check_env(TabularEnv(random_episodic_mdp(4, 3, seed=0)), skip_render_check=True)
        check_env(TabularEnv(random_mdp(3, 2, seed=0), max_episode_steps=10), skip_render_check=True)


def test_registered_corridor_is_built_from_short_corridor():
    assert "ShortCorridor" in SHORT_CORRIDOR_ID
    env = gym.make(SHORT_CORRIDOR_ID)
    mdp, ref = env.unwrapped.mdp, short_corridor()
    for name in ("P", "R", "rho0", "terminal"):
        np.testing.assert_array_equal(getattr(mdp, name), getattr(ref, name), err_msg=name)
    assert mdp.gamma == ref.gamma and mdp.names == ref.names
    assert env.observation_space == gym.spaces.Discrete(4) and env.action_space == gym.spaces.Discrete(2)
    assert env.spec.max_episode_steps == envs.SHORT_CORRIDOR_MAX_EPISODE_STEPS
    env.close()


def test_registration_is_idempotent():
    spec = gym.spec(SHORT_CORRIDOR_ID)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        importlib.reload(envs)
        importlib.reload(envs)
    assert gym.spec(SHORT_CORRIDOR_ID) == spec
    assert sum("ShortCorridor" in env_id for env_id in gym.registry) == 1


def test_registered_env_runs_the_same_episodes_as_a_bare_env():
    """gym.make's wrappers (checker, order enforcing, time limit) change nothing in a normal run."""
    pi = corridor_policy(0.6)
    made = run_episodes(gym.make(SHORT_CORRIDOR_ID), pi, 50, seed=3)
    bare = run_episodes(TabularEnv(short_corridor()), pi, 50, seed=3)
    np.testing.assert_array_equal(made[0], bare[0])
    np.testing.assert_array_equal(made[1], bare[1])


# ---------------------------------------------------------------- reset and step semantics


def test_seeded_reset_is_reproducible_and_follows_rho0():
    def starts(seed: int) -> list[int]:
        env = TabularEnv(random_episodic_mdp(4, 2, seed=0))  # uniform start over 4 decision states
        return [env.reset(seed=seed)[0]] + [env.reset()[0] for _ in range(400)]

    a, b, c = starts(7), starts(7), starts(8)
    assert a == b and a != c
    counts = np.bincount(a, minlength=5)
    assert counts[4] == 0 and np.all(counts[:4] > 60)  # never the terminal state; each start ~100 times


def test_seeded_episode_is_reproducible():
    def trajectory(seed: int) -> list[tuple]:
        env = TabularEnv(random_mdp(5, 3, seed=1), max_episode_steps=30)
        out = [env.reset(seed=seed)]
        out += [env.step(t % 3) for t in range(30)]
        return out

    assert trajectory(5) == trajectory(5)
    assert trajectory(5) != trajectory(6)


def test_corridor_steps_pay_minus_one_and_terminate_on_entering_the_goal():
    env = TabularEnv(short_corridor())
    assert env.reset(seed=0) == (0, {})
    assert env.step(LEFT) == (0, -1.0, False, False, {})  # left in s0 stays put
    assert env.step(RIGHT) == (1, -1.0, False, False, {})
    assert env.step(LEFT) == (2, -1.0, False, False, {})  # switched: left moves right in s1
    assert env.step(RIGHT) == (3, -1.0, True, False, {})  # entering the goal ends the episode
    assert env.state == 3 and env.elapsed_steps == 4
    with pytest.raises(ResetNeeded, match="after the episode ended"):
        env.step(LEFT)
    assert env.reset()[0] == 0 and env.elapsed_steps == 0


def test_every_corridor_return_is_minus_its_length():
    returns, lengths = run_episodes(TabularEnv(short_corridor()), corridor_policy(0.5), 200, seed=0)
    np.testing.assert_array_equal(returns, -lengths)
    assert lengths.min() >= 3  # the goal is three steps away


def test_time_limit_truncates_and_terminating_at_the_limit_is_not_truncation():
    env = TabularEnv(short_corridor(), max_episode_steps=5)
    env.reset(seed=0)
    for _ in range(4):
        assert env.step(LEFT)[2:4] == (False, False)
    assert env.step(LEFT) == (0, -1.0, False, True, {})
    with pytest.raises(ResetNeeded):
        env.step(LEFT)

    env = TabularEnv(short_corridor(), max_episode_steps=3)
    env.reset(seed=0)
    env.step(RIGHT), env.step(LEFT)
    assert env.step(RIGHT)[2:4] == (True, False)


def test_registered_limit_can_be_overridden_and_catches_a_never_ending_policy():
    always_left = corridor_policy(0.0)
    _, lengths = run_episodes(gym.make(SHORT_CORRIDOR_ID, max_episode_steps=7), always_left, 3, seed=0)
    np.testing.assert_array_equal(lengths, 7)
    assert gym.make(SHORT_CORRIDOR_ID, max_episode_steps=-1).spec.max_episode_steps is None


def test_continuing_mdp_without_a_limit_never_ends():
    env = TabularEnv(random_mdp(3, 2, seed=0))
    env.reset(seed=0)
    assert not any(env.step(t % 2)[2] or env.step(t % 2)[3] for t in range(500))


def test_start_state_option():
    env = TabularEnv(short_corridor())
    assert env.reset(seed=0, options={"start_state": 2}) == (2, {})
    assert env.step(RIGHT)[:3] == (3, -1.0, True)
    assert env.reset(options={})[0] == 0


# ---------------------------------------------------------------- errors


def test_step_before_reset_raises():
    with pytest.raises(ResetNeeded, match="before reset"):
        TabularEnv(short_corridor()).step(LEFT)


@pytest.mark.parametrize("action", [2, -1, 0.5, 1.0, True, "left", np.array([0]), None])
def test_invalid_action_raises(action):
    env = TabularEnv(short_corridor())
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"^action: expected an integer in \[0, 1\]"):
        env.step(action)
    assert env.step(np.int64(RIGHT))[0] == 1  # the episode is still usable; numpy integers are fine


@pytest.mark.parametrize(
    "make, pattern",
    [
        (lambda: TabularEnv("corridor"), r"^mdp: expected a TabularMDP"),
        (lambda: TabularEnv(short_corridor(), max_episode_steps=0), r"^max_episode_steps: must be at least 1"),
        (lambda: TabularEnv(short_corridor(), max_episode_steps=2.5), r"^max_episode_steps: expected a positive integer"),
        (lambda: TabularEnv(short_corridor()).reset(options={"state": 1}), r"^options: unknown key"),
        (lambda: TabularEnv(short_corridor()).reset(options=[1]), r"^options: expected a dict"),
        (lambda: TabularEnv(short_corridor()).reset(options={"start_state": 3}), r"^options: start_state must be a non-terminal"),
        (lambda: TabularEnv(short_corridor()).reset(options={"start_state": 7}), r"^options: start_state must be a non-terminal"),
        (lambda: run_episodes("env", corridor_policy(0.5), 5), r"^env: expected a gymnasium.Env"),
        (lambda: run_episodes(gym.make("CartPole-v1"), corridor_policy(0.5), 5), r"^env: needs Discrete"),
        (lambda: run_episodes(TabularEnv(short_corridor()), np.full((3, 2), 0.5), 5), r"^pi: expected shape \(4, 2\)"),
        (lambda: run_episodes(TabularEnv(short_corridor()), np.full((4, 2), 0.6), 5), r"^pi: probabilities must sum to 1"),
        (lambda: run_episodes(TabularEnv(short_corridor()), corridor_policy(0.5), 0), r"^n_episodes: must be at least 1"),
        (lambda: run_episodes(TabularEnv(short_corridor()), corridor_policy(0.5), 5, gamma=2.0), r"^gamma: must lie in"),
        (lambda: run_episodes(TabularEnv(short_corridor()), corridor_policy(0.5), 5, seed="a"), r"^seed: expected an int"),
    ],
)
def test_bad_input_raises(make, pattern):
    with pytest.raises(ValueError, match=pattern):
        make()


# ---------------------------------------------------------------- simulated returns agree with exact


@pytest.mark.parametrize("p_right", [0.3, 0.5, 0.8])
def test_corridor_returns_match_exact_objective(p_right):
    pi = corridor_policy(p_right)
    returns, _ = run_episodes(gym.make(SHORT_CORRIDOR_ID), pi, 1500, seed=int(10 * p_right))
    assert_mean_matches(returns, exact.objective(short_corridor(), pi))


def test_random_episodic_mdp_returns_match_exact_objective():
    mdp = random_episodic_mdp(4, 3, seed=1)
    pi = softmax(2.0 * mdp.R)  # prefers rewarding actions, so that J is well away from 0
    returns, lengths = run_episodes(TabularEnv(mdp), pi, 2000, seed=1)
    assert_mean_matches(returns, exact.objective(mdp, pi))
    assert_mean_matches(lengths.astype(float), exact.occupancy(mdp, pi).sum())  # expected length = sum of rho


def test_discounted_returns_with_a_time_limit_match_the_truncated_objective():
    """With a limit H the return is G_H = sum_{t<H} gamma^t r_t, whose mean J_H = rho0 . v_H follows from
    the finite-horizon recursion v_0 = 0, v_{k+1} = r^pi + gamma P^pi v_k; |J - J_H| <= gamma^H max|r| / (1 - gamma)."""
    mdp, H = random_mdp(5, 3, seed=2, gamma=0.9), 20
    pi = softmax(2.0 * mdp.R)
    v = np.zeros(mdp.n_states)
    for _ in range(H):
        v = mdp.policy_reward(pi) + mdp.gamma * mdp.policy_transition(pi) @ v
    J_H, J = float(mdp.rho0 @ v), exact.objective(mdp, pi)
    assert abs(J - J_H) <= mdp.gamma**H * np.abs(mdp.R).max() / (1 - mdp.gamma)

    returns, lengths = run_episodes(TabularEnv(mdp, max_episode_steps=H), pi, 2000, seed=1)  # gamma from the MDP
    assert np.all(lengths == H)
    assert_mean_matches(returns, J_H)
    # The check resolves the truncation: the untruncated J is many standard errors away.
    assert abs(returns.mean() - J) > 6 * returns.std(ddof=1) / np.sqrt(returns.size)
