"""Replay the exact requests Continue.dev sends and check the wire framing byte by byte."""

from __future__ import annotations

import json

PREFIX = (
    "// Path: util.bbj\n// rem helper\n// x = 1\n"
    "class public Order\n  method public void total()\n    "
)
SUFFIX = "\n  methodend\nclassend\n"


def test_ollama_show_then_generate_default_streams_ndjson(daemon) -> None:
    with daemon.client() as http:
        show = http.post("/api/show", json={"name": "bbj-coder"})
        assert show.status_code == 200
        shown = show.json()
        assert "{{ .Suffix }}" in shown["template"]
        assert any(line.split()[0] == "num_ctx" for line in shown["parameters"].splitlines())
        body = {
            "model": "bbj-coder",
            "prompt": PREFIX,
            "suffix": SUFFIX,
            "options": {"temperature": 0.01, "num_predict": 24, "stop": ["\n\n"], "num_ctx": 8192},
            "keep_alive": 1800,
        }
        response = http.post("/api/generate", json=body)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert lines, "no NDJSON lines"
    assert all(not line["done"] for line in lines[:-1])
    final = lines[-1]
    assert final["done"] is True
    assert final["done_reason"] in ("stop", "length")
    for key in ("total_duration", "prompt_eval_count", "eval_count", "eval_duration"):
        assert isinstance(final[key], int)


def test_ollama_keep_alive_as_duration_string(daemon) -> None:
    with daemon.client() as http:
        response = http.post(
            "/api/generate",
            json={
                "model": "bbj-coder",
                "prompt": "a",
                "suffix": "b",
                "keep_alive": "30m",
                "stream": False,
                "options": {"num_predict": 4},
            },
        )
        bad = http.post(
            "/api/generate",
            json={"model": "bbj-coder", "prompt": "a", "keep_alive": "soon", "stream": False},
        )
    assert response.status_code == 200 and response.json()["done"] is True
    assert bad.status_code == 400 and "keep_alive" in bad.json()["error"]


def test_openai_templated_fim_streams_sse_with_done(daemon) -> None:
    body = {
        "model": "Qwen2.5-Coder-1.5B",
        "max_tokens": 24,
        "temperature": 0.01,
        "stop": [
            "<|endoftext|>",
            "<|fim_prefix|>",
            "<|fim_middle|>",
            "<|fim_suffix|>",
            "<|fim_pad|>",
            "<|repo_name|>",
            "<|file_sep|>",
            "<|im_start|>",
            "<|im_end|>",
            "\n\n",
            "\r\n\r\n",
            "/src/",
            "#- coding: utf-8",
            "```",
        ],
        "prompt": f"<|fim_prefix|>{PREFIX}<|fim_suffix|>{SUFFIX}<|fim_middle|>",
        "stream": True,
    }
    with daemon.client() as http:
        # Continue sends the model name from its config; the generic alias must be accepted.
        body["model"] = "bbj-coder"
        response = http.post("/v1/completions", json=body)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = response.text.split("\n\n")
    assert events[-1] == ""
    events = events[:-1]
    assert all(e.startswith("data: ") for e in events), "every event is a data line, no comments"
    assert events[-1] == "data: [DONE]"
    payloads = [json.loads(e.removeprefix("data: ")) for e in events[:-1]]
    assert all(p["object"] == "text_completion" for p in payloads)
    assert payloads[-1]["choices"][0]["finish_reason"] in ("stop", "length")
    text = "".join(p["choices"][0]["text"] for p in payloads)
    assert "<|" not in text


def test_api_chat_every_line_carries_message(daemon) -> None:
    body = {
        "model": "bbj-coder",
        "messages": [{"role": "user", "content": "hello"}],
        "options": {"num_predict": 6},
        "keep_alive": 1800,
    }
    with daemon.client() as http:
        response = http.post("/api/chat", json=body)
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert lines[-1]["done"] is True
    assert all("message" in line for line in lines)
    assert all(line["message"]["role"] == "assistant" for line in lines)


def test_tags_head_and_version_and_root(daemon) -> None:
    with daemon.client() as http:
        assert http.head("/api/tags").status_code == 200
        assert http.get("/api/version").json()["version"]
        assert http.get("/api/ps").status_code == 200
    root = __import__("httpx").get(daemon.url + "/")
    assert root.text == "bbj-coder is running"
