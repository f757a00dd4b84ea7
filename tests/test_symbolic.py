"""Tests for pgbook.symbolic: executable derivations and the equality test behind them."""

from __future__ import annotations

import itertools

import pytest
import sympy as sp

from pgbook.symbolic import Derivation, DerivationError, equal, gradient, symbols_vector

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
    d = Derivation(r"\nabla_\theta J(\theta)", gradient(objective, THETA), instance="two-step MDP")
    d.step(r"\sum_\tau \nabla_\theta p_\theta(\tau)\, R(\tau)",
           total(lambda tau: gradient(prob(tau), THETA) * ret(tau)),
           "the gradient of a finite sum is the sum of gradients")
    d.step(r"\sum_\tau p_\theta(\tau) \nabla_\theta \log p_\theta(\tau)\, R(\tau)",
           total(lambda tau: prob(tau) * gradient(sp.log(prob(tau)), THETA) * ret(tau)),
           r"log-derivative trick: $\nabla p = p\, \nabla \log p$")
    d.step(r"\sum_\tau p_\theta(\tau) \sum_t \nabla_\theta \log \pi_\theta(a_t \mid s_t)\, R(\tau)",
           total(lambda tau: prob(tau) * ret(tau) * (gradient(sp.log(PI[tau[0]]), THETA)
                                                      + gradient(sp.log(PI[tau[2]]), THETA))),
           "the dynamics do not depend on theta")
    return d


# A true identity SymPy 1.14 cannot reduce to 0: shifting a log-sum-exp by one of its arguments.
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
    assert d.steps[0].verdict.points == 5
    assert "numeric spot check, 5 random points" in d.to_latex()


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
    assert not verdict.ok and "only 0 of 5 random points" in verdict.detail


def test_numeric_check_is_seeded():
    assert repr(equal(LSE, LSE_SHIFTED + 1e-3)) == repr(equal(LSE, LSE_SHIFTED + 1e-3))


def test_matrices_and_lists_are_compared_entrywise():
    m = sp.Matrix([[x, y], [x * y, 1]])
    assert equal(m * 2, m + m).method == "symbolic"
    assert equal([[x + x, 1], [y, LSE]], [[2 * x, 1], [y, LSE_SHIFTED]]).method == "numeric"
    wrong = equal(m, sp.Matrix([[x, y], [x * y, 2]]))
    assert not wrong.ok and "entry (1, 1)" in wrong.detail
    d = Derivation(r"\theta", [x, y]).step(r"\theta'", (x, y + 0), "nothing changes").check()
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
        Derivation("x", x).step("x", x, "  ")
    with pytest.raises(ValueError, match="^why: keep the justification under 70 characters"):
        Derivation("x", x).step("x", x, "a justification that rambles on " * 3)
    with pytest.raises(ValueError, match="^why: unbalanced"):
        Derivation("x", x).step("x", x, "costs $5")
    with pytest.raises(ValueError, match="^latex: must not contain '&'"):
        Derivation("x", x).step("x &= x", x, "same")
    with pytest.raises(DerivationError, match="no steps"):
        Derivation("x", x).check()


def test_rendering_shows_aligned_steps_check_marks_and_justifications():
    d = log_derivative_chain()
    latex = d.to_latex()
    assert latex.startswith("$$") and latex.endswith("$$")
    assert r"\begin{aligned}" in latex and r"\end{aligned}" in latex
    assert latex.count(r"\checkmark") == len(d.steps) == 3
    for text in ("the gradient of a finite sum is the sum of gradients",
                 "the dynamics do not depend on theta", "log-derivative trick: ",
                 "checked on: two-step MDP"):
        assert text in latex
    assert r"{\nabla p = p\, \nabla \log p}" in latex  # inline math kept as math
    assert "\n\n" not in latex  # a blank line would split the display into separate equations
    bundle = d._repr_mimebundle_()
    assert bundle["text/latex"] == latex and "text/markdown" not in bundle


def test_text_special_characters_are_escaped():
    d = Derivation("x", x).step("x", x + 0, r"100% of a_b & c#d, costs \$5").check()
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
