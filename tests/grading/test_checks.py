"""The exercise checks fail with messages in the learner's terms, and pass when they should."""

import re

import numpy as np
import pytest
import torch

from rnncourse.grading.checks import check_close, check_equal, check_shape, check_type, numeric_gradient, rel_error
from rnncourse.nn.padded import final_states as final_states_bound_here  # a learner's own name


def test_check_close_names_the_worst_element():
    expected = torch.zeros(2, 3)
    got = expected.clone()
    got[1, 2] = 0.5
    with pytest.raises(AssertionError, match=r"h_n does not match.*1 of 6 elements.*index \(1, 2\).*got 0\.5"):
        check_close(got, expected, "h_n")
    check_close(expected + 1e-9, expected, "h_n")


def test_check_close_reports_shape_and_none():
    with pytest.raises(AssertionError, match=r"output should have shape \(2, 3\), but it has shape \(3, 2\)"):
        check_close(np.zeros((3, 2)), np.zeros((2, 3)), "output")
    with pytest.raises(AssertionError, match=r"output is None, where values of shape \(2,\) were expected"):
        check_close(None, np.zeros(2), "output")


def test_check_close_catches_nan_and_adds_the_hint():
    with pytest.raises(AssertionError, match="NaN.*\nHint: clip"):
        check_close(np.array([np.nan]), np.array([1.0]), "loss", hint="clip")


def test_check_shape_equal_type():
    check_shape(torch.zeros(4, 5), (4, 5), "x")
    with pytest.raises(AssertionError, match=r"x should have shape \(5, 4\)"):
        check_shape(torch.zeros(4, 5), (5, 4), "x")
    check_equal((1, 2), (1, 2), "pair")
    with pytest.raises(AssertionError, match=r"count should be 3, but it is 4"):
        check_equal(4, 3, "count")
    with pytest.raises(AssertionError, match="should be a ndarray, but it is a list"):
        check_type([1], np.ndarray, "grads")


def test_numeric_gradient_and_rel_error():
    x = np.array([1.0, -2.0, 3.0])
    grad = numeric_gradient(lambda v: float(np.sum(v ** 3)), x)
    assert rel_error(grad, 3 * x ** 2) < 1e-8
    assert np.array_equal(x, [1.0, -2.0, 3.0]), "numeric_gradient must restore its input"


# --- run_learner: the learner's call, its failures and the routes it may not take ---------------

from rnncourse.grading.checks import RefusedRoute, run_learner  # noqa: E402

LSTM_REASON = "this exercise asks you to write the gates yourself; torch.lstm_cell computes them for you"


def _lstm_inputs():
    torch.manual_seed(0)
    x, h, c = torch.randn(2, 3), torch.randn(2, 4), torch.randn(2, 4)
    return x, (h, c), torch.randn(16, 3), torch.randn(16, 4), torch.randn(16), torch.randn(16)


def test_run_learner_returns_the_result_and_passes_arguments():
    assert run_learner(lambda a, b=0: a + b, (2,), {"b": 3}, case="two numbers") == 5


def test_run_learner_reports_the_case_the_exception_and_the_hint():
    def rnn_step(x):
        return x[5]

    with pytest.raises(AssertionError) as caught:
        run_learner(rnn_step, ([1, 2],), case="a batch of one", hint="count from 0")
    message = str(caught.value)
    assert message.startswith("While checking a batch of one, your rnn_step raised IndexError: list index out")
    assert re.search(r"\(at line \d+: return x\[5\]\)\nHint: count from 0$", message), message
    assert isinstance(caught.value.__cause__, IndexError), "the learner's traceback must stay reachable"


def test_run_learner_says_when_the_answer_is_not_written():
    def answer():
        raise NotImplementedError()

    with pytest.raises(AssertionError, match="your answer is not written yet"):
        run_learner(answer, case="anything")


def test_run_learner_expected_exception():
    def strict(n):
        if n < 0:
            raise ValueError(f"n is {n}")
        return n

    error = run_learner(strict, (-1,), case="a negative n", raises=ValueError)
    assert str(error) == "n is -1"
    with pytest.raises(AssertionError, match="should raise ValueError, but it returned 3.\nHint: check n"):
        run_learner(strict, (3,), case="n = 3", raises=ValueError, hint="check n")
    with pytest.raises(AssertionError, match="should raise ValueError, but it raised TypeError"):
        run_learner(strict, (None,), case="n = None", raises=ValueError)


