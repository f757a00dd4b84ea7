"""Softmax policies: probabilities, score functions, sampling."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pgbook.policies import LinearSoftmax, TabularSoftmax, softmax

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
