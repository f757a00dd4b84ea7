"""The book's promises, checked on the committed notebooks: numbers in prose match their outputs,
and every derivation's display says how each of its steps was established.

* Prose numbers (tools/prose_numbers.py): each decimal, percentage, power of ten and approximate
  integer a chapter's Markdown states must agree, at its written precision, with an output of the
  same notebook, a literal of its code, or a declared constant (notebook metadata).
* Derivations: every chapter with executable derivations ends with the chapter tally
  (`pgbook.symbolic.tally()`), whose counts are the sums of the per-derivation summary lines; no
  displayed step is shown as proved unless it was (pgbook.symbolic refuses a step identical to the
  one before it, so a trivial step cannot reach a committed output without failing this test).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

from prose_numbers import stated_numbers, unmatched_numbers  # noqa: E402

NOTEBOOKS = sorted(p for p in (ROOT / "book").glob("*.ipynb"))


def notebook(cells: list[tuple[str, str, str]], metadata: dict | None = None) -> dict:
    """A minimal notebook from (kind, source, printed output) triples."""
    out = []
    for kind, source, printed in cells:
        cell = {"cell_type": kind, "source": source, "metadata": {}}
        if kind == "code":
            cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": printed}]
        out.append(cell)
    return {"cells": out, "metadata": {"pgbook": {"prose_numbers": metadata or {}}}}


def write(tmp_path: Path, nb: dict) -> Path:
    path = tmp_path / "chapter.ipynb"
    path.write_text(json.dumps(nb), encoding="utf8")
    return path


# --- the checker itself --------------------------------------------------------------------------


def test_a_number_that_drifted_from_its_output_is_reported(tmp_path):
    cells = [("code", "print(est)", "estimate 8.4380, standard error 0.1282\n"),
             ("markdown", "The estimate, 8.4380, is within 0.13 of the exact value.", "")]
    assert unmatched_numbers(write(tmp_path, notebook(cells))) == []
    cells[0] = ("code", "print(est)", "estimate 8.4412, standard error 0.1282\n")  # the code changed
    missing = unmatched_numbers(write(tmp_path, notebook(cells)))
    assert [m.text for m in missing] == ["8.4380"]
    assert "cell 1" in missing[0].describe()


def test_precision_is_the_written_one():
    stated = stated_numbers(0, "about 60 episodes, a spread of 45.3 and $\\approx 66$")
    assert [(s.text, s.decimals, s.kind) for s in stated] == [
        ("about 60", 0, "approx"), ("45.3", 1, "decimal"), ("\\approx 66", 0, "approx")]


@pytest.mark.parametrize(
    ("prose", "printed", "ok"),
    [
        ("about 1% of them", "fraction 0.0107", True),
        ("about 2% of them", "fraction 0.0107", False),
        ("at most $2 \\times 10^{-12}$", "2.1e-12", True),
        ("at most $3 \\times 10^{-12}$", "2.1e-12", False),
        ("close to 8.44", "8.4380", True),
        ("close to 8.43", "8.4380", False),
        ("the spread stays near 66", "45.305", False),
        ("$\\sigma \\approx 65.6$", "sigma = 65.64", True),
        ("with p = 0.3", "nothing", True),  # a literal of the code below: a chosen parameter
    ],
)
def test_matching_rules(tmp_path, prose, printed, ok):
    cells = [("code", "p = 0.3\nprint(x)", printed + "\n"), ("markdown", prose, "")]
    assert (unmatched_numbers(write(tmp_path, notebook(cells))) == []) is ok


def test_roles_urls_options_and_declared_constants_are_not_measurements(tmp_path):
    prose = ("```{exercise}\n:label: ex-2.5\n```\nSee {footcite}`williams1992` and "
             "[the course](https://example.org/v1.5/), Example 13.1, with $\\gamma = 0.95$.")
    cells = [("code", "x = 1", "1\n"), ("markdown", prose, "")]
    missing = unmatched_numbers(write(tmp_path, notebook(cells)))
    assert [m.text for m in missing] == ["13.1", "0.95"]
    declared = {"13.1": "Sutton and Barto's example number", "0.95": "given data"}
    assert unmatched_numbers(write(tmp_path, notebook(cells, declared))) == []


# --- the chapters --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_prose_numbers_match_the_chapter_outputs(path):
    missing = unmatched_numbers(path)
    assert not missing, (
        f"{path.name}: numbers in the prose that no output of the notebook prints (at their written "
        "precision), no code literal gives and no metadata.pgbook.prose_numbers entry declares:\n  "
        + "\n  ".join(m.describe() for m in missing)
    )


_SUMMARY = re.compile(r"(\d+) steps?: ([^.]*)\.")
_TALLY = re.compile(r"Derivations checked on this page: (\d+), with (\d+) steps? in all: ([^.]*)\.")


def _counts(text: str) -> dict[str, int]:
    counts = {"proved by SymPy": 0, "checked numerically": 0, "definition": 0}
    for part in text.split(", "):
        number, what = part.split(" ", 1)
        counts["definition" if what.startswith("definition") else what] = int(number)
    return counts


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_derivation_counts_add_up_to_the_chapter_tally(path):
    cells = json.loads(path.read_text(encoding="utf8"))["cells"]
    plain = ["".join(o.get("data", {}).get("text/plain", "")) for c in cells if c["cell_type"] == "code"
             for o in c.get("outputs", [])]
    derivations = [t for t in plain if t.startswith("Derivation (")]
    tallies = [m for t in plain for m in _TALLY.finditer(t)]
    if not derivations:
        assert not tallies, f"{path.name}: a tally without derivations"
        return
    assert len(tallies) == 1, f"{path.name}: expected one chapter tally (pgbook.symbolic.tally()), got {len(tallies)}"
    per_step = [line for t in derivations for line in t.splitlines() if line.startswith("  = ")]
    assert all(re.search(r"; (ok, SymPy|ok, numeric spot check.*|definition|rewriting)\]$", s) for s in per_step), (
        f"{path.name}: a derivation step is shown without being checked: {per_step}")
    total = {"proved by SymPy": 0, "checked numerically": 0, "definition": 0}
    for text in derivations:
        summary = _SUMMARY.search(text.splitlines()[-1])
        assert summary, f"{path.name}: derivation without a summary line: {text[:80]}"
        for key, value in _counts(summary.group(2)).items():
            total[key] += value
    tally = tallies[0]
    assert int(tally.group(1)) == len(derivations)
    assert _counts(tally.group(3)) == total and int(tally.group(2)) == sum(total.values())
