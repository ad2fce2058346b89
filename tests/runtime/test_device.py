"""rnncourse.runtime.device: device choice (CUDA/MPS simulated), moving batches, autocast, loaders, seeding."""

from __future__ import annotations

import random
import warnings
from collections import namedtuple

import numpy as np
import pytest
import torch
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence

from rnncourse.runtime import device as dev
from rnncourse.runtime.device import (autocast, device_reason, get_device, loader_kwargs, make_grad_scaler,
                              seed_everything, to_device)


@pytest.fixture
def machine(monkeypatch):
    """Pretend to be a machine with or without CUDA/MPS: machine(cuda=2, mps=False)."""
    monkeypatch.delenv("RNNCOURSE_DEVICE", raising=False)

    def make(*, cuda: int = 0, mps: bool = False, bf16: bool = True):
        monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda > 0)
        monkeypatch.setattr(torch.cuda, "device_count", lambda: cuda)
        monkeypatch.setattr(torch.cuda, "get_device_name", lambda i=0: "Test GPU")
        monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: bf16)
        monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)

    return make


def test_order_is_cuda_then_mps_then_cpu(machine):
    machine(cuda=1, mps=True)
    assert get_device() == torch.device("cuda") and "Test GPU" in device_reason()
    machine(cuda=0, mps=True)
    assert get_device() == torch.device("mps") and "MPS" in device_reason()
    machine(cuda=0, mps=False)
    assert get_device() == torch.device("cpu") and "no CUDA or MPS" in device_reason()


def test_environment_variable_forces_a_device(machine, monkeypatch):
    machine(cuda=2)
    monkeypatch.setenv("RNNCOURSE_DEVICE", "cpu")
    assert get_device() == torch.device("cpu")
    assert "RNNCOURSE_DEVICE=cpu" in device_reason()
    monkeypatch.setenv("RNNCOURSE_DEVICE", "cuda:1")
    assert get_device() == torch.device("cuda", 1)
    assert get_device("cpu") == torch.device("cpu")  # an explicit argument wins


def test_unavailable_or_unknown_devices_are_clear_errors(machine, monkeypatch):
    machine(cuda=0)
    monkeypatch.setenv("RNNCOURSE_DEVICE", "cuda")
    with pytest.raises(RuntimeError, match="RNNCOURSE_DEVICE=cuda, but CUDA is not available"):
        get_device()
    monkeypatch.setenv("RNNCOURSE_DEVICE", "mps")
    with pytest.raises(RuntimeError, match="MPS is not available"):
        get_device()
    monkeypatch.setenv("RNNCOURSE_DEVICE", "gpu")
    with pytest.raises(ValueError, match="'gpu' is not a device; use cpu, cuda, cuda:N or mps"):
        get_device()
    machine(cuda=2)
    with pytest.raises(RuntimeError, match=r"only 2 CUDA device\(s\)"):
        get_device("cuda:2")


def test_to_device_moves_nested_batches_and_packed_sequences():
    Batch = namedtuple("Batch", "x lengths")
    padded = torch.randn(3, 4, 2)
    packed = pack_padded_sequence(padded, torch.tensor([4, 2, 1]), batch_first=True, enforce_sorted=False)
    batch = {"packed": packed, "pair": (torch.ones(2), [torch.zeros(1), "text", 7]),
             "named": Batch(torch.ones(3), torch.tensor([4, 2, 1]))}
    moved = to_device(batch, torch.device("meta"))  # a real device move that needs no GPU
    p = moved["packed"]
    assert type(p) is PackedSequence and p.data.device.type == "meta"
    assert p.sorted_indices.device.type == "meta" and p.batch_sizes.device.type == "cpu"  # as PyTorch needs
    assert moved["pair"][0].device.type == "meta" and isinstance(moved["pair"], tuple)
    assert moved["pair"][1][0].device.type == "meta" and moved["pair"][1][1:] == ["text", 7]
    assert type(moved["named"]) is Batch and moved["named"].lengths.device.type == "meta"
    # on the same device the packed batch still runs through a GRU
    out, h = torch.nn.GRU(2, 3, batch_first=True)(to_device(packed, "cpu", non_blocking=True))
    assert out.data.shape == (7, 3) and h.shape == (1, 3, 3)


def test_autocast_is_off_on_cpu_by_default_and_on_when_asked():
    a, b = torch.randn(4, 4), torch.randn(4, 4)
    with autocast("cpu"):
        assert (a @ b).dtype == torch.float32
    with autocast("cpu", enabled=True):
        assert (a @ b).dtype == torch.bfloat16
    assert not make_grad_scaler("cpu").is_enabled()
    assert not make_grad_scaler("cpu", enabled=True).is_enabled()  # bfloat16 needs no scaling


def test_cuda_uses_bfloat16_where_supported_else_float16_with_a_scaler(machine):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "CUDA is not available, disabling" from torch itself
        machine(cuda=1, bf16=True)
        assert autocast("cuda").fast_dtype == torch.bfloat16
        machine(cuda=1, bf16=False)
        assert autocast("cuda").fast_dtype == torch.float16
        assert dev._amp_dtype(torch.device("cuda")) == torch.float16
    assert autocast("cuda", enabled=False).__class__.__name__ == "nullcontext"


def test_loader_kwargs_suit_the_device(monkeypatch):
    monkeypatch.setattr(dev, "_cpu_count", lambda: 2)
    monkeypatch.setattr(dev.multiprocessing, "get_start_method", lambda allow_none=False: "fork")
    assert loader_kwargs("cpu") == {"num_workers": 0, "pin_memory": False, "persistent_workers": False}
    assert loader_kwargs("cuda") == {"num_workers": 1, "pin_memory": True, "persistent_workers": True}
    monkeypatch.setattr(dev, "_cpu_count", lambda: 16)
    assert loader_kwargs("cuda")["num_workers"] == 4 and loader_kwargs("cpu")["num_workers"] == 4
    assert loader_kwargs("cpu", num_workers=3) == {"num_workers": 3, "pin_memory": False, "persistent_workers": True}
    monkeypatch.setattr(dev.multiprocessing, "get_start_method", lambda allow_none=False: "spawn")
    assert loader_kwargs("cuda")["num_workers"] == 0  # notebook-defined datasets cannot be re-imported


def test_seed_everything_repeats_a_run_and_strict_mode_switches(monkeypatch):
    def draw():
        return random.random(), float(np.random.rand()), torch.rand(3).tolist(), torch.randperm(10).tolist()

    seed_everything(7)
    first = draw()
    seed_everything(7)
    assert draw() == first
    seed_everything(8)
    assert draw() != first

    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    try:
        seed_everything(0, deterministic=True)
        assert torch.are_deterministic_algorithms_enabled() and torch.backends.cudnn.deterministic
        assert not torch.backends.cudnn.benchmark
        import os

        assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":4096:8"
    finally:
        seed_everything(0, deterministic=False)
    assert not torch.are_deterministic_algorithms_enabled() and not torch.backends.cudnn.deterministic
