"""The chat generate→check→fix loop and FIM compile gating, with a scripted generation source.

The tiny test model writes random text, so these tests script what the "model" answers (a
failing answer, then a passing one …) and run the real built-in checker on it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace

from daemon.backends.base import BackendInfo, ChatMessage, SamplingParams, TextStream
from daemon.check import BbjcplChecker, BuiltinChecker
from daemon.config import CheckSettings, FimSettings
from daemon.services.chat import ChatService, with_generation_note
from daemon.services.fim import CompileGate, FimRequest, FimService
from fim import QWEN25_CODER

BROKEN = 'Here you go:\n```bbj\nfor i = 1 to 3\n  print "x\n```\n'
FIXED = "Fixed:\n```bbj\nfor i = 1 to 3\n  print i\nnext i\n```\n"


class ScriptedBackend:
    """Answers each chat/fim call with the next scripted text; records what it was asked."""

    name = "scripted"

    def __init__(self, answers: Sequence[str]) -> None:
        self.answers = list(answers)
        self.calls: list[object] = []

    def _stream(self, request: object) -> TextStream:
        self.calls.append(request)
        stream = TextStream()
        answer = self.answers[min(len(self.calls), len(self.answers)) - 1]
        half = len(answer) // 2
        stream.put(answer[:half])  # two chunks: the consumer must join them
        stream.put(answer[half:])
        stream.stats.completion_tokens = len(answer.split())
        stream.finish()
        return stream

    def chat(self, messages: Sequence[ChatMessage], params: SamplingParams) -> TextStream:
        return self._stream(list(messages))

    def fim(self, prompt: str, params: SamplingParams) -> TextStream:
        return self._stream(prompt)

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def in_flight(self) -> dict[str, int]:
        return {}

    def info(self) -> BackendInfo:
        return BackendInfo("scripted", "scripted", "", 4096, "qwen2.5-coder", "F16")

    async def start(self) -> None: ...

    async def close(self) -> None: ...


def run_chat(backend: ScriptedBackend, settings: CheckSettings, prompt: str = "loop") -> str:
    async def go() -> str:
        service = ChatService(backend, BuiltinChecker(), settings)
        run = await service.start([ChatMessage("user", prompt)], SamplingParams(max_tokens=64))
        return "".join([chunk async for chunk in run])

    return asyncio.run(go())


def test_failing_then_passing_answer_is_fixed_and_says_so() -> None:
    backend = ScriptedBackend([BROKEN, FIXED])
    text = run_chat(backend, CheckSettings(chat="fix", max_fix_attempts=2))
    assert len(backend.calls) == 2
    assert BROKEN.strip() in text and FIXED.strip() in text
    assert text.rstrip().endswith("_bbj-coder: the code above passed the built-in BBj check._")
    fix_prompt = backend.calls[1][-1]
    assert fix_prompt.role == "user" and "line 2" in fix_prompt.content


def test_the_loop_stops_after_max_attempts_and_the_verdict_is_truthful() -> None:
    backend = ScriptedBackend([BROKEN])
    text = run_chat(backend, CheckSettings(chat="fix", max_fix_attempts=2))
    assert len(backend.calls) == 3
    last_line = text.rstrip().splitlines()[-1]
    assert "still fails the built-in BBj check after 2 fix attempts" in last_line
    assert "line 2" in last_line


def test_annotate_only_adds_the_verdict() -> None:
    backend = ScriptedBackend([BROKEN])
    text = run_chat(backend, CheckSettings(chat="annotate"))
    assert len(backend.calls) == 1
    assert "still fails the built-in BBj check:" in text.splitlines()[-1]


def test_off_and_answers_without_code_get_no_verdict() -> None:
    assert "bbj-coder:" not in run_chat(ScriptedBackend([BROKEN]), CheckSettings(chat="off"))
    assert "bbj-coder:" not in run_chat(ScriptedBackend(["Just prose."]), CheckSettings())


def test_unlabelled_fence_that_looks_like_bbj_is_checked() -> None:
    answer = "```\nfor i = 1 to 3\n  print i\n```\n"
    text = run_chat(ScriptedBackend([answer]), CheckSettings(chat="annotate"))
    assert "still fails" in text.splitlines()[-1]
    python = "```\nimport os\ndef f():\n    return 1\n```\n"
    assert "bbj-coder:" not in run_chat(ScriptedBackend([python]), CheckSettings())


def test_unusable_bbjcpl_is_reported_not_passed(tmp_path) -> None:
    async def go() -> str:
        checker = BbjcplChecker(tmp_path / "missing-bbjcpl")
        service = ChatService(ScriptedBackend([FIXED]), checker, CheckSettings(chat="annotate"))
        run = await service.start([ChatMessage("user", "x")], SamplingParams(max_tokens=8))
        return "".join([c async for c in run])

    assert "could not be checked" in asyncio.run(go()).splitlines()[-1]


def test_system_prompt_carries_the_detected_generation() -> None:
    messages = with_generation_note([ChatMessage("user", "0010 PRINT @(0,0),'CS'\n0020 END")])
    assert messages[0].role == "system"
    assert "character" in messages[0].content.lower()
    own = with_generation_note([ChatMessage("system", "Be brief."), ChatMessage("user", "hi")])
    assert own[0].content == "Be brief."


def fim_complete(backend: ScriptedBackend, prefix: str, suffix: str, candidates: int = 2):
    async def go():
        service = FimService(backend, QWEN25_CODER, replace(FimSettings(), cache_size=0), 4096)
        gate = CompileGate(BuiltinChecker(), candidates)
        return await service.complete(FimRequest(prefix=prefix, suffix=suffix), gate)

    return asyncio.run(go())


def test_fim_completion_that_adds_errors_is_replaced_by_the_next_candidate() -> None:
    backend = ScriptedBackend(['"unterminated', "i"])
    result = fim_complete(backend, "for i = 1 to 3\n  print ", "\nnext i\n")
    assert len(backend.calls) == 2
    assert result.text == "i"
    assert result.check is not None and result.check.passed and result.check.attempts == 2


def test_fim_completion_is_dropped_when_no_candidate_passes() -> None:
    backend = ScriptedBackend(['"unterminated'])
    result = fim_complete(backend, "for i = 1 to 3\n  print ", "\nnext i\n", candidates=3)
    assert len(backend.calls) == 3
    assert result.text == ""
    assert result.check is not None and not result.check.passed


def test_fim_baseline_errors_do_not_count_against_the_completion() -> None:
    # The file is mid-edit: the FOR has no NEXT yet. A harmless completion still passes.
    backend = ScriptedBackend(["i"])
    result = fim_complete(backend, "for i = 1 to 3\n  print ", "\n")
    assert result.text == "i" and result.check.passed


def test_the_baseline_is_checked_once_per_request_however_many_candidates() -> None:
    class CountingChecker:
        """A whole-program checker (as bbjcpl is): the gate checks both programs."""

        name = "counting"

        def __init__(self) -> None:
            self.seen: list[str] = []

        async def check(self, code: str, filename: str | None = None):
            self.seen.append(code)
            return await BuiltinChecker().check(code, filename)

    async def go() -> tuple[list[str], int]:
        checker = CountingChecker()
        backend = ScriptedBackend(['"bad', '"worse', "i"])
        service = FimService(backend, QWEN25_CODER, replace(FimSettings(), cache_size=0), 4096)
        prefix, suffix = "for i = 1 to 3\n  print ", "\nnext i\n"
        await service.complete(FimRequest(prefix=prefix, suffix=suffix), CompileGate(checker, 3))
        return checker.seen, len(backend.calls)

    seen, generations = asyncio.run(go())
    assert generations == 3
    baseline = "for i = 1 to 3\n  print \nnext i\n"
    assert seen.count(baseline) == 1 and len(seen) == 4
