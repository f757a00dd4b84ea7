"""Benchmark: what a reader feels moving chapter 2's live slider figure in JupyterLab.

    python benchmarks/bench_jupyterlab.py      (or `make bench`, which runs every bench_*.py)

Starts a private JupyterLab on a copy of book/ (tools/jupyterlab_session.py, as the JupyterLab test
does), opens book/02_likelihood_ratio.ipynb in headless Chromium, runs all cells and waits until the
kernel is idle. Then, for the figure's "p(right)" slider and then its "N" slider, it focuses the
slider's handle, presses Home (its low end) and sweeps it with the keyboard one step at a time across
its whole range (ArrowRight) and back (ArrowLeft), at two paces:

- reader: one key press every 150 ms;
- key held: a key held down, auto-repeating every 50 ms.

Before each sweep the other slider is moved one step, so that the sweep draws frames not drawn
before (going back, the frames drawn on the way out are cached).

Timed in the page: a capture listener records performance.now() of every keydown on the figure, and
a MutationObserver records performance.now() of every change of the figure's <img> src. The kernel's
live figure logs which slider position each frame it sends shows (LiveFigure.shown_log), in the same
order as the page's src changes, so every src change is matched to its position, and every key
press to the first src change that shows the position it moved the slider to:

- presses: keydowns seen by the page; kernel got: slider value changes the kernel received (the
  front end sends one change at a time and merges those made meanwhile); frames: src changes;
- no image b. next: presses after which the src did not change before the next press (the reader
  saw nothing new for that step);
- never drawn: presses whose position was never shown: the renderer always draws the latest
  position, so positions passed over while it is busy are skipped, by design;
- median, p95: keydown -> the src change showing that press's position, over the presses whose
  position was shown (goal: median <= 60 ms); med ->, med <-: the median of each direction;
- catch-up: from the last key press of a sweep to the last src change.

If the page's src changes and the kernel's frames cannot be matched one to one, the row is marked *
and its latencies are to the first src change before the next press.

It takes about 3 minutes: setup (server, opening, Run All) about 45 s, then 670 key presses per
pace (80 steps of p(right) and 255 of N, each way), 100 s at the reader's pace and 34 s held.
`--sliders` and `--paces` run a subset.

The machine may be shared: the load average is printed, and the timings are then noisy. No
assertion on time; exits 1 only if something fails to run (JupyterLab, Chromium, the notebook).
The server and its kernel are stopped afterwards, also on failure.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import traceback
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import jupyterlab_session as lab  # noqa: E402  (tools/jupyterlab_session.py)

CHAPTER = "02_likelihood_ratio.ipynb"
SLIDERS = {"p(right)": "p_right", "N": "n_episodes"}  # label prefix -> parameter, in the order swept
PACES = {"reader, 150 ms/press": (0.150, False), "key held, 50 ms": (0.050, True)}
GOAL_MEDIAN_MS = 60.0
QUIET_MS = 300  # the page is quiet when its image has not changed for this long ...
QUIET_MAX_MS = 15_000  # ... or after this long
DRAW_TIMEOUT_S = 60  # the kernel's live figure must have drawn the current position by then

# The figure's cell: the code cell whose output shows a slider and an image.
_FIGURE_CELL_JS = """(name) => {""" + lab.PANEL_JS + """
    return panel.content.widgets.findIndex(c => c.model.type === 'code'
        && c.node.querySelector('.jp-OutputArea .noUi-handle')
        && c.node.querySelector('.jp-OutputArea .widget-image'));
}"""

_HANDLE_JS = """([cell, label]) => {
    const slider = Array.from(cell.querySelectorAll('.jp-OutputArea .widget-slider'))
        .find(s => (s.querySelector('.widget-label') || {textContent: ''}).textContent.trim().startsWith(label));
    return slider ? slider.querySelector('.noUi-handle') : null;
}"""

# The slider's range and step, from its noUiSlider (the handle's aria-valuenow is rounded to one
# decimal, so it cannot tell).
_RANGE_JS = "h => { const o = h.closest('.noUi-target').noUiSlider.options; return [o.range.min, o.range.max, o.step]; }"

_INSTRUMENT_JS = """(cell) => {
    if (window.__pgbench) return;
    const rec = window.__pgbench = {keys: [], srcs: []};
    window.addEventListener('keydown', e => {
        if (cell.contains(e.target) && /^(ArrowLeft|ArrowRight|Home)$/.test(e.key))
            rec.keys.push({t: performance.now(), key: e.key});
    }, true);
    new MutationObserver(mutations => {
        const t = performance.now();
        for (const m of mutations) if (m.target.tagName === 'IMG') rec.srcs.push(t);
    }).observe(cell, {subtree: true, attributes: true, attributeFilter: ['src']});
}"""

_RESET_JS = "() => { window.__pgbench.keys = []; window.__pgbench.srcs = []; }"
_RECORD_JS = "() => ({keys: window.__pgbench.keys, srcs: window.__pgbench.srcs, now: performance.now()})"

# Run code in the notebook's kernel without touching the notebook (no cell, no execution count);
# returns what it printed, or its error.
_KERNEL_JS = """async ([name, code]) => {""" + lab.PANEL_JS + """
    const future = panel.sessionContext.session.kernel.requestExecute({code, silent: false, store_history: false});
    let out = '';
    future.onIOPub = msg => {
        if (msg.header.msg_type === 'stream') out += msg.content.text;
        if (msg.header.msg_type === 'error') out += `ERROR ${msg.content.ename}: ${msg.content.evalue}`;
    };
    await future.done;
    return out;
}"""

# The live figure the notebook displayed (the last LiveFigure created), as `_pgbench_live`, and a
# count of the slider value changes its kernel receives (the front end may coalesce key presses).
_FIND_LIVE_PY = """
import ipywidgets as _w
from pgbook.interactive import LiveFigure as _LF
_pgbench_live = [w for w in _w.widgets.widget._instances.values() if isinstance(w, _LF)][-1]
_pgbench_moves = []
for _c in _pgbench_live.controls.values():
    _c.observe(lambda change: _pgbench_moves.append(change['new']), names='value')
