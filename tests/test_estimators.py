"""Tests of pgbook.estimators: returns-to-go, and REINFORCE estimates against the exact policy gradient."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pgbook import exact
from pgbook.estimators import GradientEstimate, episode_returns, reinforce_gradient, returns_to_go
from pgbook.mdp import random_episodic_mdp, random_mdp, short_corridor
from pgbook.policies import LinearSoftmax, TabularSoftmax
from pgbook.sampling import rollouts

# ---------------------------------------------------------------- returns-to-go


def naive_returns_to_go(rewards: np.ndarray, lengths: np.ndarray, gamma: float) -> np.ndarray:
    G = np.zeros_like(rewards)
    for i in range(rewards.shape[0]):
        for t in range(lengths[i]):
            G[i, t] = sum(gamma ** (k - t) * rewards[i, k] for k in range(t, lengths[i]))
    return G


def test_returns_to_go_hand_computed_example():
    rewards = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 0.0]])
    mask = np.array([[True, True, True], [True, True, False]])
    G = returns_to_go(rewards, mask, gamma=0.5)
    # row 0: G_2 = 3, G_1 = 2 + 0.5 * 3 = 3.5, G_0 = 1 + 0.5 * 3.5 = 2.75; row 1: G_1 = 5, G_0 = 4 + 2.5
    assert np.allclose(G, [[2.75, 3.5, 3.0], [6.5, 5.0, 0.0]])
    assert G[0, 1] != G[0, 0] and G[0, 2] != G[0, 0], "G_t must not be G_0 at every step (the classic bug)"


def test_returns_to_go_ignores_rewards_on_padded_steps():
    rewards = np.array([[1.0, 2.0, 99.0]])
    mask = np.array([[True, True, False]])
    assert np.allclose(returns_to_go(rewards, mask, 1.0), [[3.0, 2.0, 0.0]])


@settings(max_examples=60, deadline=None)
@given(
    data=st.data(),
    n=st.integers(1, 4),
    T=st.integers(1, 7),
    gamma=st.one_of(st.just(1.0), st.just(0.0), st.floats(0.0, 1.0)),
)
def test_returns_to_go_matches_a_double_loop(data, n, T, gamma):
    lengths = np.array(data.draw(st.lists(st.integers(0, T), min_size=n, max_size=n)))
    rewards = np.array(data.draw(st.lists(st.floats(-10, 10), min_size=n * T, max_size=n * T))).reshape(n, T)
    mask = np.arange(T) < lengths[:, None]
    rewards = np.where(mask, rewards, 0.0)
    G = returns_to_go(rewards, mask, gamma)
    assert np.allclose(G, naive_returns_to_go(rewards, lengths, gamma), atol=1e-9)


def test_episode_returns_are_discounted_sums_and_equal_g0():
    mdp = random_mdp(3, 2, seed=0, gamma=0.7)
    batch = rollouts(mdp, np.full((3, 2), 0.5), 5, 6, seed=0)
    R = episode_returns(batch)
    assert np.allclose(R, [sum(0.7**t * batch.rewards[i, t] for t in range(6)) for i in range(5)])
    G = returns_to_go(batch.rewards, batch.mask, batch.gamma)
    assert np.allclose(R, G[:, 0])
    assert not np.allclose(G[:, 1:], G[:, :1]), "later returns-to-go differ from G_0"


# ---------------------------------------------------------------- per-episode samples, exactly


@pytest.mark.parametrize(
    "estimator, baseline, drop_gamma_t",
    [
        ("full_return", None, False),
        ("full_return", 0.7, False),
        ("reward_to_go", None, False),
        ("reward_to_go", -0.3, False),
        ("reward_to_go", "per_state", False),
        ("reward_to_go", "per_state", True),
    ],
)
def test_per_episode_samples_match_a_loop_over_steps(estimator, baseline, drop_gamma_t):
    mdp = random_mdp(3, 2, seed=1, gamma=0.8)
    policy = TabularSoftmax(3, 2)
    theta = np.random.default_rng(0).normal(size=(3, 2))
    batch = rollouts(mdp, policy.probs(theta), 6, 5, seed=1)
    b = np.array([0.5, -1.0, 2.0]) if baseline == "per_state" else baseline
    est = reinforce_gradient(batch, policy, theta, estimator, baseline=b, drop_gamma_t=drop_gamma_t)
    score = policy.grad_log_probs(theta)
    gamma = batch.gamma
    for i in range(batch.n_episodes):
        steps = range(batch.lengths[i])
        s, a, r = batch.states[i], batch.actions[i], batch.rewards[i]
        if estimator == "full_return":
            R = sum(gamma**t * r[t] for t in steps)
            expected = sum(score[s[t], a[t]] for t in steps) * (R - (b or 0.0))
        else:
            expected = 0.0
            for t in steps:
                G_t = sum(gamma ** (k - t) * r[k] for k in range(t, batch.lengths[i]))
                b_t = b[s[t]] if isinstance(b, np.ndarray) else (b or 0.0)
                expected = expected + (1.0 if drop_gamma_t else gamma**t) * score[s[t], a[t]] * (G_t - b_t)
        assert np.allclose(est.per_episode[i], expected)
    assert est.per_episode.shape == (6, 3, 2)
    assert np.allclose(est.mean, est.per_episode.mean(axis=0))
    assert np.allclose(est.stderr, est.per_episode.std(axis=0, ddof=1) / np.sqrt(6))


def test_confidence_interval_and_single_episode_stderr():
    est = GradientEstimate(per_episode=np.array([[1.0], [3.0]]), estimator="full_return")
    low, high = est.confidence_interval(z=2.0)
    # mean 2, sample std sqrt(2), stderr 1
    assert np.allclose(est.stderr, [1.0]) and np.allclose(low, [0.0]) and np.allclose(high, [4.0])
    one = GradientEstimate(per_episode=np.array([[1.0]]), estimator="full_return")
    assert np.isinf(one.stderr).all() and one.n_episodes == 1
    for bad_z in (-1.0, 0.0, np.inf, np.nan, "wide", "1.96", True, 2j):
        with pytest.raises(ValueError, match="^z: expected a positive number"):
            est.confidence_interval(z=bad_z)


def test_confidence_interval_defaults_to_z_1_96():
    est = GradientEstimate(per_episode=np.array([[1.0, 0.0], [3.0, 4.0]]), estimator="full_return")
    low, high = est.confidence_interval()
    np.testing.assert_allclose(est.stderr, [1.0, 2.0])
    np.testing.assert_allclose(low, [2.0 - 1.96, 2.0 - 3.92], rtol=1e-15)
    np.testing.assert_allclose(high, [2.0 + 1.96, 2.0 + 3.92], rtol=1e-15)


def test_total_variance_is_the_trace_of_the_sample_covariance_with_ddof_1():
    # per parameter: (1, 3) has sample variance 2 (ddof = 1; it would be 1 with ddof = 0), (0, 4) has 8
    est = GradientEstimate(per_episode=np.array([[1.0, 0.0], [3.0, 4.0]]), estimator="full_return")
    assert est.total_variance == 10.0
    rng = np.random.default_rng(0)
    samples = rng.normal(size=(5, 2, 3))  # N = 5 episodes, theta of shape (2, 3)
    est = GradientEstimate(per_episode=samples, estimator="reward_to_go")
    flat = samples.reshape(5, -1)
    assert est.total_variance == pytest.approx(np.trace(np.cov(flat, rowvar=False)), rel=1e-12)
    assert GradientEstimate(per_episode=samples[:1], estimator="reward_to_go").total_variance == np.inf


# ---------------------------------------------------------------- the visit counts that estimate occupancies


def test_state_visits_counts_each_step_once_without_discounting():
    """state_visits(discounted=False)[i, s] = number of steps of episode i spent in s (a loop over steps),
    on a gamma < 1 MDP where the discounted version differs; their means estimate the undiscounted and
    the discounted occupancy."""
    mdp = random_mdp(3, 2, seed=4, gamma=0.7)
    batch = rollouts(mdp, np.full((3, 2), 0.5), 50, 12, seed=4)
    counts, discounted = batch.state_visits(discounted=False), batch.state_visits()
    expected = np.zeros((50, 3))
    for i in range(50):
        for t in range(batch.lengths[i]):
            expected[i, batch.states[i, t]] += 1
    np.testing.assert_array_equal(counts, expected)
    np.testing.assert_array_equal(counts.sum(axis=1), batch.lengths)
    assert not np.allclose(discounted, counts)
    np.testing.assert_allclose(discounted.sum(axis=1), (1 - 0.7 ** batch.lengths) / 0.3)


# ---------------------------------------------------------------- unbiasedness against the exact gradient

N_EPISODES = 4000


def corridor_features() -> np.ndarray:
    phi = np.zeros((4, 2, 2))
    phi[:, 1, 0] = 1.0  # "right" feature, the same in every state
    phi[:, 0, 1] = 1.0  # "left" feature
    return phi


def make_case(name: str):
    rng = np.random.default_rng(7)
    if name == "episodic":
        mdp, policy, horizon = random_episodic_mdp(4, 3, seed=1), TabularSoftmax(5, 3), 200
        theta = rng.normal(scale=0.5, size=(5, 3))
    elif name == "corridor":
        mdp, policy, horizon = short_corridor(), LinearSoftmax(corridor_features()), 1000
        theta = np.array([np.log(0.3 / 0.7), 0.0])  # P(right) = 0.3, gradient (8.48, -8.48)
    else:  # continuing, gamma < 1, horizon long enough that gamma^horizon ~ 2e-8 is negligible
        mdp, policy, horizon = random_mdp(4, 3, seed=2, gamma=0.8), TabularSoftmax(4, 3), 80
        theta = rng.normal(scale=0.5, size=(4, 3))
    pi = policy.probs(theta)
    batch = rollouts(mdp, pi, N_EPISODES, horizon, seed=8)
    estimates = {
        "full_return": reinforce_gradient(batch, policy, theta, "full_return"),
        "reward_to_go": reinforce_gradient(batch, policy, theta, "reward_to_go"),
        "state_baseline": reinforce_gradient(batch, policy, theta, "reward_to_go", baseline=exact.value(mdp, pi)),
        "drop_gamma_t": reinforce_gradient(batch, policy, theta, "reward_to_go", drop_gamma_t=True),
    }
    return exact.policy_gradient(mdp, policy, theta), estimates


@pytest.fixture(scope="module", params=["episodic", "corridor", "continuing"])
def case(request):
    return request.param, *make_case(request.param)


@pytest.mark.parametrize("kind", ["full_return", "reward_to_go", "state_baseline"])
def test_unbiased_estimators_are_within_4_stderr_of_the_exact_gradient(case, kind):
    name, grad, estimates = case
    est = estimates[kind]
    assert est.mean.shape == grad.shape and est.n_episodes == N_EPISODES
    # Terminal-state parameters get no score: there both sides are exactly 0 and the stderr is 0.
    error = np.abs(est.mean - grad)
    assert np.all(error <= 4 * est.stderr + 1e-12), f"{name}/{kind}: {est.mean} vs exact {grad} (stderr {est.stderr})"
    # The test has power: the standard errors are small next to the gradient being estimated.
    assert est.stderr.max() < 0.2 * np.abs(grad).max()


def test_reward_to_go_has_lower_variance_than_full_return(case):
    name, _, estimates = case
    ratio = estimates["reward_to_go"].total_variance / estimates["full_return"].total_variance
    # measured: episodic 0.52, corridor 0.38, continuing 0.04
    assert ratio < {"episodic": 0.75, "corridor": 0.6, "continuing": 0.2}[name]


def test_state_value_baseline_lowers_variance_on_the_corridor():
    _, estimates = make_case("corridor")
    ratio = estimates["state_baseline"].total_variance / estimates["reward_to_go"].total_variance
    assert ratio < 0.6  # measured about 0.4


def test_dropping_gamma_t_is_harmless_at_gamma_1_and_biased_below(case):
    name, grad, estimates = case
    dropped, kept = estimates["drop_gamma_t"], estimates["reward_to_go"]
    if name != "continuing":  # gamma = 1: gamma^t = 1, the two estimators coincide
        assert np.allclose(dropped.per_episode, kept.per_episode)
    else:  # gamma = 0.8: late steps get weight 1 instead of 0.8^t, far from grad J
        z = np.abs(dropped.mean - grad) / dropped.stderr
        assert z.max() > 20, f"expected a clear bias, got max z = {z.max():.1f}"


# ---------------------------------------------------------------- truncation on episodic MDPs


def test_truncated_episodes_on_an_episodic_mdp_need_explicit_consent():
    mdp = short_corridor()
    policy = LinearSoftmax(corridor_features())
    theta = np.zeros(2)
    batch = rollouts(mdp, policy.probs(theta), 200, 5, seed=0)
    assert batch.truncated.any()
    with pytest.raises(ValueError, match="^batch: .*cut at the horizon"):
        reinforce_gradient(batch, policy, theta)
    est = reinforce_gradient(batch, policy, theta, allow_truncated=True)
    assert est.per_episode.shape == (200, 2)


def test_continuing_batches_are_always_truncated_and_accepted():
    mdp = random_mdp(3, 2, seed=0, gamma=0.5)
    policy = TabularSoftmax(3, 2)
    batch = rollouts(mdp, policy.probs(policy.zeros()), 10, 20, seed=0)
    assert batch.truncated.all()
    assert reinforce_gradient(batch, policy, policy.zeros(), "reward_to_go").mean.shape == (3, 2)


# ---------------------------------------------------------------- bad input


@pytest.fixture(scope="module")
def small():
    mdp = random_episodic_mdp(3, 2, seed=0)
    policy = TabularSoftmax(4, 2)
    theta = policy.zeros()
    return policy, theta, rollouts(mdp, policy.probs(theta), 20, 200, seed=0)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"batch": "not a batch"}, "batch"),
        ({"policy": TabularSoftmax(5, 2)}, "policy"),
        ({"policy": "softmax"}, "policy"),
        ({"theta": np.zeros((4, 3))}, "theta"),
        ({"theta": np.full((4, 2), np.nan)}, "theta"),
        ({"estimator": "gae"}, "estimator"),
        ({"baseline": np.zeros(4)}, "baseline"),  # arrays need reward_to_go
        ({"estimator": "reward_to_go", "baseline": np.zeros(3)}, "baseline"),
        ({"estimator": "reward_to_go", "baseline": np.zeros((4, 2))}, "baseline"),
        ({"estimator": "reward_to_go", "baseline": np.nan}, "baseline"),
        ({"estimator": "reward_to_go", "baseline": [0.0, np.nan, 0.0, 0.0]}, "baseline"),
        ({"baseline": "zero"}, "baseline"),
        ({"drop_gamma_t": True}, "drop_gamma_t"),  # full_return has no gamma^t
        ({"estimator": "reward_to_go", "drop_gamma_t": "yes"}, "drop_gamma_t"),
    ],
)
def test_reinforce_gradient_bad_input_names_the_argument(small, kwargs, name):
    policy, theta, batch = small
    args = {"batch": batch, "policy": policy, "theta": theta}
    args.update(kwargs)
    with pytest.raises(ValueError, match=f"^{name}"):
        reinforce_gradient(**args)


def test_unknown_estimator_lists_the_valid_names(small):
    policy, theta, batch = small
    with pytest.raises(ValueError, match="full_return.*reward_to_go"):
        reinforce_gradient(batch, policy, theta, estimator="reward-to-go")


@pytest.mark.parametrize(
    "rewards, mask, gamma, name",
    [
        (np.zeros((2, 3)), np.ones((2, 3)), 0.9, "mask"),  # not boolean
        (np.zeros((2, 3)), np.ones((2, 2), dtype=bool), 0.9, "mask"),
        (np.zeros((1, 3)), np.array([[True, False, True]]), 0.9, "mask"),  # padding in the middle
        (np.zeros(3), np.ones(3, dtype=bool), 0.9, "rewards"),
        (np.full((1, 2), np.nan), np.ones((1, 2), dtype=bool), 0.9, "rewards"),
        (np.zeros((1, 2)), np.ones((1, 2), dtype=bool), 1.5, "gamma"),
    ],
)
def test_returns_to_go_bad_input_names_the_argument(rewards, mask, gamma, name):
    with pytest.raises(ValueError, match=f"^{name}"):
        returns_to_go(rewards, mask, gamma)


def test_episode_returns_rejects_a_non_batch():
    with pytest.raises(ValueError, match="^batch"):
        episode_returns(np.zeros((2, 3)))
