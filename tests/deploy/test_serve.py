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
from rnncourse.deploy.serve import MAX_BATCH, MAX_BODY_BYTES, MAX_TEXT_CHARS, ServerProcess

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


def wait_until_up(process, url, timeout=240.0):      # 2 cores shared by many: imports can take minutes
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server exited with {process.returncode}: {process.stderr.read()}")
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                return time.monotonic()
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"the server did not answer /health within {timeout:.0f} s")


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
def served(checkpoints):
    with ServerProcess(checkpoints, timeout_s=240) as server:
        yield server


@pytest.fixture(scope="module")
def server(served):
    return served.url, served.start_seconds


def post(url, path, body=None, *, content=None, headers=None):
    if content is None:
        content = json.dumps(body).encode()
    return httpx.post(url + path, content=content, headers=headers or {"content-type": "application/json"}, timeout=30)


def test_starts_in_seconds_and_reports_health(server):
    url, seconds = server
    assert seconds < 240, f"the server took {seconds:.1f} s to answer"  # 2 shared cores: imports are slow
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


# ----------------------------------------------------------------------------- issue 25
def _metric(url, name, **labels):
    from prometheus_client.parser import text_string_to_metric_families

    text = httpx.get(url + "/metrics", timeout=10).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return None


def test_metrics_are_scraped_in_prometheus_format(server):
    url, _ = server
    before = _metric(url, "rnncourse_requests_total", route="/predict", status="200") or 0
    assert post(url, "/predict", {"texts": ["a great movie", "bad"]}).status_code == 200
    assert post(url, "/predict", {"text": 5}).status_code == 422
    assert post(url, "/generate", {"prompt": "a", "n": 3}).status_code == 200
    assert _metric(url, "rnncourse_requests_total", route="/predict", status="200") == before + 1
    assert _metric(url, "rnncourse_requests_total", route="/predict", status="422") >= 1
    assert _metric(url, "rnncourse_request_seconds_count", route="/generate") >= 1
    assert _metric(url, "rnncourse_batch_rows_count") >= 1 and _metric(url, "rnncourse_batch_rows_sum") >= 2
    assert _metric(url, "rnncourse_queue_rows") == 0 and _metric(url, "rnncourse_streams_open") == 0


def test_health_shows_the_backend_and_the_batching(server):
    url, _ = server
    health = httpx.get(url + "/health").json()
    assert health["backends"]["sentiment"]["backend"] == "eager"
    assert health["batching"] == {"max_batch": 32, "max_wait_ms": 5.0, "max_queue": 1024}


def test_concurrent_predictions_are_batched_and_each_gets_its_own_answer(server, checkpoints):
    url, _ = server
    from rnncourse.data import Vocab, tokenize
    from rnncourse.deploy.checkpoint import load_model

    model = load_model(checkpoints[0]).model
    words = "a the movie was good great bad awful plot acting !".split()
    texts = [" ".join(words[(i * 7 + j) % len(words)] for j in range(1 + i % 9)) for i in range(48)]
    rows_before = _metric(url, "rnncourse_batch_rows_sum") or 0
    batches_before = _metric(url, "rnncourse_batch_rows_count") or 0
    with concurrent.futures.ThreadPoolExecutor(48) as pool:
        answers = list(pool.map(lambda t: post(url, "/predict", {"text": t}).json()["positive"], texts))
    with torch.no_grad():
        expected = [torch.sigmoid(model(torch.tensor([Vocab(ITOS).encode(tokenize(t))]))).item() for t in texts]
    assert answers == pytest.approx(expected, abs=1e-5)
    rows = _metric(url, "rnncourse_batch_rows_sum") - rows_before
    batches = _metric(url, "rnncourse_batch_rows_count") - batches_before
    assert rows == 48 and batches < 48, f"{batches} forward passes for 48 concurrent requests"


def test_a_tiny_temperature_is_greedy_and_a_non_finite_one_is_refused(server):
    url, _ = server
    greedy = post(url, "/generate", {"prompt": "the ", "n": 30, "temperature": 0}).text
    tiny = post(url, "/generate", {"prompt": "the ", "n": 30, "temperature": 1e-39})
    assert tiny.status_code == 200 and tiny.text == greedy and "event: end" in tiny.text
    for literal in (b"NaN", b"Infinity", b"-Infinity"):
        response = post(url, "/generate", content=b'{"prompt": "the", "temperature": ' + literal + b"}")
        assert response.status_code == 422 and "temperature" in response.json()["error"]


