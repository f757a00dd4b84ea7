"""Hypothesis profiles for the pgbook tests.

The profile loaded by default, ``ci``, makes every property test reproducible: it is derandomized
(the examples are a fixed function of the test's code, so a red run is red again on re-running it),
keeps no example database, prints the ``@reproduce_failure`` blob of a failure, has no deadline
(timings vary on shared machines) and runs a fixed number of examples: the ``max_examples`` of the
test's own ``@settings``, or 100.

To explore with fresh random examples locally, select the ``explore`` profile:

    HYPOTHESIS_PROFILE=explore .venv/bin/python -m pytest tests/test_exact.py

Each run then draws new examples (and saves failing ones in ``.hypothesis/``, replayed first next
time). Turn a failure it finds into an ``@example(...)`` on the test, so that ``ci`` checks it too.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, database=None, print_blob=True, deadline=None, max_examples=100)
settings.register_profile("explore", derandomize=False, print_blob=True, deadline=None, max_examples=100)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


_BROWSER_SKIPS: list[str] = []


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # noqa: ARG001 - pytest's hook
    """Collect the reasons of browser tests skipped for want of Chromium (see pytest_unconfigure)."""
    for report in terminalreporter.stats.get("skipped", []):
        reason = str(report.longrepr[2]) if isinstance(report.longrepr, tuple) else str(report.longrepr)
        if "chromium" in reason.lower() and reason not in _BROWSER_SKIPS:
            _BROWSER_SKIPS.append(reason)


def pytest_unconfigure(config):
    """The run's very last lines, when the browser tests were skipped (no Chromium): then the site
    and JupyterLab were not checked in a browser, and a green run says less than it seems."""
    if not _BROWSER_SKIPS or hasattr(config, "workerinput"):  # xdist workers stay quiet
        return
    writer = config.get_terminal_writer()
    writer.sep("!", "BROWSER TESTS SKIPPED", red=True, bold=True)
    for reason in _BROWSER_SKIPS:
        writer.line(f"  {reason}", red=True)
    writer.line("  The site and the notebooks were NOT checked in a browser. Install Chromium "
                "(Debian/Ubuntu: sudo apt-get install chromium) or set PGBOOK_CHROMIUM.", red=True, bold=True)
