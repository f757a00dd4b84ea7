"""Benchmark of live slider figures: from a slider's value change to the new image, as a reader moves it.

Two figures: a representative benchmark figure (a histogram of Monte Carlo REINFORCE estimates on a
two-armed bandit, with the exact gradient, labels and a legend) and chapter 2's own figure (its
cells are executed from book/02_likelihood_ratio.ipynb up to the figure). Each slider is swept the
way a reader moves it, one step at a time across its whole range and back, through the live widget
(`SliderFigure.live()`: the background thread, coalescing and idle-time prefetch included), at
three paces: a reader pressing the arrow key (10 moves/s), the key held down (30 moves/s, typical
auto-repeat), and moves back to back with no pause at all (the worst case, nothing can be drawn
ahead). For every move we record when its frame was shown; a position the reader had already left
before its frame could be drawn is skipped (never drawn, by design) and counted separately.

Printed, per pace: for every move, the time until the image reflects it (shows that position, or a
later one when the renderer skipped ahead), as median and p95 against the goals (median <= 30 ms,
p95 <= 60 ms); how many positions were never drawn (skipped, by design); and the cost of one
uncached frame (draw + rasterize + encode).
No assertion on time: this is a measurement.

Run: python benchmarks/bench_slider.py   (or `make bench`)
"""

from __future__ import annotations

import contextlib
import io
import json
import statistics
import time
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from pgbook.interactive import Range, SliderFigure

GOAL_MEDIAN_MS = 30.0
GOAL_P95_MS = 60.0
PACES = {"arrow key, 10 moves/s": 0.100, "key held, 30 moves/s": 0.033, "no pause": 0.0}
ROOT = Path(__file__).resolve().parent.parent
CHAPTER_2 = ROOT / "book" / "02_likelihood_ratio.ipynb"


def draw_gradient_histogram(fig: Figure, *, n_episodes: int, theta: float) -> None:
    """Histogram of REINFORCE gradient estimates around the exact gradient."""
    p = 1.0 / (1.0 + np.exp(-theta))  # probability of the rewarding arm
    rng = np.random.default_rng(n_episodes)
    arms = rng.random((1000, n_episodes)) < p  # reward = 1 on arm 1, 0 on arm 0
    estimates = (arms * (1.0 - p)).mean(axis=1)  # r(a) * d/dtheta log pi(a), averaged over N
    ax = fig.add_subplot()
    ax.hist(estimates, bins=30, range=(-0.1, 1.0), density=True, alpha=0.6, histtype="stepfilled",
            label="estimates")
    ax.axvline(p * (1.0 - p), color="C3", label="exact gradient")
    ax.set_xlabel("gradient estimate")
    ax.set_ylabel("density")
    ax.legend(loc="upper right")


def benchmark_figure() -> SliderFigure:
    sliders = {"n_episodes": Range(1, 64, static=[1, 4, 16, 64]),
               "theta": Range(-2.0, 2.0, 0.05, static=[-1.0, 0.0, 1.0])}
    return SliderFigure(draw_gradient_histogram, sliders, figsize=(6.4, 3.4), dpi=80,
                        initial={"theta": 0.0})


def chapter_2_figure() -> SliderFigure:
    """Chapter 2's slider figure, built by running the chapter's code cells up to it."""
    cells = json.loads(CHAPTER_2.read_text(encoding="utf8"))["cells"]
    namespace: dict = {}
    for cell in cells:
        source = "".join(cell["source"])
        if cell["cell_type"] != "code" or ".show()" in source:
            continue
        with contextlib.redirect_stdout(io.StringIO()):  # the chapter's printouts are not wanted here
            exec(compile(source, str(CHAPTER_2), "exec"), namespace)  # noqa: S102 - our own notebook
        if isinstance(namespace.get("figure"), SliderFigure):
            return namespace["figure"]
    raise RuntimeError(f"no SliderFigure named 'figure' in {CHAPTER_2}")


def sweep(sf: SliderFigure, name: str, pause: float) -> tuple[list[float], int, int]:
    """Move slider `name` one step at a time from its low end to its high end and back, waiting
    `pause` seconds between moves. Returns, for every move, the time (ms) until the image shows that
    move's position or a later move's (the reader's move is then reflected on screen: a position
    passed over while a frame was drawing is skipped, and the image goes straight to a later one),
    the number of positions never shown, and the number of moves."""
    widget = sf.live()
    control = widget.controls[name]
    spec = sf.specs[name]
    values = [spec.snap(spec.range.low + k * spec.range.step) for k in range(spec.n_steps + 1)]
    route = values + values[-2::-1]
    control.value = route[0]
    widget.wait()
    requested: list[tuple[float, dict]] = []
    for value in route[1:]:
        position = {**widget.position(), name: value}
        requested.append((time.perf_counter(), position))  # before the move: a drawn frame shows at once
        control.value = value
        if pause:
            time.sleep(pause)
    widget.wait()
    widget.close()
    # Which move each shown frame answers: the latest move to its position made before it was shown.
    answered = []
    for t_shown, position in widget.shown_log:
        moves = [k for k, (t, p) in enumerate(requested) if p == position and t <= t_shown]
        if moves:
            answered.append((t_shown, moves[-1]))
    latencies = []
    for k, (t_request, _) in enumerate(requested):
        times = [t for t, j in answered if j >= k and t >= t_request]
        latencies.append(1000.0 * (min(times) - t_request))
    shown_moves = {j for _, j in answered}
    return latencies, len(requested) - len(shown_moves), len(requested)


def uncached_frame_ms(sf: SliderFigure, n: int = 20) -> float:
    grid = sf.grid()
    times = []
    for k in range(n):
        start = time.perf_counter()
        sf.render(**grid[k % len(grid)])
        times.append(1000.0 * (time.perf_counter() - start))
    return statistics.median(times)


def report(title: str, make) -> None:
    print(f"\n{title}")
    print(f"  one uncached frame (draw + rasterize + encode): median {uncached_frame_ms(make()):.1f} ms")
    print(f"  {'slider':<12} {'pace':<24} {'moves':>5} {'drawn':>5} {'skipped':>7} "
          f"{'median ms':>9} {'p95 ms':>7}  goal (median <= {GOAL_MEDIAN_MS:.0f}, p95 <= {GOAL_P95_MS:.0f})")
    for name in make().specs:
        for pace, pause in PACES.items():
            latencies, skipped, moves = sweep(make(), name, pause)  # a fresh figure: nothing cached
            median = statistics.median(latencies)
            p95 = float(np.percentile(latencies, 95))
            verdict = "met" if median <= GOAL_MEDIAN_MS and p95 <= GOAL_P95_MS else "missed"
            print(f"  {name:<12} {pace:<24} {moves:>5} {moves - skipped:>5} {skipped:>7} "
                  f"{median:>9.1f} {p95:>7.1f}  {verdict}")


def main() -> None:
    print("Live slider latency: value change -> new image shown, sweeping each slider across its range and back")
    report("Benchmark figure (bandit REINFORCE histogram, 512 x 272 px)", benchmark_figure)
    chapter = chapter_2_figure()
    report("Chapter 2's figure (sampling distribution on the short corridor, 512 x 288 px)",
           lambda: SliderFigure(chapter.draw, {n: s.range for n, s in chapter.specs.items()},
                                figsize=(chapter.figure.get_figwidth(), chapter.figure.get_figheight()),
                                dpi=chapter.dpi, labels=chapter.labels, initial=chapter.initial,
                                layout=None if chapter.figure.get_layout_engine() is None else "constrained"))


if __name__ == "__main__":
    main()
