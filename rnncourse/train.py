"""The one training loop of the course: :func:`fit`, :func:`evaluate`, :func:`predict` and the
:class:`History`.

Every chapter trains through :func:`fit`, on CUDA, MPS or the CPU, in one process or several
(``torchrun``). By default a batch is ``(*inputs, target)`` and the loss is
``loss_fn(model(*inputs), target)``::

    history = fit(model, train_loader, optimizer=torch.optim.AdamW(model.parameters(), 1e-3),
                  loss_fn=nn.CrossEntropyLoss(), epochs=10, valid_loader=valid_loader,
                  metrics={"accuracy": accuracy}, early_stopping=EarlyStopping(patience=3))
    history.plot()
    logits = predict(model, test_loader)        # one tensor of outputs per batch, in order

So a batch ``(x, lengths, y)`` calls ``model(x, lengths)``; ``target_index=1`` reads a batch
``(x, y, lengths)`` as target ``y`` and inputs ``(x, lengths)``.

**The step contract.** For any other batch pass ``step(model, batch) -> dict``: ``"loss"`` (the
batch's mean loss, a scalar tensor) and optionally ``"n"`` (the batch's weight in the epoch's
average, default 1), ``"outputs"`` and ``"targets"`` (what ``metrics`` receive; needed when there
are metrics). A step runs the model as ``model(...)``: under torchrun that call is what keeps the
processes' gradients in sync. A step object may also define ``reset()``, called before every pass
over a loader: this is how a character LM carries its hidden state across batches (truncated BPTT)::

    class CarryHidden:
        def __init__(self):
            self.hidden = None
        def reset(self):                       # a new pass over the text: start from zeros
            self.hidden = None
        def __call__(self, model, batch):
            x, y = batch                       # (batch, bptt): the next chunk of each stream
            logits, hidden = model(x, self.hidden)              # logits: (batch, bptt, vocab)
            # keep the state but cut the graph: gradients stop at the start of this chunk
            self.hidden = tuple(h.detach() for h in hidden) if isinstance(hidden, tuple) else hidden.detach()
            loss = F.cross_entropy(logits.flatten(0, 1), y.flatten())
            return {"loss": loss, "n": y.numel(), "outputs": logits, "targets": y}

    fit(model, stream_loader, optimizer=opt, epochs=20, step=CarryHidden(), clip_grad_norm=1.0)

Under ``torchrun`` :func:`fit` joins the process group, wraps the model in
``DistributedDataParallel`` (NCCL on GPUs, gloo on the CPU), averages the losses over all
processes, and only rank 0 shows progress and writes checkpoints. Build the training loader with
:func:`distributed_loader`, which gives each process its share of every global batch. The same
script then runs as ``python train.py``, ``torchrun --nproc_per_node=4 train.py`` (four GPUs) or
``torchrun --nnodes=2 --node_rank=R --nproc_per_node=8 --master_addr=HOST --master_port=29500 train.py``.
"""

from __future__ import annotations

import math
import os
import random
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler
from tqdm.auto import tqdm

from rnncourse.runtime.device import autocast, get_device, loader_kwargs, make_grad_scaler, seed_everything, to_device
from rnncourse.runtime.files import atomic_path
from rnncourse.runtime.progress import progress_bar

__all__ = ["History", "EarlyStopping", "Checkpoint", "fit", "evaluate", "predict", "save_checkpoint",
           "load_checkpoint", "init_distributed", "is_main_process", "distributed_loader"]


