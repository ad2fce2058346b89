"""What ``rnncourse serve`` accepts: every request is checked here before a model sees it.

A refused request raises :class:`RequestError` (a 4xx status and a sentence for the client):

- the body: over ``MAX_BODY_BYTES`` from its ``Content-Length`` (413, before it is read) or as
  soon as the bytes read pass the limit; not all there within ``body_timeout_s`` (408, a client
  that trickles its body does not hold a connection); empty, not UTF-8 or not JSON (400);
- ``/predict``: ``{"text": "..."}`` or ``{"texts": [...]}`` (at most ``MAX_TEXTS``), each a
  non-empty string of at most ``MAX_TEXT_CHARS`` characters (422);
- ``/generate``: ``prompt``, ``n`` (1 to ``MAX_GENERATE``), ``temperature`` (a finite number from 0
  to 10; below ``rnncourse.nn.sampling.TEMPERATURE_FLOOR`` it is greedy), ``top_k``, ``top_p``,
  ``seed`` (422 for anything else).

A client that goes away mid-body raises :class:`ClientGone`: nothing to answer, one log line.
"""

from __future__ import annotations

import asyncio
import json
import math
from dataclasses import dataclass

__all__ = ["RequestError", "ClientGone", "read_json", "check_text", "predict_texts", "generate_request",
           "GenerateRequest", "MAX_BODY_BYTES", "MAX_TEXT_CHARS", "MAX_TEXTS", "MAX_GENERATE"]

MAX_BODY_BYTES = 1_000_000      # a request body larger than this is refused before it is read
MAX_TEXT_CHARS = 50_000         # one review (the longest IMDB review has about 14,000 characters)
MAX_TEXTS = 64                  # texts in one /predict request
MAX_GENERATE = 5_000            # characters in one /generate stream


class RequestError(Exception):
    """A request the service refuses: an HTTP status (4xx or 503) and a sentence for the client."""

    def __init__(self, status: int, message: str, headers: dict | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


class ClientGone(Exception):
    """The client closed the connection before its request was read whole."""


async def _read_body(request, limit: int) -> bytes:
    from starlette.requests import ClientDisconnect

    body = bytearray()
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                raise RequestError(413, f"the request body is over the limit of {limit:,} bytes.")
    except ClientDisconnect:
        raise ClientGone(f"after {len(body):,} bytes of its body") from None
    return bytes(body)


async def read_json(request, limit: int = MAX_BODY_BYTES, timeout_s: float = 10.0):
    """The request's JSON body, read at most ``limit`` bytes far within ``timeout_s`` seconds."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise RequestError(400, "the Content-Length header is not a number.")
        if int(declared) > limit:
            raise RequestError(413, f"the request body is {int(declared):,} bytes; the limit is {limit:,}.")
    try:
        body = await asyncio.wait_for(_read_body(request, limit), timeout_s)
    except asyncio.TimeoutError:
        raise RequestError(408, f"the request body did not arrive within {timeout_s:g} s; send it "
                                "whole, at once.") from None
    if not body:
        raise RequestError(400, 'the request has no body; send JSON such as {"text": "..."}.')
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise RequestError(400, f"the body is not UTF-8 text (byte {error.start} is invalid).") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise RequestError(400, f"the body is not valid JSON: {error.msg} at line {error.lineno}, "
                                f"column {error.colno}.") from None
    except RecursionError:
        raise RequestError(400, "the body's JSON is nested too deeply.") from None


def check_text(value, name: str = "text", purpose: str = "the text to classify") -> str:
    """A non-empty string of at most MAX_TEXT_CHARS characters."""
    if not isinstance(value, str):
        raise RequestError(422, f'"{name}" must be a string, got {type(value).__name__}.')
    if not value.strip():
        raise RequestError(422, f'"{name}" is empty; send {purpose}.')
    if len(value) > MAX_TEXT_CHARS:
        raise RequestError(422, f'"{name}" has {len(value):,} characters; the limit is {MAX_TEXT_CHARS:,}.')
    return value


def predict_texts(body) -> tuple[list[str], bool]:
    """The texts of a /predict body and whether it was a batch (``{"texts": [...]}``)."""
    if not isinstance(body, dict):
        raise RequestError(422, 'send a JSON object: {"text": "..."} or {"texts": ["...", ...]}.')
    if ("text" in body) == ("texts" in body):
        raise RequestError(422, 'send exactly one of "text" (one review) or "texts" (a list of reviews).')
    if "text" in body:
        return [check_text(body["text"])], False
    texts = body["texts"]
    if not isinstance(texts, list):
        raise RequestError(422, f'"texts" must be a list of strings, got {type(texts).__name__}.')
    if not texts:
        raise RequestError(422, '"texts" is an empty list; send at least one review.')
    if len(texts) > MAX_TEXTS:
        raise RequestError(422, f'"texts" holds {len(texts)} reviews; the limit is {MAX_TEXTS} per request.')
    return [check_text(t, f"texts[{i}]") for i, t in enumerate(texts)], True


def _number(body: dict, name: str, default, *, integer: bool, low=None, high=None, allow_none=False):
    value = body.get(name, default)
    if value is None and allow_none:
        return None
    kind = "an integer" if integer else "a number"
    if isinstance(value, bool) or not isinstance(value, int if integer else (int, float)):
        raise RequestError(422, f'"{name}" must be {kind}, got {json.dumps(value)[:40]}.')
    if not math.isfinite(value) or (low is not None and value < low) or (high is not None and value > high):
        raise RequestError(422, f'"{name}" must be {kind} between {low} and {high}, got {value}.')
    return value


@dataclass
class GenerateRequest:
    prompt: str
    n: int
    temperature: float
    top_k: int | None
    top_p: float | None
    seed: int | None


def generate_request(body) -> GenerateRequest:
    """The fields of a /generate body, checked (temperature: finite, 0 to 10)."""
    if not isinstance(body, dict):
        raise RequestError(422, 'send a JSON object such as {"prompt": "ROMEO:", "n": 200}.')
    unknown = sorted(set(body) - {"prompt", "n", "temperature", "top_k", "top_p", "seed"})
    if unknown:
        raise RequestError(422, f"unknown field(s) {', '.join(unknown)}; the fields are prompt, n, "
                                "temperature, top_k, top_p and seed.")
    if "prompt" not in body:
        raise RequestError(422, 'the "prompt" field is missing: the text to continue.')
    return GenerateRequest(check_text(body["prompt"], "prompt", "the text to continue"),
                           _number(body, "n", 200, integer=True, low=1, high=MAX_GENERATE),
                           float(_number(body, "temperature", 1.0, integer=False, low=0, high=10)),
                           _number(body, "top_k", None, integer=True, low=1, high=10**9, allow_none=True),
                           _number(body, "top_p", None, integer=False, low=1e-6, high=1, allow_none=True),
                           _number(body, "seed", None, integer=True, low=0, high=2**63 - 1, allow_none=True))
