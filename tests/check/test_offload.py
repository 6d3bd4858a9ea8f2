"""Checks never run on the event loop: worker threads, and a worker process for large programs."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

import pytest

from daemon.check import BuiltinChecker, CheckResult, CompletionGate, GateVerdict, _offload
from daemon.check._offload import LARGE_PROGRAM_CHARS
from daemon.config import CheckSettings
from daemon.services.chat import ChatService
from tests.check.helpers import corpus_files


@dataclass(frozen=True)
class RecordingChecker(BuiltinChecker):
    """The built-in checker, noting the thread each synchronous check ran in."""

    threads: list[int] = field(default_factory=list, compare=False)

    def check_text(self, code: str) -> CheckResult:
        self.threads.append(threading.get_ident())
        return super().check_text(code)

    def judge_unit(self, prefix: str, completion: str, suffix: str) -> GateVerdict | None:
        self.threads.append(threading.get_ident())
        return super().judge_unit(prefix, completion, suffix)


def large_program() -> str:
    unit = "\n".join(p.read_text(encoding="utf-8") for p in corpus_files()) + "\n"
    return unit * (LARGE_PROGRAM_CHARS // len(unit) + 1) + "wend\n"


def test_a_check_runs_in_a_worker_thread() -> None:
    checker = RecordingChecker()

    async def check() -> int:
        await checker.check("x = 1\n")
        return threading.get_ident()

    loop_thread = asyncio.run(check())
    assert checker.threads and loop_thread not in checker.threads


def test_the_gate_judges_in_a_worker_thread() -> None:
    checker = RecordingChecker()
    code = "class public A\n  method public void a()\n    x = 1\n  methodend\nclassend\n"
    cut = code.index("x = 1\n")

    async def judge() -> tuple[GateVerdict, int]:
        verdict = await CompletionGate(checker).judge(code[:cut], "y = 2\n    ", code[cut:])
        return verdict, threading.get_ident()

    verdict, loop_thread = asyncio.run(judge())
    assert verdict.passed and verdict.scope == "unit"
    assert checker.threads and loop_thread not in checker.threads


def test_the_chat_verifies_in_a_worker_thread() -> None:
    checker = RecordingChecker()
    chat = ChatService(None, checker, CheckSettings())  # type: ignore[arg-type]

    async def verify() -> int:
        verdict = await chat.verify("Here:\n```bbj\nx = 1 +\n```\n")
        assert not verdict.ok
        assert verdict.problems == ("line 1, col 8: expected an expression after `+`",)
        return threading.get_ident()

    loop_thread = asyncio.run(verify())
    assert checker.threads and loop_thread not in checker.threads


def test_a_large_program_is_checked_in_the_worker_process() -> None:
    checker = RecordingChecker()
    code = large_program()
    result = asyncio.run(checker.check(code))
    assert checker.threads == []  # this process did not parse it
    assert _offload.POOL._executor is not None
    expected = BuiltinChecker().check_text(code)
    assert result.diagnostics == expected.diagnostics
    assert [d.message for d in result.diagnostics] == ["`wend` without `while`"]


def test_a_failed_worker_process_falls_back_to_a_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(function: object, argument: str) -> CheckResult:
        raise BrokenProcessPool("the worker died")

    monkeypatch.setattr(_offload.POOL, "run", broken)
    checker = RecordingChecker()
    result = asyncio.run(checker.check(large_program()))
    assert len(checker.threads) == 1
    assert [d.message for d in result.diagnostics] == ["`wend` without `while`"]
