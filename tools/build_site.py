"""Build the static site into a directory of its own, as `make book` builds it into _build/html.

    python tools/build_site.py _build/bench        # site in _build/bench/_build/html

The site test (tests/test_site.py) and the book benchmark (benchmarks/bench_book.py) build with
this, so that neither ever deletes or reuses the reader's site in _build/html: the output, the
execution cache and the log all live in the given directory, which is emptied first (every
notebook is executed afresh). Same command as `make book`: PGBOOK_STATIC=1 (figure cells emit
static HTML sliders), `jupyter-book build . -W -n --keep-going`, with _config.yml copied into the
directory and its execution cache pointed there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def build(out: Path, log: Path | None = None) -> subprocess.CompletedProcess:
    """Build into ``out`` (emptied first); the build's output goes to ``log`` (default out/site-build.log).

    Returns the finished process; the HTML is in ``out / "_build" / "html"``.
    """
    out = Path(out).resolve()
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    log = Path(log) if log else out / "site-build.log"
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf8"))
    config["execute"]["cache"] = str(out / ".jupyter_cache")
    (out / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf8")
    env = {**os.environ, "PGBOOK_STATIC": "1", "PYTHONHASHSEED": "0"}
    command = [str(Path(sys.executable).with_name("jupyter-book")), "build", ".", "-W", "-n",
               "--keep-going", "--path-output", str(out), "--config", str(out / "_config.yml")]
    with log.open("w", encoding="utf8") as stream:
        return subprocess.run(command, cwd=ROOT, env=env, stdout=stream, stderr=subprocess.STDOUT)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__.splitlines()[2].strip(), file=sys.stderr)
        return 2
    result = build(Path(argv[0]))
    print(f"exit {result.returncode}; site in {Path(argv[0]) / '_build' / 'html'}")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
