"""Re-execute the book's notebooks in place, so that their committed outputs are current.

    python tools/execute_notebooks.py                # every book/**/*.ipynb
    python tools/execute_notebooks.py book/02_*.ipynb

Each notebook runs top to bottom in a fresh `python3` kernel of this interpreter's environment,
with its own folder as the working directory, exactly as nbval will re-run it. PGBOOK_STATIC is
removed from the kernel's environment, so figure cells store live widgets (the static HTML sliders
are made only when the site is built). PYTHONHASHSEED is fixed so set and dict ordering cannot
differ between this run and nbval's. A notebook in which a cell raises is reported and left
untouched on disk; the script then exits with status 1.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
CELL_TIMEOUT_SECONDS = 300


def book_notebooks() -> list[Path]:
    """Every notebook under book/, checkpoints excluded, in a stable order."""
    return sorted(p for p in BOOK.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def execute_in_place(path: Path) -> bool:
    """Execute `path`; write it back only if no cell raised. Return whether it succeeded."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=CELL_TIMEOUT_SECONDS,
        allow_errors=False,
        record_timing=False,  # no wall-clock timestamps in the committed file
        store_widget_state=False,  # live widgets are re-created by a running kernel; the site
        # shows static sliders, so saved widget state would only make pages load widget JavaScript
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError) as error:
        print(f"FAILED  {_shown(path)}: not written\n{error}", file=sys.stderr)
        return False
    notebook.metadata.pop("widgets", None)
    nbformat.validate(notebook)
    nbformat.write(notebook, path)
    size_kb = path.stat().st_size / 1024
    print(f"ok      {_shown(path)}  ({time.perf_counter() - start:.1f} s, {size_kb:.0f} KB)")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every book/**/*.ipynb")
    args = parser.parse_args(argv)
    paths = [p.resolve() for p in args.notebooks] or book_notebooks()
    if not paths:
        print("execute_notebooks: no notebook found under book/", file=sys.stderr)
        return 1
    os.environ.pop("PGBOOK_STATIC", None)
    os.environ["PYTHONHASHSEED"] = "0"
    results = [execute_in_place(path) for path in paths]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
