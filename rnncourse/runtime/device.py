"""Devices, batches, mixed precision, data loading and seeding: the same code on CUDA, MPS or CPU.

::

    from rnncourse.runtime.device import get_device, to_device, seed_everything
    seed_everything(0)
    device = get_device()                 # CUDA, else Apple MPS, else CPU
    model = model.to(device)
    x, y = to_device((x, y), device)      # any nesting of tuples, lists, dicts, PackedSequence

``RNNCOURSE_DEVICE`` (``cpu``, ``cuda``, ``cuda:1``, ``mps``) forces a device, for example to
run on the CPU while the GPU is busy. :func:`device_reason` says which rule chose the device.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import random
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch.nn.utils.rnn import PackedSequence

from rnncourse.runtime.processes import cpu_count as _cpu_count  # one home; tests replace it here

__all__ = ["get_device", "device_reason", "to_device", "autocast", "make_grad_scaler",
           "loader_kwargs", "seed_everything"]

ENV_VAR = "RNNCOURSE_DEVICE"


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def _resolve(prefer: str | None) -> tuple[torch.device, str]:
    """The device and the reason it was chosen (see :func:`get_device`)."""
    forced = prefer if prefer is not None else os.environ.get(ENV_VAR, "").strip() or None
    source = f"requested: get_device({prefer!r})" if prefer is not None else f"forced by {ENV_VAR}={forced}"
    if forced is None:
        if torch.cuda.is_available():
            return torch.device("cuda"), f"CUDA is available ({torch.cuda.get_device_name(0)})"
        if _mps_available():
            return torch.device("mps"), "no CUDA; Apple MPS is available"
        build = "a CPU-only build" if torch.version.cuda is None else f"built for CUDA {torch.version.cuda}"
        return torch.device("cpu"), f"no CUDA or MPS device found (torch {torch.__version__} is {build})"
    try:
        device = torch.device(forced.lower())
    except RuntimeError:
        raise ValueError(f"{source}: {forced!r} is not a device; use cpu, cuda, cuda:N or mps") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            why = "this torch is a CPU-only build" if torch.version.cuda is None else "no CUDA GPU is visible"
            raise RuntimeError(f"{source}, but CUDA is not available ({why}). "
                               f"Unset {ENV_VAR} or set it to cpu.")
        count = torch.cuda.device_count()
        if device.index is not None and device.index >= count:
            raise RuntimeError(f"{source}, but only {count} CUDA device(s) exist (cuda:0 to cuda:{count - 1}).")
    elif device.type == "mps" and not _mps_available():
        raise RuntimeError(f"{source}, but Apple MPS is not available on this machine. "
                           f"Unset {ENV_VAR} or set it to cpu.")
    elif device.type not in ("cpu", "cuda", "mps"):
        raise ValueError(f"{source}: {forced!r} is not supported here; use cpu, cuda, cuda:N or mps")
    return device, source


def get_device(prefer: str | None = None) -> torch.device:
    """The device to train on: ``prefer`` if given, else ``RNNCOURSE_DEVICE`` if set, else CUDA,
    then Apple MPS, then the CPU.

    A requested device that is not available raises an error that says why, rather than falling
    back silently to a slower one.
    """
    return _resolve(prefer)[0]


def device_reason(prefer: str | None = None) -> str:
    """Why :func:`get_device` picks the device it picks, in words (for ``rnncourse info``)."""
    return _resolve(prefer)[1]


def to_device(obj: Any, device: torch.device | str, *, non_blocking: bool = False) -> Any:
    """Move every tensor in ``obj`` to ``device``, keeping the structure.

    Handles tensors, ``PackedSequence`` (its ``batch_sizes`` stay on the CPU, as PyTorch needs),
    tuples, lists, namedtuples and dicts, nested in any way; anything else (ints, strings, token
    lists) is returned unchanged. A lengths tensor moves with the batch, so a model that packs
    calls ``pack_padded_sequence(x, lengths.cpu(), ...)``: packing wants the lengths on the CPU.
    ``non_blocking=True`` overlaps the copy with computation when the source is in pinned memory.
    """
    if isinstance(obj, (torch.Tensor, PackedSequence)):  # PackedSequence is a namedtuple: test first
        return obj.to(device, non_blocking=non_blocking)
    if isinstance(obj, Mapping):
        moved = {k: to_device(v, device, non_blocking=non_blocking) for k, v in obj.items()}
        try:
            return type(obj)(moved)  # dict, OrderedDict, UserDict...
        except TypeError:  # a mapping that cannot be built from a dict (defaultdict): a plain dict
            return moved
    if isinstance(obj, (tuple, list)):
        moved = [to_device(v, device, non_blocking=non_blocking) for v in obj]
        return obj._make(moved) if hasattr(obj, "_make") else type(obj)(moved)  # _make: namedtuples
    return obj


def _amp_dtype(device: torch.device) -> torch.dtype:
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.float16 if device.type == "mps" else torch.bfloat16


def autocast(device: torch.device | str, enabled: bool | None = None):
    """Mixed precision for the forward pass and loss: ``with autocast(device): loss = ...``.

    ``enabled=None`` (the default) turns it on for CUDA only: bfloat16 on GPUs that support it
    (Ampere and newer), else float16, which also needs :func:`make_grad_scaler`. On the CPU and
    MPS it is off by default: CPU autocast (bfloat16) is often slower than float32 for RNNs on
    processors without bfloat16 instructions, and MPS autocast (float16) covers fewer operations.
    ``enabled=True`` turns it on anyway. Matrix products (and on CUDA the cuDNN LSTM/GRU kernels) run
    in reduced precision; losses and softmax stay in float32, as PyTorch's autocast rules decide.
    """
    device = torch.device(device)
    if enabled is None:
        enabled = device.type == "cuda"
    if not enabled:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=_amp_dtype(device))


def make_grad_scaler(device: torch.device | str, enabled: bool | None = None) -> torch.amp.GradScaler:
    """The gradient scaler that goes with :func:`autocast` (same ``enabled`` argument).

    Float16 gradients underflow to zero, so float16 training multiplies the loss by a large factor
    before ``backward()`` and divides the gradients again before the step. bfloat16 has float32's
    range and needs no scaling: then (and when autocast is off) the scaler is disabled, and
    ``scaler.scale(loss)``, ``scaler.step(opt)`` and ``scaler.update()`` are plain pass-throughs,
    so one training loop serves every case.
    """
    device = torch.device(device)
    on = (device.type == "cuda") if enabled is None else enabled
    return torch.amp.GradScaler(device.type, enabled=bool(on and _amp_dtype(device) == torch.float16))


def loader_kwargs(device: torch.device | str, *, num_workers: int | None = None) -> dict:
    """``DataLoader`` settings that suit ``device``: ``DataLoader(ds, batch_size=64, **loader_kwargs(device))``.

    Returns ``num_workers``, ``pin_memory`` and ``persistent_workers``. The default number of
    worker processes:

    - **CUDA**: up to 4, at most the cores minus one. The workers prepare the next batches while
      the GPU computes, so the GPU does not wait for the CPU; ``pin_memory=True`` puts batches in
      page-locked memory, so ``to_device(batch, device, non_blocking=True)`` copies asynchronously.
    - **CPU or MPS**: 0 (batches are made in the main process) unless there are more than 4 cores,
      then a quarter of them, at most 4. On a CPU device the workers compete with the training for
      the same cores; on a 2-core laptop one worker process only adds start-up and copying costs.
    - Where Python starts processes other than by forking (spawn on macOS and Windows, forkserver
      on Linux from Python 3.14): 0, because each worker then re-imports the dataset's code, and a
      ``Dataset`` class defined in a notebook cannot be re-imported (the error reads
      ``Can't get attribute ... on <module '__main__'>``).

    ``num_workers`` overrides the choice. ``persistent_workers`` keeps workers alive between
    epochs (their start-up is paid once) whenever there are any.
    """
    device = torch.device(device)
    if num_workers is None:
        cores = _cpu_count()
        start = multiprocessing.get_start_method(allow_none=True) or multiprocessing.get_all_start_methods()[0]
        if start != "fork":
            num_workers = 0
        elif device.type == "cuda":
            num_workers = min(4, cores - 1)
        else:
            num_workers = 0 if cores <= 4 else min(4, cores // 4)
    return {"num_workers": num_workers, "pin_memory": device.type == "cuda",
            "persistent_workers": num_workers > 0}


def seed_everything(seed: int, *, deterministic: bool = False) -> None:
    """Seed Python's ``random``, NumPy and PyTorch (CPU, every CUDA GPU and MPS) with ``seed``.

    This makes a run repeatable on the same machine and software: the same initial weights, the
    same shuffling (``DataLoader`` draws its shuffle order and worker seeds from PyTorch's generator)
    and the same dropout masks. It does not make results identical across different GPUs,
    CUDA/cuDNN versions or CPU and GPU: their kernels sum in different orders.

    ``deterministic=True`` also removes the run-to-run differences on a GPU: it calls
    ``torch.use_deterministic_algorithms(True)``, sets cuDNN to deterministic kernels and turns off
    its autotuner (``cudnn.benchmark``), and sets ``CUBLAS_WORKSPACE_CONFIG=:4096:8`` (cuBLAS needs
    it; it only takes effect if set before the first CUDA matrix multiply, so call this first).
    What it costs:

    - speed on the GPU: slower kernels are chosen (atomic-add reductions such as the backward of
      ``nn.Embedding`` and ``index_add_`` become sorted or serial ones), and without the autotuner
      convolution and RNN kernels are not the fastest for your shapes;
    - memory: cuBLAS keeps a larger fixed workspace (NVIDIA puts it at about 24 MiB of GPU memory);
    - errors: an operation with no deterministic implementation raises ``RuntimeError`` instead of
      running (for example ``nn.CTCLoss`` backward on CUDA), so some models cannot use this mode.

    On the CPU nearly all of PyTorch is deterministic already and the flag costs almost nothing.
    ``deterministic=False`` switches the strict mode off again.
    """
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)  # also seeds every CUDA device and MPS
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    if torch.are_deterministic_algorithms_enabled() != deterministic:  # the call itself is slow (imports)
        torch.use_deterministic_algorithms(deterministic)
    torch.backends.cudnn.deterministic = deterministic
    if deterministic:
        torch.backends.cudnn.benchmark = False
