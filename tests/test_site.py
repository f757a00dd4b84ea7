"""The static site: it builds with warnings as errors, works offline, and its pages work in Chromium.

A session fixture builds the book from scratch as `make book` does (PGBOOK_STATIC=1, so figure
cells render as static HTML sliders; `jupyter-book build . -W -n --keep-going`), but into its own
directory, _build/test/ (with its own execution cache), so a test run never touches the reader's
site in _build/html. The tests then check the HTML for remote addresses and the size budgets, and
open every page of _toc.yml in headless Chromium with the network cut off: math typeset by the
bundled MathJax, every image loaded, no request failed or left the local server, no console error,
every static slider swaps its frame (and the first one answers the keyboard), and nothing overflows
the text column at desktop or phone width. Screenshots go to _build/test/screenshots/.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import browser as browser_tools  # noqa: E402  (tools/browser.py: the Chromium to drive)
import build_site  # noqa: E402  (tools/build_site.py: the same build as `make book`, elsewhere)
BUILD = ROOT / "_build" / "test"       # the tests' own build; _build/html is the reader's
HTML = BUILD / "_build" / "html"
SCREENSHOTS = BUILD / "screenshots"
BUILD_LOG = BUILD / "site-build.log"
WIDTHS = {"desktop": 1280, "phone": 390}

SITE_BUDGET_BYTES = 80 * 1024**2
NOTEBOOK_BUDGET_BYTES = int(1.5 * 1024**2)
# embed-amd.js would fetch a third-party widget module from this address; the reserved .invalid
# top-level domain (RFC 2606) never resolves, so nothing can ever be fetched from it.
ALLOWED_REMOTE = ("https://invalid.invalid/",)
PAGE_TIMEOUT_MS = 60_000


def toc_pages() -> list[str]:
    """Docnames of _toc.yml (root, then chapters and their sections), without extension."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf8"))
    pages = [toc["root"]]

    def walk(entries: list[dict]) -> None:
        for entry in entries:
            if "file" in entry:
                pages.append(entry["file"])
            walk(entry.get("sections", []))
            for part in entry.get("parts", []):
                walk(part.get("chapters", []))

    walk(toc.get("chapters", []))
    for part in toc.get("parts", []):
        walk(part.get("chapters", []))
    return pages


def page_source(docname: str) -> Path:
    for suffix in (".md", ".ipynb"):
        path = ROOT / f"{docname}{suffix}"
        if path.exists():
            return path
    raise FileNotFoundError(f"_toc.yml names {docname!r} but neither .md nor .ipynb exists")


_MATH = re.compile(r"\$[^$\n]+\$|\\begin\{|\{math\}")


def source_has_math(path: Path) -> bool:
    """Whether the page's prose contains math (dollar math, amsmath environments, {math})."""
    text = path.read_text(encoding="utf8")
    if path.suffix == ".ipynb":
        cells = json.loads(text)["cells"]
        text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    return bool(_MATH.search(text))


