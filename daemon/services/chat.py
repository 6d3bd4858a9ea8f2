"""Chat with the compiler in the loop: generate → check → fix, then an honest verdict line.

The first answer streams live. If its BBj code fails the check and ``check.chat = "fix"``, the
compiler's lines go back to the model and the corrected answer streams after a short note, up
to ``check.max_fix_attempts`` times. Every answer with code ends with one line saying whether
that code passed, and which checker said so.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass

from daemon.backends.base import Backend, ChatMessage, GenerationStats, SamplingParams, TextStream
from daemon.backends.chatml import DEFAULT_SYSTEM_PROMPT
from daemon.backends.stops import apply_stops
from daemon.check import Checker, CheckResult
from daemon.config import CheckSettings
from daemon.errors import PromptTooLongError
from daemon.services.codeblocks import extract_bbj_blocks
from fim import describe_generation, detect_generation

MAX_REPORTED_DIAGNOSTICS = 3


@dataclass(frozen=True)
class Verdict:
    has_code: bool
    ok: bool
    checker: str
    problems: tuple[str, ...] = ()
    tool_error: str | None = None


def _checker_label(checker: str) -> str:
    return "bbjcpl" if checker == "bbjcpl" else "the built-in BBj check"


def _problems(result: CheckResult, block_index: int, several: bool) -> list[str]:
    where = f"block {block_index + 1}, " if several else ""
    return [f"{where}{d.describe()}" for d in result.diagnostics]


def verdict_line(verdict: Verdict, fix_attempts: int) -> str:
    label = _checker_label(verdict.checker)
    if verdict.tool_error:
        return f"_bbj-coder: the code above could not be checked ({verdict.tool_error})._"
    if verdict.ok:
        return f"_bbj-coder: the code above passed {label}._"
    shown = "; ".join(verdict.problems[:MAX_REPORTED_DIAGNOSTICS])
    tries = f" after {fix_attempts} fix attempt{'s' if fix_attempts != 1 else ''}"
    return (
        f"_bbj-coder: the code above still fails {label}{tries if fix_attempts else ''}: {shown}._"
    )


def fix_request(verdict: Verdict) -> str:
    lines = "\n".join(verdict.problems) or verdict.tool_error or "it does not compile"
    return (
        f"The BBj code in your answer does not pass {_checker_label(verdict.checker)}:\n{lines}\n"
        "Reply with the complete corrected code in one ```bbj block and a one-line explanation."
    )


def with_generation_note(messages: Sequence[ChatMessage]) -> list[ChatMessage]:
    """Add the detected BBj generation of the user's code to the system prompt."""
    user_text = "\n".join(m.content for m in messages if m.role == "user")
    report = detect_generation(user_text)
    note = "" if report.generation == "unknown" else "\n\n" + describe_generation(report)
    if messages and messages[0].role == "system":
        return [ChatMessage("system", messages[0].content + note), *messages[1:]]
    return [ChatMessage("system", DEFAULT_SYSTEM_PROMPT + note), *messages]


def with_workspace_note(messages: list[ChatMessage], service: ChatService) -> list[ChatMessage]:
    """Add the definitions of workspace symbols the user's messages name to the system prompt
    (indexed SQLite look-ups of the names, well under a millisecond each)."""
    if service.workspace_note is None:
        return messages
    user_text = "\n".join(m.content for m in messages if m.role == "user")
    note = service.workspace_note(user_text, service.backend.count_tokens)
    if not note:
        return messages
    return [ChatMessage("system", messages[0].content + "\n\n" + note), *messages[1:]]


class ChatRun:
    """One chat answer (with its fix rounds) as a stream of text plus aggregated statistics."""

    def __init__(
        self,
        service: ChatService,
        messages: Sequence[ChatMessage],
        params: SamplingParams,
        stops: Sequence[str],
    ) -> None:
        self.service = service
        self.messages = list(messages)
        self.params = params
        self.stops = tuple(stops)
        self.stats = GenerationStats()
        self._current: TextStream = service.backend.chat(self.messages, params)  # may raise 400s
        self._cancelled = False

    def cancel(self) -> None:
        self._cancelled = True
        self._current.cancel()

    def __aiter__(self) -> AsyncIterator[str]:
        return self._run()

    async def _run(self) -> AsyncIterator[str]:
        text = ""
        async for chunk in self._drain(self._current):
            text += chunk
            yield chunk
        settings = self.service.settings
        if settings.chat == "off" or self._cancelled:
            return
        verdict = await self.service.verify(text)
        if not verdict.has_code:
            return
        attempts = 0
        conversation = list(self.messages)
        while not verdict.ok and settings.chat == "fix" and attempts < settings.max_fix_attempts:
            attempts += 1
            label = _checker_label(verdict.checker)
            yield f"\n\n_bbj-coder: that code fails {label}; fixing it._\n\n"
            conversation += [
                ChatMessage("assistant", text),
                ChatMessage("user", fix_request(verdict)),
            ]
            try:
                self._current = self.service.backend.chat(conversation, self.params)
            except PromptTooLongError:
                attempts -= 1
                yield "_bbj-coder: the conversation is too long for another fix round._"
                break
            text = ""
            async for chunk in self._drain(self._current):
                text += chunk
                yield chunk
            if self._cancelled:
                return
            verdict = await self.service.verify(text)
        yield "\n\n" + verdict_line(verdict, attempts)

    async def _drain(self, stream: TextStream) -> AsyncIterator[str]:
        try:
            async for chunk in apply_stops(stream, self.stops):
                yield chunk
        finally:
            stream.cancel()
            self._add_stats(stream.stats)

    def _add_stats(self, stats: GenerationStats) -> None:
        self.stats.prompt_tokens += stats.prompt_tokens
        self.stats.cached_tokens += stats.cached_tokens
        self.stats.completion_tokens += stats.completion_tokens
        self.stats.prompt_eval_s += stats.prompt_eval_s
        self.stats.eval_s += stats.eval_s
        self.stats.finish_reason = stats.finish_reason


class ChatService:
    def __init__(self, backend: Backend, checker: Checker, settings: CheckSettings) -> None:
        self.backend = backend
        self.checker = checker
        self.settings = settings
        self.workspace_note: Callable[[str, Callable[[str], int] | None], str] | None = None
        """Definitions of workspace symbols a question names (set by the runtime)."""

    async def start(
        self, messages: Sequence[ChatMessage], params: SamplingParams, stops: Sequence[str] = ()
    ) -> ChatRun:
        """A run over ``messages`` with the generation and workspace notes added; the notes
        (detection, index look-ups, token counts) are worked out off the event loop."""
        noted = await asyncio.to_thread(self._with_notes, messages)
        return ChatRun(self, noted, params, stops)

    def _with_notes(self, messages: Sequence[ChatMessage]) -> list[ChatMessage]:
        return with_workspace_note(with_generation_note(messages), self)

    async def verify(self, answer: str) -> Verdict:
        """Check the answer's BBj blocks; extraction and checks run off the event loop."""
        blocks = await asyncio.to_thread(extract_bbj_blocks, answer)
        if not blocks:
            return Verdict(has_code=False, ok=True, checker=self.checker.name)
        problems: list[str] = []
        checker_name = self.checker.name
        for index, block in enumerate(blocks):
            result = await self.checker.check(block.code, "answer.bbj")
            checker_name = result.checker
            if result.tool_error:
                return Verdict(True, False, checker_name, tool_error=result.tool_error)
            problems += _problems(result, index, len(blocks) > 1)
        return Verdict(True, not problems, checker_name, tuple(problems))
