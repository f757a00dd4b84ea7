"""Throughput of ``sampling.rollouts`` (all episodes at once) against a per-episode Python loop.

Two problems, 10^4 episodes each: (a) the short corridor with a near-uniform policy (P(right) = 0.55,
episodes of about 12 steps, horizon 1000), (b) ``random_mdp(100, 4)`` with a uniform policy and
horizon 100 (continuing, so every episode has exactly 100 steps).

The reference is the loop one would write first: for each episode, for each step, ``rng.choice``
with the probability rows ``pi[s]`` and ``P[s, a]``. It runs on fewer episodes (it is slow), and both
are reported in transitions (real steps) per second, measured in the same run; the ratio is printed.
"""

from __future__ import annotations

import time

import numpy as np

from pgbook.mdp import TabularMDP, random_mdp, short_corridor
from pgbook.sampling import rollouts

N_EPISODES = 10_000
N_LOOP_EPISODES = 200


def loop_rollouts(mdp: TabularMDP, pi: np.ndarray, n_episodes: int, horizon: int, seed: int) -> int:
    """Per-episode, per-step sampling with ``rng.choice``; returns the number of transitions taken."""
    rng = np.random.default_rng(seed)
    S, A = mdp.n_states, mdp.n_actions
    n_steps = 0
    for _ in range(n_episodes):
        s = rng.choice(S, p=mdp.rho0)
        rewards = []
        for _ in range(horizon):
            a = rng.choice(A, p=pi[s])
            rewards.append(mdp.R[s, a])
            s = rng.choice(S, p=mdp.P[s, a])
            if mdp.terminal[s]:
                break
        n_steps += len(rewards)
    return n_steps


def best_rate(run, repeats: int) -> float:
    """Transitions per second of the fastest of ``repeats`` runs (``run`` returns its transition count)."""
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        n_steps = run()
        rates.append(n_steps / (time.perf_counter() - start))
    return max(rates)


def main() -> None:
    corridor = short_corridor()
    big = random_mdp(100, 4, seed=0)
    problems = [
        ("short_corridor, P(right)=0.55", corridor, np.tile([0.45, 0.55], (4, 1)), 1000),
        ("random_mdp(100, 4), H=100", big, np.full((100, 4), 0.25), 100),
    ]
    header = f"{'problem':<30} {'vectorized (steps/s)':>21} {'loop (steps/s)':>15} {'speed-up':>9}"
    print(f"{N_EPISODES} episodes vectorized, {N_LOOP_EPISODES} in the per-episode loop")
    print(header)
    print("-" * len(header))
    for name, mdp, pi, horizon in problems:
        rollouts(mdp, pi, 100, horizon, seed=0)  # warm-up
        vectorized = best_rate(lambda: rollouts(mdp, pi, N_EPISODES, horizon, seed=1).n_steps, repeats=3)
        loop = best_rate(lambda: loop_rollouts(mdp, pi, N_LOOP_EPISODES, horizon, seed=1), repeats=2)
        print(f"{name:<30} {vectorized:>21,.0f} {loop:>15,.0f} {vectorized / loop:>8.0f}x")


if __name__ == "__main__":
    main()