@pytest.mark.parametrize("route", ["module attribute", "imported before", "caught and retried", "torch._VF"])
def test_forbidden_function_is_refused_by_every_route(route):
    from torch import lstm_cell as imported_before  # noqa: F401 - an alias taken before the check

    def answer(x, hc, w_ih, w_hh, b_ih, b_hh):
        if route == "module attribute":
            return torch.lstm_cell(x, hc, w_ih, w_hh, b_ih, b_hh)
        if route == "imported before":
            return imported_before(x, hc, w_ih, w_hh, b_ih, b_hh)
        if route == "caught and retried":
            try:
                return torch.lstm_cell(x, hc, w_ih, w_hh, b_ih, b_hh)
            except Exception:
                return imported_before(x, hc, w_ih, w_hh, b_ih, b_hh)
        return torch._VF.lstm_cell(x, hc, w_ih, w_hh, b_ih, b_hh)

    original = torch.lstm_cell
    with pytest.raises(AssertionError, match=r"While checking one step, your answer used torch.lstm_cell: "
                                             r"this exercise asks you to write the gates yourself"):
        run_learner(answer, _lstm_inputs(), case="one step", forbid={"torch.lstm_cell": LSTM_REASON})
    assert torch.lstm_cell is original and torch.lstm_cell(*_lstm_inputs())[0].shape == (2, 4)


@pytest.mark.parametrize("route", ["module attribute", "bound in the answer's module"])
def test_unwatched_refusals_patch_the_module_and_the_learners_names(route):
    # watch=False (an exporter's answer): no profile function, the names themselves refuse
    import sys

    import rnncourse.nn.padded as padded

    seen = []

    def answer(out, lengths):
        seen.append(sys.getprofile())
        if route == "module attribute":
            return padded.final_states(out, lengths, 1)
        return final_states_bound_here(out, lengths, 1)

    original = padded.final_states
    with pytest.raises(AssertionError, match="used rnncourse.nn.padded.final_states: write it"):
        run_learner(answer, (torch.zeros(2, 3, 4), torch.tensor([3, 1])), case="c", watch=False,
                    forbid={"rnncourse.nn.padded.final_states": "write it"})
    assert seen == [None]
    assert padded.final_states is original and final_states_bound_here is original


def test_refusal_is_raised_where_the_route_is_taken():
    seen = []

    def answer():
        try:
            torch.autograd.grad
            return torch.autograd.grad(torch.ones(1, requires_grad=True).sum(), [])
        except RefusedRoute as refusal:
            seen.append(str(refusal))
            return None

    with pytest.raises(AssertionError, match="used torch.autograd.grad: NumPy only"):
        run_learner(answer, case="c", forbid={"torch.autograd.grad": "NumPy only"})
    assert seen == ["torch.autograd.grad is not allowed here: NumPy only"]


def test_forbidden_class_is_refused_when_built_or_run_and_restored():
    from torch import nn

    built_before = nn.LSTM(3, 4)
    had_init, had_forward = vars(nn.LSTM)["__init__"], vars(nn.LSTM)["forward"]
    for answer in (lambda x: nn.LSTM(3, 4)(x), lambda x: built_before(x),
                   lambda x: type("Mine", (nn.LSTM,), {})(3, 4)(x)):
        with pytest.raises(AssertionError, match="used torch.nn.LSTM: build the gates by hand"):
            run_learner(answer, (torch.randn(2, 3),), case="c", forbid={"torch.nn.LSTM": "build the gates by hand"})
    assert vars(nn.LSTM)["__init__"] is had_init and vars(nn.LSTM)["forward"] is had_forward
    # a module's weights may still be read, and a class without its own __init__ is restored too
    w = run_learner(lambda m: m.weight_ih_l0 * 1, (built_before,), case="c", forbid={"torch.nn.LSTM": "no"})
    assert w.shape == (16, 3)
    run_learner(lambda: None, case="c", forbid={"torch.nn.utils.rnn.PackedSequence": "no"})
    assert "__init__" not in vars(torch.nn.utils.rnn.PackedSequence)


