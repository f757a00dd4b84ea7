"""Bad input to the core of pgbook raises ValueError naming the argument and the problem.

Each case is a distinct mistake a reader can make; the message must start with the argument's name.
(The sampling, estimator, symbolic and interactive modules test their own bad inputs beside their
other tests.)
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from pgbook import exact
from pgbook.estimators import reinforce_gradient
from pgbook.mdp import TabularMDP, bandit, frozen_lake, random_episodic_mdp, random_mdp, short_corridor
from pgbook.policies import GaussianPolicy, LinearSoftmax, TabularSoftmax
from pgbook.sampling import rollouts

P_OK = np.full((2, 2, 2), 0.5)
R_OK = np.zeros((2, 2))
RHO_OK = np.array([0.5, 0.5])
TERMINAL = np.array([False, True])
P_EPISODIC = np.array([[[0.5, 0.5], [0.0, 1.0]], [[0.0, 1.0], [0.0, 1.0]]])


def with_value(arr, index, value):
    out = np.array(arr, dtype=float)
    out[index] = value
    return out


CASES = {
    "P rows do not sum to 1": (lambda: TabularMDP(with_value(P_OK, (0, 1, 0), 0.7), R_OK, RHO_OK, 0.9), r"^P: .*sum to 1"),
    "P has a negative entry": (
        lambda: TabularMDP(with_value(with_value(P_OK, (1, 0, 0), -0.5), (1, 0, 1), 1.5), R_OK, RHO_OK, 0.9),
        r"^P: negative probability",
    ),
    "P contains NaN": (lambda: TabularMDP(with_value(P_OK, (0, 0, 0), np.nan), R_OK, RHO_OK, 0.9), r"^P: contains NaN"),
    "P is 2-dimensional": (lambda: TabularMDP(np.eye(2), R_OK, RHO_OK, 0.9), r"^P: expected a 3-dimensional"),
    "P is not square in states": (lambda: TabularMDP(np.full((2, 2, 4), 0.25), R_OK, RHO_OK, 0.9), r"^P: expected shape \(S, A, S\)"),
    "R has the wrong shape": (lambda: TabularMDP(P_OK, np.zeros((2, 3)), RHO_OK, 0.9), r"^R: expected shape \(2, 2\)"),
    "R contains infinity": (lambda: TabularMDP(P_OK, with_value(R_OK, (0, 0), np.inf), RHO_OK, 0.9), r"^R: contains NaN or infinite"),
    "rho0 does not sum to 1": (lambda: TabularMDP(P_OK, R_OK, np.array([0.5, 0.6]), 0.9), r"^rho0: .*sum to 1"),
    "rho0 has the wrong length": (lambda: TabularMDP(P_OK, R_OK, np.ones(3) / 3, 0.9), r"^rho0: expected shape \(2,\)"),
    "gamma above 1": (lambda: TabularMDP(P_OK, R_OK, RHO_OK, 1.5), r"^gamma: must lie in \[0, 1\]"),
    "gamma negative": (lambda: TabularMDP(P_OK, R_OK, RHO_OK, -0.1), r"^gamma: must lie in \[0, 1\]"),
    "gamma NaN": (lambda: TabularMDP(P_OK, R_OK, RHO_OK, float("nan")), r"^gamma: must lie in \[0, 1\]"),
    "gamma not a number": (lambda: TabularMDP(P_OK, R_OK, RHO_OK, "high"), r"^gamma: expected a number"),
    "gamma = 1 without terminal states": (lambda: TabularMDP(P_OK, R_OK, RHO_OK, 1.0), r"^gamma: gamma = 1 needs terminal states"),
    "gamma = 1 with an unreachable terminal state": (
        lambda: TabularMDP(
            np.array([[[1.0, 0, 0]], [[0, 0, 1.0]], [[0, 0, 1.0]]]), np.zeros((3, 1)), np.array([1.0, 0, 0]), 1.0,
            terminal=np.array([False, False, True]),
        ),
        r"^gamma: gamma = 1 but states \[0\] can never reach",
    ),
    "terminal mask is not boolean": (
        lambda: TabularMDP(P_EPISODIC, R_OK, np.array([1.0, 0.0]), 1.0, terminal=np.array([0, 1])),
        r"^terminal: expected a boolean mask",
    ),
    "episodes start in a terminal state": (
        lambda: TabularMDP(P_EPISODIC, R_OK, RHO_OK, 1.0, terminal=TERMINAL), r"^rho0: puts mass .* on terminal state 1"
    ),
    "reward in a terminal state": (
        lambda: TabularMDP(P_EPISODIC, with_value(R_OK, (1, 0), 2.0), np.array([1.0, 0.0]), 1.0, terminal=TERMINAL),
        r"^R: terminal state 1 has a nonzero reward",
    ),
    "wrong number of state names": (lambda: TabularMDP(P_OK, R_OK, RHO_OK, 0.9, names=("a",)), r"^names: expected 2"),
    "zero states": (lambda: random_mdp(0, 2), r"^n_states: must be at least 1"),
    "fractional number of actions": (lambda: random_mdp(3, 2.5), r"^n_actions: expected a positive integer"),
    "random_mdp with gamma = 1": (lambda: random_mdp(3, 2, gamma=1.0), r"^gamma: random_mdp is continuing"),
    "termination probability 0": (lambda: random_episodic_mdp(3, 2, termination=0.0), r"^termination: must lie in \(0, 1\]"),
    "seed of the wrong type": (lambda: random_mdp(3, 2, seed="abc"), r"^seed: expected an int"),
    "bandit with no arms": (lambda: bandit([]), r"^rewards: needs at least one action"),
    "unknown FrozenLake map": (lambda: frozen_lake(map_name="5x5"), r"^map_name: expected '4x4' or '8x8'"),
    "theta of the wrong shape": (lambda: TabularSoftmax(2, 3).probs(np.zeros((3, 2))), r"^theta: expected shape \(2, 3\)"),
    "theta with NaN": (lambda: LinearSoftmax(np.ones((2, 2, 3))).probs(np.array([0.0, np.nan, 1.0])), r"^theta: contains NaN"),
    "features with two axes": (lambda: LinearSoftmax(np.ones((2, 3))), r"^features: expected a 3-dimensional"),
    "features with an empty axis": (lambda: LinearSoftmax(np.ones((2, 0, 3))), r"^features: every axis"),
    "weights of the wrong shape": (
        lambda: TabularSoftmax(2, 3).weighted_score(np.zeros((2, 3)), np.ones((3, 2))), r"^weights: expected trailing shape"
    ),
    "states out of range": (lambda: TabularSoftmax(2, 3).sample(np.zeros((2, 3)), np.array([0, 2])), r"^states: indices must lie"),
    "states not integers": (lambda: TabularSoftmax(2, 3).sample(np.zeros((2, 3)), np.array([0.5])), r"^states: expected integer"),
    "policy table rows do not sum to 1": (lambda: exact.value(random_mdp(2, 2), np.full((2, 2), 0.4)), r"^pi: .*sum to 1"),
    "policy table with negative probability": (
        lambda: exact.value(random_mdp(2, 2), np.array([[1.2, -0.2], [0.5, 0.5]])), r"^pi: negative probability"
    ),
    "policy table of the wrong shape": (lambda: exact.value(random_mdp(2, 2), np.full((2, 3), 1 / 3)), r"^pi: expected shape \(2, 2\)"),
    "policy that never terminates (gamma = 1)": (
        lambda: exact.objective(short_corridor(), np.tile([1.0, 0.0], (4, 1))), r"^pi: under this policy some states never reach"
    ),
    "policy object sized for another MDP": (
        lambda: exact.policy_gradient(random_mdp(2, 2), TabularSoftmax(3, 2), np.zeros((3, 2))), r"^policy: has 3 states"
    ),
    "policy given as a table instead of an object": (
        lambda: exact.policy_gradient(random_mdp(2, 2), np.full((2, 2), 0.5), np.zeros((2, 2))), r"^policy: expected a TabularSoftmax"
    ),
    "mdp is not a TabularMDP": (lambda: exact.value({"P": P_OK}, np.full((2, 2), 0.5)), r"^mdp: expected a TabularMDP"),
    # numbers given as text, booleans or complex numbers are refused, not parsed or cast
    "gamma given as text": (lambda: TabularMDP(P_OK, R_OK, RHO_OK, "0.9"), r"^gamma: expected a number in \[0, 1\], got '0.9'"),
    "gamma given as True": (lambda: TabularMDP(P_OK, R_OK, RHO_OK, True), r"^gamma: expected a number in \[0, 1\], got True"),
    "gamma given as False": (lambda: random_mdp(3, 2, gamma=False), r"^gamma: expected a number in \[0, 1\], got False"),
    "gamma given as a numpy bool": (lambda: random_mdp(3, 2, gamma=np.True_), r"^gamma: expected a number"),
    "gamma complex": (lambda: TabularMDP(P_OK, R_OK, RHO_OK, 0.9 + 0j), r"^gamma: expected a number"),
    "gamma given as a list": (lambda: TabularMDP(P_OK, R_OK, RHO_OK, [0.9]), r"^gamma: expected a number"),
    "R with complex entries": (lambda: TabularMDP(P_OK, R_OK + 1j, RHO_OK, 0.9), r"^R: has complex entries"),
    "R complex with zero imaginary part": (lambda: TabularMDP(P_OK, R_OK.astype(complex), RHO_OK, 0.9), r"^R: has complex entries"),
    "R as an object array holding a complex number": (
        lambda: TabularMDP(P_OK, np.array([[0.0, 1j], [0.0, 0.0]], dtype=object), RHO_OK, 0.9), r"^R: has complex entries"
    ),
    "P given as text": (lambda: TabularMDP(P_OK.astype(str), R_OK, RHO_OK, 0.9), r"^P: has text entries"),
    "bandit rewards complex": (lambda: bandit([1.0, 2j]), r"^rewards: has complex entries"),
    "bandit rewards as text": (lambda: bandit(["1", "2"]), r"^rewards: has text entries"),
    "policy table complex": (lambda: exact.value(random_mdp(2, 2), np.full((2, 2), 0.5 + 0j)), r"^pi: has complex entries"),
    "theta complex": (lambda: TabularSoftmax(2, 3).probs(np.zeros((2, 3), dtype=complex)), r"^theta: has complex entries"),
    "names given as one string": (lambda: TabularMDP(P_OK, R_OK, RHO_OK, 0.9, names="ab"), r"^names: expected a sequence of 2"),
    "names given as a number": (lambda: TabularMDP(P_OK, R_OK, RHO_OK, 0.9, names=2), r"^names: expected a sequence of 2"),
    # the example problems
    "short_corridor reward as text": (lambda: short_corridor(reward="a"), r"^reward: expected a finite number, got 'a'"),
    "short_corridor reward True": (lambda: short_corridor(reward=True), r"^reward: expected a finite number, got True"),
    "short_corridor reward infinite": (lambda: short_corridor(reward=-np.inf), r"^reward: expected a finite number, got -inf"),
    "short_corridor reward complex": (lambda: short_corridor(reward=-1j), r"^reward: expected a finite number"),
    "short_corridor reward an array": (lambda: short_corridor(reward=np.array([-1.0, -2.0])), r"^reward: expected a finite number"),
    "termination as text": (lambda: random_episodic_mdp(3, 2, termination="x"), r"^termination: expected a probability in \(0, 1\], got 'x'"),
    "termination True": (lambda: random_episodic_mdp(3, 2, termination=True), r"^termination: expected a probability"),
    "termination NaN": (lambda: random_episodic_mdp(3, 2, termination=np.nan), r"^termination: must lie in \(0, 1\], got nan"),
    "termination above 1": (lambda: random_episodic_mdp(3, 2, termination=1.5), r"^termination: must lie in \(0, 1\]"),
    "termination as a list": (lambda: random_episodic_mdp(3, 2, termination=[0.2]), r"^termination: expected a probability"),
    "random_episodic_mdp with a boolean number of states": (lambda: random_episodic_mdp(True, 2), r"^n_states: expected a positive integer"),
    "random_mdp gamma as text": (lambda: random_mdp(3, 2, gamma="0.9"), r"^gamma: expected a number"),
    "random_mdp with a float number of states": (lambda: random_mdp(3.0, 2), r"^n_states: expected a positive integer"),
    "FrozenLake is_slippery as text": (lambda: frozen_lake(is_slippery="no"), r"^is_slippery: expected True or False, got 'no'"),
    "FrozenLake gamma as text": (lambda: frozen_lake(gamma="0.99"), r"^gamma: expected a number"),
    "FrozenLake map given as a number": (lambda: frozen_lake(map_name=4), r"^map_name: expected '4x4' or '8x8'"),
    # natural_gradient's rcond
    "rcond negative": (lambda: natural_gradient(rcond=-1e-10), r"^rcond: must lie in \[0, 1\), got -1e-10"),
    "rcond equal to 1": (lambda: natural_gradient(rcond=1.0), r"^rcond: must lie in \[0, 1\), got 1.0"),
    "rcond above 1": (lambda: natural_gradient(rcond=3), r"^rcond: must lie in \[0, 1\), got 3"),
    "rcond NaN": (lambda: natural_gradient(rcond=np.nan), r"^rcond: must lie in \[0, 1\), got nan"),
    "rcond as text": (lambda: natural_gradient(rcond="1e-10"), r"^rcond: expected a number in \[0, 1\), got '1e-10'"),
    "rcond True": (lambda: natural_gradient(rcond=True), r"^rcond: expected a number in \[0, 1\)"),
    # batches
    "a batch of tables where one table is expected": (
        lambda: rollouts(random_mdp(2, 2), np.full((3, 2, 2), 0.5), 5, 5), r"^pi: expected shape \(2, 2\), got \(3, 2, 2\)"
    ),
    "a batch of parameters where one is expected": (
        lambda: TabularSoftmax(2, 3).sample(np.zeros((4, 2, 3)), np.array([0, 1])), r"^theta: expected shape \(2, 3\) for"
    ),
    "batch of parameters with wrong trailing shape": (
        lambda: exact.policy_gradient(random_mdp(2, 2), TabularSoftmax(2, 2), np.zeros((5, 2, 3))),
        r"^theta: expected shape \(2, 2\) or a batch of them, \(\.\.\., 2, 2\)",
    ),
    "batch of tables with a row not summing to 1": (
        lambda: exact.value(random_mdp(2, 2), np.stack([np.full((2, 2), 0.5), [[0.5, 0.5], [0.9, 0.3]]])),
        r"^pi: probabilities must sum to 1, but sum to 1.2 \(row \(1, 1\)\)",
    ),
    "weights that do not pair with a batch of parameters": (
        lambda: TabularSoftmax(2, 3).weighted_score(np.zeros((4, 2, 3)), np.ones((3, 2, 3))),
        r"^weights: leading shape \(3,\) does not broadcast with theta's batch shape \(4,\)",
    ),
    "batch containing a policy that never terminates": (
        lambda: exact.objective(short_corridor(), np.stack([np.full((4, 2), 0.5), np.tile([0.0, 1.0], (4, 1))])),
        r"^pi: under the policy at batch index 1 some states never reach a terminal state",
    ),
    "gamma too close to 1 for double precision": (
        lambda: exact.value(random_mdp(3, 2, gamma=1 - 1e-15), np.full((3, 2), 0.5)), r"^gamma: .* is so close to 1"
    ),
    "policy terminating too rarely for double precision": (
        lambda: exact.value(short_corridor(), np.tile([1e-14, 1 - 1e-14], (4, 1))), r"^pi: this policy terminates so rarely"
    ),
    # the Gaussian policy
    "Gaussian features with one axis": (lambda: GaussianPolicy(np.ones(3)), r"^features: expected a 2-dimensional"),
    "Gaussian features with an empty axis": (lambda: GaussianPolicy(np.ones((2, 0))), r"^features: every axis"),
    "Gaussian theta of the wrong shape": (
        lambda: GaussianPolicy(np.ones((2, 3))).log_prob(np.zeros(3), [0], [0.0]), r"^theta: expected shape \(4,\) \(theta_mu, then log sigma\)"
    ),
    "Gaussian log sigma so small that sigma^2 underflows": (
        lambda: GaussianPolicy(np.ones((2, 1))).sample(np.array([0.0, -400.0]), [0]), r"^theta: log sigma = theta\[1\] = -400"
    ),
    "Gaussian actions with NaN": (lambda: GaussianPolicy(np.ones((2, 1))).log_prob(np.zeros(2), [0], [np.nan]), r"^actions: contains NaN"),
    "Gaussian actions complex": (lambda: GaussianPolicy(np.ones((2, 1))).grad_log_prob(np.zeros(2), [0], [1j]), r"^actions: has complex"),
    "Gaussian actions not broadcasting with states": (
        lambda: GaussianPolicy(np.ones((2, 1))).log_prob(np.zeros(2), [0, 1, 1], [0.0, 1.0]), r"^actions: shape \(2,\) does not broadcast"
    ),
    "Gaussian states out of range": (lambda: GaussianPolicy(np.ones((2, 1))).mean(np.zeros(2), [2]), r"^states: indices must lie in \[0, 1\]"),
    "Gaussian states not integers": (lambda: GaussianPolicy(np.ones((2, 1))).sample(np.zeros(2), [0.5]), r"^states: expected integer"),
    "Gaussian policy given to the estimators": (
        lambda: reinforce_gradient(
            rollouts(random_mdp(2, 2), np.full((2, 2), 0.5), 3, 4, seed=0), GaussianPolicy(np.ones((2, 1))), np.zeros(2)
        ),
        r"^policy: expected a TabularSoftmax",
    ),
    "Gaussian policy given to exact": (
        lambda: exact.policy_gradient(random_mdp(2, 2), GaussianPolicy(np.ones((2, 1))), np.zeros(2)), r"^policy: expected a TabularSoftmax"
    ),
}


def natural_gradient(rcond):
    mdp = random_mdp(2, 2)
    return exact.natural_gradient(mdp, TabularSoftmax(2, 2), np.zeros((2, 2)), rcond=rcond)


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_raises_value_error_naming_the_argument(case):
    make, message = CASES[case]
    with pytest.raises(ValueError, match=message):
        make()


def test_mdp_arrays_are_read_only_copies():
    P = P_OK.copy()
    mdp = TabularMDP(P, R_OK, RHO_OK, 0.9)
    P[0, 0, 0] = 0.0  # changing the caller's array does not change the MDP
    assert mdp.P[0, 0, 0] == 0.5
    with pytest.raises(ValueError):
        mdp.P[0, 0, 0] = 0.1


@pytest.mark.parametrize("gamma", [np.float32(0.5), np.float64(0.5), 0, 1, np.int64(0), np.array(0.5), Fraction(1, 2)])
def test_real_numbers_of_any_numeric_type_are_accepted(gamma):
    """The refusals above are of text, booleans and complex numbers, not of NumPy scalars or integers."""
    mdp = TabularMDP(P_EPISODIC, R_OK, np.array([1.0, 0.0]), gamma, terminal=TERMINAL)
    assert mdp.gamma == float(gamma) and type(mdp.gamma) is float
    assert random_episodic_mdp(2, 2, termination=np.float32(0.25)).P[0, 0, 2] == 0.25
    assert short_corridor(reward=-2).R[0, 0] == -2.0
    assert np.isclose(exact.natural_gradient(random_mdp(2, 2), TabularSoftmax(2, 2), np.zeros((2, 2)), rcond=0).sum(), 0.0)
