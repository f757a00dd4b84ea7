"""The headless Chromium that the browser tests and benchmarks drive (through Playwright).

Debian's ``chromium`` at /usr/bin/chromium, or any Chromium or Chrome binary named by the
environment variable ``PGBOOK_CHROMIUM``; no browser is ever downloaded. The flags keep it from
reaching the network on its own (this book's site and JupyterLab are served on 127.0.0.1).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

CHROMIUM = Path(os.environ.get("PGBOOK_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def missing_reason() -> str | None:
    """Why the browser cannot run (a sentence for a skip or a failure), or None if it can."""
    if CHROMIUM.exists():
        return None
    return (f"{CHROMIUM} not found: the browser tests need Debian's chromium "
            "(apt-get install chromium), or PGBOOK_CHROMIUM set to a Chromium or Chrome binary")


def launch_browser(playwright: Any) -> Any:
    """Headless :data:`CHROMIUM` through Playwright; RuntimeError if it is missing."""
    reason = missing_reason()
    if reason:
        raise RuntimeError(reason)
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
