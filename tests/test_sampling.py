"""Tests of pgbook.sampling: vectorized rollouts agree with the exact distributions they sample."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pgbook import exact
from pgbook.mdp import random_episodic_mdp, random_mdp, short_corridor
from pgbook.policies import TabularSoftmax
from pgbook.sampling import Batch, rollouts

N_EPISODES = 4000


def random_policy(mdp, seed: int, scale: float = 0.7) -> np.ndarray:
    theta = np.random.default_rng(seed).normal(scale=scale, size=(mdp.n_states, mdp.n_actions))
    return TabularSoftmax(mdp.n_states, mdp.n_actions).probs(theta)


CASES = {
    "episodic": (random_episodic_mdp(4, 3, seed=1), 200),
    "corridor": (short_corridor(), 1000),
    "continuing": (random_mdp(5, 3, seed=2, gamma=0.8), 80),  # gamma^80 ~ 2e-8: truncation is negligible
}


@pytest.fixture(scope="module", params=sorted(CASES))
def sampled(request):
    mdp, horizon = CASES[request.param]
    pi = random_policy(mdp, seed=3)
    return mdp, pi, rollouts(mdp, pi, N_EPISODES, horizon, seed=4)


def within_4_se(samples: np.ndarray, expected: np.ndarray) -> None:
    """Assert that the mean of ``samples`` (rows = independent draws) is within 4 standard errors."""
    mean = samples.mean(axis=0)
    se = samples.std(axis=0, ddof=1) / np.sqrt(samples.shape[0])
    err = np.abs(mean - expected)
    assert np.all(err <= 4 * se + 1e-12), f"mean {mean} vs expected {expected}, stderr {se}"


def test_discounted_visits_match_exact_occupancy(sampled):
    mdp, pi, batch = sampled
    visits = batch.state_visits(discounted=True)
    rho = exact.occupancy(mdp, pi)
    within_4_se(visits, rho)
    # The check has power: the standard errors are small next to the occupancies themselves.
    se = visits.std(axis=0, ddof=1) / np.sqrt(batch.n_episodes)
    assert np.all(se[rho > 0] < 0.05 * rho[rho > 0])


def test_start_states_follow_rho0_and_first_actions_follow_pi(sampled):
    mdp, pi, batch = sampled
    s0, a0 = batch.states[:, 0], batch.actions[:, 0]
    start_indicator = (s0[:, None] == np.arange(mdp.n_states)).astype(float)
    within_4_se(start_indicator, mdp.rho0)
    for s in np.flatnonzero(mdp.rho0 > 0):
        chosen = a0[s0 == s]
        assert chosen.size > 200
        within_4_se((chosen[:, None] == np.arange(mdp.n_actions)).astype(float), pi[s])


def test_mask_lengths_and_padding_are_consistent(sampled):
    mdp, _, batch = sampled
    N, T = batch.states.shape
    assert N == batch.n_episodes == N_EPISODES
    assert T == batch.lengths.max() <= batch.horizon
    assert np.array_equal(batch.mask.sum(axis=1), batch.lengths)
    assert np.array_equal(batch.mask, np.arange(T) < batch.lengths[:, None])
    assert np.all(batch.states[~batch.mask] == -1) and np.all(batch.actions[~batch.mask] == -1)
    assert np.all(batch.rewards[~batch.mask] == 0.0)
    real = batch.mask
    assert np.all((batch.states[real] >= 0) & (batch.states[real] < mdp.n_states))
    assert np.array_equal(batch.rewards[real], mdp.R[batch.states[real], batch.actions[real]])
    assert np.all(batch.lengths[batch.truncated] == batch.horizon)
    assert batch.gamma == mdp.gamma and batch.n_steps == batch.lengths.sum()


def test_episodes_end_on_entering_a_terminal_state(sampled):
    mdp, _, batch = sampled
    assert not np.any(mdp.terminal[batch.states[batch.mask]]), "a terminal state was recorded as a step"
    finished = ~batch.truncated
    assert np.all(mdp.terminal[batch.final_states[finished]])
    assert not np.any(mdp.terminal[batch.final_states[batch.truncated]])
    if not mdp.episodic:
        assert batch.truncated.all() and np.all(batch.lengths == batch.horizon)
    else:
        assert finished.all(), "the horizon was chosen so that every episode terminates"


def test_every_transition_has_positive_probability(sampled):
    mdp, _, batch = sampled
    next_states = np.concatenate([batch.states[:, 1:], np.full((batch.n_episodes, 1), -1)], axis=1)
    last = np.arange(batch.n_episodes), batch.lengths - 1
    next_states[last] = batch.final_states
    real = batch.mask
    assert np.all(mdp.P[batch.states[real], batch.actions[real], next_states[real]] > 0)


def test_zero_probability_actions_are_never_drawn():
    mdp = random_episodic_mdp(3, 4, seed=5)
    pi = np.zeros((4, 4))
    pi[:, 0], pi[:, 3] = 0.25, 0.75  # actions 1 and 2 have probability 0; 3 is last in the row
    batch = rollouts(mdp, pi, 2000, 100, seed=6)
    assert set(np.unique(batch.actions[batch.mask])) == {0, 3}


def test_draw_never_returns_a_zero_probability_outcome_even_under_rounding():
    from pgbook.policies import cdf_table, draw_from_cdf

    probs = np.array([[0.1] * 10 + [0.0]])  # the ten 0.1's add up to 0.9999999999999999, not 1
    assert np.cumsum(probs)[-1] < 1.0

    class LargestUniform:  # stands in for a Generator whose next draw is the largest double below 1
        def random(self, n):
            return np.full(n, 1.0 - 2.0**-53)

    assert draw_from_cdf(cdf_table(probs), np.zeros(3, dtype=int), LargestUniform()).tolist() == [9, 9, 9]


def test_policy_that_never_terminates_is_truncated_at_the_horizon():
    mdp = short_corridor()
    always_right = np.tile([0.0, 1.0], (4, 1))  # 0 -> 1 -> 0 -> ... forever (state 1 is switched)
    batch = rollouts(mdp, always_right, 7, 25, seed=0)
    assert batch.truncated.all() and np.all(batch.lengths == 25)
    assert np.array_equal(batch.states[0, :4], [0, 1, 0, 1])


def test_same_seed_same_batch_and_different_seed_different_batch():
    mdp = random_episodic_mdp(4, 3, seed=1)
    pi = random_policy(mdp, seed=0)
    a = rollouts(mdp, pi, 50, 30, seed=11)
    b = rollouts(mdp, pi, 50, 30, seed=11)
    c = rollouts(mdp, pi, 50, 30, seed=np.random.default_rng(11))
    d = rollouts(mdp, pi, 50, 30, seed=12)
    for name in ("states", "actions", "rewards", "mask", "lengths", "truncated", "final_states"):
        assert np.array_equal(getattr(a, name), getattr(b, name))
        assert np.array_equal(getattr(a, name), getattr(c, name))
    assert not np.array_equal(a.lengths, d.lengths)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(1, 6), horizon=st.integers(1, 8))
def test_sum_by_pair_matches_a_loop_over_steps(seed, n, horizon):
    mdp = random_episodic_mdp(3, 2, seed=seed % 7, termination=0.4)
    batch = rollouts(mdp, random_policy(mdp, seed=seed % 5), n, horizon, seed=seed)
    weights = np.random.default_rng(seed).normal(size=batch.states.shape)
    expected = np.zeros((n, mdp.n_states, mdp.n_actions))
    for i in range(n):
        for t in range(batch.lengths[i]):
            expected[i, batch.states[i, t], batch.actions[i, t]] += weights[i, t]
    assert np.allclose(batch.sum_by_pair(weights), expected)
    assert batch.states.shape[1] == batch.lengths.max() <= horizon


def test_batch_is_read_only_and_checks_its_mask():
    mdp = short_corridor()
    batch = rollouts(mdp, np.full((4, 2), 0.5), 3, 10, seed=0)
    with pytest.raises(ValueError):
        batch.rewards[0, 0] = 5.0
    fields = {name: getattr(batch, name) for name in Batch.__dataclass_fields__}
    fields["mask"] = ~batch.mask
    with pytest.raises(ValueError, match="^mask"):
        Batch(**fields)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"mdp": "corridor"}, "mdp"),
        ({"pi": np.full((4, 3), 1 / 3)}, "pi"),
        ({"pi": np.full((4, 2), 0.4)}, "pi"),
        ({"pi": np.full((4, 2), np.nan)}, "pi"),
        ({"n_episodes": 0}, "n_episodes"),
        ({"n_episodes": -3}, "n_episodes"),
        ({"n_episodes": 2.0}, "n_episodes"),
        ({"n_episodes": True}, "n_episodes"),
        ({"horizon": 0}, "horizon"),
        ({"horizon": None}, "horizon"),
        ({"seed": "zero"}, "seed"),
        ({"seed": 1.5}, "seed"),
    ],
)
def test_bad_input_raises_value_error_naming_the_argument(kwargs, name):
    args = {"mdp": short_corridor(), "pi": np.full((4, 2), 0.5), "n_episodes": 5, "horizon": 10, "seed": 0}
    args.update(kwargs)
    with pytest.raises(ValueError, match=f"^{name}"):
        rollouts(**args)
