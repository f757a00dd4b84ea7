"""Numbers in a chapter's prose must match the outputs of the chapter's own cells.

    python tools/prose_numbers.py book/02_likelihood_ratio.ipynb     # lists unmatched numbers

A measured number typed into a sentence drifts when the code that measured it changes. This check
finds the numbers a chapter's Markdown states and requires each to agree, *at the precision it is
written with*, with a number printed by one of the same notebook's cells, or to appear in a code
cell's source (a chosen parameter such as ``p = 0.3``), or to be declared in the notebook's metadata
as an exact constant or given data, with the reason (``metadata.pgbook.prose_numbers``).

Which numbers count as "stated": every decimal (``8.4762``, ``0.05``), every percentage (``1%``),
every power of ten (``2 \\times 10^{-12}``), and every integer preceded by an approximation word or
sign (``about 60``, ``\\approx 66``, ``near 66``). Other integers (counts such as 16 trajectories,
chapter numbers, exponents) are taken as exact. Text inside roles (citation keys, labels of
cross-references), URLs and directive options is ignored.

Matching rule: a prose number with ``k`` decimals matches an output number ``y`` when ``y`` rounded to
``k`` decimals prints the same (``8.44`` matches ``8.4380``; ``8.43`` does not). A percentage also
matches a fraction (``1%`` matches ``0.0107``); a power of ten matches at its significant digits.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

APPROX = r"(?:\\approx|≈|\\sim|~|about|around|near|nearly|roughly|approximately|almost)"
_NUMBER = r"[-−]?\d+(?:\.\d+)?"

_ROLE = re.compile(r"\{[\w:-]+\}`[^`]*`")                     # {footcite}`key`, {ref}`label`
_CODE_SPAN = re.compile(r"``[^`]+``|`[^`]+`")                # inline code
_FENCE_OPTION = re.compile(r"^\s*:[\w-]+:.*$", re.MULTILINE)  # :label: ..., :class: dropdown
_FENCE_LINE = re.compile(r"^\s*(?:```|:::)\S*.*$", re.MULTILINE)  # ```{exercise} and fences
_URL = re.compile(r"https?://\S+|\]\([^)]*\)")
_EQ_LABEL = re.compile(r"\$\$\s*\((?:[\w-]+)\)")               # $$ (eq-label)

_POWER = re.compile(rf"({_NUMBER})\s*(?:\\times|×|\\cdot)\s*10\^\{{?\s*([-−]?\d+)\s*\}}?")
_PERCENT = re.compile(rf"({_NUMBER})\s*(?:\\%|%)")
_DECIMAL = re.compile(r"(?<![\w.^_])([-−]?\d+\.\d+)(?![\w.])")
_APPROX_INT = re.compile(rf"{APPROX}\s*\$?\s*(?:\\,|\s)*([-−]?\d+)(?![\d.])")
_OUTPUT_NUMBER = re.compile(r"[-−]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


@dataclass(frozen=True)
class Stated:
    """A number a Markdown cell states: its text, value, precision and kind."""

    cell: int
    text: str
    value: float
    decimals: int  # decimals written, or significant digits for a power of ten
    kind: str  # "decimal", "percent", "power", "approx"
    context: str

    def describe(self) -> str:
        return f"cell {self.cell}: {self.text!r} ({self.kind}) in ...{self.context}..."


def _number(text: str) -> float:
    return float(text.replace("−", "-"))


def _decimals(text: str) -> int:
    return len(text.split(".")[1]) if "." in text else 0


def _clean_markdown(source: str) -> str:
    for pattern in (_FENCE_LINE, _FENCE_OPTION, _ROLE, _CODE_SPAN, _URL, _EQ_LABEL):  # fences first
        source = pattern.sub(" ", source)
    return source


def stated_numbers(cell_index: int, source: str) -> list[Stated]:
    """The numbers one Markdown cell states, in order of appearance."""
    text = _clean_markdown(source)
    found: list[Stated] = []
    taken: list[tuple[int, int]] = []

    def add(match: re.Match, group: int, value: float, decimals: int, kind: str) -> None:
        start, end = match.span()
        if any(s < end and start < e for s, e in taken):
            return
        taken.append((start, end))
        context = " ".join(text[max(0, start - 40):end + 20].split())
        found.append(Stated(cell_index, match.group(0).strip(), value, decimals, kind, context))

    for m in _POWER.finditer(text):
        mantissa = m.group(1)
        digits = len(mantissa.replace("−", "").replace("-", "").replace(".", "").lstrip("0")) or 1
        add(m, 1, _number(mantissa) * 10.0 ** _number(m.group(2)), digits, "power")
    for m in _PERCENT.finditer(text):
        add(m, 1, _number(m.group(1)), _decimals(m.group(1)), "percent")
    for m in _DECIMAL.finditer(text):
        add(m, 1, _number(m.group(1)), _decimals(m.group(1)), "decimal")
    for m in _APPROX_INT.finditer(text):
        add(m, 1, _number(m.group(1)), 0, "approx")
    return sorted(found, key=lambda s: text.find(s.text))


def output_numbers(notebook: dict) -> list[float]:
    """Every number printed by the notebook's code cells (streams, text, Markdown, HTML, LaTeX)."""
    numbers: list[float] = []
    for cell in notebook["cells"]:
        if cell["cell_type"] != "code":
            continue
        for output in cell.get("outputs", []):
            texts = [output.get("text", "")]
            data = output.get("data", {})
            texts += [data.get(m, "") for m in ("text/plain", "text/markdown", "text/html", "text/latex")]
            for t in texts:
                t = "".join(t) if isinstance(t, list) else t
                t = re.sub(r"data:image/[^\"']+", " ", t)  # no digits from inlined images
                numbers.extend(_number(x) for x in _OUTPUT_NUMBER.findall(t))
    return numbers


