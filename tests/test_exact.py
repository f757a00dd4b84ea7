"""Exact tabular computations: every identity the book relies on, on random MDPs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pgbook import exact
from pgbook.mdp import TabularMDP, bandit, frozen_lake, random_episodic_mdp, random_mdp, short_corridor
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


# ---------------------------------------------------------------- P^pi and terminal states


def test_policy_transition_removes_transitions_into_and_out_of_terminal_states():
    mdp = random_episodic_mdp(3, 2, seed=4, termination=0.3)  # states 0-2 decide, 3 is terminal
    pi = np.array([[0.2, 0.8], [0.5, 0.5], [0.9, 0.1], [0.5, 0.5]])
    P_pi = mdp.policy_transition(pi)
    full = np.einsum("sa,sat->st", pi, mdp.P)  # the chain before removal: rows sum to 1
    assert np.all(P_pi[:, 3] == 0) and np.all(P_pi[3] == 0)  # terminal row and column are 0 ...
    assert full[3, 3] == 1 and np.all(full[:3, 3] == pytest.approx(0.3))  # ... though the full chain has mass there
    np.testing.assert_array_equal(P_pi[:3, :3], full[:3, :3])  # the rest is untouched
    np.testing.assert_allclose(P_pi.sum(axis=1), [0.7, 0.7, 0.7, 0.0])  # sub-stochastic: what is left continues


def test_transitions_out_of_a_terminal_state_are_ignored():
    """A terminal state whose row leads back to decision states (a 'reset') behaves as an absorbing one."""
    absorbing = random_episodic_mdp(3, 2, seed=5)
    P = absorbing.P.copy()
    P[3] = [[0.5, 0.5, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]]  # out of the terminal state 3, back into 0, 1, 2
    resetting = TabularMDP(P, absorbing.R, absorbing.rho0, 1.0, terminal=absorbing.terminal)
    pi = np.array([[0.2, 0.8], [0.5, 0.5], [0.9, 0.1], [0.3, 0.7]])
    assert np.all(resetting.policy_transition(pi)[3] == 0)
    np.testing.assert_array_equal(resetting.policy_transition(pi), absorbing.policy_transition(pi))
    for fn in (exact.value, exact.occupancy, exact.q_value):
        np.testing.assert_allclose(fn(resetting, pi), fn(absorbing, pi), rtol=1e-14, atol=1e-15)
        np.testing.assert_allclose(fn(resetting, np.stack([pi, pi]))[1], fn(absorbing, pi), rtol=1e-14, atol=1e-15)


def test_batched_policy_transition_and_reward_stack_single_calls():
    mdp = frozen_lake()
    pis = TabularSoftmax(16, 4).probs(np.random.default_rng(0).normal(size=(2, 3, 16, 4)))
    P_pi, r_pi = mdp.policy_transition(pis), mdp.policy_reward(pis)
    assert P_pi.shape == (2, 3, 16, 16) and r_pi.shape == (2, 3, 16)
    for i in np.ndindex(2, 3):
        np.testing.assert_allclose(P_pi[i], mdp.policy_transition(pis[i]), rtol=0, atol=1e-15)
        np.testing.assert_allclose(r_pi[i], mdp.policy_reward(pis[i]), rtol=0, atol=1e-15)


# ---------------------------------------------------------------- conditioning: relative, not absolute


def two_state_chain(gamma):
    """A continuing chain 0 <-> 1 (p(0->1) = 0.3, p(1->0) = 0.6) and its exact values.

    det(I - gamma P) = (1 - gamma)(1 - gamma (1 - a - b)), the eigenvalues of P being 1 and 1 - a - b;
    1 - gamma is computed exactly (Sterbenz), so the closed form is accurate to a few ulps.
    """
    a, b, r0, r1 = 0.3, 0.6, 1.0, -2.0
    mdp = TabularMDP(np.array([[[1 - a, a]], [[b, 1 - b]]]), np.array([[r0], [r1]]), np.array([1.0, 0.0]), gamma)
    det = (1 - gamma) * (1 - gamma * (1 - a - b))
    v = np.array([(1 - gamma * (1 - b)) * r0 + gamma * a * r1, (1 - gamma * (1 - a)) * r1 + gamma * b * r0]) / det
    return mdp, v


@pytest.mark.parametrize("one_minus_gamma, rtol", [(1e-9, 1e-6), (1e-12, 1e-3)])
def test_continuing_mdp_with_gamma_just_below_one_is_accepted_and_accurate(one_minus_gamma, rtol):
    """kappa(M) ~ 2 / (1 - gamma): 2e12 at 1 - 1e-12, below the 1e13 limit; the values (~1e12) keep
    about 4 digits (measured relative error 7e-5), as kappa * eps predicts."""
    mdp, v = two_state_chain(1.0 - one_minus_gamma)
    pi = np.ones((2, 1))
    np.testing.assert_allclose(exact.value(mdp, pi), v, rtol=rtol)
    np.testing.assert_allclose(exact.value(mdp, np.stack([pi, pi]))[1], v, rtol=rtol)  # the batched path too
    assert exact.occupancy(mdp, pi).sum() == pytest.approx(1 / (1 - mdp.gamma), rel=rtol)


def test_gamma_so_close_to_one_that_no_digit_is_left_is_refused():
    mdp, _ = two_state_chain(1.0 - 1e-14)  # kappa ~ 1e14: a relative error up to ~2e-2
    with pytest.raises(ValueError, match=r"^gamma: .*numerically singular for this policy \(condition number"):
        exact.value(mdp, np.ones((2, 1)))


@pytest.mark.parametrize("p_right", [1e-8, 1 - 1e-8])
def test_rarely_terminating_policy_has_large_correct_values(p_right):
    """The short corridor with gamma = 1 ends only by going right from s2. Taking an action with
    probability 1e-8 (right, or left) makes the episode last ~4e8 (~2e8) steps: J = (2p - 4) / (p (1 - p))."""
    mdp = short_corridor()
    pi = np.tile([1 - p_right, p_right], (4, 1))
    J = (2 * p_right - 4) / (p_right * (1 - p_right))
    assert abs(J) > 1e8
    assert exact.objective(mdp, pi) == pytest.approx(J, rel=1e-6)
    assert exact.occupancy(mdp, pi).sum() == pytest.approx(-J, rel=1e-6)  # reward -1 per step: J = -E[length]
    batched = exact.objective(mdp, np.stack([np.tile([0.5, 0.5], (4, 1)), pi]))
    assert batched[1] == pytest.approx(J, rel=1e-6) and batched[0] == pytest.approx(-12.0)


def test_policy_that_terminates_too_rarely_for_double_precision_is_refused():
    pi = np.tile([1 - 1e-14, 1e-14], (4, 1))  # expected episode length ~4e14 steps
    with pytest.raises(ValueError, match=r"^pi: this policy terminates so rarely .* numerically singular"):
        exact.objective(short_corridor(), pi)


def nearly_decomposable_trap():
    """States 0, 1 decide, 2 is terminal. Action 0 keeps the episode in {0, 1} forever (0 -> 1 with
    probability 1e-9 only), action 1 ends it. Under 'always action 0', M = I - P^pi is singular, but
    rounding leaves every LU pivot >= 1e-9: an absolute pivot test (min pivot < 1e-12) misses it and
    returns values of order 1e16 (measured: -3.5e16 for rewards of +1)."""
    P = np.zeros((3, 2, 3))
    P[0, 0] = [1 - 1e-9, 1e-9, 0.0]
    P[1, 0] = [0.6, 0.4, 0.0]
    P[:2, 1, 2] = 1.0
    P[2, :, 2] = 1.0
    R = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 0.0]])
    return TabularMDP(P, R, np.array([1.0, 0.0, 0.0]), 1.0, terminal=np.array([False, False, True]))


def test_policy_that_never_terminates_is_refused_even_when_rounding_hides_the_singularity():
    trap = nearly_decomposable_trap()
    never = np.array([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0]])
    np.testing.assert_array_equal(trap.never_terminating_states(never), [0, 1])
    for compute in (exact.value, exact.occupancy, exact.evaluate):
        with pytest.raises(ValueError, match=r"^pi: under this policy some states never reach a terminal state .*\[0, 1\]"):
            compute(trap, never)
    rarely = np.array([[1 - 1e-6, 1e-6], [1.0, 0.0], [1.0, 0.0]])  # state 0 ends the episode now and then
    assert trap.never_terminating_states(rarely).size == 0
    assert np.all(np.isfinite(exact.value(trap, rarely)))


def test_batch_with_one_non_terminating_policy_names_its_index():
    mdp = short_corridor()
    good, stuck = np.tile([0.5, 0.5], (4, 1)), np.tile([0.0, 1.0], (4, 1))  # always right: s0 <-> s1 forever
    with pytest.raises(ValueError, match=r"^pi: under the policy at batch index 2 some states never reach .*\[0, 1\]"):
        exact.value(mdp, np.stack([good, good, stuck, good]))
    with pytest.raises(ValueError, match=r"^pi: under the policy at batch index \(1, 0\) some states never reach"):
        exact.occupancy(mdp, np.stack([np.stack([good, good]), np.stack([stuck, good])]))
    trap = nearly_decomposable_trap()
    never = np.array([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0]])
    with pytest.raises(ValueError, match=r"^pi: under the policy at batch index 1 "):
        exact.evaluate(trap, np.stack([np.full((3, 2), 0.5), never]))


# ---------------------------------------------------------------- the natural gradient, exactly


def test_tabular_natural_gradient_is_centred_advantage_and_zero_where_rho_is_zero():
    """fisher's docstring: F^+ grad J = A(s, .) minus its unweighted mean over actions where rho(s) > 0,
    and 0 at states never visited (here state 3, which nothing leads to, and the terminal state 4)."""
    rng = np.random.default_rng(3)
    S, A = 5, 3
    P = rng.dirichlet(np.ones(S), size=(S, A))
    P[:, :, 3] = 0.0  # no transition into state 3 ...
    P[:4, :, 4] += 0.2  # ... and each step ends the episode with probability >= 0.2
    P[4] = 0.0
    P[4, :, 4] = 1.0
    P /= P.sum(axis=2, keepdims=True)
    R = np.vstack([rng.normal(size=(4, A)), np.zeros((1, A))])
    mdp = TabularMDP(P, R, np.array([0.5, 0.3, 0.2, 0.0, 0.0]), 1.0, terminal=np.arange(S) == 4)
    policy = TabularSoftmax(S, A)
    theta = rng.normal(size=(S, A))
    ev = exact.evaluate(mdp, policy.probs(theta))
    adv = ev.q - ev.v[:, None]
    assert ev.rho[3] == 0 and ev.rho[4] == 0 and np.abs(adv[3]).max() > 0.1  # unreachable, yet A != 0 there
    centred = adv - adv.mean(axis=1, keepdims=True)
    nat = exact.natural_gradient(mdp, policy, theta)
    np.testing.assert_allclose(nat[:3], centred[:3], atol=1e-9)
    np.testing.assert_array_equal(nat[3:], 0.0)
    # it is not the pi-weighted centring (which is A itself, sum_a pi A = 0), nor F^+ applied to A
    assert not np.allclose(nat[:3], adv[:3], atol=1e-3)


def test_natural_gradient_with_nearly_collinear_features():
    """Two features differing by 1e-6: F has eigenvalues ~1 and ~1e-12 (relative). The least-norm
    solution still solves F x = grad J to ~1e-6 relative (grad J's share along the tiny eigenvector is
    below that); rcond decides whether that direction is inverted (huge x) or dropped."""
    rng = np.random.default_rng(5)
    mdp = random_mdp(4, 3, seed=5, gamma=0.9)
    base = rng.normal(size=(4, 3, 1))
    phi = np.concatenate([base, base + 1e-6 * rng.normal(size=(4, 3, 1)), rng.normal(size=(4, 3, 1))], axis=2)
    policy, theta = LinearSoftmax(phi), rng.normal(size=3)
    F, grad = exact.fisher(mdp, policy, theta), exact.policy_gradient(mdp, policy, theta)
    eig = np.linalg.eigvalsh(F)
    assert eig[0] / eig[-1] < 1e-11  # ill-conditioned indeed
    x = exact.natural_gradient(mdp, policy, theta)  # default rcond 1e-10: the tiny direction is dropped
    assert np.linalg.norm(F @ x - grad) <= 1e-5 * np.linalg.norm(grad)
    assert np.linalg.norm(x) < 1e3 * np.linalg.norm(grad) / eig[-1]  # no 1e12 amplification
    x_all = exact.natural_gradient(mdp, policy, theta, rcond=1e-15)  # inverts it: a far longer solution,
    assert np.linalg.norm(x_all) > 1e4 * np.linalg.norm(x)  # (measured 1.8e5 times longer)
    # whose residual is larger (measured 7e-6): the tiny eigenvalue carries a relative error ~eps/5e-13
    assert np.linalg.norm(F @ x_all - grad) <= 1e-4 * np.linalg.norm(grad)
    # dropping the direction is exactly projecting it out: x is orthogonal to the tiny eigenvector
    small = np.linalg.eigh(F)[1][:, 0]
    assert abs(small @ x) < 1e-6 * np.linalg.norm(x)


# ---------------------------------------------------------------- batches: same numbers as single calls


def batch_cases() -> list:
    rng = np.random.default_rng(11)
    cases = []
    mdps = {
        "continuing": random_mdp(5, 3, seed=1, gamma=0.9),
        "episodic gamma = 1": random_episodic_mdp(4, 2, seed=2, termination=0.3),
        "corridor": short_corridor(),
        "frozen lake": frozen_lake(),
        "50 states (LAPACK per policy)": random_mdp(50, 2, seed=3, gamma=0.95),
    }
    for name, mdp in mdps.items():
        S, A = mdp.n_states, mdp.n_actions
        for policy in (TabularSoftmax(S, A), LinearSoftmax(rng.normal(size=(S, A, 2)))):
            thetas = rng.normal(size=(4, 8) + policy.theta_shape)  # 32 policies: vectorized up to 16 states
            cases.append(pytest.param(mdp, policy, thetas, id=f"{name}-{type(policy).__name__}"))
    return cases


@pytest.mark.parametrize("mdp, policy, thetas", batch_cases())
def test_batched_exact_functions_equal_single_calls(mdp, policy, thetas):
    pis = policy.probs(thetas)
    batched = {
        "value": exact.value(mdp, pis),
        "q_value": exact.q_value(mdp, pis),
        "advantage": exact.advantage(mdp, pis),
        "occupancy": exact.occupancy(mdp, pis),
        "state_distribution": exact.state_distribution(mdp, pis),
        "objective": exact.objective(mdp, pis),
    }
    ev = exact.evaluate(mdp, pis)
    J, grad = exact.objective_and_gradient(mdp, policy, thetas)
    theta_fns = {"policy_gradient": exact.policy_gradient, "fisher": exact.fisher, "natural_gradient": exact.natural_gradient}
    theta_batched = {name: fn(mdp, policy, thetas) for name, fn in theta_fns.items()}
    assert batched["objective"].shape == (4, 8) and theta_batched["fisher"].shape == (4, 8, policy.n_params, policy.n_params)
    for i in np.ndindex(4, 8):
        for name, value in batched.items():
            single = getattr(exact, name)(mdp, pis[i])
            np.testing.assert_allclose(value[i], single, rtol=1e-10, atol=1e-12, err_msg=name)
        single_ev = exact.evaluate(mdp, pis[i])
        for field in ("pi", "v", "q", "rho"):
            np.testing.assert_allclose(getattr(ev, field)[i], getattr(single_ev, field), rtol=1e-10, atol=1e-12)
        for name, value in theta_batched.items():
            single = theta_fns[name](mdp, policy, thetas[i])
            np.testing.assert_allclose(value[i], single, rtol=1e-9, atol=1e-11, err_msg=name)
        assert J[i] == pytest.approx(exact.objective(mdp, pis[i]), rel=1e-10, abs=1e-12)
        np.testing.assert_allclose(grad[i], theta_batched["policy_gradient"][i], rtol=1e-12, atol=1e-14)


@settings(max_examples=25)
@given(seed=seeds, S=st.integers(1, 8), A=st.integers(1, 4), n=st.integers(1, 6), episodic=st.booleans())
def test_batched_gradient_equals_single_calls_on_random_mdps(seed, S, A, n, episodic):
    mdp = random_episodic_mdp(S, A, seed=seed) if episodic else random_mdp(S, A, seed=seed, gamma=0.8)
    policy = LinearSoftmax(np.random.default_rng(seed).normal(size=(mdp.n_states, A, 2)))
    thetas = 2 * np.random.default_rng(seed + 1).normal(size=(n, 2))
    J, grad = exact.objective_and_gradient(mdp, policy, thetas)
    for i in range(n):
        J_i, grad_i = exact.objective_and_gradient(mdp, policy, thetas[i])
        assert isinstance(J_i, float) and J[i] == pytest.approx(J_i, rel=1e-10, abs=1e-12)
        np.testing.assert_allclose(grad[i], grad_i, rtol=1e-9, atol=1e-12)


def test_objective_and_gradient_returns_what_the_two_functions_return():
    mdp = random_episodic_mdp(3, 2, seed=6)
    policy = LinearSoftmax(np.random.default_rng(6).normal(size=(4, 2, 3)))
    theta = np.array([0.3, -1.0, 0.5])
    J, grad = exact.objective_and_gradient(mdp, policy, theta)
    assert J == exact.objective(mdp, policy.probs(theta))
    np.testing.assert_array_equal(grad, exact.policy_gradient(mdp, policy, theta))


def test_empty_batch_gives_empty_results():
    mdp = random_mdp(3, 2, seed=0)
    assert exact.value(mdp, np.zeros((0, 3, 2))).shape == (0, 3)
    assert exact.policy_gradient(mdp, TabularSoftmax(3, 2), np.zeros((0, 3, 2))).shape == (0, 3, 2)


@pytest.mark.parametrize(
    "mdp",
    [random_mdp(6, 3, seed=7, gamma=0.97), random_episodic_mdp(5, 2, seed=8, termination=0.05), frozen_lake(), short_corridor()],
    ids=["continuing", "episodic", "frozen lake", "corridor"],
)
def test_vectorized_elimination_and_lapack_agree(mdp, monkeypatch):
    """The two batch backends, forced in turn on the same batch (including nearly deterministic
    policies, whose M is ill-conditioned), give the same v, rho and the same errors."""
    thetas = 4 * np.random.default_rng(9).normal(size=(3, 5, mdp.n_states, mdp.n_actions))
    pis = TabularSoftmax(mdp.n_states, mdp.n_actions).probs(thetas)
    results = {}
    for vectorized in (True, False):
        monkeypatch.setattr(exact, "_use_vectorized", lambda S, n, vectorized=vectorized: vectorized)
        results[vectorized] = exact.evaluate(mdp, pis)
    for field in ("v", "q", "rho"):
        np.testing.assert_allclose(getattr(results[True], field), getattr(results[False], field), rtol=1e-9, atol=1e-12)
    if mdp.gamma == 1.0:
        stuck = pis.copy()
        stuck[2, 1] = np.tile([0.0, 1.0], (mdp.n_states, 1))  # short corridor: s0 <-> s1 forever
        for vectorized in (True, False):
            monkeypatch.setattr(exact, "_use_vectorized", lambda S, n, vectorized=vectorized: vectorized)
            if mdp.never_terminating_states(stuck[2, 1]).size:
                with pytest.raises(ValueError, match=r"^pi: under the policy at batch index \(2, 1\)"):
                    exact.evaluate(mdp, stuck)
