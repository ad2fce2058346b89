"""A small HTTP service for the course's models: Starlette on uvicorn.

::

    rnncourse serve sentiment.pt charlm.pt --port 8000          # one or more checkpoints

Endpoints (JSON in, JSON out; every error is ``{"error": "<what is wrong>"}`` with a 4xx status):

``GET /health``
    ``{"status": "ok", "models": {"sentiment": {...metadata}, ...}}``.
``POST /predict`` (a ``sentiment`` checkpoint)
    ``{"text": "..."}`` -> ``{"positive": 0.93, "label": "positive"}``;
    ``{"texts": ["...", ...]}`` (at most ``MAX_BATCH``) -> ``{"predictions": [{...}, ...]}``.
``POST /generate`` (a ``char-lm`` checkpoint)
    ``{"prompt": "ROMEO:", "n": 200, "temperature": 0.8, "top_k": null, "top_p": null, "seed": 0}``
    -> a server-sent-event stream, one event per character, ``data: {"text": "e"}``, then
    ``event: end``. Only the recurrent state is kept between characters, so a stream's memory does
    not grow with its length.

Input is checked before the model sees it: a body over ``MAX_BODY_BYTES`` is refused from its
``Content-Length`` (413) or as soon as the bytes read pass the limit, never read whole; then
UTF-8 (400), JSON (400), and the fields' presence, types and sizes (422). A checkpoint that is
missing or damaged stops the server at start with the reason (``rnncourse.deploy.checkpoint``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sys
from dataclasses import dataclass

import torch

__all__ = ["create_app", "ServerProcess", "MAX_BODY_BYTES", "MAX_TEXT_CHARS", "MAX_BATCH", "MAX_GENERATE"]

MAX_BODY_BYTES = 1_000_000      # a request body larger than this is refused before it is read
MAX_TEXT_CHARS = 50_000         # one review (the longest IMDB review has about 14,000 characters)
MAX_BATCH = 64                  # texts in one /predict request
MAX_GENERATE = 5_000            # characters in one /generate stream
_ENV = "RNNCOURSE_SERVE_CHECKPOINTS"  # how `--workers N` hands the checkpoints to its processes


class RequestError(Exception):
    """A request the service refuses: an HTTP status (4xx) and a sentence for the client."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


