"""The benchmarks still run (tiny sizes; their targets are measured by hand or on a GPU, not here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, mirror_dir, smoke_env

pytestmark = pytest.mark.slow


def test_bench_cells_runs_and_checks_the_three_lstms_agree(tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_cells.py"), "--device", "cpu", "--seq-len", "5",
         "--batch", "4", "--input-size", "8", "--hidden-size", "8", "--min-run-time", "0.05",
         "--out", str(tmp_path)],
        env=smoke_env(), capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (path,) = tmp_path.glob("bench_cells-cpu-*.json")
    report = json.loads(path.read_text())
    assert report["cpu_model"] and report["date"] and report["torch_threads"] >= 1
    assert {"what", "value", "unit", "target", "met"} <= set(report["summary"][0])
    assert report["summary"][0]["met"] is None          # a CPU run does not claim the GPU target


def test_packing_benchmark_runs_and_checks_the_routes_agree(tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "packing.py"), "--device", "cpu", "--lengths", "4", "12",
         "--batch", "3", "--embed", "6", "--hidden", "5", "--repeats", "1", "--out", str(tmp_path)],
        env=smoke_env(), capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (path,) = tmp_path.glob("packing-cpu-*.json")
    report = json.loads(path.read_text())
    rows = report["rows"]
    assert [(r["seq_len"], r["lengths"]) for r in rows] == [(4, "unequal"), (4, "equal"), (12, "unequal"),
                                                           (12, "equal")]
    assert all(r["lengths_min"] == r["lengths_max"] == r["seq_len"] for r in rows if r["lengths"] == "equal")
    assert all(r["max_output_difference"] < 1e-4 and r["packed_seconds"] > 0 for r in rows)
    assert report["cpu_model"] and len(report["summary"]) == len(rows)


def _run_on_real_data(script: str, tmp_path: Path, timeout: int) -> dict:
    """Run ``benchmarks/<script>.py --profile smoke`` with the datasets from the mirror in a cache of
    the test's own; return its results file."""
    env = smoke_env(RNNCOURSE_DATA=str(tmp_path / "data"), RNNCOURSE_MIRROR=str(mirror_dir()))
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / f"{script}.py"), "--profile", "smoke", "--out", str(tmp_path)],
        env=env, capture_output=True, text=True, timeout=timeout,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (path,) = tmp_path.glob(f"{script}-smoke-*.json")
    report = json.loads(path.read_text())
    assert report["profile"] == "smoke"
    assert all({"what", "value", "unit", "target", "met"} <= set(row) for row in report["summary"])
    return report


@pytest.mark.skipif(mirror_dir() is None, reason="needs the IMDB archive: no RNNCOURSE_MIRROR and no ../shared/data")
def test_imdb_benchmark_runs_under_smoke(tmp_path):
    report = _run_on_real_data("imdb", tmp_path, timeout=900)
    assert 0.0 <= report["median_test_accuracy"] <= 1.0


@pytest.mark.skipif(mirror_dir() is None, reason="needs tiny-shakespeare: no RNNCOURSE_MIRROR and no ../shared/data")
def test_charlm_benchmark_runs_under_smoke(tmp_path):
    report = _run_on_real_data("charlm", tmp_path, timeout=600)
    assert 0 < report["best_valid_loss"] < 10
    assert report["best_valid_bits"] > report["best_valid_loss"]          # bits = nats / ln 2
    gen = report["generation"]
    assert len(gen["stateful_seconds_per_char"]) == len(gen["lengths"]) and gen["refeed_over_stateful"] > 0
    assert report["summary"][0]["met"] is None                         # smoke makes no claim
    cmp = report["comparison"]                                         # the like-for-like run
    assert cmp["lstm"]["parameters"] > 0 and cmp["gpt"]["iterations"] > 0
    assert len(cmp["lstm"]["curve"]) == len(cmp["gpt"]["curve"]) == report["config"]["slices"]
    assert all(0 < cmp[m]["windowed_64"] < 10 for m in ("lstm", "gpt"))
    # fit's validation over window_batches is the same mean as windowed_loss (the GPT keeps its last slice)
    assert cmp["gpt"]["curve"][-1][1] == pytest.approx(cmp["gpt"]["windowed_64"], rel=1e-4)


