r"""Executable derivations: a chain of equalities that is rendered and checked from one source.

A derivation ``expr_0 = expr_1 = ... = expr_n`` is written once. Each step carries the LaTeX the
reader sees (general notation, such as ``\sum_\tau \nabla_\theta p_\theta(\tau) R(\tau)``), a SymPy
expression for the same quantity on a concrete symbolic instance (every trajectory of a small MDP
with symbolic logits), and a one-line justification::

    d = Derivation(r"\nabla_\theta J(\theta)", expr0, instance="two-step MDP, symbolic logits")
    d.step(r"\sum_\tau \nabla_\theta p_\theta(\tau)\, R(\tau)", expr1, "gradient of a finite sum")
    d.define(r"\mathbb{E}_{\tau \sim p_\theta}[\dots]", expr1, "definition of expectation")
    d.check()        # raises DerivationError naming the first step that does not hold

Two kinds of step, shown differently:

* :meth:`Derivation.step` claims an equality that needs proof. It is shown with a check mark only
  after :meth:`Derivation.check` has established it, and it must not be *structurally identical* to
  the step before it: SymPy evaluates while an expression is built (``p * diff(p) / p`` is already
  ``diff(p)``), so such a step would "prove" ``x = x``. :meth:`~Derivation.step` raises
  :class:`DerivationError` on it, suggesting an unevaluated form (``sp.Derivative(...)``,
  ``evaluate=False``; :func:`equal` calls ``.doit()`` before comparing), another symbolic instance,
  or :meth:`~Derivation.define` / :meth:`~Derivation.rewrite`.
* :meth:`Derivation.define` states a definition, :meth:`Derivation.rewrite` a rewriting (the same
  quantity in another form or notation, such as multiplying and dividing by the same factor). They
  are still checked (one that contradicts the previous line raises), but they are shown without a
  check mark and labelled *definition* or *rewriting*, so the page never claims a proof it does not
  have.

Checking rule (:func:`equal`): SymPy first, trying cheap routes before expensive ones
(``expand``, then ``cancel(together(.))``, then ``simplify`` of the difference). When SymPy cannot
reduce the difference to zero, the two sides are compared at seeded random points drawn from a wide
domain (magnitudes from 0.01 to 100 and both signs, as the symbols' assumptions allow, so that an
identity true only near zero or only for small arguments fails); agreement there is reported as a
*numeric* verdict, shown with its own mark (:data:`NUMERIC_MARK`) and label, and disagreement means
the step is false. A symbol whose meaning confines it (a probability) can be given its true range
with ``domains={P: (0, 1)}``; the label then says so.

Every checked derivation is recorded, and :func:`tally` shows the counts of a whole chapter (steps
proved by SymPy, checked numerically, given as definitions); each derivation's display ends with
its own counts.
"""

from __future__ import annotations

import cmath
import numbers
import re
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import sympy as sp

from pgbook.validation import check_positive_int, make_rng

__all__ = [
    "Derivation", "DerivationError", "Step", "Tally", "Verdict", "equal", "gradient", "reset_tally",
    "symbols_vector", "tally",
]

Method = Literal["symbolic", "numeric", "definition", "failed"]

N_POINTS = 8
SEED = 0
RTOL = 1e-10
ATOL = 1e-12
MAX_WHY_LENGTH = 70
_DIGITS = 50  # working precision of the numeric spot check (values reach e^100)

MAGNITUDES = (1e-2, 1e2)
"""Numeric spot checks draw each symbol's magnitude log-uniformly from this range."""

PROOF_MARK = r"\checkmark"
NUMERIC_MARK = r"\approx\!\checkmark"
DEFINITION_MARK = r"\triangleq"


class DerivationError(Exception):
    """A claimed equality in a derivation does not hold (or could not be established)."""


# --------------------------------------------------------------------------------------------------
# Equality test