# ----------------------------------------------------------------------------- input checks
async def read_json(request, limit: int = MAX_BODY_BYTES):
    """The request's JSON body, read at most ``limit`` bytes far; RequestError otherwise."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise RequestError(400, "the Content-Length header is not a number.")
        if int(declared) > limit:
            raise RequestError(413, f"the request body is {int(declared):,} bytes; the limit is {limit:,}.")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise RequestError(413, f"the request body is over the limit of {limit:,} bytes.")
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


def check_text(value, name: str = "text") -> str:
    """A non-empty string of at most MAX_TEXT_CHARS characters."""
    if not isinstance(value, str):
        raise RequestError(422, f'"{name}" must be a string, got {type(value).__name__}.')
    if not value.strip():
        raise RequestError(422, f'"{name}" is empty; send the text to classify.')
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
    if len(texts) > MAX_BATCH:
        raise RequestError(422, f'"texts" holds {len(texts)} reviews; the limit is {MAX_BATCH} per request.')
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
    if not isinstance(body, dict):
        raise RequestError(422, 'send a JSON object such as {"prompt": "ROMEO:", "n": 200}.')
    unknown = sorted(set(body) - {"prompt", "n", "temperature", "top_k", "top_p", "seed"})
    if unknown:
        raise RequestError(422, f"unknown field(s) {', '.join(unknown)}; the fields are prompt, n, "
                                "temperature, top_k, top_p and seed.")
    if "prompt" not in body:
        raise RequestError(422, 'the "prompt" field is missing: the text to continue.')
    return GenerateRequest(check_text(body["prompt"], "prompt"),
                           _number(body, "n", 200, integer=True, low=1, high=MAX_GENERATE),
                           float(_number(body, "temperature", 1.0, integer=False, low=0, high=10)),
                           _number(body, "top_k", None, integer=True, low=1, high=10**9, allow_none=True),
                           _number(body, "top_p", None, integer=False, low=1e-6, high=1, allow_none=True),
                           _number(body, "seed", None, integer=True, low=0, high=2**63 - 1, allow_none=True))


# ----------------------------------------------------------------------------- the models
class SentimentService:
    """A sentiment checkpoint ready to answer: text -> P(positive), batched, no gradients."""

    def __init__(self, loaded) -> None:
        from rnncourse.data import Vocab

        self.model, self.metadata = loaded.model, loaded.metadata
        self.model.pack = False                    # a CPU service: the exact padded route is faster
        self.vocab = Vocab(loaded.vocab)
        self.max_len = loaded.metadata.get("max_len")

    def encode(self, text: str) -> list[int]:
        from rnncourse.data import clean_review, tokenize

        ids = self.vocab.encode(tokenize(clean_review(text)))
        if not ids:
            raise RequestError(422, "the text has no words or punctuation to classify.")
        return ids[-self.max_len:] if self.max_len else ids     # the last tokens, as chapter 6 trains

    @torch.no_grad()
    def predict(self, texts: list[str]) -> list[float]:
        encoded = [self.encode(t) for t in texts]
        lengths = torch.tensor([len(ids) for ids in encoded])
        ids = torch.zeros(len(encoded), int(lengths.max()), dtype=torch.long)
        for row, seq in enumerate(encoded):
            ids[row, :len(seq)] = torch.tensor(seq)
        return torch.sigmoid(self.model(ids, lengths)).tolist()


class GeneratorService:
    """A character language model that streams one character at a time."""

    def __init__(self, loaded) -> None:
        self.model, self.metadata, self.itos = loaded.model, loaded.metadata, loaded.vocab
        self.stoi = {c: i for i, c in enumerate(self.itos)}

    def stream(self, request: GenerateRequest):
        """Server-sent events: one ``data:`` line per generated character, then ``event: end``."""
        from rnncourse.nn.language_model import generate

        unknown = sorted({c for c in request.prompt if c not in self.stoi})
        if unknown:
            raise RequestError(422, f"the prompt holds characters the model never saw: {''.join(unknown)[:40]!r}.")
        generator = torch.Generator().manual_seed(request.seed) if request.seed is not None else None
        top_k = min(request.top_k, len(self.itos)) if request.top_k is not None else None
        ids = generate(self.model, [self.stoi[c] for c in request.prompt], request.n,
                       temperature=request.temperature, top_k=top_k, top_p=request.top_p,
                       generator=generator)

        def events():
            count = 0
            for token in ids:
                count += 1
                yield f"data: {json.dumps({'text': self.itos[token]})}\n\n"
            yield f"event: end\ndata: {json.dumps({'generated': count})}\n\n"
        return events()


def load_services(paths: list[str]) -> dict:
    """kind -> service for each checkpoint; raises CheckpointError with the reason."""
    from rnncourse.deploy.checkpoint import CheckpointError, load_model

    services = {}
    for path in paths:
        loaded = load_model(path)
        if loaded.kind in services:
            raise CheckpointError(f"two checkpoints of kind {loaded.kind!r}; serve one of each kind.")
        services[loaded.kind] = (SentimentService if loaded.kind == "sentiment" else GeneratorService)(loaded)
    return services


# ----------------------------------------------------------------------------- the app
def create_app(paths_or_services):
    """The Starlette application serving the given checkpoint paths (or loaded services)."""
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import JSONResponse, StreamingResponse
    from starlette.routing import Route

    services = paths_or_services if isinstance(paths_or_services, dict) else load_services(list(paths_or_services))

    def need(kind: str):
        if kind not in services:
            raise RequestError(404, f"this server has no {kind} model; start it with a {kind} checkpoint.")
        return services[kind]

    async def health(request):
        return JSONResponse({"status": "ok", "models": {k: s.metadata for k, s in services.items()}})

    async def predict(request):
        service = need("sentiment")
        texts, batch = predict_texts(await read_json(request))
        probabilities = await run_in_threadpool(service.predict, texts)
        answers = [{"positive": round(p, 6), "label": "positive" if p >= 0.5 else "negative"}
                   for p in probabilities]
        return JSONResponse({"predictions": answers} if batch else answers[0])

    async def generate(request):
        service = need("char-lm")
        events = service.stream(generate_request(await read_json(request)))
        return StreamingResponse(events, media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache"})

    async def refused(request, error: RequestError):
        return JSONResponse({"error": error.message}, status_code=error.status)

    async def failed(request, error: Exception):  # a bug of ours: say so, never show a traceback
        print(f"internal error on {request.url.path}: {type(error).__name__}: {error}", file=sys.stderr)
        return JSONResponse({"error": "the server failed on this request; it has been logged."}, status_code=500)

    routes = [Route("/health", health, methods=["GET"]), Route("/predict", predict, methods=["POST"]),
              Route("/generate", generate, methods=["POST"])]
    return Starlette(routes=routes, exception_handlers={RequestError: refused, Exception: failed})


def app_from_environment():
    """The app for one worker process of ``--workers N`` (checkpoints named in an environment variable)."""
    return create_app(json.loads(os.environ[_ENV]))


# ----------------------------------------------------------------------------- a server process
class ServerProcess:
    """``rnncourse serve`` started as a separate process on 127.0.0.1 (a free port unless given),
    as from a terminal; ``url`` once it answers ``/health``; ``stop()`` sends SIGINT (what Ctrl-C
    sends) and returns the exit status and what the server wrote to its error stream::

        with ServerProcess(["sentiment.pt"]) as server:
            httpx.post(server.url + "/predict", json={"text": "Great film."}).json()
    """

    def __init__(self, checkpoints, *, port: int | None = None, threads: int = 1, workers: int = 1,
                 timeout_s: float = 60.0) -> None:
        import socket
        import subprocess
        import time

        import httpx

        if port is None:
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        command = [sys.executable, "-m", "rnncourse", "serve", *map(str, checkpoints), "--port", str(port),
                   "--threads", str(threads), "--workers", str(workers)]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        start = time.monotonic()
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited at start: {self.process.stderr.read().strip()}")
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

    def stop(self) -> tuple[int, str]:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            _, err = self.process.communicate(timeout=30)
        except Exception:
            self.process.kill()
            _, err = self.process.communicate()
        return self.process.returncode, err

    def __enter__(self) -> "ServerProcess":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


# ----------------------------------------------------------------------------- the command
def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("checkpoints", nargs="+", metavar="CHECKPOINT",
                        help="model files written by rnncourse.deploy.checkpoint.save_model (sentiment and/or char-lm)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--threads", type=int, default=1,
                        help="PyTorch threads per worker (default 1: concurrent requests use the other cores)")


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from rnncourse.deploy.checkpoint import CheckpointError

    if args.workers < 1 or args.threads < 1 or not 0 < args.port < 65536:
        print("error: --workers and --threads must be at least 1 and --port in 1-65535.", file=sys.stderr)
        return 2
    torch.set_num_threads(args.threads)
    paths = [os.path.abspath(p) for p in args.checkpoints]
    try:
        services = load_services(paths)            # fail here, before listening, if a file is bad
    except CheckpointError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"serving {', '.join(services)} on http://{args.host}:{args.port} "
          f"({args.workers} worker(s), {args.threads} thread(s) each)", file=sys.stderr, flush=True)
    # uvicorn shuts down gracefully on SIGINT/SIGTERM, then raises the signal again for the handler
    # it found; this one notes it, so the command ends normally with a message instead of dying.
    for stop in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop, lambda number, frame: None)
    if args.workers == 1:
        uvicorn.run(create_app(services), host=args.host, port=args.port, log_level="warning",
                    timeout_graceful_shutdown=5)
    else:
        os.environ[_ENV] = json.dumps(paths)
        os.environ["OMP_NUM_THREADS"] = str(args.threads)
        uvicorn.run("rnncourse.deploy.serve:app_from_environment", factory=True, host=args.host, port=args.port,
                    workers=args.workers, log_level="warning", timeout_graceful_shutdown=5)
    print("server stopped", file=sys.stderr, flush=True)
    return 0
