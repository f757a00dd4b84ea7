"""Benchmark: the whole book executed and built, and nbval over it, against the 3-minute goal.

    python benchmarks/bench_book.py      (or `make bench`, which runs every bench_*.py)

1. Site: builds into _build/bench/ from an empty cache (so no cached execution is reused, and the
   reader's site in _build/html is left alone) with tools/build_site.py, the same command as
   `make book` and the site test: PGBOOK_STATIC=1 jupyter-book build . -W -n --keep-going.
2. nbval: re-executes every notebook of book/ and compares outputs, as `make test` does
   (pytest -n 2 --dist loadfile --nbval ...).
Prints each wall time and its ratio to the design goal (whole book executed and built in at most
3 minutes on 2 cores), plus the per-notebook execution times reported by the build.
Exits 1 if a step fails; wall times are reported, never asserted.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import build_site  # noqa: E402  (tools/build_site.py)
BIN = Path(sys.executable).parent
GOAL_SECONDS = 180.0


def timed(command: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    return time.perf_counter() - start, result


def report_failure(name: str, result: subprocess.CompletedProcess) -> None:
    tail = "\n".join((result.stdout + result.stderr).splitlines()[-40:])
    print(f"bench_book: {name} FAILED (exit {result.returncode}):\n{tail}", file=sys.stderr)


def main() -> int:
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    out = ROOT / "_build" / "bench"
    start = time.perf_counter()
    result = build_site.build(out)
    build_seconds = time.perf_counter() - start
    log = (out / "site-build.log").read_text(encoding="utf8")
    if result.returncode != 0:
        print(f"bench_book: site build FAILED (exit {result.returncode}):\n"
              + "\n".join(log.splitlines()[-40:]), file=sys.stderr)
        return 1
    env.pop("PGBOOK_STATIC", None)
    nbval_seconds, nbval = timed(
        [str(BIN / "python"), "-m", "pytest", "-q", "-n", "2", "--dist", "loadfile",
         "--nbval", "--nbval-current-env", "--nbval-sanitize-with", "tests/nbval_sanitize.cfg",
         "book"],
        env,
    )
    if nbval.returncode != 0:
        report_failure("nbval", nbval)
        return 1

    for notebook, seconds in re.findall(r"(\S+\.ipynb): Executed notebook in ([\d.]+) seconds", log):
        name = os.path.relpath(notebook, ROOT)
        print(f"  executed at build time  {name:40s} {float(seconds):7.1f} s")
    print(f"site: whole book executed + built (empty cache, PGBOOK_STATIC=1)   {build_seconds:7.1f} s"
          f"   = {build_seconds / GOAL_SECONDS:.2f} x the 3-minute goal")
    print(f"nbval over book/ (-n 2 --dist loadfile)                            {nbval_seconds:7.1f} s"
          f"   = {nbval_seconds / GOAL_SECONDS:.2f} x the 3-minute goal")
    return 0


if __name__ == "__main__":
    sys.exit(main())
