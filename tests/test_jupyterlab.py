"""JupyterLab: a chapter opens clean, reads well, runs, and its slider redraws, as with `make lab`.

A module fixture starts JupyterLab from this environment on 127.0.0.1 only (a free port, a random
token, the repository's settings in jupyter/lab-settings/), with a temporary copy of book/ as its
root and temporary Jupyter config, data, runtime and IPython folders, so that nothing in the
repository or in ~/.jupyter is read or modified; the server and its kernels are stopped afterwards,
also when a test fails. Headless Chromium then opens one chapter and the tests check that

- opening it does not mark it modified (its metadata is what JupyterLab would write);
- its Markdown is rendered, in Markdown cells and in Markdown or LaTeX outputs (the Derivation
  displays): no MyST markup left as text (a role or directive that the renderer, jupyterlab-myst,
  does not know; fences; directive options), and no math left as raw TeX;
- before running, each live slider figure shows its saved initial frame (the image/png beside the
  widget view in its output: the notebook is not trusted yet, so JupyterLab shows that fallback);
- "Run All" runs every code cell without an error output, and the outputs it makes are rendered;
- moving a slider of a figure (keyboard: focus the handle, ArrowRight) changes its image;
- after File > Save and a page reload, with the kernel still running, the figure is live again;
- after Kernel > Restart (no reload), the figure's widget view stays, with its last frame.

After a restart, File > Save and a reload, the notebook is trusted and its widget model is gone:
ipywidgets then shows "Error displaying widget: model not found" rather than the saved frame. That
check reports an expected failure (xfail) on exactly that symptom, an upstream limitation; it runs
last.

Screenshots (before running, after running, after the slider moved, after each reload or restart,
and each Markdown cell with a directive) go to _build/jupyterlab-test/screenshots/ for a person to
look at. The server and page helpers are in tools/jupyterlab_session.py (shared with
benchmarks/bench_jupyterlab.py).

Set PGBOOK_LAB_NOTEBOOK=path/to/notebook.ipynb to check another notebook in the chapter's place
(it is copied into the temporary book/ under the chapter's name). Without Chromium the tests are
skipped, with the reason; in CI (CI=true) they fail instead.

In JupyterLab, jupyterlab-myst shows a citation ({cite:p}, {cite:t}) as its BibTeX key marked
"Citation Not Found" (it reads no .bib file) and a {bibliography} directive as nothing; both are
accepted here. Roles and directives it does not know at all, such as {footcite} and
{footbibliography}, are reported.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import jupyterlab_session as lab  # noqa: E402  (tools/jupyterlab_session.py: the server and page helpers)
import browser as browser_tools  # noqa: E402  (tools/browser.py)
from jupyterlab_session import PANEL_JS as _PANEL  # noqa: E402

BOOK = ROOT / "book"
CHAPTER = "02_likelihood_ratio.ipynb"
# Not under _build/test/: the site test (tests/test_site.py) clears that folder when it starts,
# possibly while this module runs on another xdist worker.
SCREENSHOTS = ROOT / "_build" / "jupyterlab-test" / "screenshots"
FRAME_CHANGE_MS = 30_000


# --------------------------------------------------------------------------------------------
# The server


def _chapter_source() -> Path:
    override = os.environ.get("PGBOOK_LAB_NOTEBOOK")
    path = Path(override).resolve() if override else BOOK / CHAPTER
    if not path.is_file():
        pytest.fail(f"notebook to check not found: {path}", pytrace=False)
    return path


def _require_chromium() -> None:
    reason = browser_tools.missing_reason()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(reason + "; in CI it must be installed", pytrace=False)
        pytest.skip(reason)


@pytest.fixture(scope="module")
def lab_server() -> Iterator[lab.LabServer]:
    _require_chromium()
    source = _chapter_source()
    try:
        server = lab.start_lab_server(notebooks={CHAPTER: source})
    except RuntimeError as err:
        pytest.fail(str(err), pytrace=False)
    try:
        yield server
    finally:
        server.stop()


# --------------------------------------------------------------------------------------------
# The browser and the opened notebook

_RENDERED = ".jp-InputArea > .myst, .jp-MarkdownOutput"  # jupyterlab-myst's, or JupyterLab's own

# One number per Markdown cell (-1: not rendered yet); stable once rendering has settled.
_MARKDOWN_STATE_JS = """(name) => {
    """ + _PANEL + """
    return panel.content.widgets.map((cell, index) => {
        if (cell.model.type !== 'markdown') return null;
        const out = cell.rendered && cell.node.querySelector('""" + _RENDERED + """');
        return out ? out.textContent.length : -1;
    });
}"""

# Markdown that was not rendered, in Markdown cells and in text/markdown or text/latex outputs (the
# Derivation displays). With jupyterlab-myst, a role or directive it does not know stays a mystRole
# / mystDirective node in the cell's parsed tree (and shows as plain text or an "Unknown Directive"
# box). In the rendered text, with typeset math removed, MyST markup shows as fences, {role} or
# {directive} names or directive options, and math that was not typeset as $ or \command.
_SCAN_JS = r"""
    const problems = [];
    const excerpt = (text, at) => text.slice(Math.max(0, at - 40), at + 60).replace(/\s+/g, ' ').trim();
    const RAW = [/```/, /~~~/, /:::/, /\{[a-z][\w.:-]*\}/,
                 /(^|\n)\s*:(label|class|name|filter|nowrap|enumerated|numbered|dropdown):/];
    const TEX = /\$|\\[A-Za-z]+|\\[\[\]()]/;
    const scan = (index, where, node) => {
        const clone = node.cloneNode(true);
        clone.querySelectorAll('.katex, .katex-display, mjx-container, .MathJax, script, style, svg')
            .forEach(e => e.remove());
        clone.querySelectorAll('pre code[class*="language-{"]').forEach(e => problems.push({index, where,
            kind: 'directive shown as a code block', text: e.className + ': ' + e.textContent.slice(0, 60)}));
        const text = clone.textContent;
        for (const re of RAW) {
            const m = text.match(re);
            if (m) problems.push({index, where, kind: 'raw MyST markup', text: excerpt(text, m.index)});
        }
        const unknown = text.search(/Unknown (Directive|Role)/);
        if (unknown >= 0) problems.push({index, where, kind: 'unknown directive or role', text: excerpt(text, unknown)});
        clone.querySelectorAll('code').forEach(e => e.remove());
        const prose = clone.textContent;
        const m = prose.match(TEX);
        if (m) problems.push({index, where, kind: 'math not typeset', text: excerpt(prose, m.index)});
    };
    const scanOutputs = (cell, index) => cell.node.querySelectorAll(
            '.jp-OutputArea [data-mime-type="text/markdown"], .jp-OutputArea [data-mime-type="text/latex"]')
        .forEach(out => scan(index, 'output', out));
"""

_MARKDOWN_PROBLEMS_JS = """(name) => {
    """ + _PANEL + _SCAN_JS + """
    panel.content.widgets.forEach((cell, index) => {
        if (cell.model.type === 'code') { scanOutputs(cell, index); return; }
        if (cell.model.type !== 'markdown') return;
        const out = cell.rendered && cell.node.querySelector('""" + _RENDERED + """');
        if (!out) {
            problems.push({index, where: 'cell', kind: 'not rendered',
                           text: cell.model.sharedModel.getSource().slice(0, 80)});
            return;
        }
        const unknown = new Set();
        const walk = node => {
            if (!node || typeof node !== 'object') return;
            if (node.type === 'mystRole') unknown.add(`role {${node.name}}`);
            if (node.type === 'mystDirective') unknown.add(`directive {${node.name}}`);
            (node.children || []).forEach(walk);
        };
        walk(cell.fragmentMDAST);
        unknown.forEach(what => problems.push({index, where: 'cell', kind: 'MyST not understood by the renderer', text: what}));
        scan(index, 'cell', out);
    });
    return problems;
}"""

_OUTPUT_PROBLEMS_JS = """(name) => {
    """ + _PANEL + _SCAN_JS + """
    panel.content.widgets.forEach((cell, index) => { if (cell.model.type === 'code') scanOutputs(cell, index); });
    return problems;
}"""

_DIRTY_JS = """(name) => {
    """ + _PANEL + """
    return {dirty: panel.context.model.dirty, metadata: panel.context.model.toJSON().metadata};
}"""


@pytest.fixture(scope="module")
def browser(lab_server: lab.LabServer):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = lab.launch_browser(playwright)
        yield browser
        browser.close()


def _screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)  # again: the site test may have cleared _build/
    page.screenshot(path=str(SCREENSHOTS / name))


def _scroll_to(page, index: int, name: str = CHAPTER) -> None:
    lab.scroll_to_cell(page, name, index)


# What a live figure's output shows: per output of the cell, its MIME type (none for a widget view),
# its text, whether it shows a decoded image (and its src), and whether it shows a slider.
_FIGURE_OUTPUTS_JS = """([name, index]) => {
    """ + _PANEL + """
    return Array.from(panel.content.widgets[index].node.querySelectorAll('.jp-OutputArea-output')).map(o => {
        const img = o.querySelector('img');
        return {mime: o.getAttribute('data-mime-type'), text: o.textContent.trim().slice(0, 160),
                image: !!img && img.complete && img.naturalWidth > 0, src: img ? img.getAttribute('src') : null,
                slider: !!o.querySelector('.noUi-handle, input[type=range]')};
    });
}"""

# Until the figure's output shows an image or an error (a widget view first shows "Loading widget...").
_FIGURE_SETTLED_JS = """([name, index]) => {
    """ + _PANEL + """
    const outputs = panel ? panel.content.widgets[index].node.querySelectorAll('.jp-OutputArea-output') : [];
    return Array.from(outputs).some(o => {
        const img = o.querySelector('img');
        return (img && img.complete && img.naturalWidth > 0) || /Error/.test(o.textContent);
    });
}"""

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
ERROR_TEXT = ("Error displaying widget", "Error rendering", "model not found")


def _figure_outputs(page, index: int, screenshot: str) -> list[dict]:
    """What cell ``index`` (a live figure) shows, once it shows an image or an error (or after 30 s)."""
    _scroll_to(page, index)
    try:
        page.wait_for_function(_FIGURE_SETTLED_JS, arg=[CHAPTER, index], timeout=30_000, polling=250)
    except Exception:  # playwright's TimeoutError; the outputs as they are then are reported
        pass
    _scroll_to(page, index)  # again: cells above may have grown while rendering
    _screenshot(page, screenshot)
    return page.evaluate(_FIGURE_OUTPUTS_JS, [CHAPTER, index])


def _shows_a_frame(outputs: list[dict]) -> bool:
    return any(o["image"] for o in outputs) and not any(e in o["text"] for o in outputs for e in ERROR_TEXT)


def _describe_outputs(outputs: list[dict]) -> str:
    return "; ".join(f"{o['mime'] or 'widget view'}: image {o['image']}, slider {o['slider']}, text {o['text']!r}"
                     for o in outputs) or "no output"


@dataclass
class OpenedNotebook:
    page: object = field(repr=False)
    dirty: bool
    metadata: dict = field(repr=False)
    on_disk: dict = field(repr=False)
    markdown_problems: list[dict] = field(repr=False)
    figures: dict[int, list[dict]] = field(repr=False)  # live figure cell -> what it shows before a run


def _open_and_render(page, server: lab.LabServer, name: str) -> None:
    """Open notebook `name` and wait until every Markdown cell is rendered and the rendering stops
    changing (jupyterlab-myst renders each cell, then the notebook again once cross-references can
    be resolved)."""
    lab.open_notebook(page, server, name)
    previous, deadline = None, time.monotonic() + 60
    while time.monotonic() < deadline:
        state = page.evaluate(_MARKDOWN_STATE_JS, name)
        for index, length in enumerate(state):
            if length == -1:  # not attached yet (a windowing mode that renders on demand)
                _scroll_to(page, index, name)
        if state == previous and -1 not in state:
            break
        previous = state
        page.wait_for_timeout(1000)
    _scroll_to(page, 0, name)


@pytest.fixture(scope="module")
def opened(lab_server: lab.LabServer, browser) -> Iterator[OpenedNotebook]:
    """The chapter opened in JupyterLab, its kernel idle, its Markdown rendered; nothing run yet."""
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    page = lab.new_page(browser, lab_server)
    try:
        _open_and_render(page, lab_server, CHAPTER)
        _screenshot(page, "01-opened-before-run.png")
        state = page.evaluate(_DIRTY_JS, CHAPTER)
        problems = page.evaluate(_MARKDOWN_PROBLEMS_JS, CHAPTER)
        on_disk = json.loads((lab_server.root_dir / CHAPTER).read_text(encoding="utf8"))
        for index, cell in enumerate(on_disk["cells"]):  # each directive as it renders, for a person
            source = "".join(cell["source"])
            if cell["cell_type"] == "markdown" and ("```{" in source or ":::{" in source):
                _scroll_to(page, index)
                _screenshot(page, f"markdown-cell-{index:02d}.png")
        figures = {index: _figure_outputs(page, index, f"01-figure-{index:02d}-before-run.png")
                   for index in _live_figure_cells(on_disk)}
        _scroll_to(page, 0)
        yield OpenedNotebook(page, state["dirty"], state["metadata"], on_disk, problems, figures)
    finally:
        page.context.close()


def _live_figure_cells(notebook: dict) -> list[int]:
    """Indices of the code cells whose saved output is a widget view (a live slider figure)."""
    return [index for index, cell in enumerate(notebook["cells"]) if cell["cell_type"] == "code"
            and any(WIDGET_VIEW in output.get("data", {}) for output in cell.get("outputs", []))]


def _metadata_differences(on_disk: dict, in_lab: dict, path: str = "metadata") -> list[str]:
    if isinstance(on_disk, dict) and isinstance(in_lab, dict):
        out = []
        for key in sorted(set(on_disk) | set(in_lab)):
            out += _metadata_differences(on_disk.get(key), in_lab.get(key), f"{path}.{key}")
        return out
    return [] if on_disk == in_lab else [f"{path}: file {json.dumps(on_disk)}, JupyterLab {json.dumps(in_lab)}"]


def test_opening_does_not_mark_the_notebook_modified(opened: OpenedNotebook) -> None:
    differences = _metadata_differences(opened.on_disk.get("metadata", {}), opened.metadata)
    assert not opened.dirty, (
        f"JupyterLab marks {CHAPTER} modified as soon as it is opened; metadata it changed: "
        f"{differences or '(none: a cell changed)'}. Re-execute it with `make notebooks` "
        "(tools/execute_notebooks.py writes the metadata JupyterLab writes)."
    )


def test_markdown_is_rendered(opened: OpenedNotebook) -> None:
    problems = [f"cell {p['index']} ({p['where']}): {p['kind']}: {p['text']}" for p in opened.markdown_problems]
    assert not problems, (
        f"Markdown of {CHAPTER} that JupyterLab (jupyterlab-myst) does not render "
        f"(screenshots in {SCREENSHOTS}):\n" + "\n".join(problems)
    )


OTHER_CHAPTERS = sorted(p.name for p in BOOK.glob("*.ipynb") if p.name != CHAPTER)


@pytest.mark.parametrize("name", OTHER_CHAPTERS)
def test_every_other_chapter_opens_unmodified_and_renders(name: str, lab_server: lab.LabServer,
                                                           browser) -> None:
    """The other chapters are not run here (the chapter above is, and each chapter runs under
    nbval), but each must open unmodified and render its MyST markup and math."""
    page = lab.new_page(browser, lab_server)
    try:
        _open_and_render(page, lab_server, name)
        _screenshot(page, f"other-{Path(name).stem}.png")
        dirty = page.evaluate(_DIRTY_JS, name)["dirty"]
        problems = [f"cell {p['index']} ({p['where']}): {p['kind']}: {p['text']}"
                    for p in page.evaluate(_MARKDOWN_PROBLEMS_JS, name)]
    finally:
        page.context.close()
    assert not dirty, f"{name} is marked modified as soon as it is opened"
    assert not problems, f"Markdown of {name} that JupyterLab does not render:\n" + "\n".join(problems)


def test_figures_show_their_initial_frame_before_running(opened: OpenedNotebook) -> None:
    """Freshly opened (not trusted: nothing was run), a live figure shows its saved initial frame, the
    image/png beside the widget view in its output, not the widget's text nor a widget error."""
    if not opened.figures:
        pytest.skip(f"{CHAPTER} has no saved live figure output")
    for index, outputs in opened.figures.items():
        saved = next(o["data"]["image/png"] for o in opened.on_disk["cells"][index]["outputs"]
                     if WIDGET_VIEW in o.get("data", {}))
        saved = "".join(saved).replace("\n", "")
        assert _shows_a_frame(outputs), (
            f"cell {index}: before running, the live figure does not show its initial frame; it shows "
            f"{_describe_outputs(outputs)} (screenshot 01-figure-{index:02d}-before-run.png in {SCREENSHOTS})"
        )
        assert any(o["src"] == f"data:image/png;base64,{saved}" for o in outputs), (
            f"cell {index}: the image shown before running is not the saved initial frame: {_describe_outputs(outputs)}"
        )


# --------------------------------------------------------------------------------------------
# Running it

_RUN_RESULTS_JS = """(name) => {
    """ + _PANEL + """
    return panel.content.widgets.map((cell, index) => {
        if (cell.model.type !== 'code') return null;
        const outputs = cell.model.outputs.toJSON();
        return {
            index,
            empty: !cell.model.sharedModel.getSource().trim(),
            count: cell.model.executionCount,
            errors: outputs.filter(o => o.output_type === 'error').map(o => `${o.ename}: ${o.evalue}`),
            widgetErrors: Array.from(cell.node.querySelectorAll('.jp-OutputArea-output'))
                .map(e => e.textContent).filter(t => /Error displaying widget|Error rendering/.test(t))
                .map(t => t.trim().slice(0, 120)),
            hasSlider: !!cell.node.querySelector('.jp-OutputArea .noUi-handle, .jp-OutputArea input[type=range]'),
            hasImage: !!cell.node.querySelector('.jp-OutputArea .widget-image, .jp-OutputArea img'),
        };
    }).filter(c => c !== null);
}"""


@dataclass
class RunResult:
    outcome: str
    cells: list[dict] = field(repr=False)
    output_problems: list[dict] = field(repr=False)


@pytest.fixture(scope="module")
def ran(lab_server: lab.LabServer, opened: OpenedNotebook) -> RunResult:
    """Clear the outputs, run all cells (Run > Run All Cells), wait until the kernel is idle."""
    page = opened.page
    outcome = lab.run_all(page, lab_server, CHAPTER)
    page.wait_for_timeout(1000)  # let the last outputs and widget views render
    cells = page.evaluate(_RUN_RESULTS_JS, CHAPTER)
    output_problems = page.evaluate(_OUTPUT_PROBLEMS_JS, CHAPTER)
    figure = next((c for c in cells if c["hasSlider"]), None)
    _scroll_to(page, figure["index"] if figure else 0)
    _screenshot(page, "02-after-run.png")
    return RunResult(outcome, cells, output_problems)


def test_every_cell_runs_without_error(ran: RunResult) -> None:
    assert ran.outcome != "timeout", f"Run All did not finish within {lab.RUN_ALL_MS / 1000:.0f} s"
    errors = [f"cell {c['index']}: {e}" for c in ran.cells for e in c["errors"] + c["widgetErrors"]]
    assert not errors, f"cells of {CHAPTER} that fail in JupyterLab:\n" + "\n".join(errors)
    not_run = [c["index"] for c in ran.cells if not c["empty"] and c["count"] is None]
    assert not not_run, f"code cells of {CHAPTER} that Run All did not run: {not_run}"


def test_outputs_are_rendered_after_run(ran: RunResult) -> None:
    """Markdown and LaTeX outputs (the Derivation displays) made by this run, typeset."""
    problems = [f"cell {p['index']}: {p['kind']}: {p['text']}" for p in ran.output_problems]
    assert not problems, f"outputs of {CHAPTER} that JupyterLab does not render:\n" + "\n".join(problems)


_FRAME_JS = """(cell) => {
    const img = cell.querySelector('.jp-OutputArea .widget-image, .jp-OutputArea img');
    return img ? img.getAttribute('src') : null;
}"""

_READOUT_JS = """(cell) => Array.from(cell.querySelectorAll('.jp-OutputArea .widget-readout'))
    .map(e => e.textContent.trim()).join(' | ')"""


@dataclass
class SliderMove:
    before: str | None
    after: str | None
    readout_before: str
    readout_after: str
    natural_width: int


def _move_slider(page, index: int, screenshot: str) -> SliderMove:
    """Focus the first slider handle of cell ``index``, press ArrowRight (ArrowLeft if it is at its
    largest value) and wait for the figure's image to change (at most FRAME_CHANGE_MS)."""
    _scroll_to(page, index)
    cell = lab.cell_node(page, CHAPTER, index)
    handle = cell.query_selector(".jp-OutputArea .noUi-handle") or cell.query_selector(
        ".jp-OutputArea input[type=range]")
    before, readout_before = page.evaluate(_FRAME_JS, cell), page.evaluate(_READOUT_JS, cell)
    if handle is None or not before:
        return SliderMove(before, before, readout_before, readout_before, 0)
    handle.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_timeout(300)
    if page.evaluate(_READOUT_JS, cell) == readout_before:  # already at its largest value
        page.keyboard.press("ArrowLeft")
    try:
        page.wait_for_function("([cell, before]) => { const img = cell.querySelector("
                               "'.jp-OutputArea .widget-image, .jp-OutputArea img'); "
                               "return img && img.getAttribute('src') !== before; }",
                               arg=[cell, before], timeout=FRAME_CHANGE_MS, polling=200)
    except Exception:  # playwright's TimeoutError; reported by the caller with what the slider shows
        pass
    after, readout_after = page.evaluate(_FRAME_JS, cell), page.evaluate(_READOUT_JS, cell)
    _screenshot(page, screenshot)
    image = cell.query_selector(".jp-OutputArea .widget-image, .jp-OutputArea img")
    width = 0
    if image is not None and after != before:
        image.evaluate("img => img.decode()")  # rejects if the new frame is not an image
        width = image.evaluate("img => img.naturalWidth")
    return SliderMove(before, after, readout_before, readout_after, width)


def _check_slider_move(index: int, move: SliderMove) -> None:
    assert move.before, f"cell {index}: the figure's image has no src"
    assert move.readout_after != move.readout_before, (
        f"cell {index}: the slider did not move with the arrow keys (readout {move.readout_before!r})"
    )
    assert move.after != move.before, (
        f"cell {index}: moving the slider ({move.readout_before!r} -> {move.readout_after!r}) did not "
        f"change the figure within {FRAME_CHANGE_MS / 1000:.0f} s"
    )
    assert move.natural_width > 0, f"cell {index}: empty frame"


def _live_figure(ran: RunResult) -> dict:
    figure = next((c for c in ran.cells if c["hasSlider"] and c["hasImage"]), None)
    assert figure is not None, (
        f"no code cell of {CHAPTER} shows a slider and an image after Run All "
        "(a SliderFigure's live widget)"
    )
    return figure


def test_slider_redraws_the_figure(opened: OpenedNotebook, ran: RunResult) -> None:
    index = _live_figure(ran)["index"]
    _check_slider_move(index, _move_slider(opened.page, index, "03-after-slider-move.png"))


# --------------------------------------------------------------------------------------------
# Reloading the page and restarting the kernel
#
# These run after the tests above, in this order, on the same page: save and reload with the kernel
# still running; then restart the kernel; then save and reload again.

_SAVE_JS = """async (name) => {
    """ + _PANEL + """
    await panel.context.save();
    return panel.context.model.dirty;
}"""

_RESTART_JS = """async (name) => {
    """ + _PANEL + """
    await panel.sessionContext.restartKernel();  // Kernel > Restart Kernel, without the dialog
}"""


def _save_and_reload(lab_server: lab.LabServer, page) -> None:
    assert page.evaluate(_SAVE_JS, CHAPTER) is False, f"{CHAPTER} is still modified after saving it"
    page.reload(timeout=lab.PAGE_TIMEOUT_MS)
    lab.wait_until_ready(page, lab_server, CHAPTER)


@dataclass
class Reloaded:
    outputs: list[dict]
    move: SliderMove


@pytest.fixture(scope="module")
def reloaded(lab_server: lab.LabServer, opened: OpenedNotebook, ran: RunResult) -> Reloaded:
    """After Run All: File > Save, then reload the page; the kernel keeps running."""
    page, index = opened.page, _live_figure(ran)["index"]
    _save_and_reload(lab_server, page)
    outputs = _figure_outputs(page, index, "04-reloaded-kernel-running.png")
    return Reloaded(outputs, _move_slider(page, index, "04-reloaded-slider-move.png"))


def test_reload_with_the_kernel_running_keeps_the_live_figure(ran: RunResult, reloaded: Reloaded) -> None:
    index = _live_figure(ran)["index"]
    assert _shows_a_frame(reloaded.outputs) and any(o["slider"] for o in reloaded.outputs), (
        f"cell {index}: after saving and reloading the page (kernel running), the live figure shows "
        f"{_describe_outputs(reloaded.outputs)}"
    )
    _check_slider_move(index, reloaded.move)


@pytest.fixture(scope="module")
def restarted(lab_server: lab.LabServer, opened: OpenedNotebook, ran: RunResult) -> list[dict]:
    """After Run All (and the reload above, when it ran): Kernel > Restart Kernel, no reload; what the
    live figure's cell shows."""
    page, index = opened.page, _live_figure(ran)["index"]
    page.evaluate(_RESTART_JS, CHAPTER)
    lab.wait_until_ready(page, lab_server, CHAPTER)
    page.wait_for_timeout(1000)
    return _figure_outputs(page, index, "05-kernel-restarted.png")


def test_kernel_restart_keeps_the_figure_frame(ran: RunResult, restarted: list[dict]) -> None:
    """The widget view stays (its sliders marked disconnected), still showing its last frame."""
    assert _shows_a_frame(restarted), (
        f"cell {_live_figure(ran)['index']}: after a kernel restart, the live figure shows "
        f"{_describe_outputs(restarted)}"
    )


@pytest.fixture(scope="module")
def restarted_and_reloaded(lab_server: lab.LabServer, opened: OpenedNotebook, ran: RunResult,
                           restarted: list[dict]) -> list[dict]:
    """After the kernel restart: File > Save, then reload the page."""
    _save_and_reload(lab_server, opened.page)
    return _figure_outputs(opened.page, _live_figure(ran)["index"], "06-restarted-saved-reloaded.png")


def test_figure_after_restart_save_and_reload_shows_a_frame(ran: RunResult,
                                                            restarted_and_reloaded: list[dict]) -> None:
    """Expected to fail, with exactly this symptom: saved after the restart, the notebook is trusted,
    so ipywidgets' renderer takes the output over its image/png; with no widget model in the new
    kernel nor in the notebook (no widget state is saved), it shows an error instead of falling back
    to the image (jupyter-widgets/ipywidgets#849, #3773). Any other failure is a real one."""
    if any("model not found" in o["text"] for o in restarted_and_reloaded) and not any(
            o["image"] for o in restarted_and_reloaded):
        pytest.xfail("after a kernel restart, save and reload, JupyterLab shows 'Error displaying widget: "
                     "model not found' instead of the saved frame (ipywidgets limitation)")
    assert _shows_a_frame(restarted_and_reloaded), (
        f"cell {_live_figure(ran)['index']}: after a kernel restart, save and reload, the live figure "
        f"shows {_describe_outputs(restarted_and_reloaded)}"
    )
