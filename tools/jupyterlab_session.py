"""A private JupyterLab server on the book, and page-side helpers to drive it from Playwright.

Shared by the JupyterLab test (tests/test_jupyterlab.py) and the JupyterLab benchmark
(benchmarks/bench_jupyterlab.py). Plain Python: every failure is a RuntimeError that carries the
tail of the server's log.

The server (:func:`start_lab_server`, or the context manager :func:`lab_server`) is JupyterLab from
this environment on 127.0.0.1 only, on a free port with a random token, with the repository's
default settings (jupyter/lab-settings/, as `make lab`) and ``window.jupyterapp`` exposed for the
helpers below. Its root is a temporary copy of book/, and its Jupyter config, data, runtime and
IPython folders are temporary too, so nothing in the repository or in ~/.jupyter is read or
modified. :meth:`LabServer.stop` shuts the kernels down, stops the server and removes the folder.

    with lab_server() as server, sync_playwright() as playwright:
        browser = launch_browser(playwright)
        page = new_page(browser, server)
        open_notebook(page, server, "02_likelihood_ratio.ipynb")
        run_all(page, server, "02_likelihood_ratio.ipynb")

Page-side helpers take the notebook's path relative to the server root; JavaScript snippets that
need the notebook's panel start with :data:`PANEL_JS`, which finds it from a variable ``name``.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from browser import CHROMIUM, launch_browser  # noqa: F401  (tools/browser.py; re-exported)

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
LAB_SETTINGS = ROOT / "jupyter" / "lab-settings"

SERVER_START_SECONDS = 90
PAGE_TIMEOUT_MS = 90_000
KERNEL_IDLE_MS = 120_000
RUN_ALL_MS = 240_000


# --------------------------------------------------------------------------------------------
# The server


@dataclass
class LabServer:
    """A running JupyterLab: its address and token, its root folder (the copy of book/) and log."""

    url: str
    token: str
    root_dir: Path
    log: Path
    process: subprocess.Popen = field(repr=False)
    _tmp: tempfile.TemporaryDirectory | None = field(default=None, repr=False)

    def api(self, method: str, path: str, body: Any = None) -> Any:
        """Call the server's REST API (``path`` such as ``/api/kernels``); the decoded JSON answer."""
        data = json.dumps(body).encode("utf8") if body is not None else None
        request = urllib.request.Request(
            f"{self.url}{path}", data=data, method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            answer = response.read()
        return json.loads(answer) if answer else None

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(encoding="utf8", errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def fail(self, message: str) -> RuntimeError:
        """A RuntimeError with ``message`` and the tail of the server's log, to raise."""
        return RuntimeError(f"{message}\n--- JupyterLab log (tail) ---\n{self.log_tail()}")

    def notebook_url(self, path: str) -> str:
        """The address that opens ``path`` (relative to the root) in JupyterLab, token included."""
        return f"{self.url}/lab/tree/{path}?token={self.token}"

    def stop(self) -> None:
        """Shut the kernels down through the API, then the server (SIGTERM, then SIGKILL), then
        remove its temporary folder. Safe to call twice."""
        if self.process.poll() is None:
            try:
                for kernel in self.api("GET", "/api/kernels") or []:
                    self.api("DELETE", f"/api/kernels/{kernel['id']}")
            except (OSError, urllib.error.URLError, ValueError):
                pass
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=20)
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_lab_server(
    *,
    book: Path = BOOK,
    notebooks: Mapping[str, Path] | None = None,
    settings_dir: Path = LAB_SETTINGS,
    extra_args: Sequence[str] = (),
    start_seconds: float = SERVER_START_SECONDS,
) -> LabServer:
    """Start JupyterLab on a temporary copy of ``book`` and wait until it answers ``/api/status``.

    ``notebooks`` maps paths in the copy to files copied over them (to check another notebook in a
    chapter's place). ``settings_dir`` is JupyterLab's ``app_settings_dir`` (the repository's
    jupyter/lab-settings/ by default, as `make lab`). Raises RuntimeError (with the log's tail) if
    the server exits or does not answer within ``start_seconds``; nothing is left running then.
    """
    tmp_dir = tempfile.TemporaryDirectory(prefix="pgbook-jupyterlab-")
    tmp = Path(tmp_dir.name)
    root_dir = tmp / "book"
    log = tmp / "jupyterlab.log"
    try:
        shutil.copytree(book, root_dir, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        for target, source in (notebooks or {}).items():
            shutil.copyfile(source, root_dir / target)
        env = {
            **os.environ,
            # Nothing from, and nothing into, ~/.jupyter, ~/.local/share/jupyter or ~/.ipython.
            "JUPYTER_CONFIG_DIR": str(tmp / "config"),
            "JUPYTER_DATA_DIR": str(tmp / "data"),
            "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
            "IPYTHONDIR": str(tmp / "ipython"),
        }
        env.pop("PGBOOK_STATIC", None)  # live widgets, as `make lab` runs them
        port, token = free_port(), secrets.token_hex(24)
        command = [
            str(Path(sys.executable).with_name("jupyter-lab")),
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root_dir}",
            f"--LabApp.app_settings_dir={settings_dir}",  # as `make lab`
            "--LabApp.expose_app_in_browser=True",  # window.jupyterapp, for the commands and models
            *extra_args,
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.append("--allow-root")
        with log.open("w", encoding="utf8") as log_file:
            process = subprocess.Popen(command, cwd=tmp, env=env, stdout=log_file, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL)
    except BaseException:
        tmp_dir.cleanup()
        raise
    server = LabServer(f"http://127.0.0.1:{port}", token, root_dir, log, process, tmp_dir)
    try:
        deadline = time.monotonic() + start_seconds
        while True:
            if process.poll() is not None:
                raise server.fail(f"JupyterLab exited with status {process.returncode}")
            try:
                server.api("GET", "/api/status")
                return server
            except (OSError, urllib.error.URLError):
                if time.monotonic() > deadline:
                    raise server.fail(f"JupyterLab did not answer within {start_seconds:.0f} s") from None
                time.sleep(0.5)
    except BaseException:
        server.stop()
        raise


@contextlib.contextmanager
def lab_server(**kwargs: Any) -> Iterator[LabServer]:
    """:func:`start_lab_server` as a context manager: the server is stopped on leaving, also on error."""
    server = start_lab_server(**kwargs)
    try:
        yield server
    finally:
        server.stop()


# --------------------------------------------------------------------------------------------
# The browser


def new_page(browser: Any, server: LabServer, viewport: Mapping[str, int] | None = None) -> Any:
    """A page in a fresh browser context that may load only from the server (and data:/blob: URLs):
    any other request is aborted, so nothing is fetched from the network."""
    context = browser.new_context(viewport=dict(viewport or {"width": 1400, "height": 1000}))
    page = context.new_page()
    local = (server.url + "/", "data:", "blob:")
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(local) else route.abort())
    return page


# --------------------------------------------------------------------------------------------
# The notebook, from the page

PANEL_JS = """const panel = Array.from(window.jupyterapp.shell.widgets('main'))
    .find(w => w.context && w.context.path === name);"""
"""Start of a snippet: the notebook panel of path ``name`` (undefined if not open)."""

_READY_JS = """(name) => {
    if (!window.jupyterapp) return false;
    """ + PANEL_JS + """
    if (!panel || !panel.context.isReady) return false;
    const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
    return !!kernel && kernel.status === 'idle';
}"""

_IDLE_JS = """(name) => {
    """ + PANEL_JS + """
    if (!panel) return false;
    const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
    const running = panel.content.widgets.some(c => c.model.type === 'code' && c.model.executionState === 'running');
    return !!kernel && kernel.status === 'idle' && !running;
}"""

_RUN_ALL_JS = """async ([name, clear, timeout]) => {
    """ + PANEL_JS + """
    window.jupyterapp.shell.activateById(panel.id);
    if (clear) await window.jupyterapp.commands.execute('notebook:clear-all-cell-outputs');
    const run = window.jupyterapp.commands.execute('notebook:run-all-cells');
    const timer = new Promise(resolve => setTimeout(() => resolve('timeout'), timeout));
    return String(await Promise.race([run, timer]));
}"""

_SCROLL_TO_JS = """async ([name, index]) => {
    """ + PANEL_JS + """
    await panel.content.scrollToItem(index, 'start');
}"""

_CELL_NODE_JS = "([name, index]) => {" + PANEL_JS + " return panel.content.widgets[index].node; }"


def _first_line(err: BaseException) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0]


