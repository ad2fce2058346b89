"""Attention Seq2Seq reference numbers (chapter 5): dates exact match, English->French BLEU/chrF.

    python benchmarks/seq2seq.py --profile gpu     # dates >= 99.5%; the whole run < 10 min on one GPU
    python benchmarks/seq2seq.py --profile cpu     # dates >= 99% in <= 10 min of training on 2 cores
    python benchmarks/seq2seq.py --profile smoke   # seconds, tiny sizes, no claim

The script runs the SAME code as the book: it reads ``book/chapters/05-attention-seq2seq.md``,
executes the code cells tagged ``pipeline`` (configuration, data and splits, attention, model,
training, decoding and scoring) under the requested profile, then overrides a few sizes of the
page's ``CONFIG`` with this script's ``BENCH`` (larger training sets, at least 10,000 held-out
dates) and measures:

- dates: a model with additive attention, trained with ``rnncourse.train.fit``; exact match of
  greedy and beam-search outputs on at least 10,000 generated dates whose source strings never
  occur in training;
- English -> French on the Tatoeba pairs (``rnncourse.data.EnglishFrench``), split once by English
  sentence (seed 0) into training, validation and test: corpus BLEU and chrF (``sacrebleu``) on the
  test split, greedy against beam search, with additive attention and without attention.

It writes ``benchmarks/results/seq2seq-<profile>-<host>.json`` (through ``benchmarks/machine.py``):
every number above, the training times (wall clock and the process's CPU time), the test split's
size and filtering, the configuration, the hardware, the load average before and after, the date,
and the ``summary`` list the book's reference page is built from. Chapter 5 shows the latest file
of each profile.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from machine import add_run_options, load_average, machine_facts, page_pipeline, start_page_run, write_results

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "book" / "chapters" / "05-attention-seq2seq.md"
RESULTS = ROOT / "benchmarks" / "results"
TAG = "pipeline"
# Sizes that replace the page's CONFIG values; everything else is the page's.
BENCH = {
    "smoke": dict(date_train=2_000, date_test=500, epochs=1, fr_epochs=1),
    "cpu": dict(date_train=40_000, date_test=10_000, epochs=3, fr_epochs=10),
    # designed (not yet measured) to finish in under 10 minutes on one modern GPU
    "gpu": dict(date_train=100_000, date_test=20_000, epochs=6, fr_epochs=8, batch=256),
}
DATE_TARGETS = {"gpu": 0.995, "cpu": 0.99, "smoke": None}
TIME_LIMITS_S = {"cpu": 600}   # the cpu profile's budget for training the date model


def pipeline_namespace(page: Path = PAGE) -> dict:
    """The page's cells tagged ``pipeline``, executed in one namespace (``machine.page_pipeline``)."""
    return page_pipeline(page, with_imports=True, tag=TAG)


