"""The linear recurrence ``h_t = a_t * h_{t-1} + b_t`` and three ways to compute all of its states.

Shapes: ``a`` and ``b`` are ``(batch, T, H)`` (time on dimension 1, as ``batch_first``), the
initial state ``h0`` is ``(batch, H)`` (``None``: zeros); each function returns every state
``h (batch, T, H)``, with ``h[:, t]`` the state after reading step ``t`` (so ``h[:, -1]`` is the
final state to carry on)::

    h_1 = a_1 h_0 + b_1,   h_2 = a_2 h_1 + b_2 = a_2 a_1 h_0 + a_2 b_1 + b_2,   ...

- :func:`sequential_scan`: the loop, ``T`` steps one after the other (depth ``T``); the reference.
- :func:`parallel_scan`: Hillis and Steele's scan. Step ``t`` is the affine map
  ``h -> A h + B`` with ``(A, B) = (a_t, b_t)``; two maps compose as
  ``(A1, B1) then (A2, B2) = (A2 A1, A2 B1 + B2)``, which is associative, so after the rounds
  ``d = 1, 2, 4, ...`` (each combining every position with the one ``d`` before it, all positions
  at once) position ``t`` holds the composition of steps ``1..t``. ``ceil(log2 T)`` rounds of
  element-wise work: depth ``O(log T)``, work ``O(T log T)``.
- :func:`log_scan`: Heinsen's closed form (2023). With ``a*_t = sum_{k<=t} log a_k``,
  ``h_t = exp(a*_t) (h_0 + sum_{k<=t} b_k exp(-a*_k))``, computed in log space as
  ``log h_t = a*_t + logcumsumexp_k(log b_k - a*_k)`` (with ``log h_0`` as term 0). It takes
  ``log a`` and ``log b`` (so ``b`` and ``h_0`` must be positive) and returns ``h``. The same
  formula with a plain cumulative product, ``cumprod(a)``, underflows to 0 at long ``T`` and the
  division by it gives ``inf``/``nan``; the log form never forms ``exp(-a*_k)`` on its own.

All three are differentiable with autograd and agree to float64 rounding.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["sequential_scan", "parallel_scan", "log_scan"]


def _check(a: torch.Tensor, b: torch.Tensor, h0: torch.Tensor | None, names=("a", "b")) -> None:
    if a.dim() != 3 or a.shape != b.shape:
        raise ValueError(f"{names[0]} and {names[1]} must both be (batch, T, H) and of the same shape, "
                         f"got {tuple(a.shape)} and {tuple(b.shape)}.")
    if a.shape[1] < 1:
        raise ValueError("the sequence is empty (T = 0): a scan needs at least one step.")
    if h0 is not None and h0.shape != (a.shape[0], a.shape[2]):
        raise ValueError(f"h0 must be (batch, H) = {(a.shape[0], a.shape[2])}, got {tuple(h0.shape)}.")


def sequential_scan(a: torch.Tensor, b: torch.Tensor, h0: torch.Tensor | None = None) -> torch.Tensor:
    """Every state of ``h_t = a_t * h_{t-1} + b_t`` by a loop over time: ``(batch, T, H)``."""
    _check(a, b, h0)
    h = torch.zeros_like(b[:, 0]) if h0 is None else h0
    states = []
    for a_t, b_t in zip(a.unbind(1), b.unbind(1)):   # unbind once: indexing a[:, t] in the loop
        h = a_t * h + b_t                             # would make backward write a full-size
        states.append(h)                              # gradient per step, O(T^2) work
    return torch.stack(states, dim=1)


def parallel_scan(a: torch.Tensor, b: torch.Tensor, h0: torch.Tensor | None = None) -> torch.Tensor:
    """Every state of ``h_t = a_t * h_{t-1} + b_t`` in ``ceil(log2 T)`` rounds (Hillis-Steele).

    After the round with offset ``d``, ``(A_t, B_t)`` is the composition of the steps
    ``max(1, t-2d+1)..t``; the positions before ``d`` have nothing ``d`` steps back and keep
    their value (they are padded with the identity map ``(1, 0)``). Finally ``h_t = A_t h_0 + B_t``.
    """
    _check(a, b, h0)
    A, B = a, b
    T, d = a.shape[1], 1
    while d < T:                               # log2(T) rounds, each over every position at once
        A_prev = F.pad(A[:, :-d], (0, 0, d, 0), value=1.0)   # (A_{t-d}), identity before the start
        B_prev = F.pad(B[:, :-d], (0, 0, d, 0), value=0.0)
        A, B = A * A_prev, A * B_prev + B
        d *= 2
    return B if h0 is None else A * h0.unsqueeze(1) + B


def log_scan(log_a: torch.Tensor, log_b: torch.Tensor, log_h0: torch.Tensor | None = None) -> torch.Tensor:
    """Every state of ``h_t = a_t * h_{t-1} + b_t`` from ``log a``, ``log b`` and ``log h0``
    (``None``: ``h0 = 0``), in log space (Heinsen 2023): ``(batch, T, H)``, the states themselves.

    ``a*_t = cumsum(log a)``; ``log h_t = a*_t + logcumsumexp(log b_k - a*_k)``, the ``h0`` term
    entering as term 0 with ``a*_0 = 0``. Stable where ``cumprod(a)`` underflows.
    """
    _check(log_a, log_b, log_h0, names=("log_a", "log_b"))
    a_star = torch.cumsum(log_a, dim=1)                                   # (batch, T, H)
    terms = log_b - a_star
    if log_h0 is not None:
        terms = torch.cat([log_h0.unsqueeze(1), terms], dim=1)            # (batch, T+1, H)
        return torch.exp(a_star + torch.logcumsumexp(terms, dim=1)[:, 1:])
    return torch.exp(a_star + torch.logcumsumexp(terms, dim=1))