def _wait(page: Any, server: LabServer, script: str, arg: Any, timeout_ms: float, what: str,
          polling: int = 250) -> None:
    from playwright.sync_api import Error as PlaywrightError

    try:
        page.wait_for_function(script, arg=arg, timeout=timeout_ms, polling=polling)
    except PlaywrightError as err:  # TimeoutError included
        raise server.fail(f"{what} within {timeout_ms / 1000:.0f} s ({type(err).__name__}: "
                          f"{_first_line(err)})") from None


def wait_until_ready(page: Any, server: LabServer, path: str, timeout_ms: float = KERNEL_IDLE_MS) -> None:
    """Wait until ``path`` is open and loaded in the page and its kernel is started and idle."""
    _wait(page, server, _READY_JS, path, timeout_ms, f"{path}: the notebook did not open with an idle kernel")


def open_notebook(page: Any, server: LabServer, path: str, *, page_timeout_ms: float = PAGE_TIMEOUT_MS,
                  kernel_timeout_ms: float = KERNEL_IDLE_MS) -> None:
    """Load JupyterLab with ``path`` open, and wait until its kernel is idle (nothing is run)."""
    from playwright.sync_api import Error as PlaywrightError

    try:
        page.goto(server.notebook_url(path), timeout=page_timeout_ms)
    except PlaywrightError as err:
        raise server.fail(f"JupyterLab did not load: {_first_line(err)}") from None
    wait_until_ready(page, server, path, kernel_timeout_ms)


