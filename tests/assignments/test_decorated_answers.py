"""A correct answer keeps full marks when it is decorated with ``@torch.no_grad()`` or
``@torch.inference_mode()``, a habit the chapters teach for code that only evaluates.

Every top-level function of every answer cell of the source notebook is decorated (rebound as
``f = torch.no_grad()(f)``, what the decorator line does), except the ones whose exercise is
to compute gradients, and the notebook is graded through :func:`rnncourse.grading.grade_notebooks`,
the route ``rnncourse grade`` takes. Refusing such an answer was a real bug: torch wraps every
decorated function in the same code, which the refusals took for a refused decorated function.
"""

from __future__ import annotations

import ast

import pytest

from rnncourse.grading.assignments import assignment_names, graded_cells, read_source

# answers whose exercise needs gradients (they train, or the test follows their result with
# autograd): decorating them with no_grad is a real mistake, which the tests rightly catch
NEEDS_GRADIENTS = {
    ("00-getting-started", "rnn_step"): "the test differentiates h_t with autograd",
    ("04-padding-packing", "masked_mean"): "the test checks the gradient it sends to the padding",
    ("04-padding-packing", "masked_max"): "the test checks the gradient it sends to the padding",
    ("04-padding-packing", "masked_cross_entropy"): "a loss: the test differentiates it",
    ("06-imdb-sentiment", "train_epoch"): "it trains",
    ("07-char-generation", "train_stream"): "it trains",
    **{("09-parallel-recurrence", f): "the test differentiates through the scan"
       for f in ("sequential_scan", "parallel_scan", "log_scan", "mingru_forward")},
}
DECORATORS = {"no_grad": "torch.no_grad()", "inference_mode": "torch.inference_mode()"}


def decorated(name: str, decorator: str):
    """The source notebook of ``name`` with every answer function wrapped in ``decorator``."""
    nb = read_source(name)
    for cell in nb.cells:
        if not cell.metadata.get("nbgrader", {}).get("grade_id", "").endswith("-answer"):
            continue
        functions = [node.name for node in ast.parse(cell.source).body
                     if isinstance(node, ast.FunctionDef) and (name, node.name) not in NEEDS_GRADIENTS]
        if functions:
            cell.source += ("\n\nimport torch as _torch_for_decorating\n"
                            + "".join(f"{f} = _torch_for_decorating.{decorator.replace('torch.', '')}({f})\n"
                                      for f in functions))
    return nb


@pytest.mark.slow
@pytest.mark.parametrize("name", assignment_names())
def test_a_correct_answer_decorated_with_no_grad_or_inference_mode_keeps_full_marks(name, tmp_path):
    from rnncourse.grading import grade_notebooks

    notebooks = {student: decorated(name, decorator) for student, decorator in DECORATORS.items()}
    scores = grade_notebooks(name, notebooks, out=tmp_path / "out")
    maximum = {c.grade_id: c.points for c in graded_cells(read_source(name))}
    lost = {student: {k: f"{v} of {maximum[k]}" for k, v in got.items() if v != maximum[k]}
            for student, got in scores.items()}
    assert not any(lost.values()), f"{name}: a decorated correct answer lost points: {lost}"
