"""rnncourse.deploy.batcher, services and backends: batches form, answers go back to their request,
a full queue refuses at once, rows of one length take the no-lengths route, ONNX agrees with eager."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
import torch

from rnncourse.deploy.backends import EagerBackend, make_backend
from rnncourse.deploy.batcher import Batcher, QueueFull
from rnncourse.deploy.services import SentimentService
from rnncourse.nn.models import SentimentClassifier


def _run_together(batcher, requests, stagger_s=0.0):
    async def main():
        async def one(i, rows):
            await asyncio.sleep(i * stagger_s)
            return await batcher.submit(rows)
        return await asyncio.gather(*(one(i, rows) for i, rows in enumerate(requests)), return_exceptions=True)
    try:
        return asyncio.run(main())
    finally:
        batcher.close()


def test_concurrent_requests_run_as_batches_and_each_gets_its_own_answers():
    sizes = []
    batcher = Batcher(lambda rows: (sizes.append(len(rows)), [r * 10 for r in rows])[1],
                      max_batch=8, max_wait_ms=50, max_queue=64)
    requests = [[i] for i in range(10)] + [[100, 101, 102]]
    answers = _run_together(batcher, requests)
    assert answers == [[r * 10 for r in rows] for rows in requests]
    assert max(sizes) > 1 and all(size <= 8 for size in sizes) and sum(sizes) == 13


def test_max_batch_one_is_one_request_per_forward_pass():
    sizes = []
    batcher = Batcher(lambda rows: (sizes.append(len(rows)), rows)[1], max_batch=1, max_wait_ms=50, max_queue=64)
    assert _run_together(batcher, [[1], [2], [3, 4]]) == [[1], [2], [3, 4]]
    assert sorted(sizes) == [1, 1, 2]                # a request is never split


def test_a_full_queue_refuses_at_once_with_a_retry_time():
    started = threading.Event()

    def slow(rows):
        started.set()
        time.sleep(0.3)
        return rows

    batcher = Batcher(slow, max_batch=2, max_wait_ms=0, max_queue=2)
    answers = _run_together(batcher, [[1], [2], [3], [4], [5], [6]], stagger_s=0.02)
    refused = [a for a in answers if isinstance(a, QueueFull)]
    assert refused and all(a.retry_after_s >= 1 and "busy" in str(a) for a in refused)
    assert [a for a in answers if not isinstance(a, Exception)] == [[i] for i in range(1, 7)
                                                                   if [i] in answers]


def test_a_failed_batch_fails_each_of_its_requests_and_the_batcher_goes_on():
    calls = []

    def flaky(rows):
        calls.append(rows)
        if len(calls) == 1:
            raise RuntimeError("boom")
        return rows

    batcher = Batcher(flaky, max_batch=4, max_wait_ms=20, max_queue=8)

    async def main():
        first = await asyncio.gather(batcher.submit([1]), batcher.submit([2]), return_exceptions=True)
        second = await batcher.submit([3])
        return first, second
    try:
        first, second = asyncio.run(main())
    finally:
        batcher.close()
    assert all(isinstance(a, RuntimeError) for a in first) and second == [3]


class _Spy(EagerBackend):
    def __init__(self, model):
        super().__init__(model)
        self.calls = []

    def same_length(self, ids):
        self.calls.append(("same", tuple(ids.shape)))
        return super().same_length(ids)

    def padded(self, ids, lengths):
        self.calls.append(("padded", tuple(ids.shape)))
        return super().padded(ids, lengths)


def _service(backend_factory):
    torch.manual_seed(0)
    model = SentimentClassifier(12, 6, 5, pack=False).eval()
    loaded = type("Loaded", (), {"model": model, "metadata": {}, "vocab": [f"w{i}" for i in range(12)]})
    return model, SentimentService(loaded, backend_factory(model))


def test_rows_of_one_length_take_the_no_lengths_route_and_the_rest_one_padded_call():
    model, service = _service(_Spy)
    encoded = [[2, 3, 4], [5, 6, 7], [2], [3, 4, 5, 6, 7], [8, 9, 10, 11]]
    got = service.predict_encoded(encoded)
    assert sorted(service.backend.calls) == [("padded", (3, 5)), ("same", (2, 3))]
    with torch.no_grad():
        expected = [torch.sigmoid(model(torch.tensor([ids]))).item() for ids in encoded]
    assert got == pytest.approx(expected, abs=1e-6)
    service.backend.calls.clear()
    service.predict_encoded([[4, 5]])
    assert service.backend.calls == [("same", (1, 2))]          # one text: never the padded route


@pytest.mark.parametrize("name", ["onnx", "onnx-int8"])
def test_onnx_backends_agree_with_eager_at_start_up_and_say_so(name, tmp_path):
    model, service = _service(lambda m: make_backend(name, m, vocab_size=12, folder=tmp_path))
    info = service.backend.describe()
    assert info["backend"] == name and info["parity_max_abs_difference"] <= info["parity_tolerance"]
    encoded = [[2, 3, 4], [5, 6, 7], [2], [3, 4, 5, 6, 7]]
    with torch.no_grad():
        expected = [torch.sigmoid(model(torch.tensor([ids]))).item() for ids in encoded]
    assert service.predict_encoded(encoded) == pytest.approx(expected, abs=info["parity_tolerance"])


def test_an_onnx_backend_that_disagrees_with_eager_is_refused(tmp_path, monkeypatch):
    from rnncourse.deploy import backends

    monkeypatch.setitem(backends.PARITY_TOLERANCE, "onnx-int8", 1e-12)
    torch.manual_seed(0)
    with pytest.raises(backends.BackendError, match="disagrees with eager PyTorch"):
        make_backend("onnx-int8", SentimentClassifier(12, 6, 5, pack=False), vocab_size=12, folder=tmp_path)
