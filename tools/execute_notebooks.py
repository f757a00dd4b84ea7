"""Re-execute the book's notebooks in place, so that their committed outputs are current.

    python tools/execute_notebooks.py                # every book/**/*.ipynb
    python tools/execute_notebooks.py book/02_*.ipynb

Each notebook runs top to bottom in a fresh `python3` kernel of this interpreter's environment,
with its own folder as the working directory, exactly as nbval will re-run it. PGBOOK_STATIC is
removed from the kernel's environment, so figure cells store live widgets (the static HTML sliders
are made only when the site is built). PYTHONHASHSEED is fixed so set and dict ordering cannot
differ between this run and nbval's. A notebook in which a cell raises is reported and left
untouched on disk; the script then exits with status 1.

The notebook is written as JupyterLab would save it after the same run, so that opening it in
JupyterLab or Notebook 7 does not mark it modified: its `kernelspec` is the one of the kernel that
ran it (JupyterLab replaces a different display name, e.g. "Python 3" by "Python 3 (ipykernel)"),
its `language_info` is the kernel's (nbclient records it), it is nbformat 4.5 with an id on every
cell, and code cells carry no `execution` timing metadata (JupyterLab deletes it when it runs a
cell, since it records no timing by default).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import nbformat
from jupyter_client.kernelspec import KernelSpecManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError
from nbformat.v4.nbbase import random_cell_id

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
CELL_TIMEOUT_SECONDS = 300
KERNEL_NAME = "python3"


def book_notebooks() -> list[Path]:
    """Every notebook under book/, checkpoints excluded, in a stable order."""
    return sorted(p for p in BOOK.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def kernelspec_metadata(kernel_name: str = KERNEL_NAME) -> dict[str, str]:
    """The notebook `kernelspec` JupyterLab writes for this kernel: its name, display name, language.

    The spec is looked up as nbclient and the Jupyter server look it up (this environment's
    share/jupyter/kernels first), so it is the kernel the notebook runs in and that JupyterLab
    started from this environment shows.
    """
    spec = KernelSpecManager().get_kernel_spec(kernel_name)
    return {"display_name": spec.display_name, "language": spec.language, "name": kernel_name}


def normalize_as_jupyterlab_saves(notebook: nbformat.NotebookNode, kernelspec: dict[str, str]) -> None:
    """Give `notebook` the metadata JupyterLab would give it on opening and running it, in place."""
    notebook.metadata["kernelspec"] = nbformat.from_dict(kernelspec)
    notebook.metadata.pop("widgets", None)
    notebook.nbformat, notebook.nbformat_minor = 4, max(notebook.nbformat_minor, 5)
    for cell in notebook.cells:
        if not cell.get("id"):
            cell["id"] = random_cell_id()
        if cell.cell_type == "code":
            cell.metadata.pop("execution", None)


def execute_in_place(path: Path) -> bool:
    """Execute `path`; write it back only if no cell raised. Return whether it succeeded."""
    notebook = nbformat.read(path, as_version=4)
    kernelspec = kernelspec_metadata()
    client = NotebookClient(
        notebook,
        kernel_name=KERNEL_NAME,
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
    normalize_as_jupyterlab_saves(notebook, kernelspec)
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