def test_an_empty_prompt_is_asked_for_the_text_to_continue(server):
    url, _ = server
    error = post(url, "/generate", {"prompt": " "}).json()["error"]
    assert error == '"prompt" is empty; send the text to continue.'


def test_a_client_that_leaves_mid_body_is_one_info_line(served):
    before = served.log()
    for _ in range(20):
        with socket.create_connection(("127.0.0.1", int(served.url.rsplit(":", 1)[1]))) as s:
            s.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"te")
            time.sleep(0.05)
    time.sleep(1.0)
    new = served.log()[len(before):].splitlines()
    assert len(new) == 20 and all("INFO the client of POST /predict left after 4 bytes" in l for l in new), new
    assert httpx.get(served.url + "/health").status_code == 200


def test_streams_resumed_on_other_threads_never_record_a_graph(checkpoints):
    """A real server (in this process, on 127.0.0.1) whose model notes each forward's grad mode."""
    import threading

    import uvicorn

    from rnncourse.deploy.app import create_app
    from rnncourse.deploy.services import load_services

    services = load_services([str(checkpoints[1])])
    records = []
    services["char-lm"].model.register_forward_hook(
        lambda module, args, out: records.append(torch.is_grad_enabled() or out[0].requires_grad))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(services), host="127.0.0.1", port=port, log_config=None))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_until_up(type("Alive", (), {"poll": lambda self: None})(), f"http://127.0.0.1:{port}")
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            texts = list(pool.map(lambda i: post(f"http://127.0.0.1:{port}", "/generate",
                                                 {"prompt": "the", "n": 100, "seed": i}).text, range(8)))
    finally:
        server.should_exit = True
        thread.join(30)
    assert all(t.count("data: ") == 101 for t in texts)
    assert len(records) >= 8 * 100 and not any(records), f"{sum(records)} of {len(records)} forwards could record"


@pytest.fixture(scope="module")
def tight(checkpoints, tmp_path_factory):
    """A server with short time limits, 4 connections, no batching and a queue of one text, and a
    language model slow enough that a long stream outlives its graceful timeout."""
    torch.manual_seed(1)
    config = dict(vocab_size=len(CHARS), embed_dim=64, hidden_size=512, num_layers=2)
    slow_lm = save_model(tmp_path_factory.mktemp("slow") / "lm.pt", CharLM(**config), kind="char-lm",
                         config=config, vocab=CHARS)
    options = ["--header-timeout", "1", "--body-timeout", "1", "--max-connections", "4",
               "--max-batch", "1", "--max-queue", "1", "--graceful-timeout", "2"]
    server = ServerProcess([checkpoints[0], slow_lm], options=options, timeout_s=240)
    yield server
    server.stop()


def _raw(url, data: bytes, wait_s: float = 10.0) -> tuple[float, str]:
    """Send ``data`` and read until the server closes: (seconds, what came back)."""
    host, port = url.removeprefix("http://").split(":")
    start = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=wait_s) as s:
        if data:
            s.sendall(data)
        reply = b""
        while chunk := s.recv(4096):
            reply += chunk
    return time.monotonic() - start, reply.decode(errors="replace")


