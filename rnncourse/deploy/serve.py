"""``rnncourse serve``: a small production HTTP service for the course's models (Starlette on uvicorn).

::

    rnncourse serve sentiment.pt charlm.pt --port 8000          # one or more checkpoints

Endpoints (JSON in, JSON out; every error is ``{"error": "<what is wrong>"}``):

``GET /health``
    ``{"status": "ok", "models": {"sentiment": {...metadata}, ...}, "backends": {...},
    "batching": {...}}``; it cannot fail.
``GET /metrics``
    Prometheus text: requests by route and status, latency, batch sizes, queue, open streams.
``POST /predict`` (a ``sentiment`` checkpoint)
    ``{"text": "..."}`` -> ``{"positive": 0.93, "label": "positive"}``;
    ``{"texts": ["...", ...]}`` (at most ``MAX_TEXTS``) -> ``{"predictions": [{...}, ...]}``.
    Requests arriving within ``--max-wait-ms`` run as one batch of up to ``--max-batch`` rows;
    beyond ``--max-queue`` waiting rows, 503 with ``Retry-After``.
``POST /generate`` (a ``char-lm`` checkpoint)
    ``{"prompt": "ROMEO:", "n": 200, "temperature": 0.8, "top_k": null, "top_p": null, "seed": 0}``
    -> server-sent events, ``data: {"text": "e"}`` per character, then ``event: end`` (or
    ``event: error`` if the stream cannot finish). Only the recurrent state is kept between
    characters, each step under ``torch.inference_mode()``, so a stream's memory does not grow.

The pieces, one module each: :mod:`~rnncourse.deploy.validation` (what a request may hold),
:mod:`~rnncourse.deploy.services` and :mod:`~rnncourse.deploy.backends` (the models, eager or ONNX
Runtime), :mod:`~rnncourse.deploy.batcher`, :mod:`~rnncourse.deploy.metrics`,
:mod:`~rnncourse.deploy.app` (routes and answers) and :mod:`~rnncourse.deploy.http_server` (slow
clients, connection limit, graceful shutdown). This module is the command and
:class:`ServerProcess`, which starts it from Python as from a terminal.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys

from rnncourse.deploy.app import SHUTDOWN, ServeSettings, create_app
from rnncourse.deploy.backends import BACKENDS
from rnncourse.deploy.validation import (MAX_BODY_BYTES, MAX_GENERATE, MAX_TEXT_CHARS, MAX_TEXTS,  # noqa: F401
                                         RequestError, check_text, generate_request, predict_texts, read_json)
# (the request checks stay importable here: assignment 8 forbids them by these names)

__all__ = ["create_app", "ServeSettings", "ServerProcess", "MAX_BODY_BYTES", "MAX_TEXT_CHARS", "MAX_TEXTS",
           "MAX_BATCH", "MAX_GENERATE"]

MAX_BATCH = MAX_TEXTS           # the old name of the per-request limit of texts
_ENV = "RNNCOURSE_SERVE_OPTIONS"  # how `--workers N` hands the checkpoints and options to its processes


class ServerProcess:
    """``rnncourse serve`` started as a separate process on 127.0.0.1 (a free port unless given),
    as from a terminal, with any further command-line ``options`` (``["--max-batch", "1"]``);
    ``url`` once it answers ``/health``; ``stop()`` sends SIGINT (what Ctrl-C sends) and returns
    the exit status and what the server wrote to its error stream::

        with ServerProcess(["sentiment.pt"]) as server:
            httpx.post(server.url + "/predict", json={"text": "Great film."}).json()
    """

    def __init__(self, checkpoints, *, port: int | None = None, threads: int = 1, workers: int = 1,
                 options: list[str] = (), timeout_s: float = 120.0) -> None:
        import socket
        import subprocess
        import tempfile
        import time

        import httpx

        if port is None:
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        command = [sys.executable, "-m", "rnncourse", "serve", *map(str, checkpoints), "--port", str(port),
                   "--threads", str(threads), "--workers", str(workers), *map(str, options)]
        self._log = tempfile.TemporaryFile(mode="w+")      # a pipe nobody reads could fill and block it
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=self._log, text=True)
        start = time.monotonic()
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited at start: {self.log().strip()}")
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() - start > timeout_s:
                self.process.kill()
                raise RuntimeError(f"the server did not answer within {timeout_s:.0f} s")
            time.sleep(0.1)
        self.start_seconds = time.monotonic() - start

    def log(self) -> str:
        """What the server has written to its error stream so far."""
        self._log.flush()
        self._log.seek(0)
        return self._log.read()

    def stop(self, sig: int = signal.SIGINT, timeout_s: float = 60.0) -> tuple[int, str]:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            self.process.wait(timeout=timeout_s)
        except Exception:
            self.process.kill()
            self.process.wait()
        return self.process.returncode, self.log()

    def __enter__(self) -> "ServerProcess":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


# ----------------------------------------------------------------------------- the command
def add_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = ServeSettings()
    add = parser.add_argument
    add("checkpoints", nargs="+", metavar="CHECKPOINT",
        help="model files written by rnncourse.deploy.checkpoint.save_model (sentiment and/or char-lm)")
    add("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    add("--port", type=int, default=8000, help="port (default 8000)")
    add("--workers", type=int, default=1, help="worker processes (default 1)")
    add("--threads", type=int, default=1,
        help="PyTorch / ONNX Runtime threads per worker (default 1: concurrent requests use the other cores)")
    add("--backend", choices=BACKENDS, default="eager",
        help="what runs the sentiment model: eager PyTorch, or the exported ONNX model in fp32 or int8 "
             "(checked against eager at start-up) (default eager)")
    add("--max-batch", type=int, default=defaults.max_batch,
        help=f"most texts in one forward pass; 1 turns batching off (default {defaults.max_batch})")
    add("--max-wait-ms", type=float, default=defaults.max_wait_ms,
        help=f"how long a request waits for others to batch with (default {defaults.max_wait_ms:g} ms)")
    add("--max-queue", type=int, default=defaults.max_queue,
        help=f"texts that may wait; beyond them 503 with Retry-After (default {defaults.max_queue})")
    add("--max-connections", type=int, default=None,
        help="open connections; beyond them 503 (default 1,000, or 64 below the open-file limit)")
    add("--header-timeout", type=float, default=10.0,
        help="seconds for a request's head to arrive, else 408 (default 10)")
    add("--body-timeout", type=float, default=defaults.body_timeout_s,
        help=f"seconds for a request's body to arrive, else 408 (default {defaults.body_timeout_s:g})")
    add("--keep-alive", type=float, default=5.0, help="seconds an idle connection stays open (default 5)")
    add("--graceful-timeout", type=float, default=defaults.graceful_timeout_s,
        help="on SIGTERM/SIGINT, seconds for requests in flight to finish; streams still running "
             f"then end with an SSE 'event: error' (default {defaults.graceful_timeout_s:g})")


def _check(args: argparse.Namespace) -> str | None:
    """What is wrong with the options, in one sentence, or None."""
    if args.workers < 1 or args.threads < 1 or not 0 < args.port < 65536:
        return "--workers and --threads must be at least 1 and --port in 1-65535."
    if args.max_batch < 1 or args.max_queue < args.max_batch or args.max_wait_ms < 0:
        return "--max-batch must be at least 1, --max-queue at least --max-batch and --max-wait-ms >= 0."
    if args.max_connections is not None and args.max_connections < 1:
        return "--max-connections must be at least 1."
    if min(args.header_timeout, args.body_timeout, args.keep_alive) <= 0 or args.graceful_timeout < 0:
        return "the timeouts must be positive (--graceful-timeout may be 0)."
    return None


def _settings(options: dict) -> ServeSettings:
    return ServeSettings(max_batch=options["max_batch"], max_wait_ms=options["max_wait_ms"],
                         max_queue=options["max_queue"], body_timeout_s=options["body_timeout"],
                         graceful_timeout_s=options["graceful_timeout"])


def app_from_environment():
    """The app of one worker process of ``--workers N`` (options in an environment variable). uvicorn
    has installed its stop-signal handlers by now; the stream clock is started before them."""
    from rnncourse.deploy.http_server import configure_logging
    from rnncourse.deploy.services import load_services

    configure_logging()
    options = json.loads(os.environ[_ENV])
    for stop in (signal.SIGINT, signal.SIGTERM):
        uvicorn_handler = signal.getsignal(stop)
        if callable(uvicorn_handler):
            def handler(number, frame, chained=uvicorn_handler):
                SHUTDOWN.begin(options["graceful_timeout"])
                chained(number, frame)
            signal.signal(stop, handler)
    services = load_services(options["paths"], backend=options["backend"], threads=options["threads"])
    return create_app(services, _settings(options))


def _config(app, options: dict):
    import uvicorn

    from rnncourse.deploy.http_server import LIMITS_ENV, default_max_connections

    os.environ[LIMITS_ENV] = json.dumps(
        {"header_timeout_s": options["header_timeout"],
         "max_connections": options["max_connections"] or default_max_connections()})
    return uvicorn.Config(app, host=options["host"], port=options["port"], workers=options["workers"],
                          factory=isinstance(app, str), log_config=None, access_log=False,
                          http="rnncourse.deploy.http_server:GuardedH11Protocol",
                          timeout_keep_alive=options["keep_alive"],
                          timeout_graceful_shutdown=options["graceful_timeout"])


def run(args: argparse.Namespace) -> int:
    import torch

    from rnncourse.deploy.checkpoint import CheckpointError
    from rnncourse.deploy.http_server import GracefulServer, configure_logging
    from rnncourse.deploy.services import load_services

    problem = _check(args)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    torch.set_num_threads(args.threads)
    options = {**vars(args), "paths": [os.path.abspath(p) for p in args.checkpoints]}
    options.pop("checkpoints"), options.pop("command", None)
    try:                                       # fail here, before listening, if a file is bad
        services = load_services(options["paths"], backend=args.backend, threads=args.threads)
    except CheckpointError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    configure_logging()
    print(f"serving {', '.join(services)} on http://{args.host}:{args.port} ({args.workers} worker(s), "
          f"{args.threads} thread(s) each, backend {args.backend}, batches of up to {args.max_batch})",
          file=sys.stderr, flush=True)
    # uvicorn shuts down gracefully on SIGINT/SIGTERM, then raises the signal again for the handler
    # it found; this one notes it, so the command ends normally with a message instead of dying.
    for stop in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop, lambda number, frame: None)
    if args.workers == 1:
        GracefulServer(_config(create_app(services, _settings(options)), options)).run()
    else:
        from uvicorn.supervisors import Multiprocess

        os.environ[_ENV] = json.dumps(options)
        os.environ["OMP_NUM_THREADS"] = str(args.threads)
        config = _config("rnncourse.deploy.serve:app_from_environment", options)
        Multiprocess(config, sockets=[config.bind_socket()]).run()
    print("server stopped", file=sys.stderr, flush=True)
    return 0
