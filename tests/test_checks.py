"""The exercise checks fail with messages in the learner's terms, and pass when they should."""

import numpy as np
import pytest
import torch

from rnncourse.checks import check_close, check_equal, check_shape, check_type, numeric_gradient, rel_error


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
    with pytest.raises(AssertionError, match="did you forget to return it"):
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
