"""Measuring a deployed model: call latencies, their percentiles, ONNX export and sessions, and a
bounded HTTP load test. Chapter 8 and ``benchmarks/deploy.py`` measure with these.

::

    times = time_calls(lambda: session.run(None, {"ids": ids}), repeats=50)
    summary(times)            # {"calls": 50, "median_ms": 1.9, "p99_ms": 2.4, "per_second": 520.0}

Percentiles are ``numpy.percentile``'s default (linear interpolation between order statistics):
with ``n`` calls, p99 is close to the largest one unless ``n`` is in the hundreds, so the number of
calls is reported with it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
import warnings
from pathlib import Path
from typing import Callable

import numpy as np
import torch

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
    """Calls, median and p99 latency (ms) and items per second (from the median) of ``times`` (s)."""
    t = np.asarray(times, dtype=float)
    median = float(np.percentile(t, 50))
    return {"calls": int(t.size), "median_ms": round(1000 * median, 3),
            "p99_ms": round(1000 * float(np.percentile(t, 99)), 3),
            "per_second": round(items_per_call / median, 1)}


def export_onnx(model: torch.nn.Module, path: str | Path, example_ids: torch.Tensor) -> Path:
    """Export a classifier ``model(ids (B, T)) -> logits (B,)`` to ONNX with the batch and the length
    dynamic, through the TorchScript-based exporter (``dynamo=False``) and its ``dynamic_axes``:
    in torch 2.13 the only public route that exports a recurrent layer with a dynamic length
    (chapter 8 shows the others). Its deprecation warning is silenced here, not hidden in the book."""
    path = Path(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model.eval(), (example_ids,), str(path), dynamo=False, input_names=["ids"],
                          output_names=["logits"],
                          dynamic_axes={"ids": {0: "batch", 1: "length"}, "logits": {0: "batch"}})
    return path


def onnx_session(path: str | Path, threads: int = 1):
    """An ONNX Runtime CPU session using ``threads`` threads for each operator."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
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
    t = np.asarray(latencies)
    return {"clients": clients, "requests": requests, "failed": len(failures), "failures": failures[:5],
            "p50_ms": round(1000 * float(np.percentile(t, 50)), 1),
            "p99_ms": round(1000 * float(np.percentile(t, 99)), 1),
            "requests_per_second": round(requests / seconds, 1), "seconds": round(seconds, 2)}
