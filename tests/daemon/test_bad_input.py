"""Bad input gets a 4xx with a sentence that says what was wrong, in the caller's dialect."""

from __future__ import annotations

import pytest

CHAT = "/v1/chat/completions"


def _openai_error(response) -> str:
    assert 400 <= response.status_code < 500, response.text
    error = response.json()["error"]
    assert error["type"] and error["code"]
    return error["message"]


def test_invalid_json(daemon) -> None:
    with daemon.client() as http:
        response = http.post(
            CHAT,
            content=b'{"model": "bbj-coder", "messages": [',
            headers={"content-type": "application/json"},
        )
    assert "not valid JSON" in _openai_error(response)


def test_invalid_utf8(daemon) -> None:
    with daemon.client() as http:
        response = http.post(CHAT, content=b'{"model": "\xff\xfe"}')
    assert "UTF-8" in _openai_error(response)


def test_empty_body(daemon) -> None:
    with daemon.client() as http:
        response = http.post(CHAT, content=b"")
    assert "empty" in _openai_error(response)


def test_body_that_is_not_an_object(daemon) -> None:
    with daemon.client() as http:
        response = http.post(CHAT, json=[1, 2])
    assert "JSON object" in _openai_error(response)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"model": "bbj-coder", "messages": []}, "messages"),
        ({"model": "bbj-coder", "messages": "hi"}, "messages"),
        ({"model": "bbj-coder", "messages": [{"role": "wizard", "content": "x"}]}, "role"),
        (
            {
                "model": "bbj-coder",
                "messages": [{"role": "user", "content": "x"}],
                "max_tokens": -5,
            },
            "max_tokens",
        ),
        (
            {
                "model": "bbj-coder",
                "messages": [{"role": "user", "content": "x"}],
                "max_tokens": 10**12,
            },
            "max_tokens",
        ),
        (
            {
                "model": "bbj-coder",
                "messages": [{"role": "user", "content": "x"}],
                "temperature": "hot",
            },
            "temperature",
        ),
        ({"messages": [{"role": "user", "content": "x"}]}, "model"),
    ],
)
def test_wrong_types_name_the_field(daemon, body: dict, field: str) -> None:
    with daemon.client() as http:
        response = http.post(CHAT, json=body)
    assert field in _openai_error(response)


def test_chat_prompt_longer_than_context_is_400(daemon) -> None:
    huge = "print x\n" * 20_000
    with daemon.client() as http:
        response = http.post(
            CHAT, json={"model": "bbj-coder", "messages": [{"role": "user", "content": huge}]}
        )
    message = _openai_error(response)
    assert response.status_code == 400
    assert "context window" in message


def test_fim_prompt_longer_than_context_is_truncated_not_refused(daemon) -> None:
    prefix = "".join(f"x{i} = {i}\n" for i in range(20_000))
    with daemon.client() as http:
        response = http.post(
            "/v1/bbj/fim", json={"prefix": prefix, "suffix": "end\n" * 5000, "max_tokens": 8}
        )
    assert response.status_code == 200
    body = response.json()
    assert body["prompt_truncated"] is True
    assert body["timings"]["prompt_tokens"] <= 8192


def test_ollama_errors_are_plain_strings(daemon) -> None:
    with daemon.client() as http:
        response = http.post("/api/generate", json={"model": "bbj-coder", "prompt": 5})
    assert response.status_code == 400
    assert "prompt" in response.json()["error"]


def test_unknown_route_and_method(daemon) -> None:
    with daemon.client() as http:
        assert http.get("/v1/nothing").status_code == 404
        response = http.get(CHAT)
    assert response.status_code == 405
    assert "not allowed" in response.json()["error"]["message"]


def test_daemon_survives_all_of_the_above(daemon) -> None:
    with daemon.client() as http:
        assert http.get("/health").json()["status"] == "ok"
