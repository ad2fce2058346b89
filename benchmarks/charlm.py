"""tiny-shakespeare character language model: chapter 7's model, one results file.

    python benchmarks/charlm.py --profile gpu        # target: validation loss <= 1.45 nats/char, < 10 min
    python benchmarks/charlm.py --profile cpu        # the loss reached in <= 10 min of training, 2 cores
    python benchmarks/charlm.py --profile smoke      # seconds, a prefix of the text, no claim

Like ``benchmarks/imdb.py`` it runs the SAME code as the book: it executes the code cells of
``book/chapters/07-char-generation.md`` tagged ``pipeline`` (configuration, data on nanoGPT's split:
first 90% of the characters for training, last 10% for validation; the carried-state training
step; the model; the training and timing functions) under the requested profile, then:

1. trains the chapter's model with ``train_main_model(seed)`` for the profile's fixed training time
   (``train_seconds`` of the page's ``CLOCK``: this process's CPU time on a CPU, wall time on a GPU;
   cut into ``slices`` that ``fit`` treats as epochs) and records its validation loss with the state
   carried through the validation text, in nats and bits per character, how many passes over the
   text the time allowed, and the training time (wall and CPU);
2. compares it like for like with a small GPT (``gpt_baseline.py``: the course's
   ``rnncourse.nn.gpt.GPT`` in nanoGPT's CPU recipe, 4 layers, 4 heads, 128 dimensions, context 64,
   batch 12, no dropout), trained for the same budget of the same clock on the same split: after
   every slice both are scored with the same metric, the whole validation split in windows of 64
   characters (the GPT's context) each read from nothing (``rnncourse.nn.lm_metrics.windowed_loss``),
   which gives the two curves against training time; the LSTM is also scored in windows of 256 (the
   metric of nanoGPT's 1.4697) and with its state carried. The LSTM keeps the slice best on the
   windowed metric;
3. times generation per character, the median over the characters generated, on a CPU in the
   process's own CPU time (so that other work on a shared machine does not count): the stateful generator (one character fed per
   step, the hidden state kept) at 100 ... 10,000 characters, whose time per character must stay
   flat within 20%, and beside it the re-feeding generator of the source article (the last
   ``window`` characters run again for every new one), with the training's ``bptt`` as the
   window and at several other windows;
4. keeps a few samples at several temperatures.

It writes ``benchmarks/results/charlm-<profile>-<host>.json`` with the machine's facts and load
average before and after (the machine may be shared), and a ``summary`` list. Chapter 7 shows the
latest file of each profile.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

from rnncourse.nn.lm_metrics import window_batches, windowed_loss

from gpt_baseline import FromZeros, train_gpt
from machine import add_run_options, load_average, machine_facts, page_pipeline, start_page_run, summary_row, write_results

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "book" / "chapters" / "07-char-generation.md"
RESULTS = ROOT / "benchmarks" / "results"
TAG = "pipeline"
TARGETS = {"gpu": 1.45}                 # nats/char on the validation split; cpu states its figure
TIME_LIMITS_S = {"gpu": 600, "cpu": 600}
FLATNESS = 0.20                          # stateful time per char: largest/smallest - 1 at most this
NANOGPT = 1.4697
METRIC_WINDOW = 64                       # the small GPT's context: the window both are scored in


def curve(history, seconds: float) -> list[list[float]]:
    """[training seconds, validation loss] after each slice of equal ``seconds / slices``."""
    losses = history["valid_loss"]
    return [[seconds * (i + 1) / len(losses), loss] for i, loss in enumerate(losses)]


def compare_with_gpt(ns: dict, lstm, lstm_history, lstm_seconds: float, seed: int) -> dict:
    """Train the small GPT for the LSTM's budget and score both with the same windowed metric."""
    config, valid = ns["CONFIG"], ns["valid_data"]
    window_valid = window_batches(valid, METRIC_WINDOW, batch_size=64)
    gpt, history, seconds, iterations = train_gpt(ns, config["train_seconds"], config["slices"],
                                                  window_valid, seed=seed)
    lstm_scores = {"windowed_64": windowed_loss(lstm, valid, METRIC_WINDOW),
                   "windowed_256": windowed_loss(lstm, valid, 256),
                   "carried_state": ns["validation_loss"](lstm)}
    gpt_score = windowed_loss(gpt, valid, METRIC_WINDOW)
    print(f"same budget ({config['train_seconds']} s of {ns['CLOCK'].__name__}): windows of {METRIC_WINDOW} "
          f"from zeros: LSTM {lstm_scores['windowed_64']:.4f}, GPT {gpt_score:.4f} ({iterations} "
          f"iterations); LSTM windows of 256 {lstm_scores['windowed_256']:.4f}, carried state "
          f"{lstm_scores['carried_state']:.4f}", flush=True)
    return {
        "clock": ns["CLOCK"].__name__, "budget_seconds": config["train_seconds"],
        "metric_window": METRIC_WINDOW, "valid_chars": len(valid),
        "lstm": {**lstm_scores, "train_seconds": lstm_seconds, "parameters": ns["count_parameters"](lstm),
                 "curve": curve(lstm_history, lstm_seconds)},
        "gpt": {"windowed_64": gpt_score, "train_seconds": seconds, "iterations": iterations,
                "parameters": ns["count_parameters"](gpt), "config": vars(gpt.cfg),
                "curve": curve(history, seconds)},
    }


