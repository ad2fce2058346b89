"""The three scans of rnncourse.nn.scan agree with the loop, in value and gradient, at float64 rounding."""

from __future__ import annotations

import math

import pytest
import torch

from rnncourse.nn.scan import log_scan, parallel_scan, sequential_scan


def problem(N, T, H, seed, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    a = torch.rand(N, T, H, generator=g, dtype=dtype) * 0.98 + 0.01      # in (0, 1), as gates are
    b = torch.rand(N, T, H, generator=g, dtype=dtype) + 0.1              # positive, for log_scan
    h0 = torch.rand(N, H, generator=g, dtype=dtype) + 0.1
    return a, b, h0


def by_hand(a, b, h0):
    """The recurrence written with Python floats, one element at a time."""
    N, T, H = a.shape
    out = torch.empty_like(a)
    for n in range(N):
        for k in range(H):
            h = float(h0[n, k])
            for t in range(T):
                h = float(a[n, t, k]) * h + float(b[n, t, k])
                out[n, t, k] = h
    return out


@pytest.mark.parametrize("T", [1, 2, 3, 5, 8, 13])
def test_every_scan_matches_the_recurrence_by_hand(T):
    a, b, h0 = problem(2, T, 3, seed=T)
    expected = by_hand(a, b, h0)
    torch.testing.assert_close(sequential_scan(a, b, h0), expected, rtol=1e-13, atol=0)
    torch.testing.assert_close(parallel_scan(a, b, h0), expected, rtol=1e-13, atol=0)
    torch.testing.assert_close(log_scan(a.log(), b.log(), h0.log()), expected, rtol=1e-12, atol=0)


def test_no_initial_state_means_zeros():
    a, b, _ = problem(3, 7, 2, seed=1)
    zeros = torch.zeros(3, 2, dtype=torch.float64)
    expected = sequential_scan(a, b, zeros)
    torch.testing.assert_close(sequential_scan(a, b), expected)
    torch.testing.assert_close(parallel_scan(a, b), expected, rtol=1e-13, atol=0)
    torch.testing.assert_close(log_scan(a.log(), b.log()), expected, rtol=1e-12, atol=0)


def test_parallel_scan_handles_signs_that_the_log_scan_cannot():
    g = torch.Generator().manual_seed(3)
    a, b, h0 = (torch.randn(s, generator=g, dtype=torch.float64) for s in ((2, 37, 4), (2, 37, 4), (2, 4)))
    torch.testing.assert_close(parallel_scan(a, b, h0), sequential_scan(a, b, h0), rtol=1e-12, atol=1e-12)


def test_gradients_agree():
    a, b, h0 = (t.requires_grad_() for t in problem(2, 33, 3, seed=4))
    weights = torch.randn(2, 33, 3, dtype=torch.float64)
    grads = []
    for run in (lambda: sequential_scan(a, b, h0), lambda: parallel_scan(a, b, h0),
                lambda: log_scan(a.log(), b.log(), h0.log())):
        grads.append(torch.autograd.grad((run() * weights).sum(), (a, b, h0)))
    for other in grads[1:]:
        for got, expected in zip(other, grads[0]):
            torch.testing.assert_close(got, expected, rtol=1e-11, atol=1e-12)


def test_parallel_and_sequential_agree_at_ten_thousand_steps_in_float64():
    a, b, h0 = problem(2, 10_000, 3, seed=5)
    expected = sequential_scan(a, b, h0)
    torch.testing.assert_close(parallel_scan(a, b, h0), expected, rtol=1e-12, atol=0)
    torch.testing.assert_close(log_scan(a.log(), b.log(), h0.log()), expected, rtol=1e-11, atol=0)


def test_the_parallel_scan_has_logarithmic_depth():
    """Its autograd graph has O(log T) nodes; the loop's has O(T)."""
    def nodes(fn, T):
        a, b, h0 = (t.requires_grad_() for t in problem(1, T, 1, seed=0))
        seen, todo = set(), [fn(a, b, h0).grad_fn]
        while todo:
            node = todo.pop()
            if node is not None and node not in seen:
                seen.add(node)
                todo.extend(f for f, _ in node.next_functions)
        return len(seen)

    assert nodes(parallel_scan, 4096) <= 10 * math.ceil(math.log2(4096))
    assert nodes(parallel_scan, 4096) <= 1.6 * nodes(parallel_scan, 256)
    assert nodes(sequential_scan, 512) >= 512


def test_the_log_scan_survives_where_a_cumulative_product_underflows():
    a, b, h0 = problem(1, 5000, 2, seed=6)
    a = a * 0 + 0.5                                       # 0.5 ** 5000 underflows even in float64
    product = torch.cumprod(a, dim=1)
    naive = product * (h0.unsqueeze(1) + torch.cumsum(b / product, dim=1))
    assert not torch.isfinite(naive).all()               # the division by 0 shows
    result = log_scan(a.log(), b.log(), h0.log())
    assert torch.isfinite(result).all()
    torch.testing.assert_close(result, sequential_scan(a, b, h0), rtol=1e-11, atol=0)


def test_bad_shapes_are_refused_in_the_users_terms():
    a, b, h0 = problem(2, 5, 3, seed=7)
    with pytest.raises(ValueError, match="same shape"):
        parallel_scan(a, b[:, :4])
    with pytest.raises(ValueError, match=r"h0 must be \(batch, H\)"):
        sequential_scan(a, b, h0[:1])
    with pytest.raises(ValueError, match="T = 0"):
        log_scan(a[:, :0], b[:, :0])