@dataclass(frozen=True)
class Verdict:
    """Outcome of :func:`equal`: ``ok`` is True when the two sides were shown equal.

    ``method`` is ``"symbolic"`` (SymPy reduced the difference to 0), ``"numeric"`` (SymPy could not
    decide; the sides agree at ``points`` random points, drawn as ``domain`` says) or ``"failed"``
    (not shown equal; ``detail`` says why, usually with a point where the sides differ).
    """

    ok: bool
    method: Method
    detail: str
    points: int = 0
    domain: str = ""

    @property
    def label(self) -> str:
        """Short description of how equality was established, for displays."""
        if self.method == "symbolic":
            return "SymPy"
        if self.method == "numeric":
            return f"numeric spot check, {self.points} random points, {self.domain}"
        return "not equal"

    def __repr__(self) -> str:
        return f"Verdict(ok={self.ok}, method={self.method!r}): {self.detail}"


def _as_entries(name: str, value: Any) -> tuple[tuple[int, ...], list[sp.Expr]]:
    """Shape and flat list of SymPy expressions of an Expr, a Matrix or a (nested) list/tuple."""
    if isinstance(value, sp.MatrixBase):
        return tuple(value.shape), [_as_expr(name, v) for v in value]
    if isinstance(value, (list, tuple)):
        if len(value) == 0:
            raise ValueError(f"{name}: empty sequence; give at least one expression")
        parts = [_as_entries(name, v) for v in value]
        shapes = {shape for shape, _ in parts}
        if len(shapes) > 1:
            raise ValueError(f"{name}: ragged sequence, its items have shapes {sorted(shapes)}")
        return (len(value), *parts[0][0]), [e for _, entries in parts for e in entries]
    return (), [_as_expr(name, value)]


def _as_expr(name: str, value: Any) -> sp.Expr:
    if isinstance(value, sp.Expr):
        return value
    if isinstance(value, numbers.Number) and not isinstance(value, bool):
        return sp.sympify(value)
    kind = type(value).__name__
    raise ValueError(
        f"{name}: expected a SymPy expression, a SymPy Matrix, a number or a list/tuple of them, "
        f"got {kind} {value!r:.60}"
    )


def _shape_text(shape: tuple[int, ...]) -> str:
    return "a scalar" if shape == () else f"shape {shape}"


def _check_same_shape(a_name: str, a_shape: tuple, b_name: str, b_shape: tuple) -> None:
    if a_shape != b_shape:
        raise ValueError(
            f"{b_name}: has {_shape_text(b_shape)} but {a_name} has {_shape_text(a_shape)}"
        )


def _symbolically_zero(diff: sp.Expr) -> bool:
    """True when SymPy reduces ``diff`` to 0; cheap rewrites first, ``simplify`` last."""
    if diff == 0:
        return True
    for rewrite in (sp.expand, lambda e: sp.cancel(sp.together(e)), sp.simplify):
        try:
            if rewrite(diff) == 0:
                return True
        except (TypeError, ValueError, NotImplementedError, RecursionError, ZeroDivisionError):
            continue  # this route cannot handle the expression; try the next one
    return False


def _sample(symbol: sp.Symbol, rng: np.random.Generator, domain: tuple[float, float] | None = None) -> sp.Number:
    """A random value for ``symbol``: uniform on ``domain`` if given, else wide.

    Wide means a magnitude drawn log-uniformly from :data:`MAGNITUDES` (0.01 to 100) and a random
    sign, restricted by the symbol's sign assumptions; integers are drawn from -50..50 likewise.
    """
    if domain is not None:
        return sp.Float(float(rng.uniform(*domain)), _DIGITS)
    signs = [1, -1]
    if symbol.is_nonnegative:
        signs = [1]
    elif symbol.is_nonpositive:
        signs = [-1]
    sign = signs[int(rng.integers(len(signs)))]
    if symbol.is_integer:
        return sp.Integer(sign * int(rng.integers(1, 51)))
    low, high = np.log10(MAGNITUDES)
    return sp.Float(sign * float(10 ** rng.uniform(low, high)), _DIGITS)