def pipeline_namespace(page: Path = PAGE) -> dict:
    """The page's cells tagged ``pipeline``, executed in one namespace (``machine.page_pipeline``)."""
    return page_pipeline(page, tag=TAG)


def summary(result: dict) -> list[dict]:
    """The headline figures of a charlm results file, for the book's reference-numbers page."""
    cmp = result["comparison"]
    profile, target, limit = result["profile"], result["target_valid_loss"], result["time_limit_seconds"]
    gen = result["generation"]
    spans = gen["lengths"][0] <= 100 and gen["lengths"][-1] >= 10_000   # the claimed range
    return [
        summary_row(f"tiny-shakespeare validation loss, {result['cell'].upper()} ({profile})",
                    round(result["best_valid_loss"], 4), "nats/char",
                    f"<= {target}" if target else None,
                    result["best_valid_loss"] <= target if target else None),
        summary_row(f"tiny-shakespeare validation bits per character ({profile})",
                    round(result["best_valid_bits"], 4), "bits/char"),
        summary_row(f"char LM training time ({profile})", round(result["train_seconds"], 1), "s",
                    f"<= {limit} s" if limit else None, result["within_time_limit"] if limit else None),
        summary_row(f"stateful generation, time per char spread {gen['lengths'][0]}-{gen['lengths'][-1]} chars",
                    round(100 * gen["stateful_spread"], 1), "%", f"<= {100 * FLATNESS:g}%" if spans else None,
                    gen["stateful_flat"] if spans else None),
        summary_row(f"re-feeding generation (window {gen['refeed_window']}) / stateful, time per char",
                    round(gen["refeed_over_stateful"], 1), "x"),
        summary_row(f"tiny-shakespeare, windows of 256 from zeros (nanoGPT's metric), LSTM ({profile})",
                    round(result["valid_windowed_256"], 4), "nats/char"),
    ] + [summary_row(f"same {cmp['budget_seconds']} s of {cmp['clock']}, windows of {cmp['metric_window']} "
                     f"from zeros: {name} ({profile})", round(cmp[key]["windowed_64"], 4), "nats/char")
         for key, name in (("lstm", "the chapter's LSTM"), ("gpt", "small GPT, nanoGPT's CPU recipe"))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=["smoke", "cpu", "gpu"], required=True)
    parser.add_argument("--seed", type=int, default=0)
    add_run_options(parser, RESULTS)
    args = parser.parse_args(argv)

    start_page_run(args.profile, args.threads)

    load_before = load_average()
    ns = pipeline_namespace()
    config, BITS = ns["CONFIG"], ns["BITS"]

    window_valid = window_batches(ns["valid_data"], METRIC_WINDOW, batch_size=64)
    cpu_start = time.process_time()
    fit_start = time.perf_counter()
    model, history, train_seconds, passes = ns["train_main_model"](
        args.seed, progress=True, valid=(window_valid, FromZeros()))
    fit_seconds = time.perf_counter() - fit_start
    train_cpu_seconds = time.process_time() - cpu_start
    load_after_training = load_average()
    best = ns["validation_loss"](model)           # the kept slice, streams with the state carried
    print(f"validation loss {best:.4f} nats/char = {best * BITS:.4f} bits/char, "
          f"training {train_seconds:.0f} s of {ns['CLOCK'].__name__} ({passes:.2f} passes over the text; "
          f"with validation {fit_seconds:.0f} s wall), {train_cpu_seconds:.0f} s CPU", flush=True)
    comparison = compare_with_gpt(ns, model, history, train_seconds, args.seed)

    per_char = ns["seconds_per_char"]
    lengths = config["gen_lengths"]
    stateful = [per_char(model, n) for n in lengths]
    spread = max(stateful) / min(stateful) - 1
    window = config["bptt"]
    refeed_at_bptt = [per_char(model, n, window=window) for n in config["refeed_lengths"]]
    by_window = {str(w): per_char(model, 2 * w, window=w) for w in config["windows"]}
    print(f"stateful: {[f'{s * 1e3:.3f}' for s in stateful]} ms/char (spread {spread:.1%}); "
          f"re-feeding window {window}: {[f'{s * 1e3:.2f}' for s in refeed_at_bptt]} ms/char", flush=True)

    import torch

    samples = {}
    for temperature in (0.5, 0.8, 1.0):
        g = torch.Generator(device=ns["device"]).manual_seed(args.seed)
        ids = ns["generate"](model, ns["encode"]("\n"), 400, temperature=temperature, generator=g)
        samples[str(temperature)] = ns["decode"](list(ids))

    target = TARGETS.get(args.profile)
    limit = TIME_LIMITS_S.get(args.profile)
    result = {
        "benchmark": "charlm",
        "profile": args.profile,
        **machine_facts(),
        "device": str(ns["device"]),
        "load_average_before": load_before,
        "load_average_after_training": load_after_training,
        "load_average_after": load_average(),
        "config": config,
        "cell": ns["CELL"],
        "parameters": ns["count_parameters"](model),
        "train_chars": len(ns["train_data"]),
        "valid_chars": len(ns["valid_data"]),
        "seed": args.seed,
        "history": history.as_dict()["records"],
        "best_epoch": history.best_epoch,
        "best_valid_loss": best,
        "valid_windowed_256": comparison["lstm"]["windowed_256"],
        "valid_perplexity": math.exp(best),
        "best_valid_bits": best * BITS,
        "train_seconds": train_seconds,             # training only (the budget)
        "fit_seconds": fit_seconds,                 # with the validation passes between slices
        "passes_over_training_text": passes,
        "train_cpu_seconds": train_cpu_seconds,
        "target_valid_loss": target,
        "nanogpt_valid_loss": NANOGPT,
        "time_limit_seconds": limit,
        "within_time_limit": train_seconds <= limit if limit else None,
        "generation": {
            "lengths": lengths, "stateful_seconds_per_char": stateful, "stateful_spread": spread,
            "stateful_flat": spread <= FLATNESS, "refeed_lengths": config["refeed_lengths"],
            "refeed_seconds_per_char": refeed_at_bptt, "refeed_window": window,
            "refeed_seconds_per_char_by_window": by_window,  # each over 2 * window characters
            "refeed_over_stateful": (sum(refeed_at_bptt) / len(refeed_at_bptt)) / (sum(stateful) / len(stateful)),
        },
        "samples": samples,
        "comparison": comparison,
        "note": args.note,
    }
    result["summary"] = summary(result)
    path = write_results(result, args.out, f"charlm-{args.profile}")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
