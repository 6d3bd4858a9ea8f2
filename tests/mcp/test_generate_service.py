"""The checked-generation loop behind MCP and ``/v1/bbj/generate``: its blocking prompt work
runs off the event loop, it carries chat's workspace note and reports token counts."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

import pytest

from daemon.backends.base import ChatMessage, GenerationStats, SamplingParams, TextStream
from daemon.check import BuiltinChecker
from daemon.config import CheckSettings
from daemon.services import generate as generate_module
from daemon.services.chat import ChatService
from daemon.services.generate import GenerateRequest, GenerateService
from tests.mcp.standins import GOOD, ScriptedBackend


class CountingBackend(ScriptedBackend):
    def chat(self, messages: Sequence[ChatMessage], params: SamplingParams) -> TextStream:
        stream = super().chat(messages, params)
        stream.stats.prompt_tokens, stream.stats.completion_tokens = 30, 12
        return stream

    def count_tokens(self, text: str) -> int:
        return len(text.split())


def test_generation_gets_the_workspace_note_off_the_loop_and_reports_tokens(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    threads: list[str] = []
    real_detect = generate_module.detect_generation

    def detect(text: str):  # type: ignore[no-untyped-def]
        threads.append(threading.current_thread().name)
        return real_detect(text)

    monkeypatch.setattr(generate_module, "detect_generation", detect)
    backend = CountingBackend([GOOD])
    checker = BuiltinChecker()
    chat = ChatService(backend, checker, CheckSettings())  # type: ignore[arg-type]

    def note(text: str, count_tokens: object) -> str:
        threads.append(threading.current_thread().name)
        return "class public Counter: method public void count()" if "Counter" in text else ""

    chat.workspace_note = note
    seen: list[GenerationStats] = []
    service = GenerateService(
        backend,  # type: ignore[arg-type]
        checker,
        CheckSettings(),
        SamplingParams(max_tokens=64),
        chat=chat,
        on_stats=seen.append,
    )
    main = threading.current_thread().name
    result = asyncio.run(service.run(GenerateRequest("Use Counter to count to three")))
    assert result.passed
    system = backend.calls[0][0]
    assert system.role == "system" and "method public void count()" in system.content
    assert len(threads) == 2 and main not in threads
    assert [(s.prompt_tokens, s.completion_tokens) for s in seen] == [(30, 12)]