def _check_domains(domains: Any) -> dict[sp.Symbol, tuple[float, float]]:
    """``{symbol: (low, high)}`` with finite ``low < high``; None means no restricted symbol."""
    if domains is None:
        return {}
    if not isinstance(domains, dict):
        raise ValueError(f"domains: expected a dict {{symbol: (low, high)}}, got {domains!r}")
    checked = {}
    for symbol, bounds in domains.items():
        if not isinstance(symbol, sp.Symbol):
            raise ValueError(f"domains: keys must be SymPy symbols, got {symbol!r}")
        try:
            low, high = (float(b) for b in bounds)
        except (TypeError, ValueError):
            raise ValueError(f"domains: range of {symbol} must be (low, high), got {bounds!r}") from None
        if not (np.isfinite(low) and np.isfinite(high) and low < high):
            raise ValueError(f"domains: range of {symbol} must be finite with low < high, got {bounds!r}")
        checked[symbol] = (low, high)
    return checked


def _domain_text(symbols: list, domains: dict) -> str:
    restricted = [f"{s} in ({lo:g}, {hi:g})" for s, (lo, hi) in domains.items() if s in symbols]
    wide = "magnitudes 0.01 to 100" if any(s not in domains for s in symbols) else ""
    return "; ".join(filter(None, [wide, *restricted])) or "no symbols"


def _evaluate(expr: sp.Expr, point: dict) -> complex | None:
    """Value of ``expr`` at ``point``; None if it is not finite there. Raises TypeError if symbolic."""
    value = expr.evalf(_DIGITS, subs=point)
    if value.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
        return None
    number = complex(value)  # TypeError when something (an undefined function) stays symbolic
    return number if cmath.isfinite(number) else None


def _point_text(point: dict) -> str:
    return ", ".join(f"{s}={float(v):.4g}" for s, v in point.items())


def _numeric_verdict(diffs: list[tuple[tuple[int, ...], sp.Expr, sp.Expr]], symbols: list,
                     points: int, seed: Any, rtol: float, domains: dict) -> Verdict:
    """Compare each (index, lhs, rhs) at ``points`` seeded random points where all sides are finite."""
    rng = make_rng(seed)
    checked = 0
    for _ in range(20 * points):
        if checked == points:
            break
        point = {s: _sample(s, rng, domains.get(s)) for s in symbols}
        values = []
        for index, lhs, rhs in diffs:
            try:
                left, right = _evaluate(lhs, point), _evaluate(rhs, point)
            except TypeError:
                both = sp.Tuple(lhs, rhs)
                culprits = both.atoms(sp.core.function.AppliedUndef) or {
                    a for a in both.free_symbols if not isinstance(a, sp.Symbol)}
                what = ", ".join(sorted(map(str, culprits))) or "a non-numeric object"
                return Verdict(False, "failed",
                               f"undecided: SymPy could not reduce the difference to 0, and it "
                               f"contains {what}, which cannot be evaluated numerically")
            if left is None or right is None:
                break  # a singular point: draw another one
            values.append((index, left, right))
        else:
            for index, left, right in values:
                if abs(left - right) > rtol * max(abs(left), abs(right)) + ATOL:
                    where = f" (entry {index[0] if len(index) == 1 else index})" if index else ""
                    return Verdict(False, "failed",
                                   f"not equal: at {_point_text(point) or 'no symbols'}{where} the "
                                   f"sides are {_number_text(left)} and {_number_text(right)}")
            checked += 1
    if checked < points:
        return Verdict(False, "failed",
                       f"undecided: SymPy could not reduce the difference to 0, and only {checked} "
                       f"of {points} random points gave finite values on both sides")
    domain = _domain_text(symbols, domains)
    return Verdict(True, "numeric",
                   f"equal at {points} random points ({domain}; seed {seed}), rtol {rtol:g}; "
                   f"SymPy could not reduce the difference to 0", points, domain)


def _number_text(z: complex) -> str:
    return f"{z.real:.10g}" if abs(z.imag) <= ATOL * max(1.0, abs(z)) else f"{z:.10g}"


