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
- English -> French on the Tatoeba pairs (``rnncourse.data.EnglishFrench``), split once by the
  English sentence's ``split_key`` (seed 0; no contracted twin crosses) into training, validation
  and test: multi-reference corpus BLEU and chrF (``rnncourse.nn.mt_eval``: every reference of a
  test sentence, ``tokenize="none"``, sacrebleu's signature, 95% bootstrap intervals) of greedy
  and beam search (length penalty alpha chosen on validation), with additive attention and
  without; BLEU per English length; sacrebleu's paired bootstrap test for attention against none
  and beam against greedy; and validation BLEU for every beam size from 1 to 20 (alpha 0 and the
  chosen alpha).

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
    "smoke": dict(date_train=2_000, date_test=500, epochs=1, fr_epochs=1, beam_sweep=(1, 2, 3)),
    "cpu": dict(date_train=40_000, date_test=10_000, epochs=3, fr_epochs=10),
    # designed (not yet measured) to finish in under 10 minutes on one modern GPU
    "gpu": dict(date_train=100_000, date_test=20_000, epochs=6, fr_epochs=8, batch=256),
}
DATE_TARGETS = {"gpu": 0.995, "cpu": 0.99, "smoke": None}
BEAM_SWEEP = tuple(range(1, 21))  # validation BLEU against beam size (smoke: BENCH's beam_sweep)
LENGTH_EDGES = (1, 3, 5, 7, 9, 11)  # English length buckets (words, punctuation included)
TIME_LIMITS_S = {"cpu": 600}   # the cpu profile's budget for training the date model


def pipeline_namespace(page: Path = PAGE) -> dict:
    """The page's cells tagged ``pipeline``, executed in one namespace (``machine.page_pipeline``)."""
    return page_pipeline(page, with_imports=True, tag=TAG)


def timed_training(ns: dict, task, **kwargs) -> tuple:
    cpu_start = time.process_time()
    model, history, seconds = ns["train_seq2seq"](task, progress=True, **kwargs)
    return model, history, seconds, time.process_time() - cpu_start


def translation_facts(ns: dict, french) -> dict:
    """The split's sizes, its references per source, and the leak an exact-sentence split had."""
    refs, split_key, grouped_split = french.test_refs.refs, ns["split_key"], ns["grouped_split"]
    everything = french.train.pairs + french.valid.pairs + french.test.pairs
    seen = {split_key(e) for e, _ in french.train.pairs}
    old_train, _, old_test = grouped_split(everything, (0.8, 0.1, 0.1), seed=0, key=lambda e: e)
    old_seen = {split_key(e) for e, _ in old_train}
    return {"pairs": french.pairs, "filtering": french.filtering,
            "split": "80/10/10 by split_key of the English sentence, seed 0",
            "train_pairs": len(french.train), "valid_pairs": len(french.valid),
            "test_pairs": len(french.test), "test_sources": len(refs),
            "valid_sources": len(french.valid_refs.refs),
            "test_sources_with_several_references": sum(len(r) > 1 for r in refs),
            "test_key_leak": sum(split_key(e) in seen for e, _ in french.test.pairs) / len(french.test),
            "exact_sentence_split_key_leak": sum(split_key(e) in old_seen for e, _ in old_test) / len(old_test),
            "source_vocab": len(french.src_vocab), "target_vocab": len(french.tgt_vocab), "models": {}}


def score_translation(ns: dict, config: dict, french, model) -> tuple[dict, dict]:
    """Alpha chosen on validation; test scores (greedy, beam) with intervals and per length."""
    alpha, valid_bleu = ns["choose_alpha"](model, french, config["beam"], config["alphas"])
    entry = {"alpha": alpha, "alpha_valid_bleu": [{"alpha": a, "bleu": b} for a, b in valid_bleu.items()],
             "test": {}}
    hyps = {}
    for name, beam, a in (("greedy", 1, 0.0), ("beam", config["beam"], alpha)):
        scores, hyps[name] = ns["translate_scores"](model, french.test_refs, french.tgt_vocab,
                                                    beam=beam, alpha=a, n_bootstrap=config["n_bootstrap"])
        by_length = ns["bleu_by_length"](french.test_refs, hyps[name], LENGTH_EDGES)
        entry["test"][name] = {**scores.as_dict(), "beam": beam, "alpha": a,
                               "bleu_by_english_length": [{"words": k, "bleu": b, "sources": n}
                                                          for k, (b, n) in by_length.items()]}
        print(f"  {name} (beam {beam}, alpha {a}): {scores}", flush=True)
    return entry, hyps