"""
_CLEAR_LOG_PY = "_pgbench_live.shown_log.clear(); _pgbench_moves.clear()"
_READ_LOG_PY = ("import json as _json; print(_json.dumps({'shown': [p for _, p in _pgbench_live.shown_log], "
                "'moves': len(_pgbench_moves)}))")


def kernel(page, server: lab.LabServer, code: str) -> str:
    out = page.evaluate(_KERNEL_JS, [CHAPTER, code])
    if out.startswith("ERROR") or "\nERROR" in out:
        raise server.fail(f"kernel code failed: {out.strip()}")
    return out


def quiet(page) -> None:
    """Wait until no key was pressed and the figure's image has not changed for QUIET_MS."""
    start = page.evaluate("() => performance.now()")
    while True:
        rec = page.evaluate(_RECORD_JS)
        last = max([start, *rec["srcs"], *(k["t"] for k in rec["keys"])])
        if rec["now"] - last >= QUIET_MS or rec["now"] - start >= QUIET_MAX_MS:
            return
        page.wait_for_timeout(50)


def settle(page, server: lab.LabServer) -> None:
    """Wait until the figure shows the sliders' current position: the page has sent its last change,
    the kernel's live figure has drawn that position (LiveFigure.wait) and the page has shown it."""
    quiet(page)
    kernel(page, server, f"_pgbench_live.wait({DRAW_TIMEOUT_S})")
    quiet(page)


def press(page, key: str, count: int, interval: float, held: bool) -> None:
    """Press ``key`` ``count`` times, one press every ``interval`` seconds (absolute schedule); held:
    keydown auto-repeats (Playwright sends repeated keydowns with ``repeat``), then one keyup."""
    due = time.perf_counter()
    for _ in range(count):
        delay = due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        if held:
            page.keyboard.down(key)
        else:
            page.keyboard.press(key)
        due += interval
    if held:
        page.keyboard.up(key)


