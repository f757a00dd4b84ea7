"""Exact tabular computations: every identity the book relies on, on random MDPs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pgbook import exact
from pgbook.mdp import bandit, frozen_lake, random_episodic_mdp, random_mdp, short_corridor
from pgbook.policies import LinearSoftmax, TabularSoftmax

seeds = st.integers(min_value=0, max_value=2**31 - 1)
sizes = st.integers(min_value=1, max_value=5)
gammas = st.floats(min_value=0.0, max_value=0.95)


def finite_difference_gradient(mdp, policy, theta, eps=1e-6):
    """Central differences of J along every coordinate of theta."""
    grad = np.zeros_like(theta)
    for idx in np.ndindex(theta.shape):
        step = np.zeros_like(theta)
        step[idx] = eps
        plus = exact.objective(mdp, policy.probs(theta + step))
        minus = exact.objective(mdp, policy.probs(theta - step))
        grad[idx] = (plus - minus) / (2 * eps)
    return grad


def random_policy_and_theta(mdp, seed, linear):
    rng = np.random.default_rng(seed)
    if linear:
        policy = LinearSoftmax(rng.normal(size=(mdp.n_states, mdp.n_actions, 3)))
    else:
        policy = TabularSoftmax(mdp.n_states, mdp.n_actions)
    return policy, rng.normal(size=policy.theta_shape)


@settings(max_examples=30, deadline=None)
@given(seed=seeds, S=sizes, A=sizes, gamma=gammas, linear=st.booleans())
def test_policy_gradient_matches_finite_differences_discounted(seed, S, A, gamma, linear):
    mdp = random_mdp(S, A, seed=seed, gamma=gamma)
    policy, theta = random_policy_and_theta(mdp, seed + 1, linear)
    grad = exact.policy_gradient(mdp, policy, theta)
    assert grad.shape == theta.shape
    np.testing.assert_allclose(grad, finite_difference_gradient(mdp, policy, theta), atol=1e-6, rtol=1e-5)


@settings(max_examples=30, deadline=None)
@given(seed=seeds, S=sizes, A=sizes, termination=st.floats(0.1, 1.0), linear=st.booleans())
def test_policy_gradient_matches_finite_differences_episodic(seed, S, A, termination, linear):
    mdp = random_episodic_mdp(S, A, seed=seed, termination=termination)
    policy, theta = random_policy_and_theta(mdp, seed + 1, linear)
    np.testing.assert_allclose(
        exact.policy_gradient(mdp, policy, theta), finite_difference_gradient(mdp, policy, theta), atol=1e-6, rtol=1e-5
    )


@settings(max_examples=40, deadline=None)
@given(seed=seeds, S=sizes, A=sizes, gamma=gammas)
def test_occupancy_sums_to_effective_horizon_and_satisfies_its_bellman_equation(seed, S, A, gamma):
    mdp = random_mdp(S, A, seed=seed, gamma=gamma)
    pi = TabularSoftmax(S, A).probs(np.random.default_rng(seed).normal(size=(S, A)))
    rho = exact.occupancy(mdp, pi)
    assert rho.sum() == pytest.approx(1.0 / (1.0 - gamma), rel=1e-9)
    # rho = rho0 + gamma rho P^pi : the occupancy's own Bellman (flow) equation
    np.testing.assert_allclose(rho, mdp.rho0 + gamma * rho @ mdp.policy_transition(pi), atol=1e-10)
    assert np.all(rho >= -1e-12)
    np.testing.assert_allclose(exact.state_distribution(mdp, pi).sum(), 1.0)


def test_occupancy_matches_truncated_power_series():
    mdp = random_mdp(4, 3, seed=3, gamma=0.8)
    pi = np.full((4, 3), 1 / 3)
    P_pi = mdp.policy_transition(pi)
    series = sum(mdp.gamma**t * mdp.rho0 @ np.linalg.matrix_power(P_pi, t) for t in range(300))
    np.testing.assert_allclose(exact.occupancy(mdp, pi), series, atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(seed=seeds, S=sizes, A=sizes, gamma=gammas)
def test_value_q_advantage_bellman_consistency(seed, S, A, gamma):
    mdp = random_mdp(S, A, seed=seed, gamma=gamma)
    pi = TabularSoftmax(S, A).probs(np.random.default_rng(seed).normal(size=(S, A)))
    v, q, adv = exact.value(mdp, pi), exact.q_value(mdp, pi), exact.advantage(mdp, pi)
    np.testing.assert_allclose(v, mdp.policy_reward(pi) + gamma * mdp.policy_transition(pi) @ v, atol=1e-10)
    np.testing.assert_allclose((pi * q).sum(axis=1), v, atol=1e-10)
    np.testing.assert_allclose((pi * adv).sum(axis=1), 0.0, atol=1e-10)
    # J two ways: rho0 . v and rho . r^pi
    assert exact.objective(mdp, pi) == pytest.approx(exact.occupancy(mdp, pi) @ mdp.policy_reward(pi), rel=1e-9, abs=1e-12)


def test_short_corridor_value_matches_closed_form():
    """Sutton & Barto Example 13.1: J(p) = (2p - 4) / (p (1 - p)) for right-probability p, best p ~ 0.586."""
    mdp = short_corridor()
    for p in (0.1, 0.3, 0.5, 0.59, 0.9):
        pi = np.tile([1 - p, p], (4, 1))
        assert exact.objective(mdp, pi) == pytest.approx((2 * p - 4) / (p * (1 - p)), rel=1e-12)
    p_star = 2 - np.sqrt(2)  # root of d/dp (2p-4)/(p(1-p)) = 0 in (0, 1)
    assert exact.objective(mdp, np.tile([1 - p_star, p_star], (4, 1))) == pytest.approx(-6 - 4 * np.sqrt(2), rel=1e-12)
    assert exact.occupancy(mdp, np.tile([0.5, 0.5], (4, 1))).sum() == pytest.approx(12.0)  # expected episode length


def test_short_corridor_deterministic_policy_never_terminates():
    with pytest.raises(ValueError, match="^pi: .*never reach a terminal state"):
        exact.value(short_corridor(), np.tile([0.0, 1.0], (4, 1)))


def test_bandit_objective_and_gradient():
    mdp = bandit([1.0, 100.0])
    policy = LinearSoftmax(np.array([[[3.0], [1.0]]]))  # f(s, a0) = 3, f(s, a1) = 1: the Boltzmann example
    theta = np.array([1.0])
    p0 = np.exp(2) / (np.exp(2) + 1)
    assert exact.objective(mdp, policy.probs(theta)) == pytest.approx(p0 * 1 + (1 - p0) * 100)
    # dJ/dq = sum_a pi(a) Q(a) (f(a) - E f) = 2 p0 (1 - p0) (Q0 - Q1)
    assert exact.policy_gradient(mdp, policy, theta)[0] == pytest.approx(2 * p0 * (1 - p0) * (1 - 100))


def test_frozen_lake_uses_gymnasium_table_and_is_episodic():
    mdp = frozen_lake()
    assert (mdp.n_states, mdp.n_actions) == (16, 4)
    assert mdp.terminal.sum() == 5 and mdp.terminal[15]
    uniform = np.full((16, 4), 0.25)
    # value iteration on the same table reaches the same uniform-policy value
    v = np.zeros(16)
    for _ in range(5000):
        v = mdp.policy_reward(uniform) + mdp.gamma * mdp.policy_transition(uniform) @ v
    np.testing.assert_allclose(exact.value(mdp, uniform), v, atol=1e-10)
    assert 0 < exact.objective(mdp, uniform) < 1


@settings(max_examples=20, deadline=None)
@given(seed=seeds, S=st.integers(1, 4), A=st.integers(2, 4), gamma=gammas)
def test_tabular_natural_gradient_is_centred_advantage(seed, S, A, gamma):
    """For the tabular softmax, F^+ grad J = A^pi minus its per-state mean (the least-norm solution)."""
    mdp = random_mdp(S, A, seed=seed, gamma=gamma)
    policy = TabularSoftmax(S, A)
    theta = np.random.default_rng(seed).normal(size=(S, A))
    adv = exact.advantage(mdp, policy.probs(theta))
    np.testing.assert_allclose(
        exact.natural_gradient(mdp, policy, theta), adv - adv.mean(axis=1, keepdims=True), atol=1e-7
    )


def test_fisher_is_symmetric_psd_and_matches_score_outer_products():
    mdp = random_mdp(3, 2, seed=5, gamma=0.7)
    policy = LinearSoftmax(np.random.default_rng(0).normal(size=(3, 2, 4)))
    theta = np.random.default_rng(1).normal(size=4)
    F = exact.fisher(mdp, policy, theta)
    np.testing.assert_allclose(F, F.T, atol=1e-12)
    assert np.linalg.eigvalsh(F).min() > -1e-10
    pi, rho, g = policy.probs(theta), exact.occupancy(mdp, policy.probs(theta)), policy.grad_log_probs(theta)
    loops = sum(rho[s] * pi[s, a] * np.outer(g[s, a], g[s, a]) for s in range(3) for a in range(2))
    np.testing.assert_allclose(F, loops, atol=1e-12)


def test_natural_gradient_is_invariant_to_linear_reparameterization():
    """With features phi' = phi B (B invertible), theta = B theta': the natural step maps back, the plain one does not."""
    rng = np.random.default_rng(2)
    mdp = random_mdp(4, 3, seed=2, gamma=0.9)
    phi = rng.normal(size=(4, 3, 3))
    B = np.array([[1.0, 0.9, 0.0], [0.0, 1.0, 0.9], [0.0, 0.0, 0.3]])
    theta_prime = rng.normal(size=3)
    pol, pol_prime = LinearSoftmax(phi), LinearSoftmax(phi @ B)
    theta = B @ theta_prime
    np.testing.assert_allclose(pol.probs(theta), pol_prime.probs(theta_prime), atol=1e-12)
    nat, nat_prime = exact.natural_gradient(mdp, pol, theta), exact.natural_gradient(mdp, pol_prime, theta_prime)
    np.testing.assert_allclose(B @ nat_prime, nat, atol=1e-8)
    plain, plain_prime = exact.policy_gradient(mdp, pol, theta), exact.policy_gradient(mdp, pol_prime, theta_prime)
    assert not np.allclose(B @ plain_prime, plain, atol=1e-3)


def test_evaluate_agrees_with_separate_functions():
    mdp = random_episodic_mdp(3, 2, seed=9)
    pi = np.tile([0.3, 0.7], (4, 1))
    ev = exact.evaluate(mdp, pi)
    np.testing.assert_allclose(ev.v, exact.value(mdp, pi))
    np.testing.assert_allclose(ev.q, exact.q_value(mdp, pi))
    np.testing.assert_allclose(ev.rho, exact.occupancy(mdp, pi))
    assert ev.v[-1] == 0 and ev.rho[-1] == 0 and np.all(ev.q[-1] == 0)
