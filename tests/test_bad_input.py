"""Bad input to the core of pgbook raises ValueError naming the argument and the problem.

Each case is a distinct mistake a reader can make; the message must start with the argument's name.
(The sampling, estimator, symbolic and interactive modules test their own bad inputs beside their
other tests.)
"""

from __future__ import annotations

import numpy as np
import pytest

from pgbook import exact
from pgbook.mdp import TabularMDP, bandit, frozen_lake, random_episodic_mdp, random_mdp, short_corridor
from pgbook.policies import LinearSoftmax, TabularSoftmax

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
}


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