class History:
    """One record per epoch: ``epoch``, ``train_loss``, ``valid_loss``, ``valid_<metric>``, ``lr``
    (at the epoch's start) and ``seconds``. ``history["valid_loss"]`` is a list over epochs,
    ``history[-1]`` the last record; ``best_epoch`` is the epoch with the best ``monitor`` value."""

    def __init__(self, records: list[dict] | None = None, *, monitor: str = "valid_loss", mode: str = "min"):
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', not {mode!r}")
        self.records, self.monitor, self.mode = list(records or []), monitor, mode

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, key: str | int):
        return self.records[key] if isinstance(key, int) else [r.get(key) for r in self.records]

    def keys(self) -> list[str]:
        return list(dict.fromkeys(k for r in self.records for k in r))

    @property
    def best_epoch(self) -> int | None:
        scored = [(r[self.monitor], r["epoch"]) for r in self.records
                  if r.get(self.monitor) is not None and not math.isnan(r[self.monitor])]
        return (min if self.mode == "min" else max)(scored, key=lambda s: s[0])[1] if scored else None

    def as_dict(self) -> dict:
        """Plain lists and numbers (JSON-able): ``History.from_dict(json.loads(json.dumps(h.as_dict())))``."""
        return {"monitor": self.monitor, "mode": self.mode, "records": [dict(r) for r in self.records]}

    @classmethod
    def from_dict(cls, state: dict) -> History:
        return cls(state["records"], monitor=state["monitor"], mode=state["mode"])

    def table(self):
        """The records as a :class:`rnncourse.plot.Table` (HTML in a notebook, text elsewhere)."""
        from rnncourse.plot import Table

        return Table(self.records, self.keys(), title=f"best epoch: {self.best_epoch} ({self.monitor})")

    def _repr_html_(self) -> str:
        return self.table()._repr_html_()

    def __repr__(self) -> str:
        return str(self.table())

    def plot(self, *, title: str | None = None):
        """Loss curves (train and validation) and, beside them, the validation metrics, with the
        best epoch marked. Returns the matplotlib ``Figure``: a notebook shows it as a cell's last
        value (``history.plot()``); a script saves it (``history.plot().savefig("curves.png")``)."""
        import matplotlib.pyplot as plt
        from matplotlib.ticker import MaxNLocator

        keys = self.keys()
        metrics = [k for k in keys if k.startswith("valid_") and k != "valid_loss"]
        panels = [[k for k in ("train_loss", "valid_loss") if k in keys]] + ([metrics] if metrics else [])
        fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 3.8), squeeze=False)
        for ax, names in zip(axes[0], panels):
            for name in names:
                ax.plot(self["epoch"], self[name], marker="o", markersize=3, label=name.replace("_", " "))
            if self.best_epoch is not None:
                ax.axvline(self.best_epoch, color="grey", linestyle="--", linewidth=1,
                           label=f"best epoch ({self.best_epoch})")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ylabel = "loss" if names is panels[0] else names[0].removeprefix("valid_") if len(names) == 1 else "metric"
            ax.set(xlabel="epoch", ylabel=ylabel)
            ax.grid(True, alpha=0.3)
            ax.legend()
        if title:
            fig.suptitle(title)
        fig.tight_layout()
        plt.close(fig)  # shown once as a cell's value; left open, Jupyter would also show it at the cell's end
        return fig


# ----------------------------------------------------------------------------- checkpoints
def _unwrap(model: torch.nn.Module) -> torch.nn.Module:
    return model.module if isinstance(model, DistributedDataParallel) else model


