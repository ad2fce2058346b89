"""Dynamic batching: requests that arrive close together run as one forward pass.

Each ``/predict`` request hands its rows to :meth:`Batcher.submit` and waits. One collector task
takes the oldest waiting request, then waits up to ``max_wait_ms`` for more (stopping as soon as
``max_batch`` rows wait), takes whole requests in arrival order while they fit in ``max_batch``
rows (the first always goes, however many rows it has), runs ``run(rows)`` on one inference
thread and hands each request its slice of the answers. While that batch runs, the next one
gathers, so under load batches fill without waiting. ``max_batch=1`` is batching off: one request
per forward pass, still on the one inference thread and behind the same bounded queue.

The queue is bounded: a request whose rows would take the rows waiting past ``max_queue`` is
refused at once with :class:`QueueFull` (the server answers 503 with ``Retry-After``), so a burst
never piles up without limit and a client learns in microseconds to come back later.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import math
import time
from typing import Callable

__all__ = ["Batcher", "QueueFull"]


class QueueFull(Exception):
    """The queue holds its limit of rows; ``retry_after_s`` estimates when there is room."""

    def __init__(self, waiting: int, limit: int, retry_after_s: int) -> None:
        super().__init__(f"the server is busy ({waiting} texts wait, the limit is {limit}); "
                         f"retry in {retry_after_s} s.")
        self.retry_after_s = retry_after_s


class Batcher:
    """Collect rows from concurrent requests into batches for ``run(rows) -> answers`` (one per row)."""

    def __init__(self, run: Callable[[list], list], *, max_batch: int = 32, max_wait_ms: float = 5.0,
                 max_queue: int = 1024, on_batch: Callable[[int, float], None] | None = None) -> None:
        if max_batch < 1 or max_queue < max_batch or max_wait_ms < 0:
            raise ValueError("need max_batch >= 1, max_queue >= max_batch and max_wait_ms >= 0.")
        self.run, self.max_batch, self.max_queue = run, max_batch, max_queue
        self.max_wait_s = max_wait_ms / 1000
        self.on_batch = on_batch                  # (rows, seconds) of each batch, for the metrics
        self.waiting = 0                          # rows queued, not yet running
        self._queue: collections.deque = collections.deque()
        self._arrived: asyncio.Event | None = None
        self._task: asyncio.Task | None = None
        self._thread = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="rnncourse-batch")
        self._batch_s = 0.05                      # the last batch's duration, for Retry-After

    async def submit(self, rows: list) -> list:
        """The answers for ``rows`` once their batch has run; QueueFull if the queue is full."""
        if self.waiting + len(rows) > self.max_queue:
            batches_ahead = math.ceil(self.waiting / self.max_batch)
            raise QueueFull(self.waiting, self.max_queue, max(1, math.ceil(batches_ahead * self._batch_s)))
        if self._task is None:
            self._arrived = asyncio.Event()
            self._task = asyncio.get_running_loop().create_task(self._collect())
        future = asyncio.get_running_loop().create_future()
        self._queue.append((rows, future))
        self.waiting += len(rows)
        self._arrived.set()
        return await future

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
        self._thread.shutdown(wait=False, cancel_futures=True)

    async def _collect(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._arrived.wait()
            deadline = loop.time() + self.max_wait_s
            while self.waiting < self.max_batch and (remaining := deadline - loop.time()) > 0:
                self._arrived.clear()
                try:
                    await asyncio.wait_for(self._arrived.wait(), remaining)
                except asyncio.TimeoutError:
                    break
            batch = self._take()
            if not self._queue:
                self._arrived.clear()
            if batch:
                await self._run(batch, loop)

    def _take(self) -> list:
        """Whole requests, oldest first, while they fit in max_batch rows (the first always)."""
        batch, rows = [], 0
        while self._queue and (not batch or rows + len(self._queue[0][0]) <= self.max_batch):
            request_rows, future = self._queue.popleft()
            self.waiting -= len(request_rows)
            if future.done():                     # its client went away while it waited
                continue
            batch.append((request_rows, future))
            rows += len(request_rows)
        return batch

    async def _run(self, batch: list, loop) -> None:
        rows = [row for request_rows, _ in batch for row in request_rows]
        start = time.perf_counter()
        try:
            answers = await loop.run_in_executor(self._thread, self.run, rows)
        except Exception as error:                # every request of the batch learns of it
            for _, future in batch:
                if not future.done():
                    future.set_exception(error)
            return
        self._batch_s = time.perf_counter() - start
        if self.on_batch is not None:
            self.on_batch(len(rows), self._batch_s)
        offset = 0
        for request_rows, future in batch:
            if not future.done():
                future.set_result(answers[offset:offset + len(request_rows)])
            offset += len(request_rows)