@pytest.mark.skipif(mirror_dir() is None, reason="needs the English-French pairs: no RNNCOURSE_MIRROR and no ../shared/data")
def test_seq2seq_benchmark_runs_under_smoke(tmp_path):
    report = _run_on_real_data("seq2seq", tmp_path, timeout=600)
    assert 0.0 <= report["dates"]["exact_match_greedy"] <= 1.0
    assert set(report["translation"]["models"]) == {"additive", "none"}
    assert report["translation"]["test_pairs"] > 0 and report["translation"]["filtering"]
    translation = report["translation"]
    assert translation["test_key_leak"] == 0 and translation["test_sources"] <= translation["test_pairs"]
    for entry in translation["models"].values():
        for search in ("greedy", "beam"):
            scores = entry["test"][search]
            assert "tok:none" in scores["bleu_signature"] and "nrefs:var" in scores["bleu_signature"]
            assert scores["bleu_ci"] is not None and scores["bleu_by_english_length"]
    sweep = translation["models"]["additive"]["beam_sweep_valid"]
    assert [row["beam"] for row in sweep[0]["rows"]] == [1, 2, 3] and sweep[0]["alpha"] == 0.0
    assert [p["comparison"] for p in translation["paired_bootstrap"]][0] == "additive vs none, greedy"
    assert report["summary"][0]["met"] is None                         # smoke makes no claim


@pytest.mark.skipif(mirror_dir() is None, reason="needs the IMDB archive: no RNNCOURSE_MIRROR and no ../shared/data")
def test_deploy_benchmark_runs_under_smoke(tmp_path):
    report = _run_on_real_data("deploy", tmp_path, timeout=900)
    routes = {row["route"] for row in report["latency"]}
    assert {"eager PyTorch", "ONNX Runtime fp32", "ONNX Runtime int8"} <= routes
    assert all(row["median_ms"] > 0 and row["p99_ms"] >= row["median_ms"] for row in report["latency"])
    assert report["int8"]["size_ratio"] > 1 and report["service"]["failed"] == 0
    assert {(r["optimization"], r["batch"]) for r in report["graph_optimization"]} == {
        (level, batch) for level in ("disable", "basic", "extended", "all") for batch in (1, 4)}
    assert set(report["graph_optimization_off_over_all"]) == {"1", "4"}
    assert report["summary"][0]["met"] is None                         # smoke makes no claim


@pytest.mark.skipif(mirror_dir() is None, reason="needs the IMDB archive: no RNNCOURSE_MIRROR and no ../shared/data")
def test_serving_benchmark_runs_batching_on_and_off_under_smoke(tmp_path):
    report = _run_on_real_data("serving", tmp_path, timeout=900)
    assert {(r["clients"], r["batching"]) for r in report["rows"]} == {(n, m) for n in (1, 8) for m in ("on", "off")}
    assert all(r["failed"] == 0 and r["requests_per_second"] > 0 and r["p99_ms"] >= r["p50_ms"] for r in report["rows"])
    assert report["summary"][0]["unit"] == "x" and report["summary"][0]["met"] is None   # smoke makes no claim


@pytest.mark.skipif(mirror_dir() is None, reason="needs tiny-shakespeare: no RNNCOURSE_MIRROR and no ../shared/data")
def test_scan_benchmark_runs_under_smoke(tmp_path):
    report = _run_on_real_data("scan", tmp_path, timeout=600)
    rows = report["scans"]["rows"]
    lengths = report["config"]["time_lengths"]
    assert {(r["T"], r["scan"]) for r in rows} == {(T, s) for T in lengths for s in
                                                  ("sequential", "parallel (Hillis-Steele)", "parallel (log space)")}
    assert all(r["min_seconds"] <= r["median_seconds"] <= r["max_seconds"] and r["saved_bytes"] > 0 for r in rows)
    lms = report["language_models"]
    assert set(lms) == {"LSTM (chapter 7)", "minGRU stack"}
    assert all(0 < lm["best_valid_loss"] < 10 and len(lm["seconds_per_char"]) == len(lm["gen_lengths"])
               for lm in lms.values())
    accuracy = [a for m in report["parity"]["models"].values() for a in m["accuracy"]]
    assert len(accuracy) == 2 * len(report["parity"]["test_lengths"]) and all(0 <= a <= 1 for a in accuracy)


def test_grading_scale_runs_a_small_mixed_class(tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "grading_scale.py"), "--students", "3", "--out", str(tmp_path)],
        env=smoke_env(), capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (path,) = tmp_path.glob("grading_scale-*.json")
    report = json.loads(path.read_text())
    assert report["students"] == 3 and sum(report["statuses"].values()) == 3
    assert report["wall_s"] > 0 and report["load_before"] is not None
