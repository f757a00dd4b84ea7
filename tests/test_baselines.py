"""Tests of the constant-baseline helpers of pgbook.estimators: baseline_terms and
optimal_constant_baseline (chapter 4)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pgbook import exact
from pgbook.estimators import baseline_terms, episode_returns, optimal_constant_baseline, reinforce_gradient
from pgbook.mdp import bandit, random_episodic_mdp, random_mdp, short_corridor
from pgbook.policies import LinearSoftmax, TabularSoftmax
from pgbook.sampling import rollouts


def episodic_setup(seed=0, n=400):
    mdp = random_episodic_mdp(3, 2, seed=seed, termination=0.3)
    policy = TabularSoftmax(4, 2)
    theta = np.random.default_rng(seed).normal(size=(4, 2))
    batch = rollouts(mdp, policy.probs(theta), n, 200, seed=seed)
    return mdp, policy, theta, batch


@settings(max_examples=25)
@given(seed=st.integers(0, 10_000), b=st.floats(-50, 50),
       case=st.sampled_from([("full_return", False), ("reward_to_go", False), ("reward_to_go", True)]))
def test_estimate_is_affine_in_the_baseline(seed, b, case):
    estimator, drop = case
    mdp = random_mdp(3, 2, seed=seed, gamma=0.8)
    policy = TabularSoftmax(3, 2)
    theta = np.random.default_rng(seed).normal(size=(3, 2))
    batch = rollouts(mdp, policy.probs(theta), 20, 30, seed=seed)
    Y, Z = baseline_terms(batch, policy, theta, estimator, drop_gamma_t=drop)
    direct = reinforce_gradient(batch, policy, theta, estimator, baseline=b, drop_gamma_t=drop)
    assert Y.shape == Z.shape == (20, 3, 2)
    assert np.allclose(Y - b * Z, direct.per_episode, rtol=1e-10, atol=1e-9)


def test_score_term_has_mean_zero():
    _, policy, theta, batch = episodic_setup(seed=1, n=20_000)
    for estimator in ("full_return", "reward_to_go"):
        _, Z = baseline_terms(batch, policy, theta, estimator)
        mean, se = Z.mean(axis=0), Z.std(axis=0, ddof=1) / np.sqrt(len(Z))
        assert np.all(np.abs(mean) <= 5 * se + 1e-12)


@pytest.mark.parametrize("estimator", ["full_return", "reward_to_go"])
def test_optimal_baseline_minimizes_the_sample_variance(estimator):
    _, policy, theta, batch = episodic_setup(seed=2)
    Y, Z = baseline_terms(batch, policy, theta, estimator)

    def total_variance(b):
        return float((Y - b * Z).var(axis=0).sum())

    b_star = optimal_constant_baseline(batch, policy, theta, estimator)
    assert isinstance(b_star, float)
    # E[Z] is 0 in expectation, not in the sample: the sample minimizer of E[(Y - bZ)^2] differs
    # from that of the sample variance by a term of order 1/N, so compare second moments
    def second_moment(b):
        return float(((Y - b * Z) ** 2).sum())

    for delta in (-1.0, -0.01, 0.01, 1.0):
        assert second_moment(b_star) <= second_moment(b_star + delta)
    assert total_variance(b_star) < total_variance(0.0)

    per = optimal_constant_baseline(batch, policy, theta, estimator, per_parameter=True)
    assert per.shape == theta.shape
    for k in np.ndindex(theta.shape):
        column_y, column_z = Y[(slice(None),) + k], Z[(slice(None),) + k]
        moments = [((column_y - (per[k] + d) * column_z) ** 2).sum() for d in (-0.01, 0.0, 0.01)]
        assert moments[1] <= min(moments[0], moments[2])


def test_full_return_baseline_weights_returns_by_squared_score():
    _, policy, theta, batch = episodic_setup(seed=3)
    _, Z = baseline_terms(batch, policy, theta, "full_return")
    weights = (Z.reshape(len(Z), -1) ** 2).sum(axis=1)  # |sum_t g_t|^2 per episode
    expected = float((weights * episode_returns(batch)).sum() / weights.sum())
    assert optimal_constant_baseline(batch, policy, theta) == pytest.approx(expected, rel=1e-10)


def test_per_parameter_full_return_baseline_weights_returns_by_each_squared_component():
    _, policy, theta, batch = episodic_setup(seed=8)
    _, Z = baseline_terms(batch, policy, theta, "full_return")  # Z[i] = sum_t g_t of episode i
    R = episode_returns(batch)[:, None, None]
    visited = (Z**2).sum(axis=0) > 0  # the terminal state's parameters have zero score
    assert visited.sum() == 6
    # b*_k = E[S_k^2 R] / E[S_k^2], for each parameter k
    expected = (Z**2 * R).sum(axis=0)[visited] / (Z**2).sum(axis=0)[visited]
    per = optimal_constant_baseline(batch, policy, theta, per_parameter=True)
    assert np.allclose(per[visited], expected, rtol=1e-10)
    assert np.all(per[~visited] == 0.0)


def test_bandit_matches_the_exact_formula():
    # one step, two arms: score sum = e_a - pi, R = r(a); b* = E[|S|^2 r] / E[|S|^2]
    rewards = np.array([1.0, 3.0])
    mdp = bandit(rewards)
    policy = TabularSoftmax(1, 2)
    theta = np.array([[0.4, -0.3]])
    pi = policy.probs(theta)[0]
    squared = np.array([((np.eye(2)[a] - pi) ** 2).sum() for a in range(2)])
    exact_b = float((pi * squared * rewards).sum() / (pi * squared).sum())
    batch = rollouts(mdp, policy.probs(theta), 200_000, 1, seed=4)
    assert optimal_constant_baseline(batch, policy, theta) == pytest.approx(exact_b, abs=0.02)
    # with two arms the score is a multiple of (1, -1), so every parameter has the same b*
    per = optimal_constant_baseline(batch, policy, theta, per_parameter=True)
    assert np.allclose(per, per[0, 0])


def test_corridor_baseline_exceeds_mean_return_in_size():
    corridor = short_corridor()
    features = np.zeros((4, 2, 2))
    features[:, 1] = [1.0, 0.0]
    features[:, 0] = [0.0, 1.0]
    policy = LinearSoftmax(features)
    theta = np.array([np.log(0.3 / 0.7), 0.0])
    batch = rollouts(corridor, policy.probs(theta), 20_000, 1000, seed=5)
    J = exact.objective(corridor, policy.probs(theta))
    b_star = optimal_constant_baseline(batch, policy, theta)
    assert b_star < 1.5 * J < 0  # long episodes: large score sums and very negative returns


def test_zero_scores_give_zero_baseline():
    mdp = bandit([2.0])  # one action: every score is 0
    policy = TabularSoftmax(1, 1)
    batch = rollouts(mdp, policy.probs(np.zeros((1, 1))), 10, 1, seed=0)
    assert optimal_constant_baseline(batch, policy, np.zeros((1, 1))) == 0.0
    per = optimal_constant_baseline(batch, policy, np.zeros((1, 1)), per_parameter=True)
    assert np.array_equal(per, np.zeros((1, 1)))


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"per_parameter": "yes"}, r"^per_parameter: expected True or False"),
        ({"per_parameter": 1}, r"^per_parameter: expected True or False"),
        ({"estimator": "gae"}, r"^estimator: expected one of"),
        ({"estimator": "full_return", "drop_gamma_t": True}, r"^drop_gamma_t: only applies"),
    ],
)
def test_bad_input(kwargs, pattern):
    _, policy, theta, batch = episodic_setup(seed=6, n=10)
    with pytest.raises(ValueError, match=pattern):
        optimal_constant_baseline(batch, policy, theta, **kwargs)


def test_bad_batch_policy_theta_and_truncation():
    mdp, policy, theta, batch = episodic_setup(seed=7, n=10)
    with pytest.raises(ValueError, match=r"^batch: expected a pgbook.sampling.Batch"):
        baseline_terms("episodes", policy, theta)
    with pytest.raises(ValueError, match=r"^policy: has 3 states"):
        baseline_terms(batch, TabularSoftmax(3, 2), theta)
    with pytest.raises(ValueError, match=r"^theta: expected shape"):
        optimal_constant_baseline(batch, policy, np.zeros(3))
    short = rollouts(mdp, policy.probs(theta), 50, 1, seed=0)
    with pytest.raises(ValueError, match=r"^batch: .* cut at the horizon"):
        optimal_constant_baseline(short, policy, theta)
    assert np.isfinite(optimal_constant_baseline(short, policy, theta, allow_truncated=True))