def wait_idle(page: Any, server: LabServer, path: str, timeout_ms: float = KERNEL_IDLE_MS) -> None:
    """Wait until the notebook's kernel is idle and none of its cells is running (or queued)."""
    _wait(page, server, _IDLE_JS, path, timeout_ms, f"{path}: the kernel did not become idle", polling=500)


def run_all(page: Any, server: LabServer, path: str, *, clear_outputs: bool = True,
            run_timeout_ms: float = RUN_ALL_MS, idle_timeout_ms: float = KERNEL_IDLE_MS) -> str:
    """Run > Run All Cells (after Edit > Clear Outputs of All Cells, by default), then wait until
    the kernel is idle. Returns the command's outcome as a string: ``'timeout'`` if the command did
    not finish within ``run_timeout_ms`` (the cells may still be running then)."""
    outcome = page.evaluate(_RUN_ALL_JS, [path, clear_outputs, run_timeout_ms])
    wait_idle(page, server, path, idle_timeout_ms)
    return outcome


def scroll_to_cell(page: Any, path: str, index: int, settle_ms: float = 500) -> None:
    """Scroll the notebook so that cell ``index`` is at the top, and let it render."""
    page.evaluate(_SCROLL_TO_JS, [path, index])
    page.wait_for_timeout(settle_ms)


def cell_node(page: Any, path: str, index: int) -> Any:
    """The DOM element (Playwright ElementHandle) of cell ``index`` of the notebook."""
    return page.evaluate_handle(_CELL_NODE_JS, [path, index]).as_element()
