"""Packed against padded: a bidirectional LSTM's forward + backward pass over batches of unequal lengths.

On a GPU, cuDNN runs a ``PackedSequence`` natively. On a CPU, PyTorch's packed layer runs step by
step and its backward pass grows much faster than the number of steps once the lengths in a batch
differ (pytorch/pytorch issue 149194). ``rnncourse.nn.padded.run_padded`` gives the packed results
from the padded batch (each direction over the real steps only); chapter 6 uses it on a CPU.

For each sequence length T the script builds one batch whose lengths are drawn uniformly from
[0.9 T, T] (as after bucketing: similar, not equal), checks that both routes give the same
outputs and gradients, and times one forward + backward pass of each (the faster of ``--repeats``).
A control row per T packs a batch whose lengths all equal T: if it costs about what the padded
route costs, the unequal lengths, not packing itself, are what makes the packed backward slow.

    python benchmarks/packing.py                          # on get_device(), lengths 100 200 400
    python benchmarks/packing.py --device cpu --threads 1 --lengths 50 100 200 400

Output: ``benchmarks/results/packing-<device type>-<host>.json`` with the sizes, the seconds of
each route per length (unequal and equal lengths), their ratio, the largest differences, the
hardware and the machine's load, and a ``summary`` list.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnncourse.runtime.device import get_device, seed_everything
from rnncourse.nn.padded import run_padded

from machine import load_average, machine_facts, summary_row, use_threads, write_results

RESULTS = Path(__file__).resolve().parent / "results"


def packed_outputs(rnn: nn.LSTM, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Outputs (B, T, D*H) of a packed run, zeros after each length."""
    out, _ = rnn(pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False))
    return pad_packed_sequence(out, batch_first=True, total_length=x.size(1))[0]


def timed(route, rnn, x, lengths, repeats: int, device: torch.device) -> float:
    """The fastest of ``repeats`` forward + backward passes, in seconds."""
    best = float("inf")
    for _ in range(repeats):
        rnn.zero_grad()
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        route(rnn, x, lengths).sum().backward()
        if device.type == "cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return best


def agreement(rnn, x, lengths) -> tuple[float, float]:
    """Largest difference of the outputs at real steps, and of the weight gradients relative to the
    largest gradient, between the two routes."""
    real = (torch.arange(x.size(1), device=x.device)[None, :] < lengths.to(x.device)[:, None])[..., None]
    grads, outs = [], []
    for route in (packed_outputs, run_padded):
        rnn.zero_grad()
        out = route(rnn, x, lengths).masked_fill(~real, 0.0)
        (out * torch.linspace(-1, 1, out.size(2), device=x.device)).sum().backward()
        outs.append(out.detach())
        grads.append(torch.cat([p.grad.flatten() for p in rnn.parameters()]))
    return (outs[0] - outs[1]).abs().max().item(), ((grads[0] - grads[1]).abs().max() / grads[0].abs().max()).item()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default=None, help="cpu, cuda, ... (default: get_device())")
    parser.add_argument("--lengths", type=int, nargs="+", default=[100, 200, 400])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--embed", type=int, default=128)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: the free cores, as the book decides: rnncourse.runtime.threads)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    use_threads(args.threads)  # --threads, else the free cores, decided before measuring
    device = torch.device(args.device) if args.device else get_device()
    load_before = load_average()
    seed_everything(0)
    rnn = nn.LSTM(args.embed, args.hidden, batch_first=True, bidirectional=True).to(device)
    rows = []
    for T in args.lengths:
        generator = torch.Generator().manual_seed(T)
        unequal = torch.randint(max(1, (9 * T) // 10), T + 1, (args.batch,), generator=generator)
        unequal[0] = T
        x = torch.randn(args.batch, T, args.embed, generator=generator).to(device)
        equal = torch.full((args.batch,), T)                  # the control: packed, nothing to skip
        for kind, lengths in (("unequal", unequal), ("equal", equal)):
            out_diff, grad_diff = agreement(rnn, x, lengths)
            packed = timed(packed_outputs, rnn, x, lengths, args.repeats, device)
            padded = timed(run_padded, rnn, x, lengths, args.repeats, device)
            rows.append({"seq_len": T, "lengths": kind, "lengths_min": int(lengths.min()),
                         "lengths_max": int(lengths.max()), "packed_seconds": packed,
                         "padded_seconds": padded, "packed_over_padded": packed / padded,
                         "max_output_difference": out_diff,
                         "max_relative_gradient_difference": grad_diff})
            print(f"T={T:5d} {kind:>7} lengths ({int(lengths.min())}-{T}): packed {packed:8.3f} s, "
                  f"padded {padded:8.3f} s, ratio {packed / padded:6.1f}; largest differences: "
                  f"outputs {out_diff:.1e}, gradients {grad_diff:.1e} (relative)", flush=True)
            if out_diff > 1e-4 or grad_diff > 1e-4:
                raise SystemExit(f"the two routes disagree at T={T} ({kind} lengths): "
                                 f"outputs {out_diff:.2e}, gradients {grad_diff:.2e}")
    summary = [summary_row(f"packed / padded forward + backward time, T={r['seq_len']}, "
                           f"{r['lengths']} lengths ({r['lengths_min']}-{r['lengths_max']})",
                           r["packed_over_padded"], "x") for r in rows]
    result = {
        "benchmark": "packing", **machine_facts(), "device": str(device),
        "layer": f"nn.LSTM({args.embed}, {args.hidden}, bidirectional=True)", "batch": args.batch,
        "load_average_before": load_before, "load_average_after": load_average(), "rows": rows,
        "summary": summary,
    }
    path = write_results(result, args.out, f"packing-{device.type}")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
