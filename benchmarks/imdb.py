"""IMDB sentiment reference numbers: chapter 6's model, several seeds, one results file.

    python benchmarks/imdb.py --profile gpu --seeds 0 1 2     # target: median test accuracy >= 90%
    python benchmarks/imdb.py --profile cpu --seeds 0         # target: >= 85% in <= 10 min of training
    python benchmarks/imdb.py --profile smoke                 # seconds, a small subset, no claim

The script runs the SAME code as the book: it reads ``book/chapters/06-imdb-sentiment.md`` and
executes the code cells tagged ``pipeline`` (configuration, data loading, tokenising, vocabulary,
encoding, loaders, model, training and prediction functions) under the requested profile, then for
each seed calls the page's ``train_main_model(seed)`` and ``predict_proba(model, test_data)``. The
profile sets sizes and epochs only (``CONFIG`` in the page).

It writes ``benchmarks/results/imdb-<profile>-<host>.json``: the test accuracy of every seed, their
median, the target and whether it was met, the training time (wall clock, and the process's CPU
time, which on a machine shared with other jobs says how much work it was), the epochs, the
hardware (``rnncourse.environment_summary()``), the machine's load average before and after (a
loaded machine makes wall times longer), the configuration and the date. Chapter 6 shows the
latest file of each profile.

Data: ``rnncourse.data.download`` fetches IMDB on first use (or takes it from ``RNNCOURSE_MIRROR``).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from machine import add_run_options, load_average, machine_facts, page_pipeline, start_page_run, write_results

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "book" / "chapters" / "06-imdb-sentiment.md"
RESULTS = ROOT / "benchmarks" / "results"
TAG = "pipeline"
TARGETS = {"gpu": 0.90, "cpu": 0.85, "smoke": 0.0}
TIME_LIMITS_S = {"cpu": 600}  # the cpu profile's budget: at most 10 minutes of training per seed


def pipeline_namespace(page: Path = PAGE) -> dict:
    """The page's cells tagged ``pipeline``, executed in one namespace (``machine.page_pipeline``)."""
    return page_pipeline(page, tag=TAG)


def summary(result: dict) -> list[dict]:
    """The headline figures of an IMDB results file, for the book's reference-numbers page."""
    profile, limit = result["profile"], result.get("time_limit_seconds")
    claim = result["target_test_accuracy"] > 0  # smoke makes no claim
    longest = max(r["train_seconds"] for r in result["runs"])
    return [
        {"what": f"IMDB test accuracy, median of {len(result['runs'])} seed(s)",
         "value": round(100 * result["median_test_accuracy"], 2), "unit": "%",
         "target": f">= {100 * result['target_test_accuracy']:g}%" if claim else None,
         "met": result["median_test_accuracy"] >= result["target_test_accuracy"] if claim else None},
        {"what": f"IMDB training time per seed ({profile}, longest)", "value": round(longest, 1), "unit": "s",
         "target": f"<= {limit} s" if limit else None,
         "met": result["within_time_limit"] if limit else None},
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=sorted(TARGETS), required=True)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    add_run_options(parser, RESULTS)
    args = parser.parse_args(argv)

    start_page_run(args.profile, args.threads)

    load_before = load_average()
    start = time.perf_counter()
    ns = pipeline_namespace()
    prepare_seconds = time.perf_counter() - start
    print(f"pipeline ready in {prepare_seconds:.0f} s (loading {ns['load_seconds']:.0f} s, "
          f"tokenising {ns['tokenize_seconds']:.0f} s)", flush=True)

    runs = []
    for seed in args.seeds:
        cpu_start = time.process_time()
        model, history, train_seconds = ns["train_main_model"](seed, progress=True)
        train_cpu_seconds = time.process_time() - cpu_start
        test_start = time.perf_counter()
        probabilities = ns["predict_proba"](model, ns["test_data"])
        labels = ns["test_data"].labels
        test_accuracy = ((probabilities > 0.5).float() == labels).float().mean().item()
        runs.append({
            "seed": seed,
            "test_accuracy": test_accuracy,
            "best_valid_accuracy": max(history["valid_accuracy"]),
            "best_epoch": history.best_epoch,
            "epochs_run": len(history),
            "train_seconds": train_seconds,
            "train_cpu_seconds": train_cpu_seconds,
            "test_seconds": time.perf_counter() - test_start,
            "history": history.as_dict()["records"],
        })
        print(f"seed {seed}: test accuracy {test_accuracy:.4f}, {len(history)} epochs, "
              f"training {train_seconds:.0f} s wall / {train_cpu_seconds:.0f} s CPU", flush=True)

    median = statistics.median(r["test_accuracy"] for r in runs)
    target = TARGETS[args.profile]
    time_limit = TIME_LIMITS_S.get(args.profile)
    within_time = time_limit is None or all(r["train_seconds"] <= time_limit for r in runs)
    met = median >= target and within_time
    result = {
        "benchmark": "imdb",
        "profile": args.profile,
        **machine_facts(),
        "device": str(ns["device"]),
        "packed": ns["PACK"],  # packed batches (GPU) or the padded route of rnncourse.nn.padded (CPU)
        "load_average_before": load_before,
        "load_average_after": load_average(),
        "config": ns["CONFIG"],
        "vocab_size": len(ns["vocab"]),
        "parameters": ns["count_parameters"](model),
        "train_reviews": len(ns["train_data"]),
        "valid_reviews": len(ns["valid_data"]),
        "test_reviews": len(ns["test_data"]),
        "prepare_seconds": prepare_seconds,
        "runs": runs,
        "median_test_accuracy": median,
        "target_test_accuracy": target,
        "time_limit_seconds": time_limit,
        "within_time_limit": within_time,
        "target_met": met,
        "note": args.note,
    }
    result["summary"] = summary(result)
    path = write_results(result, args.out, f"imdb-{args.profile}")
    limit = f", every seed within {time_limit} s: {within_time}" if time_limit else ""
    print(f"median test accuracy {median:.4f} (target {target:.2f}{limit}: {'met' if met else 'NOT met'}); wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
