"""Exact policy gradient vs one LU factorization + solve of the same size (goal: ratio <= 1.5).

The reference is what any exact method must at least do: factorize the S x S matrix I - gamma P^pi
and solve one system with it. ``exact.policy_gradient`` additionally forms P^pi from the (S, A, S)
tensor, solves a second system for M^{-1} 1 (the condition number, which tells a policy that never
terminates from one that rarely does) and a third, transposed, for the occupancy, computes
q^pi = r + gamma P v^pi and contracts with the score. Both are timed in the same run, interleaved,
and the ratio of medians printed. (Batches of policies: bench_batch.py.)
"""

from __future__ import annotations

import time

import numpy as np
from scipy.linalg import lu_factor, lu_solve

from pgbook import exact
from pgbook.mdp import random_mdp
from pgbook.policies import TabularSoftmax

GOAL = 1.5


def median_seconds(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main() -> None:
    print(f"{'S':>6} {'A':>4} {'LU+solve (ms)':>14} {'policy_gradient (ms)':>21} {'ratio':>7} {'goal':>6}")
    for S, A, repeats in [(100, 4, 200), (1000, 10, 15)]:
        mdp = random_mdp(S, A, seed=0, gamma=0.9)
        policy = TabularSoftmax(S, A)
        theta = np.random.default_rng(1).normal(size=(S, A))
        M = np.eye(S) - mdp.gamma * mdp.policy_transition(policy.probs(theta))
        b = mdp.rho0.copy()
        reference = median_seconds(lambda: lu_solve(lu_factor(M), b), repeats)
        ours = median_seconds(lambda: exact.policy_gradient(mdp, policy, theta), repeats)
        reference = min(reference, median_seconds(lambda: lu_solve(lu_factor(M), b), repeats))
        ratio = ours / reference
        print(f"{S:>6} {A:>4} {reference * 1e3:>14.3f} {ours * 1e3:>21.3f} {ratio:>7.2f} {'<=' + str(GOAL):>6}")


if __name__ == "__main__":
    main()
