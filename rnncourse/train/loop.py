"""The loop: :func:`fit`, :func:`evaluate` and :func:`predict` (the contract is in
:mod:`rnncourse.train`'s text)."""

from __future__ import annotations

import os
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DistributedSampler
from tqdm.auto import tqdm

from rnncourse.runtime.device import autocast, get_device, make_grad_scaler, seed_everything, to_device
from rnncourse.runtime.progress import progress_bar
from rnncourse.train.checkpoints import load_checkpoint, save_checkpoint
from rnncourse.train.distributed import _distributed, init_distributed, is_main_process
from rnncourse.train.history import History

__all__ = ["Checkpoint", "EarlyStopping", "evaluate", "fit", "predict"]


@dataclass(frozen=True)
class EarlyStopping:
    """Stop after ``patience`` epochs without a better ``monitor`` (``mode`` ``"min"`` or
    ``"max"``), then load the weights of the best epoch into the model. ``monitor`` is any key
    an epoch records (``"valid_loss"``, ``"valid_accuracy"``); without a ``valid_loader`` the
    default ``"valid_loss"`` means ``"train_loss"``. ``fit(early_stopping=3)`` is short for
    ``EarlyStopping(3)``."""

    patience: int
    monitor: str = "valid_loss"
    mode: str = "min"


@dataclass(frozen=True)
class Checkpoint:
    """A file written after every epoch: the latest state (weights, optimizer, scheduler, history,
    random states) and, with early stopping, the best weights under ``"best_model"``.
    ``resume=True`` continues from it exactly, as if never interrupted (an epoch cut short is
    re-run from its start); with no file yet, training starts from scratch.
    ``fit(checkpoint="run.pt")`` is short for ``Checkpoint("run.pt")``."""

    path: str | os.PathLike
    resume: bool = False


def _split(batch, target_index: int | None) -> tuple[list, Any]:
    """``(inputs, target)`` of a batch ``(*inputs, target)``; ``target_index=None``: all inputs."""
    if not isinstance(batch, (tuple, list)) or (target_index is not None and len(batch) < 2):
        raise TypeError(f"the default step reads a batch as (*inputs, target), but got a {type(batch).__name__}; "
                        "pass step=... for this kind of batch")
    inputs = list(batch)
    return inputs, (None if target_index is None else inputs.pop(target_index))


def _default_step(loss_fn: Callable | None, target_index: int) -> Callable:
    if loss_fn is None:
        raise ValueError("pass loss_fn=... (e.g. nn.CrossEntropyLoss()) for batches (*inputs, target), "
                         "or step=... for any other kind of batch")

    def step(model, batch):
        inputs, target = _split(batch, target_index)
        outputs = model(*inputs)
        return {"loss": loss_fn(outputs, target), "n": len(target), "outputs": outputs, "targets": target}

    return step


def _run_pass(model, loader, step, device, amp, *, metrics=None, optimizer=None, scaler=None, clip=None,
              bar=None) -> dict:
    """One pass over ``loader``: training when ``optimizer`` is given. Returns the averages,
    each batch weighted by its ``n``, over all processes."""
    training, was_training, metrics = optimizer is not None, model.training, metrics or {}
    model.train(training)
    if callable(getattr(step, "reset", None)):
        step.reset()
    sums = {"loss": 0.0, "n": 0.0, **{name: 0.0 for name in metrics}}
    with torch.set_grad_enabled(training):
        for i, batch in enumerate(loader, 1):
            with autocast(device, enabled=None if amp else False):
                out = step(model, to_device(batch, device, non_blocking=True))
            if not isinstance(out, dict) or "loss" not in out:
                raise TypeError("a step returns a dict with 'loss' (and optionally 'n', 'outputs', 'targets'), "
                                f"not a {type(out).__name__}: return {{'loss': loss, 'n': batch_size}}")
            if training:
                optimizer.zero_grad(set_to_none=True)
                scaler.scale(out["loss"]).backward()
                if clip is not None:
                    scaler.unscale_(optimizer)
                    torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
                scaler.step(optimizer)
                scaler.update()
            if metrics and not {"outputs", "targets"} <= out.keys():
                raise ValueError("metrics need the step to return a dict with 'outputs' and 'targets'")
            n = float(out.get("n", 1))
            sums["loss"] += out["loss"].detach().float() * n
            sums["n"] += n
            for name, fn in metrics.items():
                sums[name] += float(fn(out["outputs"], out["targets"])) * n
            if bar is not None:
                bar.update()
                if i % 10 == 0:
                    bar.set_postfix(loss=f"{float(sums['loss']) / sums['n']:.4f}", refresh=False)
    model.train(was_training)
    names = list(sums)
    totals = torch.tensor([float(sums[k]) for k in names], dtype=torch.float64,
                          device=device if device.type == "cuda" else "cpu")
    if _distributed():
        dist.all_reduce(totals)
    sums = dict(zip(names, totals.tolist()))
    if sums["n"] == 0:
        raise ValueError("the loader gave no batches")
    n = sums.pop("n")
    return {k: v / n for k, v in sums.items()}