def equal(a: Any, b: Any, *, points: int = N_POINTS, seed: Any = SEED,
          rtol: float = RTOL, domains: dict | None = None) -> Verdict:
    """Whether ``a == b`` (elementwise for matrices and sequences), by SymPy or a numeric spot check.

    Unevaluated objects (``sp.Derivative``, ``sp.Sum``, ``evaluate=False`` products) are evaluated
    with ``.doit()`` first. Returns a :class:`Verdict`; a step that SymPy cannot decide is compared
    at ``points`` random values of its free symbols drawn from ``np.random.default_rng(seed)``: wide
    (see :func:`_sample`), or uniform on ``domains[symbol] = (low, high)`` where given.
    """
    points = check_positive_int("points", points)
    domains = _check_domains(domains)
    if not rtol > 0:
        raise ValueError(f"rtol: must be positive, got {rtol!r}")
    a_shape, a_entries = _as_entries("a", a)
    b_shape, b_entries = _as_entries("b", b)
    _check_same_shape("a", a_shape, "b", b_shape)
    undecided = []
    for flat_index, (lhs, rhs) in enumerate(zip(a_entries, b_entries)):
        lhs, rhs = lhs.doit(), rhs.doit()
        if not _symbolically_zero(lhs - rhs):
            index = tuple(int(i) for i in np.unravel_index(flat_index, a_shape))
            undecided.append((index, lhs, rhs))
    if not undecided:
        return Verdict(True, "symbolic", "equal: SymPy reduces the difference to 0")
    symbols = sorted({s for _, lhs, rhs in undecided for s in lhs.free_symbols | rhs.free_symbols
                      if isinstance(s, sp.Symbol)}, key=sp.default_sort_key)
    return _numeric_verdict(undecided, symbols, points, seed, rtol, domains)


# --------------------------------------------------------------------------------------------------
# Derivations


@dataclass
class Step:
    """One equality ``previous = expr`` of a derivation; ``verdict`` is None until checked.

    ``kind`` is ``"proof"`` (added with :meth:`Derivation.step`: a claim, shown with a check mark once
    proved), ``"definition"`` (:meth:`Derivation.define`) or ``"rewriting"``
    (:meth:`Derivation.rewrite`); the last two are shown without a proof mark.
    """

    number: int
    latex: str
    expr: Any
    why: str
    kind: Literal["proof", "definition", "rewriting"] = "proof"
    verdict: Verdict | None = None

    @property
    def method(self) -> Method | None:
        """``"symbolic"``, ``"numeric"`` or ``"definition"`` (also for a rewriting) once checked."""
        if self.verdict is None:
            return None
        return self.verdict.method if self.kind == "proof" else "definition"


@dataclass(frozen=True)
class Tally:
    """How the steps of some derivations were established: counts per kind, and derivations."""

    symbolic: int = 0
    numeric: int = 0
    definition: int = 0
    derivations: int = 0

    def __add__(self, other: Tally) -> Tally:
        return Tally(self.symbolic + other.symbolic, self.numeric + other.numeric,
                     self.definition + other.definition, self.derivations + other.derivations)

    @property
    def steps(self) -> int:
        return self.symbolic + self.numeric + self.definition

    def sentence(self) -> str:
        """E.g. ``"3 steps: 2 proved by SymPy, 1 definition"``."""
        parts = [_count(self.symbolic, "proved by SymPy", "proved by SymPy"),
                 _count(self.numeric, "checked numerically", "checked numerically"),
                 _count(self.definition, "definition or rewriting", "definitions or rewritings")]
        return f"{_plural(self.steps, 'step')}: " + ", ".join(p for p in parts if p)

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, str]:
        text = (f"Derivations checked on this page: {self.derivations}, with "
                f"{self.sentence().replace(':', ' in all:', 1)}.")
        legend = (f"(${PROOF_MARK}$ proved by SymPy, ${NUMERIC_MARK}$ checked numerically at random "
                  f"points, ${DEFINITION_MARK}$ a definition or a rewriting, not a claim.)")
        return {"text/markdown": f"**{text}** {legend}", "text/plain": text}

    def __repr__(self) -> str:
        return self._repr_mimebundle_()["text/plain"]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _count(n: int, singular: str, plural: str) -> str:
    return "" if n == 0 else f"{n} {singular if n == 1 else plural}"


_CHECKED: dict[int, Derivation] = {}  # every derivation checked in this process, by id


def tally() -> Tally:
    """Counts over every derivation checked so far in this process (a chapter's kernel)."""
    return sum((d.tally() for d in _CHECKED.values()), Tally())