def test_numpy_only_refuses_any_torch_use():
    ones = torch.ones(3)

    def numpy_answer(a):
        return np.tanh(a).sum()

    assert run_learner(numpy_answer, (np.ones(3),), case="c", forbid={"torch": "NumPy only"}) == np.tanh(1) * 3
    for answer in (lambda a: torch.from_numpy(a).sum().item(), lambda a: a * ones.numpy(),
                   lambda a: float(torch.tanh(ones).sum())):
        with pytest.raises(AssertionError, match="used torch: this answer must use NumPy only"):
            run_learner(answer, (np.ones(3),), case="c", forbid={"torch": "this answer must use NumPy only"})


def test_switching_the_watch_off_fails_and_everything_is_put_back():
    import sys

    def sneaky():
        sys.setprofile(None)
        return 1

    with pytest.raises(AssertionError, match="switched off the check"):
        run_learner(sneaky, case="c", forbid={"torch": "NumPy only"})
    assert sys.getprofile() is None


def test_substitute_uses_the_reference_for_earlier_pieces():
    namespace = {}
    exec("def step(x):\n    return x + 100\n\ndef run(xs):\n    return [step(x) for x in xs]", namespace)
    assert run_learner(namespace["run"], ([1, 2],), case="c", substitute={"step": lambda x: x * 2}) == [2, 4]
    assert namespace["step"](1) == 101, "the learner's own function must be put back"


def test_forbid_names_that_do_not_exist_are_the_test_authors_error():
    with pytest.raises(ValueError, match="does not exist"):
        run_learner(lambda: None, case="c", forbid={"torch.no_such_cell": "x"})


def test_run_learner_patching_is_invisible_to_the_grader_guard_and_the_guard_protects_it():
    import io

    from rnncourse.grading import checks
    from rnncourse.grading import guard

    namespace, out = {}, io.StringIO()
    exec("import torch\nfrom rnncourse.grading.checks import run_learner", namespace)
    guard.arm([("torch", "torch", None), ("run_learner", "rnncourse.grading.checks", "run_learner")], stream=out)

    def report():
        guard.report("T0KEN", namespace, "after")
        return out.getvalue().strip().splitlines()[-1].split(":", 3)[2:]

    forbid = {"torch.lstm_cell": "x", "torch.nn.LSTM": "y", "torch.Tensor.backward": "z", "torch": "w"}
    with pytest.raises(AssertionError):
        run_learner(lambda: torch.nn.LSTM(1, 1), case="c", forbid=forbid)
    assert report() == ["ok", ""]
    original = checks.run_learner
    checks.run_learner = lambda *a, **k: None
    state, detail = report()
    assert state == "tampered" and "rnncourse.grading.checks.run_learner was replaced" in detail
    assert checks.run_learner is original


def test_a_reference_substitute_may_use_forbidden_routes():
    namespace = {"np": np}
    exec("def step(x):\n    return x + 100\n\ndef run(xs):\n    return np.array([step(x) for x in xs])", namespace)

    def reference_step(x):  # checking code: torch is allowed here, not in the answer
        return float(torch.tanh(torch.tensor(x)))

    got = run_learner(namespace["run"], ([0.5, 1.0],), case="c", substitute={"step": reference_step},
                      forbid={"torch": "NumPy only", "torch.tanh": "NumPy only"})
    check_close(got, np.tanh([0.5, 1.0]), "run with the reference step")
    exec("def run(xs):\n    return [step(x) + float(torch.ones(1)) for x in xs]", namespace)
    namespace["torch"] = torch
    with pytest.raises(AssertionError, match="used torch: NumPy only"):
        run_learner(namespace["run"], ([0.5],), case="c", substitute={"step": reference_step},
                    forbid={"torch": "NumPy only"})


def test_check_close_names_the_mistake_that_fits():
    expected, without_bias, swapped = np.ones(3), np.zeros(3), np.full(3, 2.0)
    mistakes = {"the bias left out": without_bias, "the gates in the order i, f, o, g": swapped}
    with pytest.raises(AssertionError, match="Hint: your result is what you get with the bias left out."):
        check_close(np.zeros(3), expected, "h", hint="general", mistakes=mistakes)
    with pytest.raises(AssertionError, match="Hint: general$"):
        check_close(np.full(3, 7.0), expected, "h", hint="general", mistakes=mistakes)
    check_close(expected, expected, "h", mistakes=mistakes)