def timed_training(ns: dict, task, **kwargs) -> tuple:
    cpu_start = time.process_time()
    model, history, seconds = ns["train_seq2seq"](task, progress=True, **kwargs)
    return model, history, seconds, time.process_time() - cpu_start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=sorted(BENCH), required=True)
    add_run_options(parser, RESULTS)
    args = parser.parse_args(argv)

    start_page_run(args.profile, args.threads)
    load_before = load_average()
    ns = pipeline_namespace()
    config = ns["CONFIG"]
    config.update(BENCH[args.profile])   # the page's functions read CONFIG when called

    # ---- dates
    dates = ns["date_task"](config["date_train"], config["date_test"])
    print(f"dates: {len(dates.train):,} train, {len(dates.test):,} held-out test", flush=True)
    model, history, seconds, cpu_seconds = timed_training(ns, dates, attention="additive",
                                                          epochs=config["epochs"])
    greedy_match, _ = ns["exact_match"](model, dates.test)
    beam_match, _ = ns["exact_match"](model, dates.test, beam=config["beam"])
    date_result = {
        "train_pairs": len(dates.train), "test_pairs": len(dates.test), "attention": "additive",
        "epochs": config["epochs"], "train_seconds": seconds, "train_cpu_seconds": cpu_seconds,
        "exact_match_greedy": greedy_match, f"exact_match_beam{config['beam']}": beam_match,
        "history": history.as_dict()["records"],
    }
    print(f"dates: exact match {greedy_match:.4f} greedy, {beam_match:.4f} beam, "
          f"training {seconds:.0f} s", flush=True)

    # ---- English -> French
    french = ns["french_task"](config["fr_max_len"], config["fr_limit"], config["fr_prefixes"])
    print(f"English-French: {french.pairs:,} pairs ({french.filtering}); {len(french.train):,} train, "
          f"{len(french.valid):,} valid, {len(french.test):,} test", flush=True)
    translation = {"pairs": french.pairs, "filtering": french.filtering, "split": "80/10/10 by English sentence, seed 0",
                   "train_pairs": len(french.train), "valid_pairs": len(french.valid),
                   "test_pairs": len(french.test), "source_vocab": len(french.src_vocab),
                   "target_vocab": len(french.tgt_vocab), "models": {}}
    for attention in ("additive", "none"):
        model, history, seconds, cpu_seconds = timed_training(
            ns, french, attention=attention, epochs=config["fr_epochs"],
            teacher_forcing=config["fr_teacher_forcing"])
        entry = {"train_seconds": seconds, "train_cpu_seconds": cpu_seconds,
                 "best_valid_loss": min(history["valid_loss"]), "history": history.as_dict()["records"]}
        for name, beam in (("greedy", 1), (f"beam{config['beam']}", config["beam"])):
            scores = ns["translate_scores"](model, french.test, french.tgt_vocab, beam=beam)
            entry[f"bleu_{name}"], entry[f"chrf_{name}"] = scores["bleu"], scores["chrf"]
            print(f"English-French, attention {attention}, {name}: BLEU {scores['bleu']:.2f}, "
                  f"chrF {scores['chrf']:.2f}", flush=True)
        translation["models"][attention] = entry

    target = DATE_TARGETS[args.profile]
    limit = TIME_LIMITS_S.get(args.profile)
    within = limit is None or date_result["train_seconds"] <= limit
    date_met = None if target is None else bool(greedy_match >= target and within)
    target_text = None if target is None else f">= {target:.1%}" + (f" in <= {limit // 60} min of training" if limit else "")
    beam_name = f"beam{config['beam']}"
    summary = [
        {"what": f"dates exact match, {len(dates.test):,} held-out dates (greedy)", "value": round(100 * greedy_match, 2),
         "unit": "%", "target": target_text, "met": date_met},
        {"what": f"dates exact match (beam {config['beam']})", "value": round(100 * beam_match, 2), "unit": "%",
         "target": None, "met": None},
        {"what": "dates training time", "value": round(date_result["train_seconds"] / 60, 2), "unit": "min",
         "target": f"<= {limit // 60} min" if limit else None, "met": within if limit else None},
    ]
    for attention, entry in translation["models"].items():
        for name, label in (("greedy", "greedy"), (beam_name, f"beam {config['beam']}")):
            summary.append({"what": f"English->French test BLEU, attention {attention}, {label} "
                                    f"({len(french.test):,} test pairs)",
                            "value": round(entry[f"bleu_{name}"], 2), "unit": "BLEU", "target": None, "met": None})
            summary.append({"what": f"English->French test chrF, attention {attention}, {label}",
                            "value": round(entry[f"chrf_{name}"], 2), "unit": "chrF", "target": None, "met": None})
    result = {
        "benchmark": "seq2seq",
        "profile": args.profile,
        **machine_facts(),
        "device": str(ns["device"]),
        "load_average_before": load_before,
        "load_average_after": load_average(),
        "config": config,
        "dates": date_result,
        "translation": translation,
        "target_met": date_met,
        "note": args.note,
        "summary": summary,
    }
    path = write_results(result, args.out, f"seq2seq-{args.profile}")
    print(f"dates exact match {greedy_match:.4f} (target {target_text}: "
          f"{'-' if date_met is None else 'met' if date_met else 'NOT met'}); wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