def sweep(page, server: lab.LabServer, handle, param: str, interval: float, held: bool) -> dict:
    """From the slider's low end to its high end and back, one step per key press; the page's
    keydown and src-change times, and the kernel's shown positions, matched up."""
    low, high, step = (float(x) for x in page.evaluate(_RANGE_JS, handle))
    steps = round((high - low) / step)
    handle.focus()
    page.keyboard.press("Home")
    settle(page, server)
    page.evaluate(_RESET_JS)
    kernel(page, server, _CLEAR_LOG_PY)
    press(page, "ArrowRight", steps, interval, held)
    press(page, "ArrowLeft", steps, interval, held)
    settle(page, server)
    rec = page.evaluate(_RECORD_JS)
    log = json.loads(kernel(page, server, _READ_LOG_PY))
    # Positions in the order their frames were sent. A frame for the position already shown (the slider
    # left it and came back before the renderer got to it) sends nothing: the page sees no change.
    shown: list[int] = []
    for position in log["shown"]:
        k = round((position[param] - low) / step)
        if k != (shown[-1] if shown else 0):  # 0: the low end, shown before the sweep
            shown.append(k)
    keys = [k["t"] for k in rec["keys"] if k["key"] in ("ArrowLeft", "ArrowRight")]
    srcs = sorted(rec["srcs"])
    # Where each press moved the slider: 1, 2, ..., steps, steps - 1, ..., 0 (steps from the low end).
    wanted = list(range(1, steps + 1)) + list(range(steps - 1, -1, -1))
    matched = len(shown) == len(srcs) and len(keys) == len(wanted)
    latencies: list[float | None] = []
    silent = 0
    for i, t in enumerate(keys):
        following = keys[i + 1] if i + 1 < len(keys) else float("inf")
        if not any(t < s <= following for s in srcs):
            silent += 1
        if matched:  # the first frame of this press's position, before the slider comes back to it
            back = next((keys[j] for j in range(i + 1, len(keys)) if wanted[j] == wanted[i]), float("inf"))
            hit = next((s for s, p in zip(srcs, shown) if t < s < back and p == wanted[i]), None)
        else:  # cannot tell frames apart: the first src change before the next press
            hit = next((s for s in srcs if t < s <= following), None)
        latencies.append(None if hit is None else hit - t)
    drawn = [x for x in latencies if x is not None]
    return {
        "presses": len(keys), "expected": len(wanted), "moves": log["moves"], "frames": len(srcs), "matched": matched,
        "kernel_frames": len(shown),
        "silent": silent, "never": len(keys) - len(drawn), "latencies": drawn,
        "right": [x for x in latencies[:steps] if x is not None],
        "left": [x for x in latencies[steps:] if x is not None],
        "catch_up": (srcs[-1] - keys[-1]) if keys and srcs and srcs[-1] > keys[-1] else 0.0,
        "steps": steps,
    }


def fmt(values: list[float], q: float | None = None) -> str:
    if not values:
        return "-"
    return f"{statistics.median(values) if q is None else float(np.percentile(values, q)):.0f}"


def loadavg() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg()) + f" ({os.cpu_count()} CPUs)"
    except OSError:
        return "unknown"


