"""Tables of results that read well on the site, in JupyterLab and in plain text.

A chapter prints its measurements as a :class:`Table`: Jupyter shows it as an HTML table that
wraps its headers and fits a phone's column, and its plain-text form (aligned columns) is what
``print`` and nbval see::

    Table(["N", "sd of g_N", "coverage"], rows, formats=["d", ".3f", ".3f"],
          caption="Spread and coverage of the estimator")
"""

from __future__ import annotations

import html
import numbers
from collections.abc import Sequence
from typing import Any

__all__ = ["Table"]


class Table:
    """Rows of values under column headers, each column with a format spec (``".4f"``, ``"d"``, ``""``).

    ``formats`` defaults to ``"g"`` for numbers and ``str`` for anything else; a value that is a
    string is shown as it is in any column (for entries such as ``"n/a"``).
    """

    def __init__(self, columns: Sequence[str], rows: Sequence[Sequence[Any]],
                 formats: Sequence[str] | None = None, caption: str | None = None) -> None:
        if isinstance(columns, str) or not isinstance(columns, Sequence) or not columns:
            raise ValueError(f"columns: expected a non-empty list of headers, got {columns!r}")
        self.columns = [str(c) for c in columns]
        if isinstance(rows, str) or not isinstance(rows, Sequence):
            raise ValueError(f"rows: expected a list of rows, got {rows!r}")
        self.rows = [list(row) for row in rows]
        for i, row in enumerate(self.rows):
            if len(row) != len(self.columns):
                raise ValueError(f"rows: row {i} has {len(row)} values but there are {len(self.columns)} columns")
        if formats is None:
            formats = ["g"] * len(self.columns)
        if isinstance(formats, str) or len(formats) != len(self.columns):
            raise ValueError(f"formats: expected one format per column ({len(self.columns)}), got {formats!r}")
        self.formats = list(formats)
        if caption is not None and not isinstance(caption, str):
            raise ValueError(f"caption: expected a string, got {caption!r}")
        self.caption = caption
        self.cells = [[self._format(value, fmt, i) for value, fmt in zip(row, self.formats)]
                      for i, row in enumerate(self.rows)]

    @staticmethod
    def _format(value: Any, fmt: str, row: int) -> str:
        if isinstance(value, str) or not isinstance(value, (numbers.Number, bool)):
            return str(value)
        try:
            return format(value, fmt)
        except (TypeError, ValueError) as err:
            raise ValueError(f"formats: cannot format {value!r} (row {row}) with {fmt!r}: {err}") from None

    def __repr__(self) -> str:
        widths = [max(len(h), *(len(r[j]) for r in self.cells)) if self.cells else len(h)
                  for j, h in enumerate(self.columns)]
        numeric = [all(_is_number(r[j]) for r in self.cells) for j in range(len(self.columns))]

        def line(values: list[str]) -> str:
            return "  ".join(v.rjust(w) if num else v.ljust(w)
                             for v, w, num in zip(values, widths, numeric)).rstrip()

        out = [self.caption] if self.caption else []
        out += [line(self.columns)] + [line(r) for r in self.cells]
        return "\n".join(out)

    def _repr_html_(self) -> str:
        numeric = [all(_is_number(r[j]) for r in self.cells) for j in range(len(self.columns))]
        style = ' style="text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap"'
        right = ' style="text-align:right"'
        head = "".join(f"<th{right if num else ''}>{html.escape(h)}</th>" for h, num in zip(self.columns, numeric))
        body = "".join(
            "<tr>" + "".join(f"<td{style if num else ''}>{html.escape(v)}</td>" for v, num in zip(r, numeric))
            + "</tr>" for r in self.cells)
        caption = f"<caption>{html.escape(self.caption)}</caption>" if self.caption else ""
        return (f'<table class="pgbook-table">{caption}<thead><tr>{head}</tr></thead>'
                f"<tbody>{body}</tbody></table>")


def _is_number(text: str) -> bool:
    try:
        float(text.replace("−", "-"))
    except ValueError:
        return False
    return True
