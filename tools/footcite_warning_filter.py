"""Sphinx extension: replace MyST's false footnote warning for {footcite} by a correct check.

MyST-Parser 3 (the series jupyter-book 1 requires) checks, after parsing a page, that every
footnote reference node has a Markdown footnote definition. The references that
sphinxcontrib-bibtex's {footcite} role creates are defined by a {footbibliography} directive
instead, so MyST warns about each of them ("No footnote definitions found for label:
'footcite-KEY'") although the rendered footnotes are correct; with `-W` that fails the build.

This extension drops exactly those warnings (labels starting with "footcite-", the default
`bibtex_footcite_id` template) and checks what MyST meant to check: every {footcite} reference
on a page must have its footnote on the same page, i.e. the page has a {footbibliography}.
A page that cites without one gets a warning, which fails the `-W` build.
"""

from __future__ import annotations

import logging
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util import logging as sphinx_logging

FOOTCITE_PREFIX = "footcite-"
_FALSE_WARNING = f"No footnote definitions found for label: '{FOOTCITE_PREFIX}"

logger = sphinx_logging.getLogger(__name__)


class _FootciteWarningFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(_FALSE_WARNING)


def _check_footcites_defined(app: Sphinx, doctree: nodes.document) -> None:
    defined = set()
    for footnote in doctree.findall(nodes.footnote):
        defined.update(footnote["ids"])
        defined.update(footnote["names"])
    for reference in doctree.findall(nodes.footnote_reference):
        target = reference.get("refid") or reference.get("refname") or ""
        if target.startswith(FOOTCITE_PREFIX) and target not in defined:
            logger.warning(
                f"{{footcite}} reference {target[len(FOOTCITE_PREFIX):]!r} has no footnote: "
                "the page needs a {footbibliography} directive",
                location=reference,
            )


def setup(app: Sphinx) -> dict[str, Any]:
    for handler in logging.getLogger("sphinx").handlers:
        # First in line, so the record is dropped before Sphinx counts it or turns it into an error.
        handler.filters.insert(0, _FootciteWarningFilter())
    app.connect("doctree-read", _check_footcites_defined)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
