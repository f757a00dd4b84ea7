"""Tests for pgbook.symbolic: executable derivations and the equality test behind them."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import sympy as sp

from pgbook.symbolic import (
    DEFINITION_MARK,
    NUMERIC_MARK,
    PROOF_MARK,
    Derivation,
    DerivationError,
    Tally,
    equal,
    gradient,
    reset_tally,
    symbols_vector,
    tally,
)

x, y = sp.symbols("x y", real=True)
t = sp.symbols("t", positive=True)
THETA = symbols_vector("theta", 2, real=True)
PI = [sp.exp(THETA[a]) / (sp.exp(THETA[0]) + sp.exp(THETA[1])) for a in range(2)]


def log_derivative_chain() -> Derivation:
    """REINFORCE on a two-step problem: two actions per step, symbolic logits and transition p."""
    p = sp.symbols("p", positive=True)
    move = {0: [p, 1 - p], 1: [1 - p, p]}  # next-state distribution after each action
    trajectories = list(itertools.product(range(2), range(2), range(2)))  # (a0, s1, a1)

    def prob(tau):
        return PI[tau[0]] * move[tau[0]][tau[1]] * PI[tau[2]]

    def ret(tau):
        return sp.Integer(tau[0] + tau[1]) + 2 * tau[2]

    def total(term):
        return sum((term(tau) for tau in trajectories), sp.zeros(2, 1))

    objective = sum(prob(tau) * ret(tau) for tau in trajectories)
    d = Derivation(r"\nabla_\theta J(\theta)", gradient(objective, THETA, evaluate=False),
                   instance="two-step MDP")
    d.step(r"\sum_\tau \nabla_\theta p_\theta(\tau)\, R(\tau)",
           total(lambda tau: gradient(prob(tau), THETA, evaluate=False) * ret(tau)),
           "the gradient of a finite sum is the sum of gradients")
    d.step(r"\sum_\tau p_\theta(\tau) \nabla_\theta \log p_\theta(\tau)\, R(\tau)",
           total(lambda tau: prob(tau) * ret(tau)
                 * gradient(sp.expand_log(sp.log(prob(tau)), force=True), THETA, evaluate=False)),
           r"log-derivative trick: $\nabla p = p\, \nabla \log p$")
    d.step(r"\sum_\tau p_\theta(\tau) \sum_t \nabla_\theta \log \pi_\theta(a_t \mid s_t)\, R(\tau)",
           total(lambda tau: prob(tau) * ret(tau) * (gradient(sp.log(PI[tau[0]]), THETA)
                                                      + gradient(sp.log(PI[tau[2]]), THETA))),
           "the dynamics do not depend on theta")
    return d


# A true identity SymPy 1.14 cannot reduce to 0: shifting a log-sum-exp by one of its arguments.
X_AGAIN = (x + 1) ** 2 - x**2 - x - 1  # equals x, but SymPy must expand to see it
LSE = sp.log(sp.exp(x) + sp.exp(y))
LSE_SHIFTED = x + sp.log(1 + sp.exp(y - x))


def test_correct_chain_is_proved_symbolically():
    d = log_derivative_chain().check()
    assert [s.number for s in d.steps] == [1, 2, 3]
    assert [s.method for s in d.steps] == ["symbolic"] * 3


def test_wrong_step_names_its_number_and_justification():
    d = log_derivative_chain()
    wrong = d.steps[-1].expr * 2  # the classic slip of counting a term twice
    d.step(r"2 \sum_\tau \cdots", wrong, "each step counted twice")
    with pytest.raises(DerivationError, match=r"step 4 does not hold") as info:
        d.check()
    assert "each step counted twice" in str(info.value)
    assert r"2 \sum_\tau \cdots" in str(info.value)
    assert [s.method for s in d.steps] == ["symbolic"] * 3 + [None]


def test_wrong_step_in_the_middle_is_the_one_named():
    d = Derivation("x^2 - 1", x**2 - 1)
    d.step("(x - 1)(x + 1)", (x - 1) * (x + 1), "difference of squares")
    d.step("(x - 1)^2", (x - 1) ** 2, "a wrong factoring")
    d.step("x^2 - 2x + 1", x**2 - 2 * x + 1, "expand")
    with pytest.raises(DerivationError, match=r"step 2 does not hold[\s\S]*a wrong factoring"):
        d.check()


def test_sympy_cannot_simplify_the_log_sum_exp_shift():
    """Guards the premise of the numeric test below: if SymPy learns this identity, pick another."""
    diff = LSE - LSE_SHIFTED
    assert sp.simplify(diff) != 0 and sp.expand(diff) != 0 and sp.cancel(sp.together(diff)) != 0


def test_true_step_sympy_cannot_decide_goes_numeric_and_is_labelled():
    d = Derivation(r"\log(e^x + e^y)", LSE, instance="two real logits")
    d.step(r"x + \log(1 + e^{y - x})", LSE_SHIFTED, "factor out $e^x$")
    d.check()
    assert d.steps[0].method == "numeric"
    assert d.steps[0].verdict.points == 8
    latex = d.to_latex()
    assert "numeric spot check, 8 random points, magnitudes 0.01 to 100" in latex
    assert NUMERIC_MARK in latex and latex.count(PROOF_MARK) == latex.count(NUMERIC_MARK)  # its own mark


def test_false_step_sympy_cannot_decide_fails_numerically():
    d = Derivation(r"\log(e^x + e^y)", LSE).step(r"\cdots", LSE_SHIFTED + sp.Rational(1, 10**6), "off")
    with pytest.raises(DerivationError, match="step 1 does not hold[\\s\\S]*not equal: at x="):
        d.check()


def test_equal_symbolic_numeric_and_false():
    assert equal((x + 1) ** 2, x**2 + 2 * x + 1).method == "symbolic"
    assert equal(LSE, LSE_SHIFTED).method == "numeric"
    slip = equal(sp.log(t + 1), sp.log(t) + sp.log(1))  # log of a sum is not a sum of logs
    assert (slip.ok, slip.method) == (False, "failed")
    assert "not equal" in repr(slip) and "ok=False" in repr(slip)


def test_equal_respects_positive_symbols():
    assert equal(sp.sqrt(t**2), t).ok  # true for t > 0
    assert not equal(sp.sqrt(x**2), x).ok  # false for negative x
    # SymPy cannot decide atan(t) + atan(1/t) = pi/2, which holds for t > 0 but not for t < 0:
    # the spot check must draw positive values for a positive symbol.
    assert equal(sp.atan(t) + sp.atan(1 / t), sp.pi / 2).method == "numeric"
    assert not equal(sp.atan(x) + sp.atan(1 / x), sp.pi / 2).ok


def test_equal_undecidable_is_not_ok():
    f = sp.Function("f")
    verdict = equal(f(x) + sp.asin(x) + sp.acos(x), f(x) + sp.pi / 2)
    assert not verdict.ok and "f(x)" in verdict.detail


def test_equal_with_no_finite_points_is_not_ok():
    verdict = equal(1 / (x - x), 1 / (x - x))
    assert not verdict.ok and "only 0 of 8 random points" in verdict.detail


def test_numeric_check_is_seeded():
    assert repr(equal(LSE, LSE_SHIFTED + 1e-3)) == repr(equal(LSE, LSE_SHIFTED + 1e-3))


def test_matrices_and_lists_are_compared_entrywise():
    m = sp.Matrix([[x, y], [x * y, 1]])
    assert equal(m * 2, m + m).method == "symbolic"
    assert equal([[x + x, 1], [y, LSE]], [[2 * x, 1], [y, LSE_SHIFTED]]).method == "numeric"
    wrong = equal(m, sp.Matrix([[x, y], [x * y, 2]]))
    assert not wrong.ok and "entry (1, 1)" in wrong.detail
    d = Derivation(r"\theta", [x, y]).step(r"\theta'", (x, (y + 1) ** 2 - 2 * y - 1 - y**2 + y),
                                         "expand").check()
    assert d.steps[0].method == "symbolic"


def test_shape_mismatch_and_bad_inputs_raise_value_error():
    with pytest.raises(ValueError, match=r"^b: has shape \(3,\) but a has shape \(2,\)"):
        equal([x, y], [x, y, 1])
    with pytest.raises(ValueError, match=r"^b: has shape \(2,\) but a has shape \(2, 1\)"):
        equal(sp.Matrix([x, y]), [x, y])
    with pytest.raises(ValueError, match=r"^expr: step 1 has shape \(2,\) but the derivation starts"):
        Derivation("x", x).step("y", [x, y], "why")
    with pytest.raises(ValueError, match="^a: expected a SymPy expression"):
        equal("x + 1", x + 1)
    with pytest.raises(ValueError, match="^a: ragged sequence"):
        equal([x, [x, y]], [x, [x, y]])
    with pytest.raises(ValueError, match="^why: expected a non-empty"):
        Derivation("x", x).step("x", X_AGAIN, "  ")
    with pytest.raises(ValueError, match="^why: keep the justification under 70 characters"):
        Derivation("x", x).step("x", X_AGAIN, "a justification that rambles on " * 3)
    with pytest.raises(ValueError, match="^why: unbalanced"):
        Derivation("x", x).step("x", X_AGAIN, "costs $5")
    with pytest.raises(ValueError, match="^latex: must not contain '&'"):
        Derivation("x", x).step("x &= x", X_AGAIN, "same")
    with pytest.raises(ValueError, match="^domains: range of x must be finite with low < high"):
        Derivation("x", x, domains={x: (1, 0)})
    with pytest.raises(ValueError, match="^domains: keys must be SymPy symbols"):
        equal(x, x, domains={"x": (0, 1)})
    with pytest.raises(ValueError, match="^evaluate: expected True or False"):
        gradient(x, [x], evaluate="no")
    with pytest.raises(DerivationError, match="no steps"):
        Derivation("x", x).check()


def test_rendering_shows_aligned_steps_check_marks_and_justifications():
    d = log_derivative_chain()
    latex = d.to_latex()
    assert latex.startswith(r"\begin{equation*}") and latex.endswith(r"\end{equation*}")
    assert r"\begin{aligned}" in latex and r"\end{aligned}" in latex
    assert latex.count(r"\checkmark") == len(d.steps) == 3
    for text in ("the gradient of a finite sum is the sum of gradients",
                 "the dynamics do not depend on theta", "log-derivative trick: "):
        assert text in latex
    assert r"{\nabla p = p\, \nabla \log p}" in latex  # inline math kept as math
    assert "\n\n" not in latex  # a blank line would split the display into separate equations
    bundle = d._repr_mimebundle_()
    assert bundle["text/markdown"].startswith(latex)
    assert "Checked on two-step MDP: 3 steps: 3 proved by SymPy." in bundle["text/markdown"]
    assert "text/latex" not in bundle  # one rendering, Markdown, so the summary line shows too


def test_text_special_characters_are_escaped():
    d = Derivation("x", x).step("x", X_AGAIN, r"100% of a_b & c#d, costs \$5").check()
    assert r"\text{100}\%\text{ of a}\_\text{b }\&\text{ c}\#\text{d, costs }\$\text{5}" in d.to_latex()


def test_display_checks_an_unchecked_derivation_first():
    d = log_derivative_chain()
    assert not d.checked
    d._repr_mimebundle_()
    assert d.checked and all(s.method == "symbolic" for s in d.steps)
    d.step("x", d.steps[-1].expr + sp.Matrix([1, 0]), "a new, wrong step")
    assert not d.checked
    with pytest.raises(DerivationError, match="step 4 does not hold"):
        d._repr_mimebundle_()


def test_symbols_vector_and_gradient():
    theta = symbols_vector("theta", 3, positive=True)
    assert theta.shape == (3, 1) and [str(s) for s in theta] == ["theta1", "theta2", "theta3"]
    assert all(s.is_positive for s in theta)
    assert gradient(theta[0] ** 2 * theta[2], theta) == sp.Matrix(
        [2 * theta[0] * theta[2], 0, theta[0] ** 2])
    with pytest.raises(ValueError, match="^n: must be at least 1"):
        symbols_vector("theta", 0)
    with pytest.raises(ValueError, match="^name: expected an identifier"):
        symbols_vector("2x", 2)
    with pytest.raises(ValueError, match="^expr: expected a scalar"):
        gradient(theta, theta)


@pytest.mark.parametrize("text", ["\theta", "\nabla J", "a\rb"])
def test_a_lost_backslash_is_reported_not_rendered(text):
    x = sp.Symbol("x")
    with pytest.raises(ValueError, match="^latex: contains the control character"):
        Derivation(text, x)
    with pytest.raises(ValueError, match="^why: contains the control character"):
        Derivation("x", x).step("x", x, "because " + text)


# --------------------------------------------------------------------------------------------------
# A check mark is a promise: trivial steps, definitions, wide numeric checks, tallies


def test_a_step_identical_to_the_previous_one_is_refused_and_named():
    p = PI[0] * t  # a product: SymPy cancels p * grad(p) / p as soon as it is built
    g = gradient(p, THETA)
    d = Derivation(r"\nabla p", g)
    with pytest.raises(DerivationError, match=r"step 1 is not a proof[\s\S]*identical to that of "
                                              r"the first line[\s\S]*\.define\(\) or \.rewrite\(\)"):
        d.step(r"p \frac{\nabla p}{p}", p * g / p, "multiply and divide by $p$")
    assert d.steps == []  # nothing was appended
    # The log-derivative identity written with an evaluated gradient is x = x too ...
    with pytest.raises(DerivationError, match="step 1 is not a proof"):
        Derivation(r"\nabla p", g).step(r"p \nabla \log p", p * gradient(sp.log(p), THETA), "chain rule")
    # ... and a real check when the logarithm is expanded and differentiated on its own.
    d = Derivation(r"\nabla p", gradient(p, THETA, evaluate=False))
    d.step(r"p \nabla \log p", sp.Mul(p, gradient(sp.expand_log(sp.log(p), force=True), THETA,
                                                  evaluate=False), evaluate=False), "chain rule")
    assert d.check().steps[0].method == "symbolic"
    # ... which would fail if the identity were wrong (the factor p forgotten):
    wrong = Derivation(r"\nabla p", gradient(p, THETA, evaluate=False))
    wrong.step(r"\nabla \log p", gradient(sp.expand_log(sp.log(p), force=True), THETA, evaluate=False),
               "a slip")
    with pytest.raises(DerivationError, match="step 1 does not hold"):
        wrong.check()


def test_a_later_identical_step_is_named_by_number():
    d = Derivation("x^2 - 1", x**2 - 1).step("(x - 1)(x + 1)", (x - 1) * (x + 1), "factor")
    with pytest.raises(DerivationError, match="step 2 is not a proof: .* identical to that of step 1"):
        d.step("(x + 1)(x - 1)", (x + 1) * (x - 1), "commute")  # SymPy orders the factors itself


def test_definitions_are_checked_but_shown_without_a_proof_mark():
    J = x**2 + y
    d = (Derivation(r"J", J)
         .define(r"\sum_s \rho_0(s) v(s)", J, "definition of $J$")
         .step(r"y + x \cdot x", y + sp.Mul(x, x, evaluate=False), "notation"))
    d.check()
    assert [s.method for s in d.steps] == ["definition", "symbolic"]
    latex = d.to_latex()
    assert latex.count(DEFINITION_MARK) == 1 and latex.count(PROOF_MARK) == 1
    assert r"\text{definition of }{J}" in latex and r"\text{definition: }" not in latex
    assert r"\text{rewriting: }\text{notation}" not in latex  # "notation" is a proof step here
    assert d.tally() == Tally(symbolic=1, numeric=0, definition=1, derivations=1)
    assert "2 steps: 1 proved by SymPy, 1 definition or rewriting." in d._repr_mimebundle_()["text/markdown"]
    r = Derivation("x", x).rewrite(r"\frac{x^2}{x}", sp.Mul(x, x, sp.Pow(x, -1, evaluate=False), evaluate=False),
                                   "multiply and divide by $x$").check()
    assert r.steps[0].method == "definition" and r"\text{rewriting: }" in r.to_latex()
    assert "[1: multiply and divide by $x$; rewriting]" in repr(r)
    with pytest.raises(DerivationError, match="step 1 does not hold"):
        Derivation("J", J).define("J'", J + 1, "a definition that contradicts the line before").check()


def test_numeric_checks_sample_far_from_zero_and_both_signs():
    # atan(tan(x)) = x holds only for |x| < pi/2; sqrt((t - 1)^2) = 1 - t only for t <= 1.
    # Points drawn in [-1, 1] (or in (0.1, 0.9) for a positive symbol) would "confirm" both.
    for lhs, rhs in [(sp.atan(sp.tan(x)), x), (sp.sqrt((t - 1) ** 2), 1 - t)]:
        assert sp.simplify(lhs - rhs) != 0  # SymPy cannot decide, so the numeric check must
        verdict = equal(lhs, rhs)
        assert not verdict.ok and "not equal: at" in verdict.detail
    # A symbol whose meaning confines it can be given its range, and the label says so.
    confined = equal(sp.sqrt((t - 1) ** 2), 1 - t, domains={t: (0, 1)})
    assert confined.ok and confined.method == "numeric" and "t in (0, 1)" in confined.label
    # Values reach magnitudes well beyond 1, of both signs for a real symbol.
    from pgbook.symbolic import _sample
    rng = np.random.default_rng(0)
    values = np.array([float(_sample(x, rng)) for _ in range(400)])
    assert values.min() < -10 and values.max() > 10 and np.abs(values).min() < 0.1
    assert all(float(_sample(t, rng)) > 0 for _ in range(100))


def test_tally_counts_every_checked_derivation_once():
    reset_tally()
    assert tally() == Tally()
    d1 = Derivation("x", x).step("x", X_AGAIN, "algebra")
    d2 = Derivation(r"\log(e^x + e^y)", LSE).step(r"\cdots", LSE_SHIFTED, "shift").define("z", LSE_SHIFTED, "name")
    d1.check()
    d1.check()  # checking twice does not count twice
    d2._repr_mimebundle_()
    assert tally() == Tally(symbolic=1, numeric=1, definition=1, derivations=2)
    text = tally()._repr_mimebundle_()
    assert "Derivations checked on this page: 2, with 3 steps in all: 1 proved by SymPy, " \
           "1 checked numerically, 1 definition or rewriting." in text["text/plain"]
    assert NUMERIC_MARK in text["text/markdown"] and DEFINITION_MARK in text["text/markdown"]
    reset_tally()
    assert tally().derivations == 0
