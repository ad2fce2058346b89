"""The small GPT that ``benchmarks/charlm.py`` sets beside chapter 7's LSTM, trained like for like.

nanoGPT's CPU recipe for tiny-shakespeare (its README: 4 layers, 4 heads, 128 dimensions, context
64, batch 12, no dropout; AdamW at 1e-3 with betas (0.9, 0.99), weight decay 0.1 on the matrices,
100 warm-up iterations, a cosine down to 1e-4, gradients clipped at 1) with the course's own
:class:`rnncourse.nn.gpt.GPT`. Instead of nanoGPT's 2,000 iterations it trains for the same budget
of the same clock as the chapter's LSTM (this process's CPU time on a CPU), cut into as many
slices, on the same training text, and after every slice it is scored on the whole validation
split in windows of its context, each read from nothing: the metric the LSTM is scored with too.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from rnncourse.nn.gpt import GPT, GPTConfig

RECIPE = dict(batch_size=12, lr=1e-3, min_lr=1e-4, betas=(0.9, 0.99), weight_decay=0.1, warmup=100,
              clip=1.0)


class RandomWindows:
    """nanoGPT's batches, without end: ``batch_size`` windows of ``context + 1`` ids at random
    offsets of ``data``, as inputs ``(batch, context)`` and targets shifted by one."""

    def __init__(self, data: torch.Tensor, batch_size: int, context: int, seed: int = 0) -> None:
        self.data, self.batch_size, self.context = data, batch_size, context
        self.generator = torch.Generator().manual_seed(seed)

    def __iter__(self):
        while True:
            starts = torch.randint(len(self.data) - self.context - 1, (self.batch_size,),
                                   generator=self.generator)
            rows = torch.stack([self.data[s:s + self.context + 1] for s in starts.tolist()])
            yield rows[:, :-1], rows[:, 1:]


class FromZeros:
    """A step for ``fit``: every batch from a zero state (an empty context), the logits of
    ``model(x)`` (or its first element) scored against ``y``. In training it first steps
    ``scheduler`` (after the previous batch's optimizer step, as PyTorch requires)."""

    def __init__(self, scheduler=None) -> None:
        self.scheduler, self.started = scheduler, False

    def __call__(self, model, batch):
        if model.training and self.scheduler is not None:
            if self.started:
                self.scheduler.step()
            self.started = True
        x, y = batch
        out = model(x)
        logits = out[0] if isinstance(out, tuple) else out
        return {"loss": F.cross_entropy(logits.flatten(0, 1), y.flatten()), "n": y.numel()}


def warmup_cosine(warmup: int, seconds: float, clock, floor: float) -> callable:
    """LambdaLR factor: linear warm-up over ``warmup`` iterations, then nanoGPT's cosine from 1
    to ``floor`` over ``seconds`` of ``clock`` (the budget) instead of over a number of steps."""

    def factor(iteration: int) -> float:
        done = min(clock() / seconds, 1.0)
        cosine = floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * done))
        return min(1.0, (iteration + 1) / (warmup + 1)) * cosine

    return factor


def train_gpt(ns: dict, seconds: float, slices: int, valid, *, seed: int = 0, progress: bool = True):
    """Train nanoGPT's CPU recipe for ``seconds`` of the page's ``CLOCK`` in ``slices`` slices
    (``ns`` is chapter 7's pipeline namespace), validating after each on ``valid`` batches.
    Returns the model, its history, the training seconds and the iterations."""
    ns["seed_everything"](seed)
    model = GPT(GPTConfig(vocab_size=len(ns["itos"])))
    loader = RandomWindows(ns["train_data"], RECIPE["batch_size"], model.cfg.context, seed)
    timed = ns["TimeSlices"](loader, seconds / slices, ns["CLOCK"])
    optimizer = torch.optim.AdamW(model.param_groups(RECIPE["weight_decay"]), lr=RECIPE["lr"],
                                  betas=RECIPE["betas"])
    factor = warmup_cosine(RECIPE["warmup"], seconds, timed.elapsed, RECIPE["min_lr"] / RECIPE["lr"])
    step = FromZeros(torch.optim.lr_scheduler.LambdaLR(optimizer, factor))
    history = ns["fit"](model, timed, optimizer=optimizer, epochs=slices, step=step, valid_loader=valid,
                        clip_grad_norm=RECIPE["clip"], device=ns["device"], progress=progress)
    return model, history, timed.seconds, timed.batches