def _rng_state() -> dict:
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    state = {"python": random.getstate(), "numpy": (kind, keys.tolist(), pos, has_gauss, gauss),
             "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    if torch.backends.mps.is_available():
        state["mps"] = torch.mps.get_rng_state()
    return state


def _set_rng_state(state: dict) -> None:
    random.setstate(state["python"])
    kind, keys, *rest = state["numpy"]
    np.random.set_state((kind, np.array(keys, dtype=np.uint32), *rest))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    if "mps" in state and torch.backends.mps.is_available():
        torch.mps.set_rng_state(state["mps"])


def save_checkpoint(path: str | os.PathLike, model: torch.nn.Module, *, optimizer=None, scheduler=None,
                    scaler=None, epoch: int | None = None, history: History | None = None, **extra: Any) -> None:
    """Write the model's weights, the training state (optimizer, scheduler, scaler: whichever
    are given), ``epoch``, ``history``, the random generators' states and any ``extra`` plain values
    (a vocabulary, a version) to ``path``, atomically: a crash mid-write leaves the old file whole."""
    state = {"model": _unwrap(model).state_dict(), "epoch": epoch, "rng": _rng_state(), **extra}
    for name, obj in (("optimizer", optimizer), ("scheduler", scheduler), ("scaler", scaler)):
        if obj is not None:
            state[name] = obj.state_dict()
    if history is not None:
        state["history"] = history.as_dict()
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def load_checkpoint(path: str | os.PathLike, model: torch.nn.Module | None = None, *, optimizer=None,
                    scheduler=None, scaler=None, restore_rng: bool = False, map_location="cpu") -> dict:
    """Load a :func:`save_checkpoint` file into whichever of ``model``, ``optimizer``, ``scheduler``
    and ``scaler`` are given (and the random generators if ``restore_rng``); return its contents.
    Only tensors and plain Python values are unpickled (``weights_only=True``), so a checkpoint
    from elsewhere cannot run code."""
    state = torch.load(path, map_location=map_location, weights_only=True)
    if model is not None:
        _unwrap(model).load_state_dict(state["model"])
    for name, obj in (("optimizer", optimizer), ("scheduler", scheduler), ("scaler", scaler)):
        if obj is not None and name in state:
            obj.load_state_dict(state[name])
    if restore_rng:
        _set_rng_state(state["rng"])
    return state


# ----------------------------------------------------------------------------- distributed
def _distributed() -> bool:
    return dist.is_available() and dist.is_initialized()


def init_distributed() -> torch.device:
    """Join the process group when started by ``torchrun`` (``WORLD_SIZE`` > 1) and return this
    process's device: ``cuda:LOCAL_RANK`` with the NCCL backend when the device is CUDA, else the
    CPU with gloo (PyTorch has no process group for MPS). Without torchrun it does nothing and
    returns :func:`~rnncourse.runtime.device.get_device`. Safe to call again; :func:`fit` calls it itself."""
    if not _distributed() and int(os.environ.get("WORLD_SIZE", "1")) > 1:
        cuda = get_device().type == "cuda"
        if cuda:
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group("nccl" if cuda else "gloo")
    if not _distributed():
        return get_device()
    if dist.get_backend() == "nccl":
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", torch.cuda.current_device())))
    return torch.device("cpu")


def is_main_process() -> bool:
    """True in a single process and in rank 0 under torchrun: the process that prints and saves."""
    return dist.get_rank() == 0 if _distributed() else int(os.environ.get("RANK", "0")) == 0


def distributed_loader(dataset, batch_size: int, *, shuffle: bool = True, seed: int = 0, drop_last: bool = False,
                       device: torch.device | str | None = None, **kwargs: Any) -> DataLoader:
    """A ``DataLoader`` whose *global* batch is ``batch_size``, in one process or under torchrun.

    With N processes each gets ``batch_size // N`` examples of every global batch through a
    ``DistributedSampler`` (its order is a function of ``seed`` and the epoch, which :func:`fit`
    sets), so one process and N processes see the same global batches. Worker and pinned-memory
    settings come from :func:`~rnncourse.runtime.device.loader_kwargs`; ``kwargs`` (``collate_fn``, ...) go
    to the ``DataLoader``. If N does not divide ``len(dataset)``, the sampler repeats a few examples
    to even out the shares (``drop_last=True`` leaves the remainder out instead).
    """
    world = dist.get_world_size() if _distributed() else int(os.environ.get("WORLD_SIZE", "1"))
    rank = dist.get_rank() if _distributed() else int(os.environ.get("RANK", "0"))
    if batch_size % world:
        raise ValueError(f"batch_size={batch_size} cannot be split evenly over {world} processes")
    sampler = DistributedSampler(dataset, num_replicas=world, rank=rank, shuffle=shuffle, seed=seed,
                                 drop_last=drop_last)
    options = {**loader_kwargs(device or get_device()), **kwargs}
    return DataLoader(dataset, batch_size=batch_size // world, sampler=sampler, drop_last=drop_last, **options)


# ----------------------------------------------------------------------------- the loop
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
    if step is not None and loss_fn is not None:
        raise ValueError("give loss_fn or step, not both: a step computes its own loss")
    step = step or _default_step(loss_fn, target_index)
    if isinstance(early_stopping, int) and not isinstance(early_stopping, bool):
        early_stopping = EarlyStopping(early_stopping)
    if checkpoint is not None and not isinstance(checkpoint, Checkpoint):
        checkpoint = Checkpoint(checkpoint)
    if seed is not None:
        seed_everything(seed)
    distributed = _distributed() or int(os.environ.get("WORLD_SIZE", "1")) > 1
    if device is None:
        device = init_distributed() if distributed else get_device()
    elif distributed:
        init_distributed()
    device, show = torch.device(device), progress and is_main_process()
    plateau = isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau)
    monitor, mode = (early_stopping.monitor, early_stopping.mode) if early_stopping else ("valid_loss", "min")
    if valid_loader is None and monitor == "valid_loss":
        monitor = "train_loss"
    measured = ["train_loss"] + ([] if valid_loader is None else ["valid_loss", *(f"valid_{m}" for m in metrics or {})])
    if monitor not in measured:
        raise ValueError(f"{monitor!r} is not measured; each epoch measures {', '.join(measured)}")
    model.to(device)
    scaler = make_grad_scaler(device, enabled=None if amp else False)
    history, best_state = History(monitor=monitor, mode=mode), None
    generators = _generators(train_loader, valid_loader)
    if checkpoint is not None and checkpoint.resume and Path(checkpoint.path).exists():
        state = load_checkpoint(checkpoint.path, model, optimizer=optimizer, scheduler=scheduler, scaler=scaler,
                                restore_rng=True)
        history, best_state = History.from_dict(state["history"]), state.get("best_model")
        for g, g_state in zip(generators, state.get("generators", [])):
            g.set_state(g_state)
    net = model
    if distributed:
        net = DistributedDataParallel(model, device_ids=None)
        if not isinstance(getattr(train_loader, "sampler", None), DistributedSampler):
            warnings.warn("under torchrun every process reads the whole train_loader; build it with "
                          "distributed_loader(...) so each process gets its share", stacklevel=2)
    try:
        per_epoch = len(train_loader)
    except TypeError:
        per_epoch = None
    # Redraws in place in a terminal or notebook; a line now and then in a log (rnncourse.runtime.progress).
    bar = progress_bar(total=per_epoch and per_epoch * epochs, initial=(per_epoch or 0) * len(history),
                       desc="fit", unit="batch", disable=not show, dynamic_ncols=True)

    def stale() -> bool:
        best = history.best_epoch
        return bool(early_stopping and history.records and
                    history[-1]["epoch"] - (best if best is not None else 0) >= early_stopping.patience)

    with bar:
        for epoch in range(len(history) + 1, epochs + 1):
            if stale():
                break
            for sampler in (getattr(train_loader, "sampler", None), getattr(train_loader, "batch_sampler", None)):
                if hasattr(sampler, "set_epoch"):
                    sampler.set_epoch(epoch)
            start, lr = time.perf_counter(), optimizer.param_groups[0]["lr"]
            record = {"epoch": epoch, "train_loss": _run_pass(net, train_loader, step, device, amp, optimizer=optimizer,
                                                              scaler=scaler, clip=clip_grad_norm, bar=bar)["loss"]}
            if valid_loader is not None:
                scores = _run_pass(model, valid_loader, step, device, amp, metrics=metrics)
                record.update({f"valid_{k}": v for k, v in scores.items()})
            record.update(lr=lr, seconds=time.perf_counter() - start)
            history.records.append(record)
            if plateau:
                scheduler.step(record["valid_loss" if valid_loader is not None else "train_loss"])
            elif scheduler is not None:
                scheduler.step()
            if early_stopping and history.best_epoch == epoch:
                best_state = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
            if checkpoint is not None and is_main_process():
                save_checkpoint(checkpoint.path, model, optimizer=optimizer, scheduler=scheduler, scaler=scaler,
                                epoch=epoch, history=history, best_model=best_state,
                                generators=[g.get_state() for g in generators])
            if show:
                cells = [f"{k} {v:.4g}" for k, v in record.items() if k not in ("epoch", "seconds")]
                mark = " *" if history.best_epoch == epoch else ""
                bar.write(f"epoch {epoch}/{epochs}  " + "  ".join(cells) + f"  {record['seconds']:.1f}s{mark}")
    if early_stopping and best_state is not None:
        model.load_state_dict(best_state)
        if show:
            early = (f"stopped early, no better {monitor} for {early_stopping.patience} epochs; "
                     if len(history) < epochs else "")
            tqdm.write(f"{early}restored the weights of epoch {history.best_epoch} (best {monitor})")
    return history
