"""Dynamic batching in ``rnncourse serve``: throughput and p50/p99 latency, batching on and off.

    python benchmarks/serving.py --profile cpu      # the reference run (minutes)
    python benchmarks/serving.py --profile smoke    # seconds, no claim (the tests run it)

Chapter 6's classifier at this profile's size (its architecture, vocabulary and ``max_len``; random
weights, since time does not depend on them), or with ``--size full`` at the size of the ``gpu``
profile's architecture (2 layers of 256 units per direction, embeddings of 256: the latency table's
model of ``benchmarks/deploy.py``, where the forward pass, not the HTTP work, is most of a
request's cost), is saved with ``rnncourse.deploy.checkpoint`` and
served twice on 127.0.0.1 at once: batching on (the defaults, up to 32 texts per forward pass
within 5 ms) and off (``--max-batch 1``), one PyTorch thread each. Closed-loop clients (each sends
its next real IMDB test review when its last is answered, ``rnncourse.deploy.latency.load_test``)
load one server at a time; the client counts (1, 8, 64, 256) and on/off are **interleaved** and
repeated, so both see the same machine load, and the median over the repeats is reported with
the spread. Target at 64 clients: batching on answers at least 4x the requests per second of
batching off, with a lower p99. The clients run on the same machine and take CPU from the server.

:func:`sweep` is also what ``benchmarks/deploy.py`` runs on its trained model.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from machine import add_run_options, load_average, machine_facts, start_page_run, print_summary, write_results

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
CLIENTS = {"smoke": [1, 8], "cpu": [1, 8, 64, 256], "gpu": [1, 8, 64, 256]}
REPEATS = {"smoke": 1, "cpu": 3, "gpu": 3}
MODES = {"on": [], "off": ["--max-batch", "1"]}
TARGET_CLIENTS, TARGET_FACTOR = 64, 4.0
FULL = dict(embed_dim=256, hidden_size=256, num_layers=2)     # --size full


def _requests(clients: int) -> int:
    return max(64, 4 * clients)


def sweep(checkpoint: Path, bodies: list[dict], *, clients: list[int], repeats: int, threads: int = 1) -> list[dict]:
    """For each client count, batching on and off (interleaved, ``repeats`` times): one row each
    with the medians and spreads of requests/s, p50 and p99 over the repeats."""
    from rnncourse.deploy.latency import load_test
    from rnncourse.deploy.serve import ServerProcess

    runs: dict = {}
    servers = {mode: ServerProcess([checkpoint], threads=threads, options=options)
               for mode, options in MODES.items()}
    try:
        for url in (s.url for s in servers.values()):              # warm both up
            load_test(url + "/predict", bodies, clients=4, requests=16)
        for repeat in range(repeats):
            for n in clients:
                for mode in (MODES if repeat % 2 == 0 else reversed(list(MODES))):
                    result = load_test(servers[mode].url + "/predict", bodies, clients=n, requests=_requests(n))
                    runs.setdefault((n, mode), []).append(result)
                    print(f"  {n:4d} clients, batching {mode:3s}: {result['requests_per_second']:7.1f} req/s, "
                          f"p50 {result['p50_ms']:8.1f} ms, p99 {result['p99_ms']:8.1f} ms, "
                          f"{result['failed']} failed", flush=True)
    finally:
        for server in servers.values():
            server.stop()
    return [_row(n, mode, results) for (n, mode), results in runs.items()]


def _row(clients: int, mode: str, results: list[dict]) -> dict:
    row = {"clients": clients, "batching": mode, "requests": results[0]["requests"], "repeats": len(results),
           "failed": sum(r["failed"] for r in results),
           "failures": [f for r in results for f in r["failures"]][:5]}      # what the first ones were
    for key in ("requests_per_second", "p50_ms", "p99_ms"):
        values = [r[key] for r in results]
        row[key] = round(statistics.median(values), 1)
        row[f"{key}_range"] = [round(min(values), 1), round(max(values), 1)]
    return row


def summary(rows: list[dict], claim: bool) -> list[dict]:
    """The target rows: requests/s and p99 at TARGET_CLIENTS clients, on against off."""
    cell = {(r["clients"], r["batching"]): r for r in rows}
    n = TARGET_CLIENTS if (TARGET_CLIENTS, "on") in cell else max(r["clients"] for r in rows)
    on, off = cell[(n, "on")], cell[(n, "off")]
    factor = round(on["requests_per_second"] / off["requests_per_second"], 2)
    return [
        {"what": f"HTTP service, {n} clients: requests/s with batching on / off", "value": factor, "unit": "x",
         "target": f">= {TARGET_FACTOR:g}x" if claim else None, "met": factor >= TARGET_FACTOR if claim else None},
        {"what": f"HTTP service, {n} clients: p99 latency with batching on", "value": on["p99_ms"], "unit": "ms",
         "target": f"< {off['p99_ms']} ms (batching off)" if claim else None,
         "met": on["p99_ms"] < off["p99_ms"] if claim else None},
        {"what": f"HTTP service, {n} clients: requests/s with batching on", "value": on["requests_per_second"],
         "unit": "requests/s", "target": None, "met": None},
        {"what": f"HTTP service, {n} clients: requests/s with batching off", "value": off["requests_per_second"],
         "unit": "requests/s", "target": None, "met": None},
        {"what": "HTTP service: failed requests, all runs", "value": sum(r["failed"] for r in rows),
         "unit": "requests", "target": "0" if claim else None,
         "met": all(r["failed"] == 0 for r in rows) if claim else None},
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=sorted(CLIENTS), required=True)
    parser.add_argument("--size", choices=["page", "full"], default="page",
                        help="the profile's model (default) or the gpu profile's architecture")
    parser.add_argument("--repeats", type=int, default=None, help="rounds of the sweep (default: by profile)")
    add_run_options(parser, RESULTS, threads_default=1)
    args = parser.parse_args(argv)
    start_page_run(args.profile, args.threads)

    import torch

    from imdb import pipeline_namespace
    from rnncourse.deploy.checkpoint import save_model
    from rnncourse.nn.models import SentimentClassifier

    load_before, start = load_average(), time.perf_counter()
    ns = pipeline_namespace()
    config = dict(vocab_size=len(ns["vocab"]), embed_dim=ns["CONFIG"]["embed_dim"],
                  hidden_size=ns["CONFIG"]["hidden_size"], num_layers=ns["CONFIG"]["num_layers"], pack=False)
    if args.size == "full":
        config.update(FULL)
    torch.manual_seed(0)
    bodies = [{"text": ns["test_set"].texts[i]} for i in range(min(len(ns["test_set"]), 2_000))]
    with tempfile.TemporaryDirectory() as tmp:
        checkpoint = save_model(Path(tmp) / "sentiment.pt", SentimentClassifier(**config), kind="sentiment",
                                config=config, vocab=ns["vocab"].itos, metadata={"max_len": ns["CONFIG"]["max_len"]})
        rows = sweep(checkpoint, bodies, clients=CLIENTS[args.profile],
                     repeats=args.repeats or REPEATS[args.profile], threads=args.threads)
    result = {"benchmark": "serving", "profile": args.profile, "size": args.size, **machine_facts(),
              "threads": args.threads,
              "load_average_before": load_before, "load_average_after": load_average(), "note": args.note,
              "model": {**config, "max_len": ns["CONFIG"]["max_len"], "weights": "random (time does not depend on them)"},
              "modes": {mode: " ".join(options) or "defaults (--max-batch 32 --max-wait-ms 5)"
                        for mode, options in MODES.items()},
              "rows": rows, "seconds": round(time.perf_counter() - start, 1)}
    result["summary"] = summary(rows, claim=args.profile != "smoke")
    stem = f"serving-{args.profile}" if args.size == "page" else f"serving-full-{args.profile}"
    path = write_results(result, args.out, stem)
    print_summary(result, path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
