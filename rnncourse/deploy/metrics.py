"""``/metrics`` of ``rnncourse serve`` in Prometheus' text format (``prometheus-client``).

=====================================  ==========  ===============================================
name                                   type        what
=====================================  ==========  ===============================================
``rnncourse_requests_total``           counter     requests answered, by ``route`` and ``status``
``rnncourse_request_seconds``          histogram   time to answer (a stream: to its end), by route
``rnncourse_batch_rows``               histogram   rows in each forward pass of the batcher
``rnncourse_batch_seconds``            histogram   time of each forward pass
``rnncourse_queue_rows``               gauge       rows waiting for the batcher
``rnncourse_streams_open``             gauge       ``/generate`` streams being sent
=====================================  ==========  ===============================================

Each app has its own registry, so two apps in one process (the tests) do not share counts. With
``--workers N`` each worker process counts its own requests; a scrape reaches one of them.
"""

from __future__ import annotations

import time

__all__ = ["Metrics"]

ROUTES = ("/health", "/predict", "/generate", "/metrics")


class Metrics:
    """The service's counters, and an ASGI middleware that counts every request."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = registry = CollectorRegistry()
        self.requests = Counter("rnncourse_requests", "Requests answered.", ["route", "status"], registry=registry)
        self.latency = Histogram("rnncourse_request_seconds", "Time to answer a request.", ["route"],
                                 registry=registry,
                                 buckets=(.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60))
        self.batch_rows = Histogram("rnncourse_batch_rows", "Rows in each forward pass.", registry=registry,
                                    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256))
        self.batch_seconds = Histogram("rnncourse_batch_seconds", "Time of each forward pass.",
                                       registry=registry)
        self.queue_rows = Gauge("rnncourse_queue_rows", "Rows waiting for the batcher.", registry=registry)
        self.streams_open = Gauge("rnncourse_streams_open", "/generate streams being sent.", registry=registry)

    def on_batch(self, rows: int, seconds: float) -> None:
        self.batch_rows.observe(rows)
        self.batch_seconds.observe(seconds)

    def exposition(self) -> tuple[bytes, str]:
        """The current values as Prometheus text, and its content type."""
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return generate_latest(self.registry), CONTENT_TYPE_LATEST

    def middleware(self, app):
        """``app`` wrapped so that each HTTP request is counted with its status and duration."""

        async def counted(scope, receive, send):
            if scope["type"] != "http":
                return await app(scope, receive, send)
            route = scope["path"] if scope["path"] in ROUTES else "other"
            status = {"code": 500}
            start = time.perf_counter()

            async def send_status(message):
                if message["type"] == "http.response.start":
                    status["code"] = message["status"]
                await send(message)

            try:
                await app(scope, receive, send_status)
            finally:
                self.requests.labels(route, str(status["code"])).inc()
                self.latency.labels(route).observe(time.perf_counter() - start)

        return counted