def reset_tally() -> None:
    """Forget the derivations checked so far (:func:`tally` starts again from zero)."""
    _CHECKED.clear()


class Derivation:
    r"""A chain ``expr_0 = expr_1 = ... = expr_n`` that renders as an aligned display and checks itself.

    ``latex`` is what the reader sees, ``expr`` the same quantity on the symbolic instance described
    by ``instance`` (a SymPy Expr, Matrix, or list/tuple of Exprs; every step has the same shape).
    Add claimed equalities with :meth:`step` and definitions with :meth:`define`; prove them with
    :meth:`check`. Displaying a derivation in Jupyter checks it first; end a notebook cell with
    ``.check()`` so a false step raises in the cell. ``domains`` optionally confines symbols for the
    numeric spot check (see :func:`equal`).
    """

    def __init__(self, latex: str | None, expr: Any, instance: str = "",
                 domains: dict | None = None) -> None:
        self.start_shape, self._start_entries = _as_entries("expr", expr)
        self.start_expr = expr
        self.start_latex = _clean_latex("latex", latex, expr)
        if not isinstance(instance, str):
            raise ValueError(f"instance: expected a string, got {type(instance).__name__}")
        self.instance = " ".join(instance.split())
        self.domains = _check_domains(domains)
        self.steps: list[Step] = []

    def step(self, latex: str | None, expr: Any, why: str) -> Derivation:
        """Append the claim ``= latex`` (with SymPy value ``expr``) justified by ``why``; returns self.

        Raises :class:`DerivationError` if ``expr`` is structurally identical to the previous step's
        expression: that "step" would be checked as ``x = x``.
        """
        number, entries = self._new_step(latex, expr, why)
        previous = self.steps[-1] if self.steps else None
        previous_entries = _as_entries("expr", previous.expr)[1] if previous else self._start_entries
        if all(a == b for a, b in zip(previous_entries, entries)):
            before = f"step {number - 1}" if previous else "the first line"
            raise DerivationError(
                f"step {number} is not a proof: its SymPy expression is identical to that of "
                f"{before}, so checking it would only show x = x\n"
                f"  justification: {_clean_why(why)}\n"
                f"  claimed: ... = {_clean_latex('latex', latex, expr)}\n"
                "  SymPy evaluates while an expression is built (p * diff(p) / p is already diff(p)).\n"
                "  Write the step so that the check does the work: keep operations unevaluated "
                "(sp.Derivative(...), sp.Mul(..., evaluate=False); equal() calls .doit()), or compute "
                "it by another route (another form or symbolic instance); or, if it is a definition "
                "or a rewriting, add it with .define() or .rewrite() instead of .step()."
            )
        self.steps.append(Step(number, _clean_latex("latex", latex, expr), expr, _clean_why(why)))
        return self

    def define(self, latex: str | None, expr: Any, why: str) -> Derivation:
        """Append ``= latex`` as a definition: checked, shown without a proof mark, labelled "definition"."""
        return self._append_unproved(latex, expr, why, "definition")

    def rewrite(self, latex: str | None, expr: Any, why: str) -> Derivation:
        """Append ``= latex`` as a rewriting (same quantity, another form or notation): checked, shown
        without a proof mark, labelled "rewriting"."""
        return self._append_unproved(latex, expr, why, "rewriting")

    def _append_unproved(self, latex: str | None, expr: Any, why: str, kind: str) -> Derivation:
        number, _ = self._new_step(latex, expr, why)
        self.steps.append(Step(number, _clean_latex("latex", latex, expr), expr, _clean_why(why), kind=kind))
        return self

    def _new_step(self, latex: str | None, expr: Any, why: str) -> tuple[int, list]:
        shape, entries = _as_entries("expr", expr)
        number = len(self.steps) + 1
        if shape != self.start_shape:
            raise ValueError(f"expr: step {number} has {_shape_text(shape)} but the derivation "
                             f"starts with {_shape_text(self.start_shape)}")
        _clean_latex("latex", latex, expr)
        _clean_why(why)
        return number, entries

    @property
    def checked(self) -> bool:
        """True when every step has been proved."""
        return all(s.verdict is not None for s in self.steps)

    def check(self) -> Derivation:
        """Prove each step equal to the previous one; raise :class:`DerivationError` at a false one."""
        if not self.steps:
            raise DerivationError("derivation has no steps: add at least one with .step()")
        previous = self.start_expr
        for s in self.steps:
            if s.verdict is None:
                verdict = equal(previous, s.expr, domains=self.domains)
                if not verdict.ok:
                    on = f" (checked on: {self.instance})" if self.instance else ""
                    raise DerivationError(
                        f"step {s.number} does not hold{on}\n"
                        f"  justification: {s.why}\n"
                        f"  claimed: ... = {s.latex}\n"
                        f"  {verdict.detail}"
                    )
                s.verdict = verdict
            previous = s.expr
        _CHECKED[id(self)] = self
        return self

    def tally(self) -> Tally:
        """Counts of this derivation's steps by how they were established (checks first)."""
        self.check()
        methods = [s.method for s in self.steps]
        return Tally(methods.count("symbolic"), methods.count("numeric"), methods.count("definition"), 1)

    def to_latex(self) -> str:
        r"""The checked derivation as an unnumbered ``equation*`` around ``aligned`` (checks first).

        Each step is followed by a line with its mark and justification: :data:`PROOF_MARK` for a
        SymPy proof, :data:`NUMERIC_MARK` and the spot check's description for a numeric one,
        :data:`DEFINITION_MARK` and "definition" for a definition.
        """
        self.check()
        rows = []
        for s in self.steps:
            lhs = self.start_latex if s.number == 1 else ""
            label = _text_with_math(s.why)
            if s.method == "symbolic":
                mark = PROOF_MARK
            elif s.method == "numeric":
                mark = NUMERIC_MARK
                label += r"\ " + _text_with_math(f"[{s.verdict.label}]")
            else:
                mark = DEFINITION_MARK
                if s.kind not in s.why.lower():  # say what kind of step it is, once
                    label = _text_with_math(f"{s.kind}: ") + label
            rows.append(rf"{lhs} &= {s.latex}")
            rows.append(rf"& \qquad {{\scriptsize {mark}\ {label}}}")
        body = " \\\\\n".join(rows)
        # equation* rather than $$: an unnumbered display on the site and in JupyterLab alike
        # (JupyterLab's MyST renderer numbers every $$ display).
        return f"\\begin{{equation*}}\n\\begin{{aligned}}\n{body}\n\\end{{aligned}}\n\\end{{equation*}}"

    def summary(self) -> str:
        """One line under the display: where it was checked and how each step was established."""
        on = f"Checked on {self.instance}: " if self.instance else "Checked: "
        return on + self.tally().sentence() + "."

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, str]:
        """Jupyter display: the aligned math and a summary line (Markdown), plus plain text."""
        # The summary is a Markdown paragraph (no HTML around it), so $...$ in ``instance`` is
        # typeset on the site and in JupyterLab alike.
        markdown = f"{self.to_latex()}\n\n{self.summary()}\n"
        return {"text/markdown": markdown, "text/plain": self._plain_text()}

    def _plain_text(self) -> str:
        lines = [f"Derivation ({self.instance or 'no instance given'})", f"  {self.start_latex}"]
        for s in self.steps:
            status = "unchecked" if s.verdict is None else (
                s.kind if s.kind != "proof" else f"ok, {s.verdict.label}")
            lines.append(f"  = {s.latex}    [{s.number}: {s.why}; {status}]")
        if self.checked and self.steps:
            lines.append(f"  {self.summary()}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self._plain_text()


# --------------------------------------------------------------------------------------------------
# LaTeX hygiene

_UNESCAPED_AMPERSAND = re.compile(r"(?<!\\)&")
_TEXT_SPECIALS = {
    "\\": r"\backslash", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#",
    "%": r"\%", "_": r"\_", "^": r"\hat{}", "~": r"\sim",
}


def _reject_control_characters(name: str, text: str) -> None:
    r"""A tab, newline or other control character in LaTeX is almost always a lost backslash:
    ``"\theta"`` without the ``r`` prefix is a tab followed by ``heta``."""
    bad = [c for c in text if ord(c) < 32]
    if bad:
        raise ValueError(f"{name}: contains the control character {bad[0]!r}; write LaTeX in raw strings "
                         f"(r\"\\theta\", not \"\\theta\", whose \\t is a tab), got {text!r}")


def _clean_latex(name: str, latex: str | None, expr: Any) -> str:
    """One-line LaTeX for a step (SymPy's rendering of ``expr`` when None); no alignment tokens."""
    if latex is None:
        return sp.latex(sp.Matrix(expr) if isinstance(expr, (list, tuple)) else expr)
    if not isinstance(latex, str) or not latex.strip():
        raise ValueError(f"{name}: expected a non-empty LaTeX string (or None), got {latex!r}")
    _reject_control_characters(name, latex)
    if _UNESCAPED_AMPERSAND.search(latex) or "\\\\" in latex:
        raise ValueError(f"{name}: must not contain '&' or '\\\\' (the display aligns the steps "
                         f"itself), got {latex!r}")
    return " ".join(latex.split())


def _clean_why(why: str) -> str:
    if not isinstance(why, str) or not why.strip():
        raise ValueError(f"why: expected a non-empty one-line justification, got {why!r}")
    _reject_control_characters("why", why)
    why = " ".join(why.split())
    if len(why) > MAX_WHY_LENGTH:
        raise ValueError(f"why: keep the justification under {MAX_WHY_LENGTH} characters (it is "
                         f"displayed beside the step), got {len(why)}: {why!r}")
    if len(re.findall(r"(?<!\\)\$", why)) % 2:
        raise ValueError(f"why: unbalanced '$' (inline math is written $...$, a dollar sign \\$), "
                         f"got {why!r}")
    return why


def _text_with_math(text: str) -> str:
    r"""Math-mode LaTeX showing ``text``: plain parts in ``\text{}``, ``$...$`` parts as math."""
    pieces = re.split(r"(?<!\\)\$", text)
    out = []
    for i, piece in enumerate(pieces):
        if i % 2:
            out.append(f"{{{piece}}}")
        elif piece:
            out.append(_escaped_text(piece.replace(r"\$", "$")))
    return "".join(out)


def _escaped_text(text: str) -> str:
    r"""``\text{...}`` runs with LaTeX special characters moved out into math-mode escapes."""
    out, run = [], []
    for char in text:
        if char in _TEXT_SPECIALS:
            if run:
                out.append(r"\text{" + "".join(run) + "}")
                run = []
            out.append(_TEXT_SPECIALS[char])
        else:
            run.append(char)
    if run:
        out.append(r"\text{" + "".join(run) + "}")
    return "".join(out)


# --------------------------------------------------------------------------------------------------
# Small helpers for building symbolic instances


def symbols_vector(name: str, n: int, **assumptions: Any) -> sp.Matrix:
    """Column vector ``(name1, ..., name_n)`` of SymPy symbols, e.g. ``symbols_vector("theta", 3)``."""
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"name: expected an identifier such as 'theta', got {name!r}")
    n = check_positive_int("n", n)
    return sp.Matrix(sp.symbols(f"{name}1:{n + 1}", **assumptions))


def gradient(expr: sp.Expr, variables: Any, evaluate: bool = True) -> sp.Matrix:
    """Column vector of partial derivatives of the scalar ``expr`` with respect to ``variables``.

    With ``evaluate=False`` the entries are unevaluated ``sp.Derivative`` objects, which a
    derivation step can show as a claim for :func:`equal` to evaluate (``.doit()``) and check.
    """
    shape, (scalar, *_) = _as_entries("expr", expr)
    if shape != ():
        raise ValueError(f"expr: expected a scalar SymPy expression, got {_shape_text(shape)}")
    _, entries = _as_entries("variables", variables)
    bad = [v for v in entries if not isinstance(v, sp.Symbol)]
    if bad:
        raise ValueError(f"variables: expected SymPy symbols, got {bad[0]!r}")
    if not isinstance(evaluate, bool):
        raise ValueError(f"evaluate: expected True or False, got {evaluate!r}")
    if evaluate:
        return sp.Matrix([sp.diff(scalar, v) for v in entries])
    return sp.Matrix([sp.Derivative(scalar, v) for v in entries])
