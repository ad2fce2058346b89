"""One process or several (``torchrun``): joining the process group, who prints, and loaders
that give each process its share of every global batch."""

from __future__ import annotations

import os
from typing import Any

import torch
import torch.distributed as dist
from torch.utils.data import DataLoader, DistributedSampler

from rnncourse.runtime.device import get_device, loader_kwargs

__all__ = ["distributed_loader", "init_distributed", "is_main_process"]


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
