"""Deployment reference numbers for chapter 8: latency and throughput of each route, int8, the HTTP service.

    python benchmarks/deploy.py --profile cpu      # the reference run on a CPU (minutes)
    python benchmarks/deploy.py --profile smoke    # seconds at tiny sizes, no claim (the tests run it)

Four parts, one results file, ``benchmarks/results/deploy-<profile>-<host>.json``:

1. Latency table: chapter 6's BiLSTM at its full size (the ``gpu`` profile's architecture: 2 layers
   of 256 units per direction, embeddings of 256, 30,000 words; random weights, since time does not
   depend on them) run five ways: eager PyTorch (no lengths: one fused ``nn.LSTM`` call), eager
   PyTorch as chapter 6 calls it (with lengths: the padded route), ``torch.export`` (dynamic length,
   through the private while-loop decomposition), ONNX Runtime fp32 (exported with
   ``torch.onnx.export(dynamo=True, dynamic_shapes=...)``, before any ``torch.export`` in this process)
   and ONNX Runtime int8; batch 1 and 32, lengths 50, 200, 800; median, interquartile range and p99 of
   the timed calls, and sequences per second.
2. ONNX Runtime against eager at batch 1, 200 tokens, from the same run and the same threads, against
   both eager calls (the course design's 14x is withdrawn: no target, the factor is measured).
3. int8: the chapter-6 model trained under this profile (``benchmarks/imdb.py``'s way: chapter 6's
   pipeline cells), quantised two ways: ``torch.ao.quantization.quantize_dynamic`` (deprecated;
   ``nn.LSTM`` and ``nn.Linear``) and ONNX Runtime's ``quantize_dynamic`` of the ONNX export
   (``DynamicQuantizeLSTM``, and the embedding's ``Gather`` too). For eager fp32, ``torch.ao`` int8,
   ONNX fp32 and ONNX int8: test accuracy on the IMDB test reviews (target: ONNX int8 loses <= 0.5
   points), the largest change of a predicted probability against eager fp32, the file size and the
   batch-1 latency of a median-length review (median and interquartile range).
4. The service: that model saved with ``rnncourse.deploy.checkpoint``, served by ``rnncourse serve`` on
   127.0.0.1, under ``--clients`` concurrent clients (>= 64 for the target) sending real test
   reviews: failed requests (target 0), p50/p99 latency, requests per second; then dynamic
   batching on and off at 1, 8, 64 and 256 clients, interleaved (``benchmarks/serving.py``'s
   ``sweep``; target at 64 clients: >= 4x the requests/s of batching off, with a lower p99).

Every part uses ``--threads`` threads (default 1) for PyTorch and ONNX Runtime alike (ONNX Runtime: that
many intra-op threads, one inter-op thread, graph optimisations ``ORT_ENABLE_ALL``, its default; the
latency table's ONNX file is also timed at each optimisation level, batch 1 and 32 at the middle
length, to show whether the level matters). The machine's load average is recorded before and after:
on a shared machine, wall times grow with it.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

from machine import add_run_options, load_average, machine_facts, print_summary, start_page_run, write_results
from serving import CLIENTS, REPEATS, sweep
from serving import summary as serving_summary

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
    fp32 = export_onnx(model, folder / "table-fp32.onnx", example)     # before any torch.export here
    with warnings.catch_warnings(), register_lstm_while_loop_decomposition():
        warnings.simplefilter("ignore")
        exported = torch.export.export(model, (example,), dynamic_shapes=(
            {0: torch.export.Dim("batch", max=4096), 1: torch.export.Dim("length", max=100_000)},)).module()
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
                    print(f"  {route:32s} batch {batch:3d} length {length:4d}: median "
                          f"{rows[-1]['median_ms']:9.2f} ms (IQR {rows[-1]['p25_ms']:.2f}-{rows[-1]['p75_ms']:.2f})"
                          f"  p99 {rows[-1]['p99_ms']:9.2f} ms", flush=True)
    return rows


def optimization_rows(sizes: dict, threads: int, folder: Path) -> list[dict]:
    """ONNX Runtime fp32 of the latency table's model (its file, written by ``latency_rows``) at each
    graph-optimisation level, batch 1 and the largest batch, at the table's middle length: whether the
    level the table uses matters."""
    import torch

    from rnncourse.deploy.latency import GRAPH_OPTIMIZATIONS, onnx_session, summary, time_calls

    length = sizes["lengths"][len(sizes["lengths"]) // 2]
    rows = []
    for batch in (1, max(sizes["batches"])):
        ids = torch.randint(2, sizes["vocab"], (batch, length)).numpy()
        for level in GRAPH_OPTIMIZATIONS:
            session = onnx_session(folder / "table-fp32.onnx", threads, optimization=level)
            times = time_calls(lambda: session.run(None, {"ids": ids}), repeats=sizes["repeats"],
                               budget_s=sizes["budget_s"])
            rows.append({"optimization": level, "batch": batch, "length": length, **summary(times, batch)})
            print(f"  ONNX Runtime fp32, optimisation {level:8s} batch {batch:3d} length {length:4d}: median "
                  f"{rows[-1]['median_ms']:9.2f} ms (IQR {rows[-1]['p25_ms']:.2f}-{rows[-1]['p75_ms']:.2f})",
                  flush=True)
    return rows


def probabilities(run, test) -> "np.ndarray":
    """P(positive) of every review of ``test`` by ``run(ids (B, T)) -> logits (B,)``, in batches of
    reviews of one length (no padding, so each review gets what it would get alone)."""
    import numpy as np
    import torch

    groups: dict[int, list[int]] = {}
    for i, n in enumerate(test.lengths):
        groups.setdefault(n, []).append(i)
    out = np.empty(len(test))
    with torch.no_grad():
        for indices in groups.values():
            for start in range(0, len(indices), 256):
                chunk = indices[start:start + 256]
                logits = np.asarray(run(torch.stack([test[i][0] for i in chunk])), dtype=float)
                out[chunk] = 1 / (1 + np.exp(-logits))
    return out


def int8_routes(ns: dict, model, sizes: dict, threads: int, folder: Path) -> dict:
    """Eager fp32, torch.ao int8, ONNX Runtime fp32 and int8 of the trained chapter-6 model: file size,
    test accuracy, largest change of a predicted probability against eager fp32, batch-1 latency."""
    import numpy as np
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from rnncourse.deploy.export import export_onnx
    from rnncourse.deploy.latency import onnx_session, summary, time_calls

    test, labels = ns["test_data"], ns["test_data"].labels.numpy()
    fp32 = export_onnx(model, folder / "imdb-fp32.onnx", test[0][0][None, :])
    int8 = folder / "imdb-int8.onnx"
    quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                              # torch.ao's deprecation warning
        torch_int8 = torch.ao.quantization.quantize_dynamic(model, {torch.nn.LSTM, torch.nn.Linear},
                                                            dtype=torch.qint8)
    torch.save(model.state_dict(), folder / "eager-fp32.pt")
    torch.save(torch_int8.state_dict(), folder / "torch-int8.pt")
    sessions = {name: onnx_session(path, threads) for name, path in (("fp32", fp32), ("int8", int8))}
    routes = {"eager fp32": (lambda ids: model(ids), folder / "eager-fp32.pt"),
              "torch.ao int8": (lambda ids: torch_int8(ids), folder / "torch-int8.pt"),
              "ONNX Runtime fp32": (lambda ids: sessions["fp32"].run(None, {"ids": ids.numpy()})[0], fp32),
              "ONNX Runtime int8": (lambda ids: sessions["int8"].run(None, {"ids": ids.numpy()})[0], int8)}
    median_review = test[int(np.argsort(test.lengths)[len(test) // 2])][0][None, :]
    table, reference = {}, None
    for name, (run, path) in routes.items():
        p = probabilities(run, test)
        reference = p if reference is None else reference
        with torch.no_grad():
            latency = summary(time_calls(lambda: run(median_review), repeats=sizes["repeats"],
                                         budget_s=sizes["budget_s"]))
        table[name] = {"bytes": path.stat().st_size, "accuracy": float(((p > 0.5) == labels).mean()),
                       "max_probability_change": float(np.abs(p - reference).max()), "batch1": latency}
        print(f"  {name:18s} {table[name]['bytes'] / 1e6:6.2f} MB  accuracy {table[name]['accuracy']:.4f}  "
              f"max |dp| {table[name]['max_probability_change']:.4f}  batch 1: {latency['median_ms']:.3f} ms "
              f"(IQR {latency['p25_ms']:.3f}-{latency['p75_ms']:.3f})", flush=True)
    onnx32, onnx8, ao8 = table["ONNX Runtime fp32"], table["ONNX Runtime int8"], table["torch.ao int8"]
    return {"test_reviews": len(test), "config": ns["CONFIG"], "vocab_size": len(ns["vocab"]),
            "median_review_tokens": int(median_review.shape[1]), "routes": table,
            "eager_accuracy": table["eager fp32"]["accuracy"], "fp32_accuracy": onnx32["accuracy"],
            "int8_accuracy": onnx8["accuracy"], "fp32_bytes": onnx32["bytes"], "int8_bytes": onnx8["bytes"],
            "fp32_batch1": onnx32["batch1"], "int8_batch1": onnx8["batch1"],
            "accuracy_loss_points": round(100 * (onnx32["accuracy"] - onnx8["accuracy"]), 3),
            "size_ratio": round(onnx32["bytes"] / onnx8["bytes"], 2),
            "speed_ratio": round(onnx32["batch1"]["median_ms"] / onnx8["batch1"]["median_ms"], 2),
            "torch_ao_size_ratio": round(table["eager fp32"]["bytes"] / ao8["bytes"], 2),
            "torch_ao_speed_ratio": round(table["eager fp32"]["batch1"]["median_ms"] / ao8["batch1"]["median_ms"], 2),
            "torch_ao_accuracy_loss_points": round(100 * (table["eager fp32"]["accuracy"] - ao8["accuracy"]), 3)}


def int8_and_service(profile: str, sizes: dict, threads: int, folder: Path) -> tuple[dict, dict]:
    from imdb import pipeline_namespace
    from rnncourse.deploy.checkpoint import save_model
    from rnncourse.deploy.latency import load_test
    from rnncourse.deploy.serve import ServerProcess

    ns = pipeline_namespace()
    model, history, train_seconds = ns["train_main_model"](0)
    model = model.cpu().eval()
    result = {"train_seconds": round(train_seconds, 1), **int8_routes(ns, model, sizes, threads, folder)}
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
    print("  batching on and off, interleaved", flush=True)
    service["batching"] = sweep(checkpoint, bodies, clients=CLIENTS[profile], repeats=REPEATS[profile],
                                threads=threads)
    return result, service


def off_over_all(optimization: list[dict]) -> dict[str, float]:
    """``{batch: median latency with graph optimisations off / with all}`` (> 1: they help)."""
    level = {(r["optimization"], r["batch"]): r["median_ms"] for r in optimization}
    return {str(batch): round(level[("disable", batch)] / level[("all", batch)], 2)
            for batch in sorted({r["batch"] for r in optimization})}


def summary_list(profile: str, rows: list[dict], optimization: list[dict], ratios: dict[str, float],
                 int8: dict, service: dict, threads: int) -> list[dict]:
    """The results file's summary; ``ratios`` are :func:`off_over_all` of ``optimization``."""
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
        {"what": f"ONNX Runtime vs eager PyTorch, batch 1, {key} tokens, chapter 6's BiLSTM (speed-up, "
                 f"same threads: {threads})", "value": speedup, "unit": "x", "target": None, "met": None},
        {"what": f"eager PyTorch latency, batch 1, {key} tokens (median)", "value": eager["median_ms"], "unit": "ms",
         "target": None, "met": None},
        {"what": f"ONNX Runtime fp32 latency, batch 1, {key} tokens (median)", "value": onnx["median_ms"],
         "unit": "ms", "target": None, "met": None},
        {"what": "int8 (ONNX Runtime) test accuracy lost against fp32", "value": int8["accuracy_loss_points"],
         "unit": "points", "target": f"<= {INT8_MAX_LOSS_POINTS}" if claim else None,
         "met": int8["accuracy_loss_points"] <= INT8_MAX_LOSS_POINTS if claim else None},
        {"what": "int8 model size (ONNX Runtime): fp32 bytes / int8 bytes", "value": int8["size_ratio"], "unit": "x",
         "target": "> 1" if claim else None, "met": int8["size_ratio"] > 1 if claim else None},
        {"what": "int8 model size (torch.ao, embedding left fp32): fp32 bytes / int8 bytes",
         "value": int8["torch_ao_size_ratio"], "unit": "x", "target": None, "met": None},
        {"what": "int8 (ONNX Runtime): largest change of a predicted probability over the test set",
         "value": round(int8["routes"]["ONNX Runtime int8"]["max_probability_change"], 4), "unit": "",
         "target": None, "met": None},
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
        *serving_summary(service["batching"], claim),         # batching on against off (serving.py)
        *({"what": f"ONNX Runtime fp32, batch {batch}, {optimization[0]['length']} tokens: latency with graph "
                   f"optimisations off / with all (ORT_ENABLE_ALL)", "value": ratio, "unit": "x", "target": None,
           "met": None} for batch, ratio in ratios.items()),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=sorted(SIZES), required=True)
    add_run_options(parser, RESULTS, threads_default=1)       # for PyTorch and ONNX Runtime alike
    args = parser.parse_args(argv)

    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    start_page_run(args.profile, args.threads)   # the profile, headless plots, --threads recorded
    sizes = SIZES[args.profile]
    load_before = load_average()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        print("latency table", flush=True)
        rows = latency_rows(sizes, args.threads, Path(tmp))
        print("ONNX Runtime's graph-optimisation levels", flush=True)
        optimization = optimization_rows(sizes, args.threads, Path(tmp))
        print("int8 and the service", flush=True)
        int8, service = int8_and_service(args.profile, sizes, args.threads, Path(tmp))
    result = {
        "benchmark": "deploy", "profile": args.profile, **machine_facts(), "threads": args.threads,
        "load_average_before": load_before, "load_average_after": load_average(), "note": args.note,
        "table_model": {k: sizes[k] for k in ("vocab", "embed", "hidden", "layers")},
        "onnxruntime_graph_optimization": "ORT_ENABLE_ALL",
        "latency": rows, "graph_optimization": optimization,
        "graph_optimization_off_over_all": off_over_all(optimization), "int8": int8, "service": service,
        "seconds": round(time.perf_counter() - start, 1),
    }
    result["summary"] = summary_list(args.profile, rows, optimization, result["graph_optimization_off_over_all"],
                                     int8, service, args.threads)
    path = write_results(result, args.out, f"deploy-{args.profile}")
    print_summary(result, path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