def _model_device(model, device) -> torch.device:
    if device is not None:
        return torch.device(device)
    params = next(model.parameters(), None)
    return params.device if params is not None else get_device()


def evaluate(model, loader, *, loss_fn=None, step=None, metrics=None, device=None, amp: bool = False,
             target_index: int = -1) -> dict[str, float]:
    """The mean loss and ``metrics`` of ``model`` over ``loader`` (no gradients, eval mode):
    ``{"loss": ..., "accuracy": ...}``. Batches and steps as in :func:`fit`; ``device`` defaults to
    where the model's parameters are. Under torchrun every process must call it: the sums are
    added up over the processes."""
    device = _model_device(model, device)
    step = step or _default_step(loss_fn, target_index)
    return _run_pass(model.to(device), loader, step, device, amp, metrics=metrics)


@torch.no_grad()
def predict(model, loader, *, target_index: int | None = -1, device=None, amp: bool = False) -> list[torch.Tensor]:
    """The model's outputs for every batch of ``loader``, in order: one tensor per batch, on the
    CPU (floating outputs as float32), computed in eval mode without gradients.

    A batch is read as in :func:`fit`: ``(*inputs, target)`` calls ``model(*inputs)``
    (``target_index`` says where the target is; ``None``: every element is an input, for data
    without labels). ``device`` defaults to where the model's parameters are.
    ``torch.cat(predict(model, loader))`` joins batches that share their trailing shape.
    Equivalent to::

        model.eval()
        with torch.no_grad():
            outputs = [model(*batch[:-1]).cpu() for batch in loader]
    """
    device = _model_device(model, device)
    was_training = model.training
    model.eval().to(device)
    outputs = []
    for batch in loader:
        inputs, _ = _split(batch, target_index)
        with autocast(device, enabled=None if amp else False):
            out = model(*to_device(inputs, device, non_blocking=True))
        out = out.detach().cpu()
        outputs.append(out.float() if out.is_floating_point() else out)
    model.train(was_training)
    return outputs


def _generators(*loaders) -> list[torch.Generator]:
    """The loaders' own random generators (``DataLoader(generator=g)``), to checkpoint their states."""
    found: list[torch.Generator] = []
    for loader in loaders:
        for obj in (loader, getattr(loader, "sampler", None), getattr(loader, "batch_sampler", None)):
            g = getattr(obj, "generator", None)
            if isinstance(g, torch.Generator) and all(g is not f for f in found):
                found.append(g)
    return found


