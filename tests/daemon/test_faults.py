"""A corrupt model leaves the daemon up, /health saying why, generation routes answering 503."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import start_daemon


@pytest.fixture(scope="module")
def broken_daemon(tiny_model, tmp_path_factory):
    home = tmp_path_factory.mktemp("broken-home")
    data = tiny_model.gguf_path.read_bytes()
    truncated = home / "truncated.gguf"
    truncated.write_bytes(data[: len(data) // 3])
    running = start_daemon(home, "--model", str(truncated))
    yield running
    running.stop()


def test_health_reports_the_model_error_in_words(broken_daemon) -> None:
    health = httpx.get(f"{broken_daemon.url}/health").json()
    assert health["status"] == "degraded"
    assert "truncated.gguf" in health["model_error"]
    assert any(word in health["model_error"] for word in ("corrupt", "truncated"))


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (
            "/v1/chat/completions",
            {"model": "bbj-coder", "messages": [{"role": "user", "content": "x"}]},
        ),
        ("/v1/completions", {"model": "bbj-coder", "prompt": "a", "suffix": "b"}),
        ("/api/generate", {"model": "bbj-coder", "prompt": "a", "suffix": "b"}),
        ("/api/chat", {"model": "bbj-coder", "messages": [{"role": "user", "content": "x"}]}),
        ("/v1/bbj/fim", {"prefix": "a", "suffix": "b"}),
    ],
)
def test_generation_routes_answer_503_with_the_reason(broken_daemon, path: str, body: dict) -> None:
    response = httpx.post(broken_daemon.url + path, json=body, headers=broken_daemon.headers)
    assert response.status_code == 503
    assert "truncated.gguf" in response.text


def test_not_a_gguf_at_all(tmp_path) -> None:
    bogus = tmp_path / "model.gguf"
    bogus.write_bytes(b"PK\x03\x04 this is a zip file")
    running = start_daemon(tmp_path / "home", "--model", str(bogus))
    try:
        health = httpx.get(f"{running.url}/health").json()
        assert "not a GGUF" in health["model_error"]
    finally:
        running.stop()
