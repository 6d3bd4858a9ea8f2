"""backend.kind = auto: which backend serves, why the others do not, and runtime fallback."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.backends.standins import FakeOllama
from tests.conftest import free_port, start_daemon

DONE = [
    {"response": "1", "done": False},
    {"response": "", "done": True, "done_reason": "stop", "eval_count": 1},
]


@pytest.fixture
def no_llama_cpp(tmp_path: Path) -> str:
    """A PYTHONPATH entry whose ``llama_cpp`` fails to import, as on a machine without it."""
    package = tmp_path / "no-llama" / "llama_cpp"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("raise ImportError('simulated: no llama_cpp here')\n")
    return str(package.parent)


def _truncated(tiny_model, directory: Path) -> Path:
    data = tiny_model.gguf_path.read_bytes()
    path = directory / "truncated.gguf"
    path.write_bytes(data[: len(data) // 3])
    return path


def _health(running) -> dict:
    return httpx.get(f"{running.url}/health").json()


def _attempts(health: dict) -> dict[str, dict]:
    return {a["backend"]: a for a in health["backend"]["attempts"]}


def _fim(running) -> httpx.Response:
    return httpx.post(
        f"{running.url}/v1/bbj/fim",
        headers=running.headers,
        timeout=60,
        json={"prefix": "x = ", "suffix": "\n", "max_tokens": 4},
    )


def test_missing_llama_cpp_falls_back_to_ollama(
    tiny_model, tmp_path, fake_ollama: FakeOllama, no_llama_cpp: str
) -> None:
    fake_ollama.script = DONE
    fake_ollama.add_model("bbj-coder-tiny.f16")
    running = start_daemon(
        tmp_path / "home",
        "--model",
        str(tiny_model.gguf_path),
        PYTHONPATH=no_llama_cpp,
        BBJ_CODER_BACKEND_OLLAMA_URL=fake_ollama.url,
    )
    try:
        health = _health(running)
        assert health["backend"]["name"] == "ollama"
        attempts = _attempts(health)
        assert "llama-cpp-python is not installed" in attempts["llama"]["reason"]
        assert health["backend"]["reason"].startswith("ollama serves because llama cannot")
        assert attempts["ollama"]["ok"] is True
        assert _fim(running).status_code == 200
    finally:
        running.stop()


def test_corrupt_model_falls_back_to_ollama(tiny_model, tmp_path, fake_ollama: FakeOllama) -> None:
    fake_ollama.script = DONE
    fake_ollama.add_model("truncated")
    running = start_daemon(
        tmp_path / "home",
        "--model",
        str(_truncated(tiny_model, tmp_path)),
        BBJ_CODER_BACKEND_OLLAMA_URL=fake_ollama.url,
        BBJ_CODER_BACKEND_OLLAMA_PUSH="false",
    )
    try:
        health = _health(running)
        assert health["backend"]["name"] == "ollama"
        assert "truncated.gguf" in _attempts(health)["llama"]["reason"]
    finally:
        running.stop()


def test_ollama_down_uses_the_team_server(tiny_model, tmp_path, daemon, no_llama_cpp) -> None:
    key_file = tmp_path / "key"
    key_file.write_text(daemon.token)
    running = start_daemon(
        tmp_path / "home",
        "--model",
        str(tiny_model.gguf_path),
        PYTHONPATH=no_llama_cpp,
        BBJ_CODER_BACKEND_OLLAMA_URL=f"http://127.0.0.1:{free_port()}",
        BBJ_CODER_BACKEND_UPSTREAM_URL=f"{daemon.url}/v1",
        BBJ_CODER_BACKEND_UPSTREAM_API_KEY_FILE=str(key_file),
    )
    try:
        health = _health(running)
        assert health["backend"]["name"] == "openai"
        attempts = _attempts(health)
        assert "not reachable" in attempts["ollama"]["reason"]
        assert _fim(running).status_code == 200
    finally:
        running.stop()


def test_all_down_is_a_503_with_every_reason(tiny_model, tmp_path) -> None:
    running = start_daemon(
        tmp_path / "home",
        "--model",
        str(_truncated(tiny_model, tmp_path)),
        BBJ_CODER_BACKEND_OLLAMA_URL=f"http://127.0.0.1:{free_port()}",
        BBJ_CODER_BACKEND_UPSTREAM_URL=f"http://127.0.0.1:{free_port()}/v1",
    )
    try:
        health = _health(running)
        assert health["status"] == "degraded"
        response = _fim(running)
        assert response.status_code == 503
        message = response.json()["error"]["message"]
        for backend in ("llama:", "ollama:", "openai:"):
            assert backend in message, message
        assert "truncated.gguf" in message
    finally:
        running.stop()


def test_a_backend_failing_at_run_time_hands_over_to_the_next(
    tiny_model, tmp_path, daemon, fake_ollama: FakeOllama, no_llama_cpp: str
) -> None:
    fake_ollama.add_model("bbj-coder-tiny.f16")
    key_file = tmp_path / "key"
    key_file.write_text(daemon.token)
    running = start_daemon(
        tmp_path / "home",
        "--model",
        str(tiny_model.gguf_path),
        PYTHONPATH=no_llama_cpp,
        BBJ_CODER_BACKEND_OLLAMA_URL=fake_ollama.url,
        BBJ_CODER_BACKEND_UPSTREAM_URL=f"{daemon.url}/v1",
        BBJ_CODER_BACKEND_UPSTREAM_API_KEY_FILE=str(key_file),
    )
    try:
        assert _health(running)["backend"]["name"] == "ollama"
        fake_ollama.script = [{"error": "model runner crashed"}]
        assert _fim(running).status_code == 200  # served by the team server instead
        health = _health(running)
        assert health["backend"]["name"] == "openai"
        assert "model runner crashed" in _attempts(health)["ollama"]["reason"]
        assert "backend switch: ollama → openai" in running.log()
    finally:
        running.stop()