@pytest.mark.parametrize("data, message", [
    (b"", "head did not arrive within 1 s"),
    (b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Le", "head did not arrive within 1 s"),
    (b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n{\"text\": \"go", "body did not arrive within 1 s"),
])
def test_slow_clients_get_408_and_are_closed(tight, data, message):
    seconds, reply = _raw(tight.url, data)
    assert reply.startswith("HTTP/1.1 408") and message in reply and seconds < 8, (seconds, reply)


def test_connections_beyond_the_limit_get_503_at_once(tight):
    host, port = tight.url.removeprefix("http://").split(":")
    held = [socket.create_connection((host, int(port))) for _ in range(4)]
    try:
        time.sleep(0.3)
        response = httpx.get(tight.url + "/health", timeout=5)
        assert response.status_code == 503 and response.headers["retry-after"] == "1"
        assert "limit of 4 connections" in response.json()["error"]
    finally:
        for s in held:
            s.close()
    time.sleep(0.5)
    assert httpx.get(tight.url + "/health").status_code == 200


def test_a_full_queue_is_503_with_retry_after_never_a_pile_up(tight):
    def one(i):
        response = post(tight.url, "/predict", {"texts": ["a great movie !"]} if i % 2 else {"text": "bad"})
        return response.status_code, response.headers.get("retry-after"), response.text

    with concurrent.futures.ThreadPoolExecutor(3) as pool:    # 3 connections: the limit is 4
        results = list(pool.map(one, range(60)))
    assert {status for status, _, _ in results} <= {200, 503}
    busy = [r for r in results if r[0] == 503]
    assert all(retry and int(retry) >= 1 and "busy" in text for _, retry, text in busy)


def test_descriptor_limit_gives_503s_not_a_log_flood(checkpoints):
    port = free_port()
    command = (f"ulimit -n 96; exec {sys.executable} -m rnncourse serve {checkpoints[0]} --port {port} "
               "--header-timeout 3")
    process = subprocess.Popen(["bash", "-c", command], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(process, url)
        held = []
        for _ in range(150):
            try:
                held.append(socket.create_connection(("127.0.0.1", port), timeout=2))
            except OSError:
                break
        time.sleep(1.0)
        status = httpx.get(url + "/health", timeout=5).status_code      # answered, not hung
        for s in held:
            s.close()
        time.sleep(4.0)                                                  # the held ones time out
        assert status in (200, 503) and httpx.get(url + "/health", timeout=5).status_code == 200
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    assert len(err) < 20_000 and "Too many open files" not in err, err[-2000:]


def test_sigterm_ends_a_long_stream_with_an_error_event_within_the_graceful_timeout(tight):
    start = time.monotonic()
    with httpx.stream("POST", tight.url + "/generate", json={"prompt": "the", "n": 5000}, timeout=60) as response:
        chunks = response.iter_text()
        first = next(chunks)
        tight.process.send_signal(signal.SIGTERM)
        text = first + "".join(chunks)
    seconds = time.monotonic() - start
    last = [b for b in text.split("\n\n") if b][-1]
    assert last.startswith("event: error") and "shutting down" in last, last
    tight.process.wait(timeout=30)                     # a second signal would force the exit
    status, log = tight.stop()
    assert status == 0 and "server stopped" in log and "cut by the shutdown" in log and "Traceback" not in log
    assert seconds < 2 + 10, seconds


@pytest.mark.parametrize("change, message", [
    (lambda d: d["state_dict"]["fc.weight"].fill_(float("nan")), "NaN or infinite"),
    (lambda d: d.update(metadata=[1]), "metadata must be a dictionary"),
])
def test_checkpoints_that_would_fail_every_request_stop_the_server_at_start(tmp_path, checkpoints, change, message):
    document = torch.load(checkpoints[0], weights_only=True)
    change(document)
    torch.save(document, tmp_path / "bad.pt")
    process, _ = start_server(tmp_path / "bad.pt")
    out, err = process.communicate(timeout=120)
    assert process.returncode == 2 and message in err and "Traceback" not in err, err
    assert len(err.strip().splitlines()) == 1, err


def test_the_onnx_backend_serves_what_eager_serves(checkpoints, server):
    url, _ = server
    texts = ["a great movie !", "the plot was awful", "bad", "good acting"]
    eager = post(url, "/predict", {"texts": texts}).json()["predictions"]
    with ServerProcess([checkpoints[0]], options=["--backend", "onnx"], timeout_s=300) as onnx:
        health = httpx.get(onnx.url + "/health").json()["backends"]["sentiment"]
        answers = post(onnx.url, "/predict", {"texts": texts}).json()["predictions"]
    assert health["backend"] == "onnx" and health["parity_max_abs_difference"] <= 1e-4
    assert [a["positive"] for a in answers] == pytest.approx([e["positive"] for e in eager], abs=1e-4)
