"""fit under torchrun: two gloo processes train to the same weights as one process on the same
global batch; only rank 0 prints and writes the checkpoint."""

from __future__ import annotations

import os
import runpy
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
import torch.distributed as dist

from rnncourse.train import distributed_loader, is_main_process

SCRIPT = textwrap.dedent('''
    import sys
    from pathlib import Path

    import torch
    from torch import nn
    from torch.utils.data import TensorDataset

    from rnncourse.train import distributed_loader, fit, init_distributed, is_main_process

    class Tagger(nn.Module):  # a GRU with a linear head: (batch, seq_len, 3) -> (batch, 2)
        def __init__(self):
            super().__init__()
            self.rnn = nn.GRU(3, 8, batch_first=True)
            self.out = nn.Linear(8, 2)

        def forward(self, x):
            return self.out(self.rnn(x)[0][:, -1])

    out = Path(sys.argv[1])
    device = init_distributed()
    torch.manual_seed(0)  # the same data and initial weights in every process
    x, y = torch.randn(64, 5, 3), torch.randint(0, 2, (64,))
    model = Tagger()
    train = distributed_loader(TensorDataset(x, y), batch_size=16, shuffle=True, seed=3, device=device)
    valid = distributed_loader(TensorDataset(x[:32], y[:32]), batch_size=16, shuffle=False, device=device)
    history = fit(model, train, optimizer=torch.optim.Adam(model.parameters(), 1e-2), epochs=3,
                  loss_fn=nn.CrossEntropyLoss(), valid_loader=valid, clip_grad_norm=1.0,
                  checkpoint=out / "checkpoint.pt", device=device, seed=0)
    rank = torch.distributed.get_rank() if torch.distributed.is_initialized() else 0
    torch.save({"weights": model.state_dict(), "valid_loss": history["valid_loss"], "main": is_main_process(),
                "batches": len(train)}, out / f"rank{rank}.pt")
''')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(not (dist.is_available() and dist.is_gloo_available()), reason="torch.distributed without gloo")
def test_two_processes_under_torchrun_match_one_process(tmp_path, monkeypatch):
    script = tmp_path / "train_script.py"
    script.write_text(SCRIPT)
    (tmp_path / "single").mkdir()
    (tmp_path / "ddp").mkdir()
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(root), "RNNCOURSE_DEVICE": "cpu"}
    for key in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(key, None)
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--nnodes=1", "--nproc_per_node=2",
                "--master_addr=127.0.0.1", f"--master_port={_free_port()}"]
    ddp = subprocess.Popen([*torchrun, str(script), str(tmp_path / "ddp")], env=env, cwd=tmp_path,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    # meanwhile the same script in this process: one process, no torchrun
    for key in ("WORLD_SIZE", "RANK", "LOCAL_RANK"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("RNNCOURSE_DEVICE", "cpu")
    monkeypatch.setattr(sys, "argv", [str(script), str(tmp_path / "single")])
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        runpy.run_path(str(script), run_name="__main__")
    finally:
        torch.set_num_threads(threads)
    ddp_output = ddp.communicate(timeout=120)[0]
    assert ddp.returncode == 0, ddp_output[-3000:]

    one = torch.load(tmp_path / "single" / "rank0.pt")
    ranks = [torch.load(tmp_path / "ddp" / f"rank{r}.pt") for r in (0, 1)]
    assert one["batches"] == 4 and ranks[0]["batches"] == 4  # 16 per global batch: 8 per process
    assert [r["main"] for r in ranks] == [True, False]
    for r in ranks:
        for name, value in one["weights"].items():
            torch.testing.assert_close(r["weights"][name], value, rtol=0, atol=1e-6, msg=f"{name} differs")
        assert r["valid_loss"] == pytest.approx(one["valid_loss"], abs=1e-6)  # averaged over both shards
    assert ddp_output.count("epoch 3/3") == 1  # only rank 0 prints
    assert [p.name for p in (tmp_path / "ddp").iterdir() if "checkpoint" in p.name] == ["checkpoint.pt"]
    saved = torch.load(tmp_path / "ddp" / "checkpoint.pt", weights_only=True)
    assert saved["epoch"] == 3 and all(torch.equal(saved["model"][k], ranks[0]["weights"][k]) for k in saved["model"])


def test_distributed_loader_splits_the_global_batch(monkeypatch):
    data = torch.utils.data.TensorDataset(torch.arange(32))
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    monkeypatch.delenv("RANK", raising=False)
    assert is_main_process()
    loader = distributed_loader(data, 8, shuffle=False, device="cpu")
    assert loader.batch_size == 8 and next(iter(loader))[0].tolist() == list(range(8))
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")  # as torchrun sets it, before the process group exists
    assert not is_main_process()
    loader = distributed_loader(data, 8, shuffle=False, device="cpu")
    assert loader.batch_size == 4 and next(iter(loader))[0].tolist() == [1, 3, 5, 7]  # rank 1's half of batch 0
    with pytest.raises(ValueError, match="batch_size=9 cannot be split evenly over 2 processes"):
        distributed_loader(data, 9, device="cpu")
