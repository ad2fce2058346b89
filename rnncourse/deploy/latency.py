"""Measuring a deployed model: call latencies, their percentiles, ONNX Runtime sessions with a
stated thread count, and a bounded HTTP load test. Chapter 8 and ``benchmarks/deploy.py`` measure
with these. (``export_onnx`` lives in :mod:`rnncourse.deploy.export`; it is importable from here too.)

::

    times = time_calls(lambda: session.run(None, {"ids": ids}), repeats=50)
    summary(times)            # {"calls": 50, "median_ms": 1.9, "p25_ms": 1.8, "p75_ms": 2.0,
                              #  "p99_ms": 2.4, "per_second": 520.0}
    onnx_session(path, threads=1, optimization="all")   # or "disable", "basic", "extended"

Percentiles are ``numpy.percentile``'s default (linear interpolation between order statistics):
with ``n`` calls, p99 is close to the largest one unless ``n`` is in the hundreds, so the number of
calls is reported with it, and so is the interquartile range (p25 to p75), the spread of the
typical call, which a few slow calls on a shared machine do not move.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from rnncourse.deploy.export import export_onnx

__all__ = ["time_calls", "summary", "export_onnx", "onnx_session", "load_test"]


def time_calls(fn: Callable[[], object], *, repeats: int = 20, budget_s: float | None = None,
               warmup: int = 1) -> list[float]:
    """Wall-clock seconds of ``repeats`` calls of ``fn()`` after ``warmup`` uncounted calls; with
    ``budget_s``, stop early once that many seconds are spent (at least 3 calls are timed)."""
    for _ in range(warmup):
        fn()
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < repeats:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        if budget_s is not None and len(times) >= 3 and time.perf_counter() - start > budget_s:
            break
    return times


def summary(times: list[float], items_per_call: int = 1) -> dict:
    """Calls, median, interquartile range (p25, p75) and p99 latency (ms), and items per second
    (from the median) of ``times`` (s)."""
    t = np.asarray(times, dtype=float)
    median = float(np.percentile(t, 50))
    p25, p75, p99 = (round(1000 * float(np.percentile(t, q)), 3) for q in (25, 75, 99))
    return {"calls": int(t.size), "median_ms": round(1000 * median, 3),
            "p25_ms": p25, "p75_ms": p75, "p99_ms": p99,
            "per_second": round(items_per_call / median, 1)}


# ONNX Runtime's graph-optimisation levels, from none to all (its default)
GRAPH_OPTIMIZATIONS = {"disable": "ORT_DISABLE_ALL", "basic": "ORT_ENABLE_BASIC",
                       "extended": "ORT_ENABLE_EXTENDED", "all": "ORT_ENABLE_ALL"}


def onnx_session(path: str | Path, threads: int | None = None, optimization: str = "all"):
    """An ONNX Runtime CPU session that runs each operator on ``threads`` threads (default: as many
    as PyTorch uses now, ``torch.get_num_threads()``, so that the two are timed alike), one
    operator at a time, with ONNX Runtime's graph optimisations at ``optimization``: one of
    ``GRAPH_OPTIMIZATIONS``, ``"all"`` (``ORT_ENABLE_ALL``, its default) unless asked, stated here
    so that a table can say what it measured."""
    import onnxruntime as ort

    if optimization not in GRAPH_OPTIMIZATIONS:
        raise ValueError(f"optimization must be one of {', '.join(GRAPH_OPTIMIZATIONS)}, "
                         f"not {optimization!r}")
    options = ort.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads() if threads is None else threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = getattr(ort.GraphOptimizationLevel,
                                               GRAPH_OPTIMIZATIONS[optimization])
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def load_test(url: str, bodies: list[dict], *, clients: int, requests: int, timeout_s: float = 120.0) -> dict:
    """POST ``requests`` JSON bodies (cycling through ``bodies``) to ``url`` from ``clients``
    concurrent clients, each sending its next request when its last one is answered (a bounded,
    closed-loop load). Returns failures (any status but 200, or no answer), latency percentiles and
    requests per second."""
    import httpx

    async def main():
        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(requests):
            queue.put_nowait(i)
        latencies: list[float] = []
        failures: list[str] = []
        limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
        async with httpx.AsyncClient(limits=limits, timeout=timeout_s) as client:
            async def worker():
                while not queue.empty():
                    i = queue.get_nowait()
                    t0 = time.perf_counter()
                    try:
                        response = await client.post(url, json=bodies[i % len(bodies)])
                        if response.status_code != 200:
                            failures.append(f"{response.status_code}: {response.text[:100]}")
                    except httpx.HTTPError as error:
                        failures.append(f"{type(error).__name__}: {error}")
                    latencies.append(time.perf_counter() - t0)

            start = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(clients)))
            seconds = time.perf_counter() - start
        return latencies, failures, seconds

    try:
        asyncio.get_running_loop()            # inside Jupyter: a loop already runs in this thread
    except RuntimeError:
        latencies, failures, seconds = asyncio.run(main())
    else:
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            latencies, failures, seconds = pool.submit(asyncio.run, main()).result()
    times = summary(latencies)                    # the percentiles of one place, as for calls
    return {"clients": clients, "requests": requests, "failed": len(failures), "failures": failures[:5],
            "p50_ms": round(times["median_ms"], 1), "p99_ms": round(times["p99_ms"], 1),
            "requests_per_second": round(requests / seconds, 1), "seconds": round(seconds, 2)}
