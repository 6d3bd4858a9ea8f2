"""Issue #17 item 8: any failure to load a model leaves the daemon up, degraded, saying why."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx

from daemon.backends.base import Backend
from tests.conftest import start_daemon
from tests.support.gguf_edit import with_string_metadata


def test_a_broken_chat_template_neither_crashes_nor_blocks_the_model(tiny_model, tmp_path) -> None:
    # The engine renders chats as ChatML itself and never compiles the GGUF's template, so a
    # template with a Jinja syntax error (which used to crash `serve`) changes nothing.
    broken = with_string_metadata(
        tiny_model.gguf_path, tmp_path / "badtpl.gguf", "tokenizer.chat_template", "{% if %}x"
    )
    running = start_daemon(tmp_path / "home", "--model", str(broken))
    try:
        health = httpx.get(f"{running.url}/health").json()
        assert health["status"] == "ok", health
        assert str(tmp_path) not in json.dumps(health)  # the file's name, not where it lives
        chat = httpx.post(
            f"{running.url}/v1/chat/completions",
            headers=running.headers,
            json={
                "model": "badtpl",
                "messages": [{"role": "user", "content": "hi"}],
                "max_tokens": 4,
            },
            timeout=60,
        )
        assert chat.status_code == 200, chat.text
        reload = httpx.post(f"{running.url}/v1/admin/reload", headers=running.headers)
        assert reload.status_code < 500, reload.text
    finally:
        running.stop()


def test_a_library_error_while_loading_becomes_the_slot_error(monkeypatch, tmp_path) -> None:
    from daemon.config import Config
    from daemon.server import loader

    class Exploding:
        async def start(self) -> None:
            raise KeyError("general.architecture")

        async def close(self) -> None:
            raise RuntimeError("close fails too")

    def build(config: Config, name: str, path: Path | None) -> Backend:
        return Exploding()  # type: ignore[return-value]

    monkeypatch.setattr(loader, "build_backend", build)
    slot = asyncio.run(loader.load_slot(Config(), "m", tmp_path / "m.gguf"))
    assert slot.backend is None
    assert slot.error is not None and "m.gguf" in slot.error and "KeyError" in slot.error
