"""rnncourse.nn.sampling.sample_token: the properties chapters 7 and 8 rely on."""

from __future__ import annotations

import pytest
import torch

from rnncourse.nn.sampling import TEMPERATURE_FLOOR, sample_token


def _logits(batch=4, vocab=30, seed=0):
    return torch.randn(batch, vocab, generator=torch.Generator().manual_seed(seed)) * 3


def test_temperature_zero_is_argmax_and_small_temperature_approaches_it():
    logits = _logits()
    assert torch.equal(sample_token(logits, temperature=0), logits.argmax(-1))
    g = torch.Generator().manual_seed(1)
    for _ in range(20):
        assert torch.equal(sample_token(logits, temperature=1e-4, generator=g), logits.argmax(-1))


def test_shape_dtype_and_vector_input():
    out = sample_token(_logits(5, 7))
    assert out.shape == (5,) and out.dtype == torch.long
    assert sample_token(torch.randn(7)).shape == (1,)


@pytest.mark.parametrize("k", [1, 3, 10])
def test_top_k_never_leaves_the_k_most_likely(k):
    logits = _logits(8, 40, seed=k)
    allowed = logits.topk(k, dim=-1).indices
    g = torch.Generator().manual_seed(0)
    for _ in range(200):
        draws = sample_token(logits, temperature=2.0, top_k=k, generator=g)
        assert (allowed == draws[:, None]).any(-1).all()


def test_top_k_with_ties_keeps_exactly_k():
    logits = torch.zeros(1, 10)                      # all tied: only k distinct tokens may appear
    g = torch.Generator().manual_seed(0)
    seen = {int(sample_token(logits, top_k=3, generator=g)) for _ in range(300)}
    assert len(seen) == 3


def test_top_p_keeps_the_smallest_set_reaching_p():
    probs = torch.tensor([[0.5, 0.3, 0.15, 0.05]])
    logits = probs.log()
    g = torch.Generator().manual_seed(0)
    for p, expected in [(0.5, {0}), (0.55, {0, 1}), (0.8, {0, 1}), (0.81, {0, 1, 2}), (1.0, {0, 1, 2, 3})]:
        seen = {int(sample_token(logits, top_p=p, generator=g)) for _ in range(400)}
        assert seen == expected, (p, seen)


def test_top_p_is_computed_per_row():
    logits = torch.tensor([[10.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    g = torch.Generator().manual_seed(0)
    draws = torch.stack([sample_token(logits, top_p=0.9, generator=g) for _ in range(300)])
    assert set(draws[:, 0].tolist()) == {0}
    assert set(draws[:, 1].tolist()) == {0, 1, 2}


def test_frequencies_follow_softmax_at_temperature():
    logits = torch.tensor([[1.0, 0.0, -1.0]])
    g = torch.Generator().manual_seed(0)
    draws = torch.stack([sample_token(logits.expand(1000, 3), temperature=2.0, generator=g) for _ in range(10)])
    freq = torch.bincount(draws.flatten(), minlength=3).float() / draws.numel()
    assert torch.allclose(freq, (logits[0] / 2).softmax(-1), atol=0.02)


def test_same_seed_same_draws():
    logits = _logits(16, 50)
    a = sample_token(logits, top_k=20, top_p=0.9, generator=torch.Generator().manual_seed(7))
    b = sample_token(logits, top_k=20, top_p=0.9, generator=torch.Generator().manual_seed(7))
    assert torch.equal(a, b)


def test_temperatures_below_the_floor_are_greedy_even_where_the_division_overflows():
    logits = _logits()
    for temperature in (TEMPERATURE_FLOOR / 2, 1e-20, 1e-39, 5e-324):
        assert torch.equal(sample_token(logits, temperature=temperature), logits.argmax(-1))


@pytest.mark.parametrize("temperature", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_temperatures_are_a_value_error_saying_so(temperature):
    with pytest.raises(ValueError, match="temperature must be a finite number"):
        sample_token(_logits(), temperature=temperature)


@pytest.mark.parametrize("kwargs, words", [({"temperature": -1}, "temperature"), ({"top_k": 0}, "top_k"),
                                           ({"top_p": 0.0}, "top_p"), ({"top_p": 1.5}, "top_p")])
def test_bad_arguments_are_named(kwargs, words):
    with pytest.raises(ValueError, match=words):
        sample_token(_logits(), **kwargs)


def test_integer_logits_are_refused():
    with pytest.raises(TypeError, match="floating"):
        sample_token(torch.ones(2, 3, dtype=torch.long))