def committed_notebooks() -> list[Path]:
    book = ROOT / "book"
    return sorted(p for p in book.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


# --------------------------------------------------------------------------------------------
# The build


@pytest.fixture(scope="session")
def built_site() -> Path:
    """Build the site from scratch into _build/test/ (tools/build_site.py); fail with the log's tail."""
    if not (ROOT / "vendor" / "mathjax" / "tex-mml-chtml.js").exists():
        pytest.fail("vendor/ is missing: run `make vendor` (npm ci + tools/vendor_assets.py) first")
    result = build_site.build(BUILD, BUILD_LOG)
    if result.returncode != 0:
        tail = "\n".join(BUILD_LOG.read_text(encoding="utf8").splitlines()[-60:])
        pytest.fail(f"the site build exited {result.returncode}; last lines of {BUILD_LOG}:\n{tail}",
                    pytrace=False)
    return HTML


def test_every_toc_page_is_built(built_site: Path) -> None:
    missing = [d for d in toc_pages() if not (built_site / f"{d}.html").exists()]
    assert not missing, f"pages of _toc.yml not in the site: {missing}"


def test_site_fits_the_budget(built_site: Path) -> None:
    size = sum(f.stat().st_size for f in built_site.rglob("*") if f.is_file())
    assert size < SITE_BUDGET_BYTES, f"built site is {size / 1024**2:.1f} MB, budget 80 MB"


@pytest.mark.parametrize("notebook", committed_notebooks(), ids=lambda p: p.name)
def test_committed_notebook_fits_the_budget(notebook: Path) -> None:
    size = notebook.stat().st_size
    assert size < NOTEBOOK_BUDGET_BYTES, f"{notebook.name} is {size / 1024**2:.2f} MB, budget 1.5 MB"


@pytest.mark.parametrize("notebook", committed_notebooks(), ids=lambda p: p.name)
def test_committed_notebook_was_executed_in_order(notebook: Path) -> None:
    """nbval compares against the committed outputs: a notebook saved unexecuted would pass trivially.

    Every non-empty code cell must carry an execution count, numbered 1, 2, 3, ... in order, as
    after one top-to-bottom run in a fresh kernel (`make notebooks`).
    """
    cells = json.loads(notebook.read_text(encoding="utf8"))["cells"]
    counts = [c["execution_count"] for c in cells if c["cell_type"] == "code" and "".join(c["source"]).strip()]
    assert counts, f"{notebook.name} has no code cell"
    assert counts == list(range(1, len(counts) + 1)), (
        f"{notebook.name} is not saved as one top-to-bottom run (execution counts {counts}); "
        "run `make notebooks` and commit the result"
    )


def _remote(url: str | None) -> bool:
    return bool(url) and url.startswith(("http://", "https://", "//")) and not url.startswith(
        ALLOWED_REMOTE
    )


def test_pages_reference_only_local_files(built_site: Path) -> None:
    """No script, stylesheet, font, image or frame is loaded from another host."""
    offending = []
    for page in sorted(built_site.rglob("*.html")):
        soup = BeautifulSoup(page.read_text(encoding="utf8"), "html.parser")
        where = page.relative_to(built_site)
        for tag in soup.find_all(["script", "img", "iframe", "source", "video", "audio"]):
            if _remote(tag.get("src")):
                offending.append(f"{where}: <{tag.name} src={tag['src']}>")
        for tag in soup.find_all("link"):
            if _remote(tag.get("href")):
                offending.append(f"{where}: <link href={tag['href']}>")
        for tag in soup.find_all(["script", "style"]):
            for url in re.findall(r"(?:https?:)?//[\w.-]+\.[a-z]{2,}[^\s\"'`)]*", tag.string or ""):
                if _remote(url):
                    offending.append(f"{where}: <{tag.name}> text mentions {url}")
    for css in sorted(built_site.rglob("*.css")):
        for url in re.findall(r"(?:@import|url\()\s*['\"]?((?:https?:)?//[^'\")\s]+)", css.read_text("utf8")):
            offending.append(f"{css.relative_to(built_site)}: {url}")
    assert not offending, "remote references in the built site:\n" + "\n".join(offending)


# --------------------------------------------------------------------------------------------
# The browser


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture(scope="session")
def site_url(built_site: Path) -> Iterator[str]:
    """Serve the built site on 127.0.0.1 at a free port, in a thread."""
    handler = functools.partial(_QuietHandler, directory=str(built_site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def browser():
    reason = browser_tools.missing_reason()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(reason + "; in CI it must be installed", pytrace=False)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = browser_tools.launch_browser(playwright)
        yield chromium
        chromium.close()


_BROKEN_IMAGES_JS = """() => Array.from(document.images)
    .filter(img => !(img.complete && img.naturalWidth > 0))
    .map(img => img.src.startsWith('data:') ? img.src.slice(0, 40) + '...' : img.src)"""

_MATHJAX_DONE_JS = """async () => {
    if (!(window.MathJax && MathJax.startup && MathJax.startup.promise)) return false;
    await MathJax.startup.promise;
    return true;
}"""

# Sphinx wraps every formula in an element of class "math"; MathJax replaces its TeX by an
# mjx-container. A formula MathJax could not even find (e.g. unbalanced braces) stays raw TeX.
_UNTYPESET_MATH_JS = """() => Array.from(document.querySelectorAll('.math'))
    .filter(el => !el.querySelector('mjx-container'))
    .map(el => el.textContent.trim().slice(0, 80))"""

# A TeX error renders as <merror>, an undefined macro as a red <mtext> holding its name; the
# assistive MathML that MathJax keeps beside each formula shows both as text.
_TEX_ERRORS_JS = """() => Array.from(document.querySelectorAll(
        'mjx-assistive-mml merror, mjx-assistive-mml mtext[mathcolor="red"]'))
    .map(el => el.textContent.trim().slice(0, 80))"""

_MOVE_SLIDER_JS = """(slider, index) => {
    const input = slider.querySelectorAll('input.pgbook-slider-input')[index];
    const frame = slider.querySelector('img.pgbook-slider-frame');
    const before = frame.getAttribute('src');
    input.value = input.value === input.max ? input.min : input.max;
    input.dispatchEvent(new Event('input', {bubbles: true}));
    return {before: before, after: frame.getAttribute('src'), value: input.value};
}"""


# Every math display, code block, output, table, image and slider of the article must fit the text
# column: no horizontal scrolling inside it (scrollWidth > clientWidth) and no part of it beyond
# the column's right edge.
_OVERFLOW_JS = """() => {
    const column = document.querySelector('article.bd-article') || document.querySelector('main');
    const right = column.getBoundingClientRect().right;
    const selector = 'mjx-container, div.math, div.cell_output, div.output, '
        + 'div.highlight pre, table, .pgbook-slider, img, div.admonition, div.proof, div.exercise, '
        + 'div.solution, details';
    const out = [];
    for (const el of column.querySelectorAll(selector)) {
        const box = el.getBoundingClientRect();
        if (box.width === 0 || el.closest('.pgbook-fitted-ignore')) continue;
        const inline = el.tagName === 'MJX-CONTAINER' && el.getAttribute('display') !== 'true';
        const inner = inline ? 0 : el.scrollWidth - el.clientWidth;  // inline math: its right edge only
        // Past the column, or past the box (exercise, solution, proof, admonition) it sits in.
        const frame = el.parentElement && el.parentElement.closest(
            'div.admonition, div.proof, div.exercise, div.solution, details');
        const beyond = box.right - (frame ? Math.min(right, frame.getBoundingClientRect().right) : right);
        if (inner > 1 || beyond > 1) {
            out.push(`${el.tagName.toLowerCase()}.${String(el.className).split(' ')[0]}: `
                     + `${inner > 1 ? inner + 'px scrolled' : ''}${beyond > 1 ? ' ' + Math.round(beyond) + 'px past the column' : ''}`
                     + ` ("${(el.textContent || el.getAttribute('alt') || '').trim().slice(0, 60)}")`);
        }
    }
    return out;
}"""

_OPEN_DROPDOWNS_JS = """() => document.querySelectorAll('details').forEach(d => d.open = true)"""


def _is_favicon(url: str) -> bool:
    """Chromium asks every site for /favicon.ico; the book has none, and that is fine."""
    return urlparse(url).path == "/favicon.ico"


def _short(src: str | None) -> str:
    return "None" if src is None else (src[:40] + "..." if len(src) > 40 else src)


@pytest.mark.parametrize("docname", toc_pages())
def test_page_in_chromium(docname: str, site_url: str, browser) -> None:
    source = page_source(docname)
    blocked: list[str] = []
    failed: list[str] = []
    errors: list[str] = []
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()

    def route(route_request) -> None:
        url = route_request.request.url
        if url.startswith(site_url + "/") or url.startswith("data:"):
            route_request.continue_()
        else:
            blocked.append(url)
            route_request.abort()

    page.route("**/*", route)
    def on_response(response) -> None:
        if response.status >= 400 and not _is_favicon(response.url):
            failed.append(f"{response.url}: HTTP {response.status}")

    def on_console(message) -> None:
        if message.type == "error" and not _is_favicon(message.location.get("url", "")):
            errors.append(message.text)

    page.on("requestfailed", lambda r: failed.append(f"{r.url}: {r.failure}"))
    page.on("response", on_response)
    page.on("console", on_console)
    page.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
    try:
        page.goto(f"{site_url}/{docname}.html", wait_until="networkidle", timeout=PAGE_TIMEOUT_MS)
        mathjax_ready = page.evaluate(_MATHJAX_DONE_JS)
        page.evaluate(_OPEN_DROPDOWNS_JS)  # solutions too must fit, and be screenshotted open
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        name = Path(docname).name
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

        if source_has_math(source):
            assert mathjax_ready, "MathJax did not load on a page with math"
            typeset = page.locator("mjx-container").count()
            assert typeset > 0, "page has math in its source but MathJax typeset nothing"
            untypeset = page.evaluate(_UNTYPESET_MATH_JS)
            assert not untypeset, f"math left as raw TeX (unbalanced braces?): {untypeset}"
            tex_errors = page.evaluate(_TEX_ERRORS_JS)
            assert not tex_errors, f"TeX errors or undefined macros: {tex_errors}"

        broken = page.evaluate(_BROKEN_IMAGES_JS)
        assert not broken, f"images that did not load: {broken}"

        sliders = page.locator("div.pgbook-slider")
        for number in range(sliders.count()):
            slider = sliders.nth(number)
            slider.scroll_into_view_if_needed()
            frame = slider.locator("img.pgbook-slider-frame")
            n_inputs = slider.locator("input.pgbook-slider-input").count()
            assert n_inputs > 0, f"slider {number} has no range input"
            for index in range(n_inputs):
                moved = slider.evaluate(_MOVE_SLIDER_JS, index)
                assert moved["after"] != moved["before"], (
                    f"slider {number}, input {index}: frame src unchanged "
                    f"({_short(moved['before'])}) after moving it to {moved['value']}"
                )
                frame.evaluate("img => img.decode()")  # rejects if the new frame is not an image
                assert frame.evaluate("img => img.naturalWidth") > 0, f"slider {number}: empty frame"
            if number == 0:
                page.evaluate("window.scrollTo(0, 0)")  # sticky headers stay put in the full page
                page.screenshot(path=str(SCREENSHOTS / f"{name}-slider.png"), full_page=True)
                _drive_with_the_keyboard(page, slider)

        assert not blocked, f"requests to other hosts (aborted): {blocked}"
        assert not failed, f"failed requests: {failed}"
        assert not errors, f"console errors: {errors}"
    finally:
        context.close()


def _drive_with_the_keyboard(page, slider) -> None:
    """Tab reaches the slider's first input; the arrow keys move it, change the frame, the value
    shown and the value announced to screen readers (aria-valuetext)."""
    first = slider.locator("input.pgbook-slider-input").first
    first.evaluate("el => { el.value = el.min; el.dispatchEvent(new Event('input', {bubbles: true})); }")
    frame = slider.locator("img.pgbook-slider-frame")
    # Focus the slider's container (made focusable for this, outside the tab order), then Tab:
    # the next stop in the tab order must be the slider's first input.
    slider.evaluate("el => { el.setAttribute('tabindex', '-1'); el.focus(); }")
    page.keyboard.press("Tab")
    assert first.evaluate("el => el === document.activeElement"), "Tab does not reach the slider's input"
    before = frame.get_attribute("src"), first.get_attribute("aria-valuetext")
    page.keyboard.press("ArrowRight")
    after = frame.get_attribute("src"), first.get_attribute("aria-valuetext")
    assert after[0] != before[0], "ArrowRight did not change the slider's frame"
    assert after[1] != before[1], "ArrowRight did not change the announced value (aria-valuetext)"
    shown = slider.locator("output.pgbook-slider-value").first.text_content()
    assert shown == after[1], f"value shown ({shown}) differs from the value announced ({after[1]})"


@pytest.mark.parametrize("width", list(WIDTHS), ids=list(WIDTHS))
@pytest.mark.parametrize("docname", toc_pages())
def test_nothing_overflows_the_text_column(docname: str, width: str, site_url: str, browser) -> None:
    context = browser.new_context(viewport={"width": WIDTHS[width], "height": 900})
    page = context.new_page()
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(site_url) or
               r.request.url.startswith("data:") else r.abort())
    try:
        page.goto(f"{site_url}/{docname}.html", wait_until="networkidle", timeout=PAGE_TIMEOUT_MS)
        page.evaluate(_MATHJAX_DONE_JS)
        page.evaluate(_OPEN_DROPDOWNS_JS)
        page.evaluate("() => window.pgbookFitMath && window.pgbookFitMath()")
        page.wait_for_timeout(200)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{Path(docname).name}-{width}.png"), full_page=True)
        overflowing = page.evaluate(_OVERFLOW_JS)
        assert not overflowing, (f"{len(overflowing)} elements wider than the text column at "
                                 f"{WIDTHS[width]} px:\n  " + "\n  ".join(overflowing[:30]))
    finally:
        context.close()