def beam_sweep(ns: dict, french, model, alpha: float, sizes) -> list:
    """Validation BLEU and mean output length for each beam size, with alpha 0 and ``alpha``."""
    sweep = []
    for a in sorted({0.0, alpha}):
        rows = []
        for k in sizes:
            scores, hyps = ns["translate_scores"](model, french.valid_refs, french.tgt_vocab, beam=k, alpha=a)
            rows.append({"beam": k, "bleu": scores.bleu, "chrf": scores.chrf,
                         "mean_output_words": sum(len(h.split()) for h in hyps) / len(hyps)})
            print(f"  valid, alpha {a}, beam {k}: BLEU {scores.bleu:.2f}", flush=True)
        sweep.append({"alpha": a, "rows": rows})
    return sweep


def paired_tests(ns: dict, config: dict, french, hyps: dict) -> list[dict]:
    """sacrebleu's paired bootstrap: attention against none, beam against greedy."""
    pairs = [("additive vs none, greedy", hyps["none"]["greedy"], hyps["additive"]["greedy"]),
             ("additive vs none, beam", hyps["none"]["beam"], hyps["additive"]["beam"]),
             ("beam vs greedy, additive", hyps["additive"]["greedy"], hyps["additive"]["beam"]),
             ("beam vs greedy, none", hyps["none"]["greedy"], hyps["none"]["beam"])]
    found = []
    for label, baseline, system in pairs:
        result = ns["paired_bootstrap"](baseline, system, french.test_refs.refs, n_samples=config["n_bootstrap"])
        found.append({"comparison": label, **result})
        print(f"  {label}: BLEU {result['BLEU']['difference']:+.2f} (p = {result['BLEU']['p_value']:.3f})",
              flush=True)
    return found


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
    translation = translation_facts(ns, french)
    hyps = {}
    for attention in ("additive", "none"):
        model, history, seconds, cpu_seconds = timed_training(
            ns, french, attention=attention, epochs=config["fr_epochs"],
            teacher_forcing=config["fr_teacher_forcing"])
        entry, hyps[attention] = score_translation(ns, config, french, model)
        entry.update(train_seconds=seconds, train_cpu_seconds=cpu_seconds,
                     best_valid_loss=min(history["valid_loss"]), history=history.as_dict()["records"])
        if attention == "additive":
            entry["beam_sweep_valid"] = beam_sweep(ns, french, model, entry["alpha"],
                                                   config.get("beam_sweep", BEAM_SWEEP))
        translation["models"][attention] = entry
    translation["paired_bootstrap"] = paired_tests(ns, config, french, hyps)

    target = DATE_TARGETS[args.profile]
    limit = TIME_LIMITS_S.get(args.profile)
    within = limit is None or date_result["train_seconds"] <= limit
    date_met = None if target is None else bool(greedy_match >= target and within)
    target_text = None if target is None else f">= {target:.1%}" + (f" in <= {limit // 60} min of training" if limit else "")
    summary = [
        {"what": f"dates exact match, {len(dates.test):,} held-out dates (greedy)", "value": round(100 * greedy_match, 2),
         "unit": "%", "target": target_text, "met": date_met},
        {"what": f"dates exact match (beam {config['beam']})", "value": round(100 * beam_match, 2), "unit": "%",
         "target": None, "met": None},
        {"what": "dates training time", "value": round(date_result["train_seconds"] / 60, 2), "unit": "min",
         "target": f"<= {limit // 60} min" if limit else None, "met": within if limit else None},
    ]
    for attention, entry in translation["models"].items():
        for name, label in (("greedy", "greedy"), ("beam", f"beam {config['beam']}, alpha {entry['alpha']}")):
            test = entry["test"][name]
            summary.append({"what": f"English->French test BLEU, attention {attention}, {label} "
                                    f"({translation['test_sources']:,} sources, all references), "
                                    f"± 95% bootstrap {test['bleu_ci']:.2f}",
                            "value": round(test["bleu"], 2), "unit": "BLEU", "target": None, "met": None})
            summary.append({"what": f"English->French test chrF, attention {attention}, {label}, "
                                    f"± {test['chrf_ci']:.2f}",
                            "value": round(test["chrf"], 2), "unit": "chrF", "target": None, "met": None})
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
