"""Generation never outlives its reader: disconnects and superseded FIM requests stop it.

The tiny random model stops on its own unpredictably, so these tests ban its stop tokens (and,
for FIM, newlines) with OpenAI's ``logit_bias`` and first prove that, undisturbed, the request
really generates ``LONG`` tokens.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time

import httpx
import pytest
from tokenizers import Tokenizer

from fim import QWEN25_CODER

LONG = 3000


@pytest.fixture(scope="module")
def endless(tiny_model) -> dict[str, float]:
    """logit_bias that bans every special token and every token containing a newline."""
    tokenizer = Tokenizer.from_file(str(tiny_model.tokenizer_path))
    vocab = tokenizer.get_vocab(with_added_tokens=True)
    banned = [i for text, i in vocab.items() if text.startswith("<|") or "Ċ" in text or "č" in text]
    return {str(i): -100.0 for i in banned}


def _tokens_generated(http: httpx.Client) -> int:
    text = http.get("/metrics").text
    return int(re.search(r"^bbj_coder_backend_tokens_total (\d+)$", text, re.M).group(1))


def _plain(endless: dict[str, float], stream: bool) -> dict:
    return {
        "model": "bbj-coder",
        "prompt": "rem a long program\n",
        "max_tokens": LONG,
        "temperature": 0,
        "stream": stream,
        "logit_bias": endless,
    }


def test_precondition_the_request_runs_long(daemon, endless) -> None:
    with daemon.client() as http:
        full = http.post("/v1/completions", json=_plain(endless, False)).json()
    assert full["usage"]["completion_tokens"] == LONG


def test_disconnect_mid_stream_stops_generation(daemon, endless) -> None:
    with daemon.client() as http:
        before = _tokens_generated(http)
        with http.stream("POST", "/v1/completions", json=_plain(endless, True)) as response:
            first = next(response.iter_lines())
            assert first.startswith("data: ")
        # Served on the same lane, so it can only start once the abandoned stream stopped.
        nxt = http.post("/v1/bbj/fim", json={"prefix": "x = ", "suffix": "\n", "max_tokens": 4})
        assert nxt.status_code == 200
        spent = _tokens_generated(http) - before - nxt.json()["timings"]["completion_tokens"]
    assert spent < LONG // 3, f"the abandoned stream generated {spent} tokens"


def _wait_for_metric(http: httpx.Client, pattern: str) -> None:
    for _ in range(400):
        if re.search(pattern, http.get("/metrics").text, re.M):
            return
        time.sleep(0.025)
    raise AssertionError(f"/metrics never showed {pattern}")


def test_non_streaming_disconnect_stops_generation(daemon, endless) -> None:
    with daemon.client() as http:
        before = _tokens_generated(http)
        body = json.dumps(_plain(endless, False)).encode()
        host, port = daemon.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port))) as raw:
            raw.sendall(
                b"POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + f"Authorization: Bearer {daemon.token}\r\n".encode()
                + b"Content-Type: application/json\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            # Hang up only once the generation is really running.
            _wait_for_metric(http, r'^bbj_coder_generations_running\{lane="fim"\} 1$')
        nxt = http.post("/v1/bbj/fim", json={"prefix": "y = ", "suffix": "\n", "max_tokens": 4})
        spent = _tokens_generated(http) - before - nxt.json()["timings"]["completion_tokens"]
    assert spent < LONG // 3, f"the abandoned request generated {spent} tokens"


def _fim_body(endless: dict[str, float], prefix: str, max_tokens: int) -> dict:
    return {
        "model": "bbj-coder",
        "prompt": QWEN25_CODER.render(prefix, ""),
        "temperature": 0,
        "max_tokens": max_tokens,
        "logit_bias": endless,
    }


def test_newer_fim_request_from_the_same_client_supersedes_the_older(daemon, endless) -> None:
    headers = {**daemon.headers, "X-BBJ-Client": "editor-1"}
    with daemon.client() as http:
        alone = http.post("/v1/completions", json=_fim_body(endless, "rem a\n", LONG))
    assert alone.json()["usage"]["completion_tokens"] == LONG  # precondition

    results: dict[str, httpx.Response] = {}

    def first() -> None:
        results["first"] = httpx.post(
            f"{daemon.url}/v1/completions",
            headers=headers,
            timeout=60,
            json=_fim_body(endless, "rem b\n", LONG),
        )

    thread = threading.Thread(target=first)
    thread.start()
    with daemon.client() as http:
        _wait_for_metric(http, r"^bbj_coder_fim_in_flight 1$")
        assert thread.is_alive(), "the first request ended before the second was sent"
        second = http.post(
            "/v1/completions", headers=headers, json=_fim_body(endless, "rem bc\n", 4)
        )
    thread.join(timeout=60)
    older = results["first"]
    assert older.headers["x-bbj-finish"] == "superseded"
    assert older.json()["choices"][0]["text"] == ""
    assert older.json()["usage"]["completion_tokens"] < LONG // 3
    assert second.headers["x-bbj-finish"] != "superseded"


def test_fim_is_not_stuck_behind_a_long_chat_answer(daemon, endless) -> None:
    chat = {
        "model": "bbj-coder",
        "messages": [{"role": "user", "content": "write a lot"}],
        "max_tokens": LONG,
        "temperature": 0,
        "stream": True,
        "logit_bias": endless,
    }
    with daemon.client() as http, http.stream("POST", "/v1/chat/completions", json=chat) as stream:
        lines = stream.iter_lines()
        next(lines)
        _wait_for_metric(http, r'^bbj_coder_generations_running\{lane="chat"\} 1$')
        fim = http.post("/v1/bbj/fim", json={"prefix": "z = ", "suffix": "\n", "max_tokens": 4})
        assert fim.status_code == 200
        metrics = http.get("/metrics").text
        rest = [line for line in lines if line.startswith("data: {")]
    # The chat answer was still being generated when the completion came back.
    assert re.search(r'^bbj_coder_generations_running\{lane="chat"\} 1$', metrics, re.M), metrics
    assert len(rest) > LONG // 2
