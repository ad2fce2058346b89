"""`rnncourse serve`: the real server, on 127.0.0.1 on a free port, answering real requests."""

from __future__ import annotations

import concurrent.futures
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest
import torch

from rnncourse.deploy.checkpoint import save_model
from rnncourse.nn.language_model import CharLM
from rnncourse.nn.models import SentimentClassifier
from rnncourse.deploy.serve import MAX_BATCH, MAX_BODY_BYTES, MAX_TEXT_CHARS

ITOS = ["<pad>", "<unk>", *"a the movie was good great bad awful plot acting !".split()]
CHARS = list("\n abcdefghijklmnopqrstuvwxyz:.,")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(*args, cwd=None):
    port = free_port()
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen([sys.executable, "-m", "rnncourse", "serve", *map(str, args), "--port", str(port)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=cwd)
    return process, f"http://127.0.0.1:{port}"


def wait_until_up(process, url, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server exited with {process.returncode}: {process.stderr.read()}")
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                return time.monotonic()
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("the server did not answer /health within a minute")


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    torch.manual_seed(0)
    config = dict(vocab_size=len(ITOS), embed_dim=8, hidden_size=8, pack=False)
    sentiment = save_model(folder / "sentiment.pt", SentimentClassifier(**config), kind="sentiment", config=config,
                           vocab=ITOS, metadata={"max_len": 50})
    config = dict(vocab_size=len(CHARS), embed_dim=8, hidden_size=16)
    lm = save_model(folder / "lm.pt", CharLM(**config), kind="char-lm", config=config, vocab=CHARS)
    return sentiment, lm


@pytest.fixture(scope="module")
def server(checkpoints):
    process, url = start_server(*checkpoints)
    started = time.monotonic()
    up = wait_until_up(process, url)
    yield url, up - started
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()


def post(url, path, body=None, *, content=None, headers=None):
    if content is None:
        content = json.dumps(body).encode()
    return httpx.post(url + path, content=content, headers=headers or {"content-type": "application/json"}, timeout=30)


def test_starts_in_seconds_and_reports_health(server):
    url, seconds = server
    assert seconds < 30, f"the server took {seconds:.1f} s to answer"
    health = httpx.get(url + "/health").json()
    assert health["status"] == "ok" and set(health["models"]) == {"sentiment", "char-lm"}


def test_predict_one_and_a_batch_agree_with_the_model(server, checkpoints):
    url, _ = server
    one = post(url, "/predict", {"text": "a great movie !"})
    assert one.status_code == 200, one.text
    answer = one.json()
    assert 0.0 <= answer["positive"] <= 1.0 and answer["label"] in {"positive", "negative"}
    batch = post(url, "/predict", {"texts": ["a great movie !", "the plot was awful", "bad"]})
    assert batch.status_code == 200
    predictions = batch.json()["predictions"]
    assert len(predictions) == 3 and predictions[0]["positive"] == pytest.approx(answer["positive"], abs=1e-5)
    from rnncourse.deploy.checkpoint import load_model
    from rnncourse.data import Vocab, tokenize

    model = load_model(checkpoints[0]).model
    ids = torch.tensor([Vocab(ITOS).encode(tokenize("the plot was awful"))])
    expected = torch.sigmoid(model(ids, torch.tensor([ids.shape[1]]))).item()
    assert predictions[1]["positive"] == pytest.approx(expected, abs=1e-5)


@pytest.mark.parametrize("body, status, message", [
    (b'{"text": "good', 400, "not valid JSON"),
    (b"\xff\xfe\x00t", 400, "not UTF-8"),
    (b"", 400, "no body"),
    (json.dumps({}).encode(), 422, 'exactly one of "text"'),
    (json.dumps({"text": ""}).encode(), 422, "empty"),
    (json.dumps({"text": "   "}).encode(), 422, "empty"),
    (json.dumps({"text": 5}).encode(), 422, "must be a string, got int"),
    (json.dumps({"text": ["a"]}).encode(), 422, "must be a string, got list"),
    (json.dumps(["a great movie"]).encode(), 422, "JSON object"),
    (json.dumps({"texts": "a great movie"}).encode(), 422, "must be a list"),
    (json.dumps({"texts": []}).encode(), 422, "empty list"),
    (json.dumps({"texts": ["good", 3]}).encode(), 422, "texts\\[1\\]"),
    (json.dumps({"texts": ["good"] * (MAX_BATCH + 1)}).encode(), 422, f"limit is {MAX_BATCH}"),
    (json.dumps({"text": "good " * (MAX_TEXT_CHARS // 5 + 1)}).encode(), 422, "characters; the limit"),
    (json.dumps({"text": "good", "texts": ["bad"]}).encode(), 422, "exactly one"),
    (b"[" * 100_000 + b"]" * 100_000, 400, "nested too deeply"),
    (json.dumps({"text": "<br /><br />"}).encode(), 422, "no words"),
])
def test_bad_predict_requests_get_a_4xx_with_a_reason(server, body, status, message):
    url, _ = server
    response = post(url, "/predict", content=body)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert re.search(message, error), error
    assert "Traceback" not in response.text


@pytest.mark.parametrize("body, message", [
    ({"n": 5}, '"prompt" field is missing'),
    ({"prompt": "the", "n": 0}, '"n" must be an integer between 1'),
    ({"prompt": "the", "n": "5"}, '"n" must be an integer'),
    ({"prompt": "the", "temperature": -1}, '"temperature"'),
    ({"prompt": "the", "top_p": 2}, '"top_p"'),
    ({"prompt": "THE", "n": 3}, "never saw"),
    ({"prompt": "the", "colour": 1}, "unknown field"),
])
def test_bad_generate_requests_get_a_422(server, body, message):
    url, _ = server
    response = post(url, "/generate", body)
    assert response.status_code == 422 and message in response.json()["error"], response.text


def test_an_oversized_body_is_refused_from_its_header_before_it_is_sent(server):
    url, _ = server
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(f"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  f"Content-Length: {100 * MAX_BODY_BYTES}\r\n\r\n".encode() + b'{"text": "')
        reply = _read_response(s)                          # answered although 99% of the body never came
    assert reply.startswith("HTTP/1.1 413") and "the limit is" in reply, reply


def _read_response(sock: socket.socket) -> str:
    """One whole HTTP response from ``sock``: the head and ``Content-Length`` bytes of body (the
    server may send them in separate segments)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            return data.decode(errors="replace")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length:")), 0)
    while len(body) < length:
        chunk = sock.recv(4096)
        if not chunk:
            break
        body += chunk
    return (head + b"\r\n\r\n" + body).decode(errors="replace")


def test_an_oversized_chunked_body_is_refused_once_it_passes_the_limit(server):
    url, _ = server

    def chunks():
        yield b'{"text": "'
        for _ in range(MAX_BODY_BYTES // 65536 + 2):
            yield b"a" * 65536

    response = httpx.post(url + "/predict", content=chunks(), timeout=30)
    assert response.status_code == 413 and "over the limit" in response.json()["error"]


def test_unknown_path_and_method_are_4xx(server):
    url, _ = server
    assert httpx.get(url + "/nothing").status_code == 404
    assert httpx.get(url + "/predict").status_code == 405


def test_generation_streams_one_character_per_event(server):
    url, _ = server
    with httpx.stream("POST", url + "/generate", json={"prompt": "the ", "n": 40, "seed": 3, "temperature": 0.8},
                      timeout=30) as response:
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
        text = "".join(response.iter_text())
    blocks = [b for b in text.split("\n\n") if b]
    chars = [json.loads(b.removeprefix("data: "))["text"] for b in blocks if b.startswith("data: ")]
    assert len(chars) == 40 and all(len(c) == 1 and c in CHARS for c in chars)
    assert blocks[-1].startswith("event: end") and '"generated": 40' in blocks[-1]
    again = post(url, "/generate", {"prompt": "the ", "n": 40, "seed": 3, "temperature": 0.8}).text
    assert again == text                                    # the same seed, the same characters
    wide = post(url, "/generate", {"prompt": "a", "n": 5, "top_k": 10**6, "top_p": 0.9, "temperature": 0})
    assert wide.status_code == 200 and wide.text.count("data: ") == 6 and "event: end" in wide.text


def test_concurrent_requests_all_succeed(server):
    url, _ = server
    texts = ["a great movie", "bad acting", "the plot was good !", "awful"]

    def one(i):
        if i % 8 == 7:
            return post(url, "/generate", {"prompt": "a", "n": 20, "seed": i}).status_code
        return post(url, "/predict", {"text": texts[i % 4]}).status_code

    with concurrent.futures.ThreadPoolExecutor(32) as pool:
        statuses = list(pool.map(one, range(128)))
    assert statuses == [200] * 128


def test_missing_and_damaged_model_files_stop_the_server_at_start(tmp_path):
    for path, message in [(tmp_path / "absent.pt", "no model file"), (tmp_path / "bad.pt", "not a readable checkpoint")]:
        if path.name == "bad.pt":
            path.write_bytes(b"not a checkpoint")
        process, _ = start_server(path)
        out, err = process.communicate(timeout=60)
        assert process.returncode == 2 and message in err and "Traceback" not in err, err


def test_shuts_down_cleanly_on_sigterm(checkpoints):
    process, url = start_server(checkpoints[0])
    wait_until_up(process, url)
    assert post(url, "/predict", {"text": "good"}).status_code == 200
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0 and "server stopped" in err and "Traceback" not in err, err
