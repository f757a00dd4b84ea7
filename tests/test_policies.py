"""Softmax policies: probabilities, score functions, sampling."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pgbook.policies import GaussianPolicy, LinearSoftmax, TabularSoftmax, softmax

seeds = st.integers(min_value=0, max_value=2**31 - 1)


def make_policy(kind, seed, S=3, A=4, d=5):
    rng = np.random.default_rng(seed)
    policy = TabularSoftmax(S, A) if kind == "tabular" else LinearSoftmax(rng.normal(size=(S, A, d)))
    return policy, 3 * rng.normal(size=policy.theta_shape)


@settings(max_examples=50, deadline=None)
@given(seed=seeds, kind=st.sampled_from(["tabular", "linear"]))
def test_score_has_zero_mean_under_the_policy(seed, kind):
    policy, theta = make_policy(kind, seed)
    pi, score = policy.probs(theta), policy.grad_log_probs(theta)
    mean = np.einsum("sa,sa...->s...", pi, score)
    np.testing.assert_allclose(mean, 0.0, atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(seed=seeds, kind=st.sampled_from(["tabular", "linear"]))
def test_score_matches_finite_differences_of_log_probs(seed, kind):
    policy, theta = make_policy(kind, seed)
    score = policy.grad_log_probs(theta)
    eps = 1e-6
    for idx in np.ndindex(theta.shape):
        step = np.zeros_like(theta)
        step[idx] = eps
        fd = (np.log(policy.probs(theta + step)) - np.log(policy.probs(theta - step))) / (2 * eps)
        np.testing.assert_allclose(score[(slice(None), slice(None)) + idx], fd, atol=1e-6)


@settings(max_examples=30, deadline=None)
@given(seed=seeds, kind=st.sampled_from(["tabular", "linear"]))
def test_weighted_score_equals_contraction_of_score_table(seed, kind):
    policy, theta = make_policy(kind, seed)
    weights = np.random.default_rng(seed).normal(size=(2, 3, 4))  # a batch of two weight tables
    expected = np.tensordot(weights, policy.grad_log_probs(theta), axes=([1, 2], [0, 1]))
    np.testing.assert_allclose(policy.weighted_score(theta, weights), expected, atol=1e-12)


def test_probs_rows_sum_to_one_even_for_huge_preferences():
    policy = TabularSoftmax(2, 3)
    pi = policy.probs(np.array([[1000.0, 0.0, -1000.0], [0.0, 0.0, 0.0]]))
    np.testing.assert_allclose(pi.sum(axis=1), 1.0)
    np.testing.assert_allclose(pi[0], [1.0, 0.0, 0.0])
    np.testing.assert_allclose(pi[1], 1 / 3)


def test_softmax_is_shift_invariant():
    h = np.array([[0.3, -1.2, 2.0]])
    np.testing.assert_allclose(softmax(h), softmax(h + 17.0))


def test_sample_frequencies_match_probabilities():
    policy = TabularSoftmax(2, 3)
    theta = np.array([[0.0, 1.0, 2.0], [2.0, 0.0, -1.0]])
    states = np.repeat([0, 1], 50_000)
    actions = policy.sample(theta, states, seed=0)
    pi = policy.probs(theta)
    for s in (0, 1):
        freq = np.bincount(actions[states == s], minlength=3) / 50_000
        np.testing.assert_allclose(freq, pi[s], atol=4 * np.sqrt(0.25 / 50_000))
    np.testing.assert_array_equal(actions, policy.sample(theta, states, seed=0))  # reproducible


def test_linear_softmax_with_shared_features_ignores_state():
    phi = np.tile(np.eye(2)[None], (3, 1, 1))  # the short corridor's features: one per action, same in every state
    pi = LinearSoftmax(phi).probs(np.array([0.2, -0.4]))
    np.testing.assert_allclose(pi, np.tile(pi[0], (3, 1)))


# ---------------------------------------------------------------- batches of parameters


@pytest.mark.parametrize("kind", ["tabular", "linear"])
def test_batched_probs_and_scores_equal_per_parameter_results(kind):
    policy, _ = make_policy(kind, 0)
    thetas = 3 * np.random.default_rng(1).normal(size=(2, 5) + policy.theta_shape)
    pi, score = policy.probs(thetas), policy.grad_log_probs(thetas)
    assert pi.shape == (2, 5, 3, 4) and score.shape == (2, 5, 3, 4) + policy.theta_shape
    for i in np.ndindex(2, 5):
        np.testing.assert_allclose(pi[i], policy.probs(thetas[i]), rtol=0, atol=1e-15)
        np.testing.assert_allclose(score[i], policy.grad_log_probs(thetas[i]), rtol=0, atol=1e-15)


@pytest.mark.parametrize("kind", ["tabular", "linear"])
def test_weighted_score_pairs_batched_theta_with_batched_weights(kind):
    """theta[i] pairs with weights[i]; leading shapes broadcast (NumPy rules, aligned from the right)."""
    policy, _ = make_policy(kind, 2)
    rng = np.random.default_rng(3)
    thetas = rng.normal(size=(5,) + policy.theta_shape)
    paired = rng.normal(size=(5, 3, 4))
    out = policy.weighted_score(thetas, paired)
    assert out.shape == (5,) + policy.theta_shape
    for i in range(5):
        np.testing.assert_allclose(out[i], policy.weighted_score(thetas[i], paired[i]), atol=1e-12)
    shared = rng.normal(size=(3, 4))  # one table for every theta
    out = policy.weighted_score(thetas, shared)
    for i in range(5):
        np.testing.assert_allclose(out[i], policy.weighted_score(thetas[i], shared), atol=1e-12)
    per_episode = rng.normal(size=(7, 5, 3, 4))  # 7 tables for each of the 5 thetas
    out = policy.weighted_score(thetas, per_episode)
    assert out.shape == (7, 5) + policy.theta_shape
    for n, i in np.ndindex(7, 5):
        np.testing.assert_allclose(out[n, i], policy.weighted_score(thetas[i], per_episode[n, i]), atol=1e-12)
    # a single theta keeps the leading axes of the weights (what pgbook.estimators relies on)
    assert policy.weighted_score(thetas[0], per_episode).shape == (7, 5) + policy.theta_shape


def test_weighted_score_with_mismatched_batches_names_weights():
    policy = LinearSoftmax(np.ones((3, 4, 2)))
    with pytest.raises(ValueError, match=r"^weights: leading shape \(6,\) does not broadcast with theta's batch shape \(5,\)"):
        policy.weighted_score(np.zeros((5, 2)), np.ones((6, 3, 4)))
    with pytest.raises(ValueError, match=r"^weights: expected trailing shape \(3, 4\)"):
        policy.weighted_score(np.zeros(2), np.ones(4))


def test_softmax_of_a_large_batch_matches_the_textbook_formula():
    """softmax reduces a short axis of a large array slice by slice: check it against the formula."""
    rng = np.random.default_rng(4)
    for shape, axis in [((3000, 4, 3), -1), ((2, 3000, 5), 1), ((8, 4000), 0), ((100, 200), -1)]:
        h = 5 * rng.normal(size=shape)
        e = np.exp(h - h.max(axis=axis, keepdims=True))
        np.testing.assert_allclose(softmax(h, axis=axis), e / e.sum(axis=axis, keepdims=True), rtol=1e-13, atol=0)


# ---------------------------------------------------------------- the Gaussian policy


def gaussian(seed=0, S=3, d=2):
    rng = np.random.default_rng(seed)
    policy = GaussianPolicy(rng.normal(size=(S, d)))
    theta = np.append(rng.normal(size=d), np.log(0.6))  # theta_mu, then log sigma
    return policy, theta


def test_gaussian_parameter_layout_mean_and_std():
    policy = GaussianPolicy(np.array([[1.0, 0.0], [2.0, -1.0]]))
    theta = np.array([0.5, 3.0, np.log(2.0)])
    np.testing.assert_allclose(policy.mean(theta, np.array([[0, 1]])), [[0.5, 1.0 - 3.0]])
    assert policy.std(theta) == pytest.approx(2.0) and policy.n_params == 3 and policy.theta_shape == (3,)
    assert policy.log_prob(theta, 0, 0.5) == pytest.approx(-np.log(2.0) - 0.5 * np.log(2 * np.pi))  # at the mean
    # state 1, a = mu + sigma, so a - mu = 2: d/d theta_mu = (a - mu) / sigma^2 phi = [1, -0.5],
    # d/d log sigma = (a - mu)^2 / sigma^2 - 1 = 0
    np.testing.assert_allclose(policy.grad_log_prob(theta, 1, -2.0 + 2.0), [1.0, -0.5, 0.0])
    np.testing.assert_allclose(policy.grad_log_prob(theta, 1, -2.0 + 4.0), [2.0, -1.0, 3.0])  # z = 4


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gaussian_score_has_zero_mean_and_fisher_matrix_exactly_by_gauss_hermite(seed):
    """E[g] = 0 and E[g g^T] = diag(phi phi^T / sigma^2, 2): the score is a polynomial of degree <= 2
    in a, so 10-point Gauss-Hermite quadrature computes both exactly."""
    policy, theta = gaussian(seed)
    x, w = np.polynomial.hermite.hermgauss(10)  # int f(x) e^{-x^2} dx ~ sum w f(x)
    sigma = policy.std(theta)
    for s in range(policy.n_states):
        actions = policy.mean(theta, s) + sigma * np.sqrt(2.0) * x
        g = policy.grad_log_prob(theta, np.full(10, s), actions)
        p = w / np.sqrt(np.pi)
        np.testing.assert_allclose(p @ g, 0.0, atol=1e-13)
        fisher = np.einsum("n,ni,nj->ij", p, g, g)
        expected = np.zeros((3, 3))
        expected[:2, :2] = np.outer(policy.features[s], policy.features[s]) / sigma**2
        expected[2, 2] = 2.0
        np.testing.assert_allclose(fisher, expected, atol=1e-12)


def test_gaussian_samples_follow_the_policy_and_their_scores_average_to_zero():
    policy, theta = gaussian(3)
    n = 200_000
    states = np.repeat(np.arange(3), n // 2)[: n]
    actions = policy.sample(theta, states, seed=5)
    z = (actions - policy.mean(theta, states)) / policy.std(theta)
    # standardized draws: mean 0 (SE 1/sqrt(n)) and variance 1 (SE sqrt(2/n))
    assert abs(z.mean()) < 4 / np.sqrt(n) and abs(z.var() - 1) < 4 * np.sqrt(2 / n)
    g = policy.grad_log_prob(theta, states, actions)
    se = g.std(axis=0, ddof=1) / np.sqrt(n)
    assert np.all(np.abs(g.mean(axis=0)) < 4 * se)
    np.testing.assert_array_equal(actions, policy.sample(theta, states, seed=5))  # reproducible


@settings(max_examples=30)
@given(seed=seeds, a=st.floats(-5, 5))
def test_gaussian_score_matches_finite_differences_of_log_prob(seed, a):
    policy, theta = gaussian(seed)
    s = seed % policy.n_states
    eps = 1e-6
    fd = [
        (policy.log_prob(theta + eps * e, s, a) - policy.log_prob(theta - eps * e, s, a)) / (2 * eps)
        for e in np.eye(policy.n_params)
    ]
    np.testing.assert_allclose(policy.grad_log_prob(theta, s, a), fd, rtol=1e-6, atol=1e-6)


def test_gaussian_log_prob_is_the_normal_density():
    policy, theta = gaussian(4)
    mu, sigma = policy.mean(theta, 1), policy.std(theta)
    a = np.linspace(-3, 3, 7)
    density = np.exp(-((a - mu) ** 2) / (2 * sigma**2)) / (sigma * np.sqrt(2 * np.pi))
    np.testing.assert_allclose(np.exp(policy.log_prob(theta, 1, a)), density, rtol=1e-12)


def test_gaussian_policy_is_not_a_softmax_policy():
    from pgbook.policies import SoftmaxPolicy

    assert not isinstance(gaussian()[0], SoftmaxPolicy)