def fit(model: torch.nn.Module, train_loader, *, optimizer: torch.optim.Optimizer, epochs: int,
        loss_fn: Callable | None = None, step: Callable | None = None, target_index: int = -1,
        valid_loader=None, metrics: dict[str, Callable] | None = None, scheduler=None,
        clip_grad_norm: float | None = None, early_stopping: EarlyStopping | int | None = None,
        checkpoint: Checkpoint | str | os.PathLike | None = None, device: torch.device | str | None = None,
        amp: bool = False, progress: bool = True, seed: int | None = None) -> History:
    """Train ``model`` for ``epochs`` epochs and return its :class:`History`.

    - ``loss_fn`` and ``target_index``, or ``step``: how a batch becomes a loss (the step
      contract is in the module text).
    - ``valid_loader`` and ``metrics``: after each epoch, the validation loss and
      ``{name: fn(outputs, targets) -> float}``, averaged over batches weighted by their size,
      recorded as ``valid_loss`` and ``valid_<name>``.
    - ``scheduler``: stepped once per epoch; a ``ReduceLROnPlateau`` gets ``valid_loss`` (without a
      ``valid_loader``: ``train_loss``).
    - ``clip_grad_norm``: rescale the gradients so their global L2 norm is at most this.
    - ``early_stopping``: an :class:`EarlyStopping` (an int ``k`` is ``EarlyStopping(k)``).
    - ``checkpoint``: a :class:`Checkpoint` (a path is ``Checkpoint(path)``, written but not resumed).
    - ``device``: default :func:`~rnncourse.runtime.device.get_device`; the model is moved there.
    - ``amp=True``: mixed precision where the device default has it (CUDA), see
      :func:`~rnncourse.runtime.device.autocast`; CPU and MPS then train in float32 as before.
    - ``seed``: seeds everything first (shuffling, dropout). Seed before building the model to fix
      its initial weights too.

    In one process, without mixed precision, checkpoints or early stopping, it is equivalent to::

        for epoch in range(1, epochs + 1):
            model.train()
            for batch in train_loader:
                loss = step(model, to_device(batch, device))["loss"]
                optimizer.zero_grad()
                loss.backward()
                if clip_grad_norm is not None:
                    torch.nn.utils.clip_grad_norm_(model.parameters(), clip_grad_norm)
                optimizer.step()
            model.eval()
            with torch.no_grad():               # the n-weighted mean over the batches
                valid_loss = sum(out["loss"] * out["n"] for out in outs) / sum(out["n"] for out in outs)
            if scheduler is not None:
                scheduler.step()                # ReduceLROnPlateau: scheduler.step(valid_loss)
    """
    step = _choose_step(step, loss_fn, target_index)
    early_stopping, checkpoint = _as_early_stopping(early_stopping), _as_checkpoint(checkpoint)
    if seed is not None:
        seed_everything(seed)
    device = _join(device)
    monitor, mode = _monitor(early_stopping, valid_loader, metrics)
    model.to(device)
    scaler = make_grad_scaler(device, enabled=None if amp else False)
    generators = _generators(train_loader, valid_loader)
    history, best_state = _start_or_resume(checkpoint, model, generators, monitor=monitor, mode=mode,
                                           optimizer=optimizer, scheduler=scheduler, scaler=scaler)
    net = _wrap_for_processes(model, train_loader)
    show = progress and is_main_process()
    with _progress(train_loader, epochs, done=len(history), show=show) as bar:
        for epoch in range(len(history) + 1, epochs + 1):
            if _stale(history, early_stopping):
                break
            _set_epoch(train_loader, epoch)
            start, lr = time.perf_counter(), optimizer.param_groups[0]["lr"]
            record = {"epoch": epoch, "train_loss": _run_pass(net, train_loader, step, device, amp, optimizer=optimizer,
                                                              scaler=scaler, clip=clip_grad_norm, bar=bar)["loss"]}
            if valid_loader is not None:
                scores = _run_pass(model, valid_loader, step, device, amp, metrics=metrics)
                record.update({f"valid_{k}": v for k, v in scores.items()})
            record.update(lr=lr, seconds=time.perf_counter() - start)
            history.records.append(record)
            _step_scheduler(scheduler, record)
            if early_stopping and history.best_epoch == epoch:
                best_state = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
            if checkpoint is not None and is_main_process():
                save_checkpoint(checkpoint.path, model, optimizer=optimizer, scheduler=scheduler, scaler=scaler,
                                epoch=epoch, history=history, best_model=best_state,
                                generators=[g.get_state() for g in generators])
            if show:
                bar.write(_epoch_line(record, epochs, history))
    _restore_best(model, history, early_stopping, best_state, epochs, show)
    return history


# ----------------------------------------------------------------------------- fit's steps
def _choose_step(step, loss_fn, target_index: int) -> Callable:
    if step is not None and loss_fn is not None:
        raise ValueError("give loss_fn or step, not both: a step computes its own loss")
    return step or _default_step(loss_fn, target_index)


def _as_early_stopping(early_stopping) -> EarlyStopping | None:
    if isinstance(early_stopping, int) and not isinstance(early_stopping, bool):
        return EarlyStopping(early_stopping)
    return early_stopping


def _as_checkpoint(checkpoint) -> Checkpoint | None:
    return checkpoint if checkpoint is None or isinstance(checkpoint, Checkpoint) else Checkpoint(checkpoint)


def _under_torchrun() -> bool:
    return _distributed() or int(os.environ.get("WORLD_SIZE", "1")) > 1


