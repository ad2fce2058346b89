"""Chapter 9's measurements: the scans, a minGRU language model against chapter 7's LSTM, parity.

    python benchmarks/scan.py --profile cpu --threads 1   # the cpu figures (about 15 CPU-minutes)
    python benchmarks/scan.py --profile gpu               # the same on a CUDA GPU
    python benchmarks/scan.py --profile smoke             # seconds, tiny sizes, no claim

Like ``benchmarks/charlm.py`` it runs the SAME code as the book: it executes the code cells of
``book/chapters/09-parallel-recurrence.md`` tagged ``pipeline`` under the requested profile, then:

1. times one forward+backward pass of the linear recurrence ``h_t = a_t h_{t-1} + b_t`` by the
   loop (the sequential mode), by Hillis and Steele's scan and by the log-space scan (minGRU's
   parallel mode) at ``T`` = 128, 512, 2,048 and 8,192 (the median and the spread of
   ``time_repeats`` repeats after a warm-up, in the process's CPU time on a CPU, wall time on a
   GPU) and the bytes each keeps for the backward pass;
2. trains chapter 7's LSTM language model and a minGRU stack of about as many parameters on
   tiny-shakespeare (nanoGPT's split) by the same process for the same CPU time
   (``lm_cpu_seconds``), and records chapter 7's metrics: the best validation loss in nats and bits
   per character with the state carried through the text, the windowed loss (nanoGPT's metric:
   windows of 256 characters, each from a zero state), passes over the text, and the time per
   generated character at several lengths;
3. trains an LSTM and a minGRU stack on the parity of 20-bit strings and tests them on longer
   strings: the accuracy by length.

It writes ``benchmarks/results/scan-<profile>-<host>.json`` with the machine's facts and load
average, and a ``summary`` list, which chapter 9 and the reference-numbers page read.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from machine import add_run_options, load_average, machine_facts, page_pipeline, start_page_run, summary_row, write_results

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "book" / "chapters" / "09-parallel-recurrence.md"
RESULTS = ROOT / "benchmarks" / "results"
PAPER_SPEEDUP_T512 = 175          # Feng et al. 2024, minGRU on a GPU, T = 512
WINDOW = 256                      # nanoGPT's context: the windowed loss chapter 7 reports


def measure_scans(ns: dict) -> dict:
    """Median, spread (min, max) and saved bytes of every scan at every length."""
    config, rows = ns["CONFIG"], []
    for T in config["time_lengths"]:
        for name, scan in ns["SCANS"].items():
            times = ns["time_forward_backward"](scan, T, config["time_repeats"])
            a, b = ns["coefficients"](T, config["time_batch"], config["time_hidden"])
            rows.append({"T": T, "scan": name, "median_seconds": statistics.median(times),
                         "min_seconds": min(times), "max_seconds": max(times), "seconds": times,
                         "saved_bytes": ns["saved_bytes"](scan, a, b)})
            print(f"T={T:>5} {name:<25} {1e3 * rows[-1]['median_seconds']:9.2f} ms "
                  f"(min {1e3 * min(times):.2f}, max {1e3 * max(times):.2f}), "
                  f"{rows[-1]['saved_bytes'] / 2**20:.1f} MiB kept", flush=True)
    return {"batch": config["time_batch"], "hidden": config["time_hidden"],
            "repeats": config["time_repeats"], "rows": rows,
            "sequential_over_log": {str(T): _ratio(rows, T, "sequential", "parallel (log space)")
                                    for T in config["time_lengths"]},
            "sequential_over_hillis_steele": {str(T): _ratio(rows, T, "sequential", "parallel (Hillis-Steele)")
                                              for T in config["time_lengths"]}}


def _ratio(rows: list[dict], T: int, top: str, bottom: str) -> float:
    pick = {r["scan"]: r["median_seconds"] for r in rows if r["T"] == T}
    return pick[top] / pick[bottom]


def compare_language_models(ns: dict, seed: int) -> dict:
    """Chapter 7's LSTM and the minGRU stack, same process, same CPU budget."""
    from rnncourse.nn.lm_metrics import windowed_loss

    out = {}
    for name in ns["LANGUAGE_MODELS"]:
        model, history, cpu_seconds, passes = ns["train_language_model"](name, seed, progress=True)
        best = min(history["valid_loss"])
        per_char = [ns["seconds_per_char"](model, n) for n in ns["CONFIG"]["gen_lengths"]]
        out[name] = {"parameters": sum(p.numel() for p in model.parameters()), "best_valid_loss": best,
                     "best_valid_bits": best * ns["BITS"], "train_cpu_seconds": cpu_seconds,
                     "windowed_valid_loss_256": windowed_loss(model, ns["valid_data"], WINDOW),
                     "passes_over_training_text": passes, "valid_loss_by_slice": history["valid_loss"],
                     "gen_lengths": ns["CONFIG"]["gen_lengths"], "seconds_per_char": per_char,
                     "per_char_spread": max(per_char) / min(per_char) - 1}
        print(f"{name}: {out[name]['parameters']:,} parameters, best {best:.4f} nats/char "
              f"(windowed {out[name]['windowed_valid_loss_256']:.4f}) "
              f"after {cpu_seconds:.0f} CPU-s ({passes:.2f} passes); "
              f"{[f'{1e3 * s:.3f}' for s in per_char]} ms/char", flush=True)
    return out


