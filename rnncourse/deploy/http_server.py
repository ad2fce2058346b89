"""The HTTP side of ``rnncourse serve``: uvicorn with guards against slow and greedy clients, and a
shutdown that gives streams a stated time.

- **Header time limit**: a connection must send a request's whole head within ``header_timeout_s``
  of connecting (or of starting a request on a kept-alive connection); otherwise it gets 408 and is
  closed. Idle kept-alive connections close after ``keep_alive_s``; a body has its own time limit
  in the app (408, :mod:`rnncourse.deploy.validation`).
- **Connection limit**: beyond ``max_connections`` open connections a new one gets 503 with
  ``Retry-After: 1`` and is closed at once, so the server never runs out of file descriptors (by
  default the limit stays 64 below the process's descriptor limit).
- **Rate-limited log lines**: a repeated warning or error is written at most once every
  ``LOG_EVERY_S`` seconds, with the count of the lines left out (at the descriptor limit asyncio
  wrote one traceback per failed accept: megabytes a second).
- **Graceful shutdown**: on SIGTERM or SIGINT the server stops accepting, lets requests in flight
  finish for up to ``graceful_timeout_s``, and streams still running near its end close with an
  SSE ``event: error`` (:data:`rnncourse.deploy.app.SHUTDOWN`) rather than a cut.
"""

from __future__ import annotations

import json
import logging
import os
import resource
import sys
import time

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from rnncourse.deploy.app import SHUTDOWN

__all__ = ["GuardedH11Protocol", "GracefulServer", "RateLimitedLog", "default_max_connections", "configure_logging"]

LOG_EVERY_S = 10.0
LIMITS_ENV = "RNNCOURSE_SERVE_LIMITS"


def default_max_connections() -> int:
    """1,000, or 64 below this process's soft limit of open files if that is lower (at least 8)."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return max(8, min(1000, soft - 64)) if soft != resource.RLIM_INFINITY else 1000


def _raw_response(status: int, reason: str, message: str, extra: str = "") -> bytes:
    body = json.dumps({"error": message}).encode()
    head = (f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\nconnection: close\r\n"
            f"{extra}content-length: {len(body)}\r\n\r\n")
    return head.encode() + body


class _GuardedH11(H11Protocol):
    """uvicorn's h11 protocol with a header time limit and a connection limit (set by a subclass)."""

    header_timeout_s = 10.0
    max_connections = 1000
    _header_timer = None

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            transport.write(_raw_response(503, "Service Unavailable", f"the server has its limit of "
                                          f"{self.max_connections} connections open; retry in 1 s.",
                                          "retry-after: 1\r\n"))
            transport.close()
            logging.getLogger("rnncourse.serve").warning("connection limit (%d) reached: 503", self.max_connections)
            return
        self._watch_head()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._watch_head()

    def connection_lost(self, exc) -> None:
        self._stop_timer()
        super().connection_lost(exc)

    def _stop_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _waiting_for_head(self) -> bool:
        return self.conn.their_state is h11.IDLE and not self.transport.is_closing() and (
            self.cycle is None or self.cycle.response_complete)

    def _watch_head(self) -> None:
        if not self._waiting_for_head():
            self._stop_timer()
        elif self._header_timer is None:
            self._header_timer = self.loop.call_later(self.header_timeout_s, self._head_too_slow)

    def _head_too_slow(self) -> None:
        self._header_timer = None
        if self._waiting_for_head():
            self.transport.write(_raw_response(408, "Request Timeout", "the request's head did not arrive "
                                               f"within {self.header_timeout_s:g} s."))
            self.transport.close()


class GuardedH11Protocol(_GuardedH11):
    """The protocol ``rnncourse serve`` names in ``uvicorn.Config(http=...)``: its limits come from
    the ``RNNCOURSE_SERVE_LIMITS`` environment variable (JSON), which worker processes inherit."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        limits = json.loads(os.environ.get(LIMITS_ENV, "{}"))
        self.header_timeout_s = float(limits.get("header_timeout_s", self.header_timeout_s))
        self.max_connections = int(limits.get("max_connections", self.max_connections))


class GracefulServer(uvicorn.Server):
    """uvicorn's server that starts :data:`SHUTDOWN`'s clock when a stop signal arrives."""

    def handle_exit(self, sig, frame) -> None:
        SHUTDOWN.begin(self.config.timeout_graceful_shutdown or 0.0)
        super().handle_exit(sig, frame)


class RateLimitedLog(logging.Filter):
    """Let one line of each kind through every ``every_s`` seconds; say how many were left out."""

    def __init__(self, every_s: float = LOG_EVERY_S) -> None:
        super().__init__()
        self.every_s, self._seen = every_s, {}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        key = (record.name, str(record.msg)[:60])
        now = time.monotonic()
        start, left_out = self._seen.get(key, (None, 0))
        if start is not None and now - start < self.every_s:
            self._seen[key] = (start, left_out + 1)
            return False
        self._seen[key] = (now, 0)
        if left_out:
            record.msg = f"{record.msg} ({left_out} more like it in the last {self.every_s:g} s left out)"
        if record.name == "asyncio" and "out of system resource" in str(record.msg):
            record.exc_info = None                  # one line, not a traceback per failed accept
        return True


def configure_logging() -> None:
    """Info lines of the service and warnings of uvicorn and asyncio to stderr, rate-limited."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S"))
    handler.addFilter(RateLimitedLog())
    for name, level in (("rnncourse.serve", logging.INFO), ("asyncio", logging.WARNING),
                        ("uvicorn.error", logging.WARNING)):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level)
        logger.propagate = False
