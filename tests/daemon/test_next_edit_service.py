"""The next-edit service: minimal edits out, no-change/undo/compile-gate/supersession drops."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from daemon.backends.base import BackendInfo, SamplingParams, TextStream
from daemon.check import BuiltinChecker
from daemon.config import NextEditSettings
from daemon.services.next_edit import NextEditRequest, NextEditService
from fim.next_edit import SWEEP_QWEN, CursorOutOfRangeError, Hunk, Position, apply_edits

END = "<|endoftext|>"
PROGRAM = 'count = 1\nprint x\nprint "done"\n'
RENAME = Hunk("p.bbj", 0, ("x = 1",), ("count = 1",))


class ScriptedBackend:
    """Answers each FIM call with the next scripted text (``None``: never answers until
    cancelled); records the prompts."""

    name = "scripted"

    def __init__(self, answers: Sequence[str | None]) -> None:
        self.answers = list(answers)
        self.prompts: list[str] = []

    def fim(self, prompt: str, params: SamplingParams) -> TextStream:
        self.prompts.append(prompt)
        answer = self.answers[min(len(self.prompts), len(self.answers)) - 1]
        stream = TextStream()
        if answer is None:
            stream.add_cancel_callback(lambda: stream.finish())
            return stream
        stream.put(answer[:5])
        stream.put(answer[5:])
        stream.stats.finish_reason = "stop" if END in answer else "length"
        stream.finish()
        return stream

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def info(self) -> BackendInfo:
        return BackendInfo("scripted", "scripted", "", 4096, "qwen2.5-coder", "F16")


def window(text: str) -> str:
    """What a model writes for this updated window (the whole short program here)."""
    return SWEEP_QWEN.target(text)


def suggest(answers: Sequence[str | None], request: NextEditRequest, *, check: bool = True):
    async def go():
        service = NextEditService(ScriptedBackend(answers), NextEditSettings(), 4096)
        return await service.suggest(request, BuiltinChecker() if check else None)

    return asyncio.run(go())


def request(text: str = PROGRAM, line: int = 1, hunks=(RENAME,)) -> NextEditRequest:
    return NextEditRequest("p.bbj", text, Position(line, 0), tuple(hunks))


def test_the_updated_window_becomes_minimal_checked_edits() -> None:
    result = suggest([window('count = 1\nprint count\nprint "done"\n')], request())
    assert result.reason is None
    assert [(e.start, e.end, e.new_text) for e in result.edits] == [
        (Position(1, 6), Position(1, 7), "count")
    ]
    assert apply_edits(PROGRAM, result.edits) == 'count = 1\nprint count\nprint "done"\n'
    assert result.check is not None and result.check.passed


def test_the_prompt_carries_the_history_and_both_windows() -> None:
    backend = ScriptedBackend([window(PROGRAM)])
    service = NextEditService(backend, NextEditSettings(), 4096)
    asyncio.run(service.suggest(request()))
    prompt = backend.prompts[0]
    assert "<|file_sep|>p.bbj.diff\noriginal:\nx = 1\nupdated:\ncount = 1\n" in prompt
    assert "<|file_sep|>original/p.bbj\nx = 1\n" in prompt
    assert prompt.endswith("<|file_sep|>updated/p.bbj\n")


def test_an_unchanged_window_is_no_suggestion() -> None:
    result = suggest([window(PROGRAM)], request())
    assert result.edits == [] and result.reason == "no_change"


def test_a_suggestion_that_undoes_the_last_edit_is_dropped() -> None:
    result = suggest([window('x = 1\nprint x\nprint "done"\n')], request())
    assert result.edits == [] and result.reason == "undo"


def test_a_suggestion_that_adds_compile_errors_is_dropped() -> None:
    result = suggest([window('count = 1\nprint "x\nprint "done"\n')], request())
    assert result.edits == [] and result.reason == "check_failed"
    assert result.check is not None and not result.check.passed and result.check.new_errors


def test_errors_the_file_already_had_do_not_count() -> None:
    broken = "count = 1\nprint x\nfor i = 1 to 3\n"  # mid-edit: no NEXT yet
    answer = window("count = 1\nprint count\nfor i = 1 to 3\n")
    result = suggest([answer], request(broken))
    assert result.reason is None and len(result.edits) == 1


def test_the_gate_is_off_without_a_checker() -> None:
    result = suggest([window('count = 1\nprint "x\nprint "done"\n')], request(), check=False)
    assert result.reason is None and result.check is None


def test_a_window_not_finished_is_no_suggestion() -> None:
    result = suggest(["count = 1\nprint co"], request())
    assert result.edits == [] and result.reason == "incomplete"


def test_a_newer_request_supersedes_the_running_one() -> None:
    async def go():
        backend = ScriptedBackend([None, window('count = 1\nprint count\nprint "done"\n')])
        service = NextEditService(backend, NextEditSettings(), 4096)
        first = asyncio.ensure_future(service.suggest(request()))
        while not backend.prompts:
            await asyncio.sleep(0.001)
        second = await service.suggest(request())
        return await first, second

    first, second = asyncio.run(go())
    assert first.superseded and first.reason == "superseded" and first.edits == []
    assert not second.superseded and len(second.edits) == 1


def test_a_cursor_off_the_document_is_refused() -> None:
    with pytest.raises(CursorOutOfRangeError, match="4 lines"):
        suggest([window(PROGRAM)], request(line=9))


class StallingBackend(ScriptedBackend):
    """Writes the start of a window, then nothing until cancelled (a model that is slow)."""

    def fim(self, prompt: str, params: SamplingParams) -> TextStream:
        self.prompts.append(prompt)
        stream = TextStream()
        stream.add_cancel_callback(lambda: stream.finish())
        stream.put("count = 1\n")
        return stream


class UpstreamBackend(ScriptedBackend):
    remote_prompt = True  # evaluates prompts out of our reach, like a team server


def test_the_time_budget_gives_up_on_a_slow_model() -> None:
    async def go():
        settings = NextEditSettings(time_budget_ms=50)
        service = NextEditService(StallingBackend([]), settings, 4096)
        return await service.suggest(request())

    result = asyncio.run(go())
    assert result.reason == "incomplete" and result.stats.finish_reason == "time"


def test_an_upstream_that_never_answers_is_given_up_at_the_budget() -> None:
    async def go():
        settings = NextEditSettings(time_budget_ms=50)
        service = NextEditService(UpstreamBackend([None]), settings, 4096)
        return await asyncio.wait_for(service.suggest(request()), 30)

    result = asyncio.run(go())
    assert result.reason == "incomplete" and result.stats.finish_reason == "time"


def test_next_edit_settings_that_cannot_work_are_refused_by_name() -> None:
    from daemon.config import Config, validate
    from daemon.errors import ConfigError

    with pytest.raises(ConfigError, match=r"next_edit\.prompt_lookup_tokens must be 0 to 64"):
        validate(Config(next_edit=NextEditSettings(prompt_lookup_tokens=100)))
    with pytest.raises(ConfigError, match=r"next_edit\.lines_above"):
        validate(Config(next_edit=NextEditSettings(lines_above=-1)))
    validate(Config())