def test_the_specific_route_is_named_before_the_whole_namespace():
    def answer(a):
        t = torch.from_numpy(a)
        return torch.tanh(t).numpy()

    with pytest.raises(AssertionError, match="used torch.tanh: not tanh"):
        run_learner(answer, (np.ones(2),), case="c", forbid={"torch": "NumPy only", "torch.tanh": "not tanh"})


# --- issue 28: decorated answers, operator routes, side effects, messages ------------------------

DECODING = {"rnncourse.nn.decoding.greedy_decode": "write the decoding loop yourself"}


@pytest.mark.parametrize("decorator", [torch.no_grad(), torch.inference_mode(), torch.enable_grad()])
def test_a_decorated_answer_is_not_mistaken_for_a_decorated_refused_function(decorator):
    @decorator
    def greedy_batch(x):
        return x * 2

    assert run_learner(greedy_batch, (torch.ones(2),), case="c", forbid=DECODING).tolist() == [2.0, 2.0]


def test_a_refused_function_is_recognised_beneath_its_decorator():
    from rnncourse.nn.decoding import greedy_decode

    inner = greedy_decode.__wrapped__  # the undecorated function, taken before the check

    def answer():
        return inner(lambda tokens, state: (torch.zeros(len(tokens), 3).log_softmax(-1), state), None, 2,
                     sos=0, eos=1, max_len=3)

    with pytest.raises(AssertionError, match="your answer used rnncourse.nn.decoding.greedy_decode"):
        run_learner(answer, case="c", forbid=DECODING)


@pytest.mark.parametrize("route", [
    lambda q, k, v: torch._C._nn.scaled_dot_product_attention(q, k, v),
    lambda q, k, v: torch.ops.aten.scaled_dot_product_attention(q, k, v),
    lambda q, k, v: torch.ops.aten.scaled_dot_product_attention.default(q, k, v),
])
def test_a_refused_builtin_is_recognised_through_torch_c_and_its_aten_operator(route):
    q = torch.randn(1, 2, 3)
    with pytest.raises(AssertionError, match="used torch.nn.functional.scaled_dot_product_attention"):
        run_learner(route, (q, q, q), case="c", forbid={"torch.nn.functional.scaled_dot_product_attention": "no"})


def test_an_aten_operator_can_be_refused_by_name():
    q = torch.randn(1, 2, 3)
    forbid = {"torch.ops.aten._scaled_dot_product_attention_math": "it returns the weights for you"}
    with pytest.raises(AssertionError, match="used torch.ops.aten._scaled_dot_product_attention_math: it returns"):
        run_learner(lambda: torch.ops.aten._scaled_dot_product_attention_math(q, q, q), case="c", forbid=forbid)
    assert run_learner(lambda: torch.softmax(q @ q.mT, -1) @ q, case="c", forbid=forbid).shape == (1, 2, 3)


def test_numpy_only_accepts_a_grad_mode_decorator():
    @torch.no_grad()
    def numpy_answer(a):
        return np.tanh(a).sum()

    assert run_learner(numpy_answer, (np.ones(3),), case="c", forbid={"torch": "NumPy only"}) == np.tanh(1) * 3


def test_an_answer_that_leaves_grad_mode_off_fails_and_the_mode_is_put_back():
    def generate(x):
        torch.set_grad_enabled(False)
        return x

    with pytest.raises(AssertionError, match=r"your generate left gradient tracking switched off .*torch.no_grad"):
        run_learner(generate, (1,), case="c")
    assert torch.is_grad_enabled()


def test_a_driver_lambda_is_reported_as_the_learners_function_and_line():
    def stream(n):
        yield 1
        raise ValueError("bad")

    with pytest.raises(AssertionError) as caught:
        run_learner(lambda: list(stream(2)), case="c", learner=stream)
    assert re.search(r"your stream raised ValueError: bad \(at line \d+: raise ValueError\(\"bad\"\)\)",
                     str(caught.value)), str(caught.value)


def test_recorded_renames_sees_the_move_and_nothing_outside_the_block(tmp_path):
    import os

    from rnncourse.grading.checks import recorded_renames

    (tmp_path / "a.tmp").write_text("x")
    with recorded_renames() as renames:
        os.replace(tmp_path / "a.tmp", tmp_path / "a")
    (tmp_path / "b").write_text("y")
    os.replace(tmp_path / "b", tmp_path / "c")
    assert renames == [(tmp_path / "a.tmp", tmp_path / "a")]
