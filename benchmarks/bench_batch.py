"""J and grad J over a 100 x 100 grid of parameters: batched exact evaluation against a loop and a floor.

A two-parameter LinearSoftmax policy (fixed random features) on ``random_mdp(10, 3)``, gamma = 0.9,
at 10 000 parameters on a 100 x 100 grid, timed three ways in one run:

(i)   loop:    a Python loop of single calls ``exact.objective`` + ``exact.policy_gradient``;
(ii)  batched: one call ``exact.objective_and_gradient(mdp, policy, thetas)`` with ``thetas`` of
      shape (100, 100, 2) (also shown: the two batched calls ``objective`` + ``policy_gradient``,
      which factorize twice);
(iii) floor:   one stacked ``numpy.linalg.solve`` of the same 10 000 systems ``(I - gamma P^pi) v = r^pi``,
      built beforehand: the least any exact method must do.

Goals: loop / batched >= 20 and batched / floor <= 2. The batched and floor calls are interleaved and
each ratio is the median of per-pair ratios, which cancels slow drifts of a shared machine. No assertion
on time; the batched results are checked against the loop's.
"""

from __future__ import annotations

import time

import numpy as np

from pgbook import exact
from pgbook.mdp import random_mdp
from pgbook.policies import LinearSoftmax

GOAL_LOOP = 20.0
GOAL_FLOOR = 2.0
S, A, GRID = 10, 3, 100


def seconds(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    mdp = random_mdp(S, A, seed=0, gamma=0.9)
    policy = LinearSoftmax(np.random.default_rng(1).normal(size=(S, A, 2)))
    axis = np.linspace(-3.0, 3.0, GRID)
    thetas = np.stack(np.meshgrid(axis, axis, indexing="ij"), axis=-1)  # (100, 100, 2)
    flat = thetas.reshape(-1, 2)

    def loop() -> tuple[np.ndarray, np.ndarray]:
        J = np.array([exact.objective(mdp, policy.probs(theta)) for theta in flat])
        grad = np.array([exact.policy_gradient(mdp, policy, theta) for theta in flat])
        return J, grad

    pi = policy.probs(flat)
    M = np.eye(S) - mdp.gamma * mdp.policy_transition(pi)
    r = mdp.policy_reward(pi)[..., None]

    def batched() -> None:
        exact.objective_and_gradient(mdp, policy, thetas)

    def two_calls() -> None:
        exact.objective(mdp, policy.probs(thetas))
        exact.policy_gradient(mdp, policy, thetas)

    def floor() -> None:
        np.linalg.solve(M, r)

    J_loop, grad_loop = loop()
    J, grad = exact.objective_and_gradient(mdp, policy, thetas)
    np.testing.assert_allclose(J.ravel(), J_loop, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(grad.reshape(-1, 2), grad_loop, rtol=1e-9, atol=1e-12)

    loop_times = [seconds(loop) for _ in range(3)]
    for fn in (batched, two_calls, floor):  # warm-up
        fn()
    times: dict[str, list[float]] = {"batched": [], "two_calls": [], "floor": []}
    for _ in range(40):
        for name, fn in (("floor", floor), ("batched", batched), ("two_calls", two_calls)):
            times[name].append(seconds(fn))
    med = {name: float(np.median(t)) for name, t in times.items()}
    loop_s = float(np.median(loop_times))
    per_pair = {name: float(np.median(np.array(times[name]) / np.array(times["floor"]))) for name in ("batched", "two_calls")}

    print(f"J and grad J at {GRID} x {GRID} = {GRID * GRID} parameters; S = {S}, A = {A}, LinearSoftmax with d = 2")
    print(f"{'':40} {'median (ms)':>12}")
    print(f"{'(i)   loop of single calls':40} {loop_s * 1e3:>12.1f}")
    print(f"{'(ii)  batched objective_and_gradient':40} {med['batched'] * 1e3:>12.2f}")
    print(f"{'      batched objective + policy_gradient':40} {med['two_calls'] * 1e3:>12.2f}")
    print(f"{'(iii) stacked numpy.linalg.solve (floor)':40} {med['floor'] * 1e3:>12.2f}")
    print(f"loop / batched:  {loop_s / med['batched']:7.1f}   (goal >= {GOAL_LOOP:g})")
    print(f"batched / floor: {per_pair['batched']:7.2f}   (goal <= {GOAL_FLOOR:g}; two calls: {per_pair['two_calls']:.2f})")


if __name__ == "__main__":
    main()