def _join(device) -> torch.device:
    """The device to train on; under torchrun, join the process group first."""
    if device is None:
        return init_distributed() if _under_torchrun() else get_device()
    if _under_torchrun():
        init_distributed()
    return torch.device(device)


def _monitor(early_stopping, valid_loader, metrics) -> tuple[str, str]:
    """What the best epoch is judged by: ``(key, "min" | "max")``, checked to be measured."""
    monitor, mode = (early_stopping.monitor, early_stopping.mode) if early_stopping else ("valid_loss", "min")
    if valid_loader is None and monitor == "valid_loss":
        monitor = "train_loss"
    measured = ["train_loss"] + ([] if valid_loader is None else ["valid_loss", *(f"valid_{m}" for m in metrics or {})])
    if monitor not in measured:
        raise ValueError(f"{monitor!r} is not measured; each epoch measures {', '.join(measured)}")
    return monitor, mode


def _start_or_resume(checkpoint, model, generators, *, monitor, mode, optimizer, scheduler, scaler):
    """A new history, or the checkpoint's history, best weights and generator states."""
    if checkpoint is None or not checkpoint.resume or not Path(checkpoint.path).exists():
        return History(monitor=monitor, mode=mode), None
    state = load_checkpoint(checkpoint.path, model, optimizer=optimizer, scheduler=scheduler, scaler=scaler,
                            restore_rng=True)
    for g, g_state in zip(generators, state.get("generators", [])):
        g.set_state(g_state)
    return History.from_dict(state["history"]), state.get("best_model")


def _wrap_for_processes(model, train_loader):
    """Under torchrun, the model wrapped so its processes keep their gradients in sync."""
    if not _under_torchrun():
        return model
    if not isinstance(getattr(train_loader, "sampler", None), DistributedSampler):
        warnings.warn("under torchrun every process reads the whole train_loader; build it with "
                      "distributed_loader(...) so each process gets its share", stacklevel=3)
    return DistributedDataParallel(model, device_ids=None)


def _progress(train_loader, epochs: int, *, done: int, show: bool):
    """One bar over every batch of every epoch: redraws in place in a terminal or notebook, a line
    now and then in a log (:mod:`rnncourse.runtime.progress`)."""
    try:
        per_epoch = len(train_loader)
    except TypeError:
        per_epoch = None
    return progress_bar(total=per_epoch and per_epoch * epochs, initial=(per_epoch or 0) * done,
                        desc="fit", unit="batch", disable=not show, dynamic_ncols=True)


def _stale(history: History, early_stopping) -> bool:
    """Whether ``patience`` epochs have passed without a better monitored value."""
    best = history.best_epoch
    return bool(early_stopping and history.records and
                history[-1]["epoch"] - (best if best is not None else 0) >= early_stopping.patience)


def _set_epoch(train_loader, epoch: int) -> None:
    """Tell a distributed or bucketing sampler the epoch, so each epoch shuffles anew."""
    for sampler in (getattr(train_loader, "sampler", None), getattr(train_loader, "batch_sampler", None)):
        if hasattr(sampler, "set_epoch"):
            sampler.set_epoch(epoch)


def _step_scheduler(scheduler, record: dict) -> None:
    """Once per epoch; a ``ReduceLROnPlateau`` gets ``valid_loss`` (or ``train_loss`` without validation)."""
    if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
        scheduler.step(record.get("valid_loss", record["train_loss"]))
    elif scheduler is not None:
        scheduler.step()


def _epoch_line(record: dict, epochs: int, history: History) -> str:
    cells = [f"{k} {v:.4g}" for k, v in record.items() if k not in ("epoch", "seconds")]
    mark = " *" if history.best_epoch == record["epoch"] else ""
    return f"epoch {record['epoch']}/{epochs}  " + "  ".join(cells) + f"  {record['seconds']:.1f}s{mark}"


def _restore_best(model, history: History, early_stopping, best_state, epochs: int, show: bool) -> None:
    """With early stopping, load the best epoch's weights back into the model, and say so."""
    if not early_stopping or best_state is None:
        return
    model.load_state_dict(best_state)
    if show:
        early = (f"stopped early, no better {history.monitor} for {early_stopping.patience} epochs; "
                 if len(history) < epochs else "")
        tqdm.write(f"{early}restored the weights of epoch {history.best_epoch} (best {history.monitor})")