def run(args: argparse.Namespace) -> None:
    from playwright.sync_api import sync_playwright

    t0 = time.perf_counter()
    notes = []
    with lab.lab_server() as server, sync_playwright() as playwright:
        t_server = time.perf_counter()
        browser = lab.launch_browser(playwright)
        try:
            page = lab.new_page(browser, server)
            lab.open_notebook(page, server, CHAPTER)
            t_open = time.perf_counter()
            if lab.run_all(page, server, CHAPTER) == "timeout":
                raise server.fail(f"Run All did not finish within {lab.RUN_ALL_MS / 1000:.0f} s")
            page.wait_for_timeout(1000)  # let the widget views render
            t_run = time.perf_counter()
            print(f"setup: JupyterLab up {t_server - t0:.1f} s, notebook open with idle kernel "
                  f"{t_open - t_server:.1f} s, Run All {t_run - t_open:.1f} s", flush=True)
            index = page.evaluate(_FIGURE_CELL_JS, CHAPTER)
            if index < 0:
                raise server.fail(f"{CHAPTER}: no cell shows a live slider figure after Run All")
            lab.scroll_to_cell(page, CHAPTER, index)
            cell = lab.cell_node(page, CHAPTER, index)
            handles = {}
            for label in SLIDERS:
                handle = page.evaluate_handle(_HANDLE_JS, [cell, label]).as_element()
                if handle is None:
                    raise server.fail(f"{CHAPTER}: the figure (cell {index}) has no slider labelled {label!r}")
                handles[label] = handle
            page.evaluate(_INSTRUMENT_JS, cell)
            kernel(page, server, _FIND_LIVE_PY)

            print(f"\nChapter 2's live figure (cell {index}): keydown -> <img> src change showing the "
                  f"press's position, in ms; goal: median <= {GOAL_MEDIAN_MS:.0f} ms")
            print(f"{'slider':<9} {'pace':<21} {'presses':>7} {'kernel':>6} {'frames':>6} {'no image':>8} "
                  f"{'never':>6} {'median':>6} {'p95':>5} {'med ->':>6} {'med <-':>6} {'catch-up':>8}  goal")
            print(f"{'':<9} {'':<21} {'':>7} {'got':>6} {'':>6} {'b. next':>8} {'drawn':>6}")
            for label in args.sliders:
                other = next(h for name, h in handles.items() if name != label)
                for pace in args.paces:
                    interval, held = PACES[pace]
                    other.focus()  # a new line of frames: move the other slider one step
                    page.keyboard.press("ArrowRight")
                    result = sweep(page, server, handles[label], SLIDERS[label], interval, held)
                    shown = result["latencies"]
                    verdict = "met" if shown and statistics.median(shown) <= GOAL_MEDIAN_MS else "missed"
                    if result["presses"] != result["expected"]:
                        verdict += f" ({result['expected']} presses sent, {result['presses']} seen)"
                    if not result["matched"]:
                        verdict += " *"
                        notes.append(f"* {label}, {pace}: the page's src changes ({result['frames']}) and the "
                                     f"kernel's frames ({result['kernel_frames']}) do not match up; latencies "
                                     "are to the first src change before the next press")
                    print(f"{label:<9} {pace:<21} {result['presses']:>7} {result['moves']:>6} {result['frames']:>6} "
                          f"{result['silent']:>8} {result['never']:>6} {fmt(shown):>6} {fmt(shown, 95):>5} "
                          f"{fmt(result['right']):>6} {fmt(result['left']):>6} {result['catch_up']:>8.0f}  "
                          f"{verdict}", flush=True)
        finally:
            browser.close()
    for note in notes:
        print(note)
    print("kernel got: value changes received by the kernel; frames: <img> src changes; no image b. next: "
          "presses followed by no new image before the next press; never drawn: presses whose position "
          "was never shown (skipped by the coalescing renderer); catch-up: last press -> last new image")
    print(f"\ntotal {time.perf_counter() - t0:.0f} s; load average after: {loadavg()}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sliders", nargs="+", choices=list(SLIDERS), default=list(SLIDERS))
    parser.add_argument("--paces", nargs="+", choices=list(PACES), default=list(PACES))
    args = parser.parse_args()
    print(f"JupyterLab live slider benchmark: {CHAPTER} in headless Chromium ({lab.CHROMIUM})")
    print(f"load average before: {loadavg()} (on a shared machine these timings are noisy)", flush=True)
    try:
        run(args)
    except Exception as err:  # noqa: BLE001 - report any failure to run, exit 1
        print(f"bench_jupyterlab: FAILED: {type(err).__name__}: {err}", file=sys.stderr)
        traceback.print_exc(limit=3, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