def _source_numbers(notebook: dict) -> set[str]:
    """Number literals in the code cells: chosen parameters, which prose may repeat."""
    literals = set()
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            literals.update(x.lstrip("-") for x in re.findall(r"\d+\.\d+|\d+", "".join(cell["source"])))
    return literals


def _printed(value: float, decimals: int) -> str:
    return f"{round(value, decimals) + 0.0:.{decimals}f}"


def _significant(value: float, digits: int) -> str:
    return f"{value:.{digits - 1}e}"


def matches(stated: Stated, outputs: list[float]) -> bool:
    """Whether ``stated`` agrees with some output at the precision it is written with."""
    candidates = [stated.value]
    if stated.kind == "percent":
        candidates.append(stated.value / 100)
    for target in candidates:
        for y in outputs:
            if stated.kind == "power":
                if y != 0 and _significant(y, stated.decimals) == _significant(target, stated.decimals):
                    return True
            elif target == stated.value / 100 and stated.kind == "percent":
                if _printed(100 * y, stated.decimals) == _printed(stated.value, stated.decimals):
                    return True
            elif _printed(y, stated.decimals) == _printed(target, stated.decimals):
                return True
    return False


def unmatched_numbers(path: Path) -> list[Stated]:
    """The numbers of a notebook's Markdown that no output, code literal or declaration supports."""
    notebook = json.loads(Path(path).read_text(encoding="utf8"))
    declared = notebook.get("metadata", {}).get("pgbook", {}).get("prose_numbers", {})
    outputs = output_numbers(notebook)
    literals = _source_numbers(notebook)
    missing = []
    for index, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] != "markdown":
            continue
        for stated in stated_numbers(index, "".join(cell["source"])):
            bare = stated.text.replace("−", "-").lstrip("-")
            core = re.match(r"[\d.]+", bare)
            if core and core.group(0) in declared:
                continue
            if stated.kind in ("decimal", "approx") and core and core.group(0) in literals:
                continue
            if not matches(stated, outputs):
                missing.append(stated)
    return missing


def main(argv: list[str]) -> int:
    status = 0
    for name in argv or sorted(str(p) for p in Path("book").glob("*.ipynb")):
        missing = unmatched_numbers(Path(name))
        for stated in missing:
            print(f"{name}: {stated.describe()}")
        status |= bool(missing)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
