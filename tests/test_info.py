"""`rnncourse info` on a machine without a GPU (this one), and with a simulated CUDA GPU."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
import torch

from rnncourse.cli import main


@pytest.fixture
def no_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    for name in ("RNNCOURSE_DEVICE", "RNNCOURSE_PROFILE", "RNNCOURSE_MIRROR"):
        monkeypatch.delenv(name, raising=False)


def test_info_on_a_machine_without_a_gpu_says_so(no_gpu, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("RNNCOURSE_DATA", str(tmp_path / "cache"))
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    lines = {line.split("  ")[0]: line for line in out.splitlines()}
    assert torch.__version__ in lines["torch"]
    assert "device" in lines and "cpu: no CUDA or MPS device found" in lines["device"]
    assert "CUDA" in lines and "not available" in lines["CUDA"]
    assert "none: training runs on the CPU" in lines["GPU"]
    count = torch.get_num_threads()
    assert f"{count} torch thread{'' if count == 1 else 's'}," in lines["CPU"]
    assert "profile            cpu (default: no CUDA device)" in out
    assert str(tmp_path / "cache") in lines["data cache"] and "RNNCOURSE_DATA" in lines["data cache"]
    assert "RNNCOURSE_MIRROR is not set" in lines["data mirror"]
    assert "gloo" in lines["torchrun backends"]


def test_info_json_and_a_forced_device_that_is_missing(no_gpu, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("RNNCOURSE_DEVICE", "cuda")
    monkeypatch.setenv("RNNCOURSE_MIRROR", "https://mirror.example.org/rnncourse")
    assert main(["info", "--json"]) == 1
    captured = capsys.readouterr()
    facts = json.loads(captured.out)
    assert facts["device"].startswith("ERROR: forced by RNNCOURSE_DEVICE=cuda, but CUDA is not available")
    assert facts["data mirror"] == "https://mirror.example.org/rnncourse"
    assert "problem: forced by RNNCOURSE_DEVICE=cuda" in captured.err
    monkeypatch.setenv("RNNCOURSE_MIRROR", str(tmp_path / "missing"))
    monkeypatch.delenv("RNNCOURSE_DEVICE")
    assert main(["info"]) == 0
    assert "missing (no such folder" in capsys.readouterr().out


def test_info_with_a_simulated_gpu(monkeypatch, capsys):
    for name in ("RNNCOURSE_DEVICE", "RNNCOURSE_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    props = SimpleNamespace(name="Test GPU 80GB", total_memory=80 * 2**30, major=9, minor=0, multi_processor_count=132)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda i=0: props.name)
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda i: props)
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda i: (60 * 2**30, 80 * 2**30))
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    monkeypatch.setattr(torch.backends.cudnn, "version", lambda: 91000)
    monkeypatch.setattr(torch.backends.cudnn, "is_available", lambda: True)
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "cuda: CUDA is available (Test GPU 80GB)" in out
    assert "Test GPU 80GB, 80.0 GiB (60.0 GiB free), compute capability 9.0, 132 SMs" in out
    assert "float16 autocast with a gradient scaler" in out
    assert "pin_memory=True" in out and "profile            gpu" in out
