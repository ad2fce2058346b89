"""Drawing the next token from a language model's scores: temperature, top-k and top-p (nucleus).

Given logits :math:`z \\in \\mathbb{R}^V` for one position, sampling at temperature :math:`T > 0`
draws token :math:`i` with probability

.. math::

    p_i = \\frac{\\exp(z_i / T)}{\\sum_{j \\in S} \\exp(z_j / T)} \\quad (i \\in S), \\qquad p_i = 0 \\quad (i \\notin S),

where :math:`S` is the set of tokens still allowed:

- all tokens by default;
- **top-k**: the :math:`k` tokens with the largest logits;
- **top-p** (nucleus, Holtzman et al. 2020): sort the probabilities in decreasing order,
  :math:`p_{(1)} \\ge p_{(2)} \\ge \\dots`, and keep the smallest prefix whose mass reaches
  :math:`p`: tokens :math:`(1), \\dots, (m)` with :math:`m = \\min\\{m : \\sum_{r \\le m} p_{(r)} \\ge p\\}`.

Both filters together apply top-k first, then top-p among the survivors (renormalised).
:math:`T \\to 0` puts all the mass on the largest logit; ``temperature=0`` is that limit: the
argmax (greedy decoding). :math:`T > 1` flattens the distribution (more surprising text),
:math:`T < 1` sharpens it. Temperatures below ``TEMPERATURE_FLOOR`` (``1e-4``) are taken as ``0``
(greedy): there a token only 0.01 below the best logit already has relative probability
:math:`e^{-0.01/10^{-4}} = e^{-100} \\approx 4 \\cdot 10^{-44}`, below float32's smallest normal
number, and far smaller temperatures overflow the division (below about :math:`10^{-38}` the
probabilities become NaN and the draw fails). A temperature that is negative or not finite (NaN,
infinity) is refused with ``ValueError``.

The plain loop this equals, for one row of logits::

    probs = softmax(logits / T)
    order = argsort(probs, descending)
    keep = order[:k]                                   # top-k
    mass = 0; nucleus = []
    for i in keep:                                     # top-p, among the renormalised survivors
        nucleus.append(i); mass += probs[i] / probs[keep].sum()
        if mass >= p: break
    return random.choices(nucleus, weights=probs[nucleus])
"""

from __future__ import annotations

import math

import torch

__all__ = ["sample_token", "TEMPERATURE_FLOOR"]

TEMPERATURE_FLOOR = 1e-4   # below it sampling is greedy (see the module docstring)


def sample_token(
    logits: torch.Tensor,
    *,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Draw one token per row of ``logits``.

    Args:
        logits: ``(batch, vocab)`` unnormalised scores (a ``(vocab,)`` vector is taken as batch 1).
        temperature: a finite ``T >= 0``; the logits are divided by ``T`` before the softmax.
            ``T < TEMPERATURE_FLOOR`` (``0`` included) returns the argmax of each row (no randomness).
        top_k: keep only the ``k`` most likely tokens (``1 <= k``; ``k >= vocab`` keeps all).
        top_p: keep the smallest set of most likely tokens whose probability reaches ``top_p``
            (``0 < top_p <= 1``; ``1`` keeps all).
        generator: a ``torch.Generator`` on the logits' device; the same seed gives the same draws.

    Returns:
        ``LongTensor (batch,)`` of token indices, on the logits' device.
    """
    if not isinstance(logits, torch.Tensor) or not logits.is_floating_point():
        raise TypeError("logits must be a floating-point tensor of shape (batch, vocab).")
    if logits.dim() == 1:
        logits = logits.unsqueeze(0)
    if logits.dim() != 2 or logits.shape[-1] == 0:
        raise ValueError(f"logits must have shape (batch, vocab), got {tuple(logits.shape)}.")
    temperature = float(temperature)
    if not math.isfinite(temperature) or temperature < 0:
        raise ValueError(f"temperature must be a finite number >= 0 (0 means argmax), got {temperature}.")
    if top_k is not None and top_k < 1:
        raise ValueError(f"top_k must be at least 1 (or None for no limit), got {top_k}.")
    if top_p is not None and not 0.0 < top_p <= 1.0:
        raise ValueError(f"top_p must be in (0, 1] (or None for no limit), got {top_p}.")
    if temperature < TEMPERATURE_FLOOR:
        return logits.argmax(dim=-1)

    scores = logits.float() / temperature
    if top_k is not None and top_k < scores.shape[-1]:
        # mask by index, not by value: with ties a threshold could let more than k through
        kept = scores.topk(top_k, dim=-1).indices
        mask = torch.ones_like(scores, dtype=torch.bool).scatter_(-1, kept, False)
        scores = scores.masked_fill(mask, float("-inf"))
    if top_p is not None and top_p < 1.0:
        sorted_scores, order = scores.sort(dim=-1, descending=True)
        probs = sorted_scores.softmax(dim=-1)
        mass_before = probs.cumsum(dim=-1) - probs       # mass of the tokens ranked above each
        drop_sorted = mass_before >= top_p               # the set already reached p without it
        drop = torch.zeros_like(drop_sorted).scatter_(-1, order, drop_sorted)
        scores = scores.masked_fill(drop, float("-inf"))
    probs = scores.softmax(dim=-1)
    return torch.multinomial(probs, 1, generator=generator).squeeze(-1)
