"""Deployment reference numbers for chapter 8: latency and throughput of each route, int8, the HTTP service.

    python benchmarks/deploy.py --profile cpu      # the reference run on a CPU (minutes)
    python benchmarks/deploy.py --profile smoke    # seconds at tiny sizes, no claim (the tests run it)

Four parts, one results file, ``benchmarks/results/deploy-<profile>-<host>.json``:

1. Latency table: chapter 6's BiLSTM at its full size (the ``gpu`` profile's architecture: 2 layers
   of 256 units per direction, embeddings of 256, 30,000 words; random weights, since time does not
   depend on them) run five ways: eager PyTorch (no lengths: one fused ``nn.LSTM`` call), eager
   PyTorch as chapter 6 calls it (with lengths: the padded route), ``torch.export`` (dynamic length,
   through the private while-loop decomposition), ONNX Runtime fp32 and ONNX Runtime int8; batch 1 and 32,
   lengths 50, 200, 800; median and p99 of the timed calls, and sequences per second.
2. The target: ONNX Runtime against eager at batch 1, 200 tokens (>= 10x), from the same run, against
   both eager calls.
3. int8: the chapter-6 model trained under this profile (``benchmarks/imdb.py``'s way: chapter 6's
   pipeline cells) exported to ONNX, quantised by ONNX Runtime (``DynamicQuantizeLSTM``): test
   accuracy of eager, ONNX fp32 and ONNX int8 on the IMDB test reviews (target: int8 loses <= 0.5
   points), file sizes and batch-1 latency, and their ratios.
4. The service: that model saved with ``rnncourse.deploy.checkpoint``, served by ``rnncourse serve`` on
   127.0.0.1, under ``--clients`` concurrent clients (>= 64 for the target) sending real test
   reviews: failed requests (target 0), p50/p99 latency, requests per second.

Every part uses ``--threads`` threads (default 1) for PyTorch and ONNX Runtime alike. The machine's
load average is recorded before and after: on a shared machine, wall times grow with it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

from machine import load_average, machine_facts, write_results

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"

SIZES = {
    "smoke": dict(vocab=2_000, embed=32, hidden=32, layers=1, lengths=[10, 40], batches=[1, 4], budget_s=0.3,
                  repeats=5, clients=8, requests=32),
    "cpu": dict(vocab=30_000, embed=256, hidden=256, layers=2, lengths=[50, 200, 800], batches=[1, 32],
                budget_s=4.0, repeats=200, clients=64, requests=640),
    "gpu": dict(vocab=30_000, embed=256, hidden=256, layers=2, lengths=[50, 200, 800], batches=[1, 32],
                budget_s=4.0, repeats=200, clients=64, requests=640),
}
SPEEDUP_TARGET = 10.0
INT8_MAX_LOSS_POINTS = 0.5
# the call chapter 6 makes (ids and lengths: the exact padded route of rnncourse.nn.padded, one
# direction at a time); "eager PyTorch" is the same model without lengths (one fused nn.LSTM call)
EAGER_PADDED = "eager PyTorch, with lengths (chapter 6's call)"


def latency_rows(sizes: dict, threads: int, folder: Path) -> list[dict]:
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from torch.export._patches import register_lstm_while_loop_decomposition  # private: may change

    from rnncourse.deploy.latency import export_onnx, onnx_session, summary, time_calls
    from rnncourse.nn.models import SentimentClassifier

    torch.manual_seed(0)
    model = SentimentClassifier(sizes["vocab"], sizes["embed"], sizes["hidden"], num_layers=sizes["layers"],
                                pack=False).eval()
    example = torch.randint(2, sizes["vocab"], (2, 17))
    with warnings.catch_warnings(), register_lstm_while_loop_decomposition():
        warnings.simplefilter("ignore")
        exported = torch.export.export(model, (example,), dynamic_shapes=(
            {0: torch.export.Dim("batch", max=4096), 1: torch.export.Dim("length", max=100_000)},)).module()
    fp32 = export_onnx(model, folder / "table-fp32.onnx", example)
    int8 = folder / "table-int8.onnx"
    quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8)
    sessions = {"ONNX Runtime fp32": onnx_session(fp32, threads), "ONNX Runtime int8": onnx_session(int8, threads)}

    rows = []
    for length in sizes["lengths"]:
        for batch in sizes["batches"]:
            ids = torch.randint(2, sizes["vocab"], (batch, length))
            lengths = torch.full((batch,), length)
            routes = {"eager PyTorch": lambda: model(ids),
                      EAGER_PADDED: lambda: model(ids, lengths),
                      "torch.export (dynamic length)": lambda: exported(ids)}
            routes.update({name: (lambda s=s: s.run(None, {"ids": ids.numpy()})) for name, s in sessions.items()})
            with torch.no_grad():
                for route, fn in routes.items():
                    times = time_calls(fn, repeats=sizes["repeats"], budget_s=sizes["budget_s"])
                    rows.append({"route": route, "batch": batch, "length": length, **summary(times, batch)})
                    print(f"  {route:32s} batch {batch:3d} length {length:4d}: "
                          f"median {rows[-1]['median_ms']:9.2f} ms  p99 {rows[-1]['p99_ms']:9.2f} ms", flush=True)
    return rows


def int8_and_service(profile: str, sizes: dict, threads: int, folder: Path) -> tuple[dict, dict]:
    import numpy as np
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from imdb import pipeline_namespace
    from rnncourse.deploy.checkpoint import save_model
    from rnncourse.deploy.latency import export_onnx, load_test, onnx_session, summary, time_calls
    from rnncourse.deploy.serve import ServerProcess

    ns = pipeline_namespace()
    model, history, train_seconds = ns["train_main_model"](0)
    model = model.cpu().eval()
    test = ns["test_data"]
    labels = test.labels.numpy()
    eager = (ns["predict_proba"](model, test).numpy() > 0.5)

    fp32 = export_onnx(model, folder / "imdb-fp32.onnx", test[0][0][None, :])
    int8 = folder / "imdb-int8.onnx"
    quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8)
    result = {"train_seconds": round(train_seconds, 1), "test_reviews": len(test),
              "config": ns["CONFIG"], "vocab_size": len(ns["vocab"])}
    result["eager_accuracy"] = float((eager == labels).mean())
    for name, path in (("fp32", fp32), ("int8", int8)):
        session = onnx_session(path, threads)
        probabilities = np.array([1 / (1 + np.exp(-session.run(None, {"ids": test[i][0][None, :].numpy()})[0][0]))
                                  for i in range(len(test))])
        result[f"{name}_accuracy"] = float(((probabilities > 0.5) == labels).mean())
        result[f"{name}_bytes"] = path.stat().st_size
        ids = test[int(np.argsort(test.lengths)[len(test) // 2])][0][None, :].numpy()   # a median-length review
        result[f"{name}_batch1"] = summary(time_calls(lambda: session.run(None, {"ids": ids}),
                                                      repeats=sizes["repeats"], budget_s=sizes["budget_s"]))
    result["median_review_tokens"] = int(np.median(test.lengths))
    result["accuracy_loss_points"] = round(100 * (result["fp32_accuracy"] - result["int8_accuracy"]), 3)
    result["size_ratio"] = round(result["fp32_bytes"] / result["int8_bytes"], 2)
    result["speed_ratio"] = round(result["fp32_batch1"]["median_ms"] / result["int8_batch1"]["median_ms"], 2)
    print(f"  int8: accuracy eager {result['eager_accuracy']:.4f}, fp32 {result['fp32_accuracy']:.4f}, "
          f"int8 {result['int8_accuracy']:.4f}; {result['size_ratio']}x smaller, {result['speed_ratio']}x faster",
          flush=True)

    config = dict(vocab_size=len(ns["vocab"]), embed_dim=ns["CONFIG"]["embed_dim"],
                  hidden_size=ns["CONFIG"]["hidden_size"], num_layers=ns["CONFIG"]["num_layers"],
                  dropout=ns["CONFIG"]["dropout"], pack=False)
    checkpoint = save_model(folder / "sentiment.pt", model, kind="sentiment", config=config, vocab=ns["vocab"].itos,
                            metadata={"max_len": ns["CONFIG"]["max_len"], "profile": profile,
                                      "test_accuracy": result["eager_accuracy"]})
    bodies = [{"text": ns["test_set"].texts[i]} for i in range(min(len(ns["test_set"]), 2_000))]
    with ServerProcess([checkpoint], threads=threads) as server:
        service = {"start_seconds": round(server.start_seconds, 2), "threads": threads, "workers": 1,
                   **load_test(server.url + "/predict", bodies, clients=sizes["clients"], requests=sizes["requests"])}
    print(f"  service: {service['clients']} clients, {service['requests']} requests, {service['failed']} failed, "
          f"p50 {service['p50_ms']} ms, p99 {service['p99_ms']} ms, {service['requests_per_second']} req/s", flush=True)
    return result, service


def summary_list(profile: str, rows: list[dict], int8: dict, service: dict) -> list[dict]:
    claim = profile != "smoke"
    cell = {(r["route"], r["batch"], r["length"]): r for r in rows}
    key = 200 if any(r["length"] == 200 for r in rows) else max(r["length"] for r in rows)
    eager, onnx = cell[("eager PyTorch", 1, key)], cell[("ONNX Runtime fp32", 1, key)]
    speedup = round(eager["median_ms"] / onnx["median_ms"], 1)
    padded = cell[(EAGER_PADDED, 1, key)]
    speedup_padded = round(padded["median_ms"] / onnx["median_ms"], 1)
    return [
        {"what": f"ONNX Runtime vs eager PyTorch as chapter 6 calls it (with lengths), batch 1, {key} tokens",
         "value": speedup_padded, "unit": "x", "target": None, "met": None},
        {"what": f"ONNX Runtime vs eager PyTorch, batch 1, {key} tokens, chapter 6's BiLSTM (speed-up)",
         "value": speedup, "unit": "x", "target": f">= {SPEEDUP_TARGET:g}x" if claim else None,
         "met": speedup >= SPEEDUP_TARGET if claim else None},
        {"what": f"eager PyTorch latency, batch 1, {key} tokens (median)", "value": eager["median_ms"], "unit": "ms",
         "target": None, "met": None},
        {"what": f"ONNX Runtime fp32 latency, batch 1, {key} tokens (median)", "value": onnx["median_ms"],
         "unit": "ms", "target": None, "met": None},
        {"what": "int8 (ONNX Runtime) test accuracy lost against fp32", "value": int8["accuracy_loss_points"],
         "unit": "points", "target": f"<= {INT8_MAX_LOSS_POINTS}" if claim else None,
         "met": int8["accuracy_loss_points"] <= INT8_MAX_LOSS_POINTS if claim else None},
        {"what": "int8 model size: fp32 bytes / int8 bytes", "value": int8["size_ratio"], "unit": "x",
         "target": "> 1" if claim else None, "met": int8["size_ratio"] > 1 if claim else None},
        {"what": "int8 batch-1 speed: fp32 latency / int8 latency", "value": int8["speed_ratio"], "unit": "x",
         "target": "> 1" if claim else None, "met": int8["speed_ratio"] > 1 if claim else None},
        {"what": f"HTTP service: failed requests of {service['requests']} from {service['clients']} clients",
         "value": service["failed"], "unit": "requests",
         "target": "0, with >= 64 clients" if claim else None,
         "met": (service["failed"] == 0 and service["clients"] >= 64) if claim else None},
        {"what": "HTTP service p50 latency", "value": service["p50_ms"], "unit": "ms", "target": None, "met": None},
        {"what": "HTTP service p99 latency", "value": service["p99_ms"], "unit": "ms", "target": None, "met": None},
        {"what": "HTTP service throughput", "value": service["requests_per_second"], "unit": "requests/s",
         "target": None, "met": None},
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=sorted(SIZES), required=True)
    parser.add_argument("--threads", type=int, default=1, help="threads for PyTorch and ONNX Runtime (default 1)")
    parser.add_argument("--note", default="", help="a remark stored with the results")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the results file")
    args = parser.parse_args(argv)

    os.environ["RNNCOURSE_PROFILE"] = args.profile
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    os.environ.setdefault("MPLBACKEND", "Agg")
    from rnncourse.runtime.threads import set_threads

    set_threads(args.threads, f"--threads {args.threads}")   # what environment_summary() reports
    sizes = SIZES[args.profile]
    load_before = load_average()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        print("latency table", flush=True)
        rows = latency_rows(sizes, args.threads, Path(tmp))
        print("int8 and the service", flush=True)
        int8, service = int8_and_service(args.profile, sizes, args.threads, Path(tmp))
    result = {
        "benchmark": "deploy", "profile": args.profile, **machine_facts(), "threads": args.threads,
        "load_average_before": load_before, "load_average_after": load_average(), "note": args.note,
        "table_model": {k: sizes[k] for k in ("vocab", "embed", "hidden", "layers")},
        "latency": rows, "int8": int8, "service": service,
        "seconds": round(time.perf_counter() - start, 1),
    }
    result["summary"] = summary_list(args.profile, rows, int8, service)
    path = write_results(result, args.out, f"deploy-{args.profile}")
    for item in result["summary"]:
        print(f"{item['what']}: {item['value']} {item['unit']}" + (f" (target {item['target']}: "
              f"{'met' if item['met'] else 'NOT met'})" if item["target"] else ""))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