def parity(ns: dict, seed: int) -> dict:
    """Accuracy by test length of an LSTM and a minGRU stack trained on short strings."""
    out = {"train_length": ns["CONFIG"]["parity_train_len"], "steps": ns["CONFIG"]["parity_steps"],
           "test_lengths": ns["CONFIG"]["parity_test_lens"], "models": {}}
    for kind in ("LSTM", "minGRU"):
        start = time.process_time()
        model, losses = ns["train_parity"](kind, seed)
        accuracy = [ns["parity_accuracy"](model, length) for length in out["test_lengths"]]
        out["models"][kind] = {"final_train_loss": sum(losses[-50:]) / len(losses[-50:]),
                               "accuracy": accuracy, "train_cpu_seconds": time.process_time() - start}
        print(f"parity {kind}: loss {out['models'][kind]['final_train_loss']:.3f}, accuracy by length "
              f"{dict(zip(out['test_lengths'], accuracy))}", flush=True)
    return out


def summary(result: dict) -> list[dict]:
    """The headline figures, for the book's reference-numbers page."""
    profile, scans, lms = result["profile"], result["scans"], result["language_models"]
    rows = [summary_row(f"minGRU parallel (log-space) vs sequential scan, forward+backward, T = {T} "
                        f"({profile}, {result['device']}): sequential time / parallel time",
                        round(ratio, 2), "x")
            for T, ratio in scans["sequential_over_log"].items()]
    rows += [summary_row(f"tiny-shakespeare validation loss, {name}, {lm['train_cpu_seconds']:.0f} CPU-s "
                         f"({profile})", round(lm["best_valid_loss"], 4), "nats/char")
             for name, lm in lms.items()]
    par = result["parity"]
    rows += [summary_row(f"parity, {kind}, trained on {par['train_length']} bits, tested on "
                         f"{par['test_lengths'][-1]} ({profile})", round(m["accuracy"][-1], 3), "accuracy")
             for kind, m in par["models"].items()]
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=["smoke", "cpu", "gpu"], required=True)
    parser.add_argument("--seed", type=int, default=0)
    add_run_options(parser, RESULTS)
    args = parser.parse_args(argv)

    start_page_run(args.profile, args.threads)
    load_before = load_average()
    ns = page_pipeline(PAGE)
    result = {"benchmark": "scan", "profile": args.profile, **machine_facts(), "device": str(ns["device"]),
              "clock": "wall" if ns["device"].type == "cuda" else "process CPU time",
              "load_average_before": load_before, "config": ns["CONFIG"], "seed": args.seed,
              "paper_speedup_t512_gpu": PAPER_SPEEDUP_T512}
    result["scans"] = measure_scans(ns)
    result["load_average_after_scans"] = load_average()
    result["parity"] = parity(ns, args.seed)
    result["language_models"] = compare_language_models(ns, args.seed)
    result["load_average_after"] = load_average()
    result["note"] = args.note
    result["summary"] = summary(result)
    path = write_results(result, args.out, f"scan-{args.profile}")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
