"""The Starlette application of ``rnncourse serve``: routes, answers and errors.

``GET /health`` never fails: the models' metadata (plain JSON, checked when the checkpoint was
loaded), each model's backend, and the batching settings. ``GET /metrics``: Prometheus text.
``POST /predict`` goes through the :class:`~rnncourse.deploy.batcher.Batcher`; a full queue is 503
with ``Retry-After``. ``POST /generate`` streams server-sent events, ``data: {"text": "e"}`` per
character, then ``event: end``; a stream that cannot go on (the server is shutting down and its
``--graceful-timeout`` is nearly spent, or generation failed) ends with ``event: error`` and a
``data: {"error": ...}`` line instead of a silent cut.

Errors are ``{"error": "<what is wrong>"}``: 4xx for a request the server refuses, 503 when busy,
500 only for a bug of ours (logged with its traceback). A client that leaves mid-body is one info
line in the log.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from dataclasses import dataclass

from rnncourse.deploy.batcher import Batcher, QueueFull
from rnncourse.deploy.metrics import Metrics
from rnncourse.deploy.validation import (ClientGone, RequestError, generate_request, predict_texts,
                                         read_json)

__all__ = ["create_app", "ServeSettings", "SHUTDOWN"]

log = logging.getLogger("rnncourse.serve")


@dataclass
class ServeSettings:
    """The server's limits; the command-line options of ``rnncourse serve`` set them."""

    max_batch: int = 32             # rows in one forward pass; 1 turns batching off
    max_wait_ms: float = 5.0        # how long the first request of a batch waits for company
    max_queue: int = 1024           # rows waiting; beyond them, 503 with Retry-After
    body_timeout_s: float = 10.0    # a body must arrive whole within this (408)
    graceful_timeout_s: float = 30.0  # on SIGTERM/SIGINT, streams in flight get this long


class ShutdownClock:
    """When the server began to shut down and how long streams may still run (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._deadline: float | None = None

    def begin(self, grace_s: float) -> None:
        """Streams end (with ``event: error``) a little before ``grace_s`` has passed."""
        with self._lock:
            if self._deadline is None:
                self._deadline = time.monotonic() + max(0.0, grace_s - min(1.0, grace_s / 4))

    def cut_due(self) -> bool:
        return self._deadline is not None and time.monotonic() >= self._deadline


SHUTDOWN = ShutdownClock()   # one per process: the server (rnncourse.deploy.http) starts it


def _event(name: str | None, data: dict) -> str:
    return (f"event: {name}\n" if name else "") + f"data: {json.dumps(data)}\n\n"


async def _stream(characters, metrics: Metrics):
    """SSE lines for ``characters`` (a sync iterator advanced on worker threads)."""
    from starlette.concurrency import iterate_in_threadpool

    count = 0
    metrics.streams_open.inc()
    try:
        async for text in iterate_in_threadpool(characters):
            if SHUTDOWN.cut_due():
                log.info("a /generate stream was cut by the shutdown after %d characters", count)
                yield _event("error", {"error": f"the server is shutting down; the stream was cut after "
                                                f"{count} characters. Send the request again.", "generated": count})
                return
            count += 1
            yield _event(None, {"text": text})
        yield _event("end", {"generated": count})
    except Exception as error:       # the 200 header is out: say so in the stream, not by a cut
        log.error("a /generate stream failed after %d characters: %s: %s", count, type(error).__name__, error)
        yield _event("error", {"error": "generation failed on the server; it has been logged.", "generated": count})
    finally:
        metrics.streams_open.dec()


def _health(services: dict, settings: ServeSettings) -> dict:
    try:
        return {"status": "ok", "models": {k: s.metadata for k, s in services.items()},
                "backends": {k: s.backend.describe() for k, s in services.items() if s.backend is not None},
                "batching": {"max_batch": settings.max_batch, "max_wait_ms": settings.max_wait_ms,
                             "max_queue": settings.max_queue}}
    except Exception as error:       # never: metadata is plain JSON; but health must answer
        log.error("health could not describe the models: %s", error)
        return {"status": "ok", "models": sorted(services)}


def _handlers(services: dict, settings: ServeSettings, metrics: Metrics, batcher: Batcher | None):
    from starlette.responses import JSONResponse, Response, StreamingResponse

    def need(kind: str):
        if kind not in services:
            raise RequestError(404, f"this server has no {kind} model; start it with a {kind} checkpoint.")
        return services[kind]

    async def health(request):
        return JSONResponse(_health(services, settings))

    async def scrape(request):
        if batcher is not None:
            metrics.queue_rows.set(batcher.waiting)
        body, content_type = metrics.exposition()
        return Response(body, media_type=content_type)

    async def predict(request):
        service = need("sentiment")
        texts, many = predict_texts(await read_json(request, timeout_s=settings.body_timeout_s))
        encoded = [service.encode(t) for t in texts]
        try:
            probabilities = await batcher.submit(encoded)
        except QueueFull as error:
            raise RequestError(503, str(error), {"Retry-After": str(error.retry_after_s)}) from None
        answers = [{"positive": round(p, 6), "label": "positive" if p >= 0.5 else "negative"}
                   for p in probabilities]
        return JSONResponse({"predictions": answers} if many else answers[0])

    async def generate(request):
        service = need("char-lm")
        body = generate_request(await read_json(request, timeout_s=settings.body_timeout_s))
        return StreamingResponse(_stream(service.characters(body), metrics), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache"})

    return health, scrape, predict, generate


def create_app(services: dict, settings: ServeSettings | None = None):
    """The ASGI application serving ``services`` (kind -> service, see
    :func:`rnncourse.deploy.services.load_services`), counted by its own :class:`Metrics`."""
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    settings = settings or ServeSettings()
    metrics = Metrics()
    batcher = None
    if "sentiment" in services:
        batcher = Batcher(services["sentiment"].predict_encoded, max_batch=settings.max_batch,
                          max_wait_ms=settings.max_wait_ms, max_queue=settings.max_queue,
                          on_batch=metrics.on_batch)
    health, scrape, predict, generate = _handlers(services, settings, metrics, batcher)

    async def refused(request, error: RequestError):
        close = {"Connection": "close"} if error.status in (408, 413) else {}   # the body was not read
        return JSONResponse({"error": error.message}, status_code=error.status, headers={**error.headers, **close})

    async def gone(request, error: ClientGone):
        log.info("the client of %s %s left %s", request.method, request.url.path, error)
        return Response(status_code=400)                  # nobody reads it

    async def failed(request, error: Exception):  # a bug of ours: say so, never show a traceback
        log.error("internal error on %s: %s: %s", request.url.path, type(error).__name__, error)
        return JSONResponse({"error": "the server failed on this request; it has been logged."}, status_code=500)

    routes = [Route("/health", health, methods=["GET"]), Route("/metrics", scrape, methods=["GET"]),
              Route("/predict", predict, methods=["POST"]), Route("/generate", generate, methods=["POST"])]
    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        if batcher is not None:
            batcher.close()

    app = Starlette(routes=routes, exception_handlers={RequestError: refused, ClientGone: gone, Exception: failed},
                    lifespan=lifespan)
    return metrics.middleware(app)
