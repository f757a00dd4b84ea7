"""Benchmark of slider figures: time of a live slider move, and size of the static frames.

The figure is representative of the book's: a histogram of 1000 Monte Carlo policy-gradient
estimates for a two-armed Bernoulli bandit with a sigmoid policy (each estimate averages N
REINFORCE terms), the exact gradient as a vertical line, axis labels and a legend. A slider move
is timed two ways: an uncached redraw (recompute the samples, redraw the reused figure, encode the
PNG), which is what the first visit of a slider value costs, and end to end as the live widget does
it over moves back and forth, where revisited values reuse their memoized frame.

Run: python benchmarks/bench_slider.py
"""

from __future__ import annotations

import itertools
import statistics
import time

import numpy as np
from matplotlib.figure import Figure

from pgbook.interactive import SliderFigure, compact_png

GOAL_MS = 30.0
MOVES = 100
SLIDERS = {"n_episodes": [1, 4, 16, 64, 256], "theta": [-1.0, 0.0, 1.0]}


def draw_gradient_histogram(fig: Figure, *, n_episodes: int, theta: float) -> None:
    """Histogram of REINFORCE gradient estimates around the exact gradient."""
    p = 1.0 / (1.0 + np.exp(-theta))  # probability of the rewarding arm
    rng = np.random.default_rng(n_episodes)
    arms = rng.random((1000, n_episodes)) < p  # reward = 1 on arm 1, 0 on arm 0
    estimates = (arms * (1.0 - p)).mean(axis=1)  # r(a) * d/dtheta log pi(a), averaged over N
    ax = fig.add_subplot()
    ax.hist(estimates, bins=30, range=(-0.1, 1.0), density=True, alpha=0.6, label="estimates")
    ax.axvline(p * (1.0 - p), color="C3", label="exact gradient")
    ax.set_xlabel("gradient estimate")
    ax.set_ylabel("density")
    ax.legend(loc="upper right")


def time_redraws(sf: SliderFigure) -> list[float]:
    """Milliseconds per uncached redraw (recompute the samples, redraw the reused figure, encode
    the PNG): what a live slider move costs the first time it reaches a grid point."""
    grid = sf.grid()
    times = []
    for params in itertools.islice(itertools.cycle(grid), MOVES):
        start = time.perf_counter()
        sf.render(**params)
        times.append(1000.0 * (time.perf_counter() - start))
    return times


def time_live_moves(sf: SliderFigure) -> list[float]:
    """Milliseconds per live slider move (set the slider's value, get the new image), over MOVES
    moves back and forth through both sliders: the first visit of a grid point redraws, later visits
    reuse the memoized frame."""
    sliders = sf.live().children[:-1]
    targets = itertools.cycle([(s, value) for s in sliders for _, value in s.options])
    times = []
    for slider, value in itertools.islice((t for t in targets if t[0].value != t[1]), MOVES):
        start = time.perf_counter()
        slider.value = value
        times.append(1000.0 * (time.perf_counter() - start))
    return times


def main() -> None:
    print(f"slider updates: {MOVES} moves, figure 7 x 3.5 in at 100 dpi, goal median {GOAL_MS:.0f} ms")
    print(f"{'layout':<12} {'path':<34} {'median ms':>10} {'p95 ms':>8} {'median/goal':>12}")
    for layout in ["constrained", None]:
        for path, timer in [("redraw (first visit of a value)", time_redraws), ("live move (memoized revisits)", time_live_moves)]:
            times = timer(SliderFigure(draw_gradient_histogram, SLIDERS, layout=layout))
            median = statistics.median(times)
            p95 = float(np.percentile(times, 95))
            print(f"{str(layout):<12} {path:<34} {median:>10.2f} {p95:>8.1f} {median / GOAL_MS:>12.2f}")

    sf = SliderFigure(draw_gradient_histogram, SLIDERS)
    raw = [sf.render(**p) for p in sf.grid()]
    compact = [compact_png(png) for png in raw]
    html = sf.static_html()
    print(f"\nstatic frames: grid {' x '.join(str(len(v)) for v in SLIDERS.values())} = {len(raw)} frames")
    print(f"{'encoding':<22} {'bytes/frame':>12} {'total bytes':>12}")
    print(f"{'matplotlib PNG':<22} {statistics.mean(map(len, raw)):>12.0f} {sum(map(len, raw)):>12}")
    print(f"{'palette PNG (static)':<22} {statistics.mean(map(len, compact)):>12.0f} {sum(map(len, compact)):>12}")
    print(f"{'static HTML (base64)':<22} {len(html) / len(raw):>12.0f} {len(html):>12}")


if __name__ == "__main__":
    main()
