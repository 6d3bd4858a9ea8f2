"""Compiler-checked code generation: task → prompt naming the BBj generation → model → check →
errors fed back → retry, ending with the code and an honest verdict.

It is the chat fix loop (:mod:`daemon.services.chat`) without the chat's prose: the caller
gets the last code the model wrote, whether it passed, which checker said so, how many
attempts it took and the errors that remain. MCP's ``generate_bbj_code`` and
``explain_bbj_diagnostic`` and ``POST /v1/bbj/generate`` all run it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from daemon.backends.base import Backend, ChatMessage, GenerationStats, SamplingParams
from daemon.backends.chatml import DEFAULT_SYSTEM_PROMPT
from daemon.check import Checker
from daemon.config import CheckSettings, Config
from daemon.errors import PromptTooLongError
from daemon.services.chat import ChatService, Verdict, fix_request, with_workspace_note
from daemon.services.codeblocks import extract_bbj_blocks
from fim import describe_generation, detect_generation
from fim.generation import UNKNOWN, GenerationReport

MAX_ATTEMPTS = 5
"""The most generate→check rounds one request may ask for."""

RequestableGeneration = Literal["character", "vpro5", "bbj-gui", "dwc"]
"""The generations a caller may ask for (every one of :data:`fim.GENERATIONS` that is one)."""
REQUESTABLE_GENERATIONS: tuple[str, ...] = get_args(RequestableGeneration)
NO_CODE = "the answer contained no BBj code block"

Progress = Callable[[float, int, str], Awaitable[None]]
"""``(progress, total, message)``: ``progress`` counts attempts judged (fractions while one
generates) out of ``total`` attempts, and only ever increases."""
TICK_CHUNKS = 16
"""A progress tick every this many generated chunks (about tokens) during a long answer."""


@dataclass(frozen=True)
class GenerateRequest:
    task: str
    context_code: str = ""
    generation: str | None = None
    """One of :data:`REQUESTABLE_GENERATIONS`; None detects it from the task and context."""
    max_attempts: int = 3


@dataclass(frozen=True)
class GenerateResult:
    code: str
    """The last BBj code the model wrote ("" when it wrote none)."""
    passed: bool
    checker: str
    attempts: int
    generation: str
    errors: tuple[str, ...] = ()
    explanation: str = ""
    """The answer's words outside its code block (what the model said about the code)."""
    tool_error: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "passed": self.passed,
            "checker": self.checker,
            "attempts": self.attempts,
            "generation": self.generation,
            "errors": list(self.errors),
            "explanation": self.explanation,
            "tool_error": self.tool_error,
            "notes": list(self.notes),
        }


def generation_for(request: GenerateRequest) -> GenerationReport:
    if request.generation:
        return GenerationReport(request.generation)
    return detect_generation(request.context_code + "\n" + request.task)


def generation_sentence(report: GenerationReport) -> str:
    if report.generation == UNKNOWN:
        return (
            "No particular BBj generation was asked for or detected; write current BBj "
            "(object-style where it helps) that compiles on its own."
        )
    return describe_generation(report)


def build_messages(request: GenerateRequest, report: GenerationReport) -> list[ChatMessage]:
    system = f"{DEFAULT_SYSTEM_PROMPT}\n\nTarget BBj generation: {report.generation}. "
    system += generation_sentence(report)
    user = request.task.strip()
    if request.context_code.strip():
        user += (
            "\n\nCode the task refers to (for context):\n```bbj\n"
            + request.context_code.rstrip("\n")
            + "\n```"
        )
    user += "\n\nReply with the complete BBj program in one ```bbj block."
    return [ChatMessage("system", system), ChatMessage("user", user)]


def split_answer(answer: str) -> tuple[str, str]:
    """(the last BBj block's code, the answer's text outside every block)."""
    blocks = extract_bbj_blocks(answer)
    if not blocks:
        return "", answer.strip()
    prose, cursor = [], 0
    for block in blocks:
        prose.append(answer[cursor : block.start])
        cursor = block.end
    prose.append(answer[cursor:])
    return blocks[-1].code, " ".join(" ".join(prose).split())


class GenerateService:
    def __init__(
        self,
        backend: Backend,
        checker: Checker,
        settings: CheckSettings,
        params: SamplingParams,
        *,
        chat: ChatService | None = None,
        on_stats: Callable[[GenerationStats], None] | None = None,
    ) -> None:
        """``chat`` (the runtime's, with its workspace note) replaces a bare chat service;
        ``on_stats`` hears every model answer's token counts (the daemon's metrics)."""
        self._chat = chat if chat is not None else ChatService(backend, checker, settings)
        self._params = params
        self._on_stats = on_stats

    @classmethod
    def from_config(
        cls,
        backend: Backend,
        checker: Checker,
        config: Config,
        *,
        chat: ChatService | None = None,
        on_stats: Callable[[GenerationStats], None] | None = None,
    ) -> GenerateService:
        """Sampled like a chat answer (``[chat]``), checked as ``[check]`` says."""
        params = SamplingParams(
            max_tokens=config.chat.max_tokens, temperature=config.chat.temperature
        )
        return cls(backend, checker, config.check, params, chat=chat, on_stats=on_stats)

    def _prepare(self, request: GenerateRequest) -> tuple[GenerationReport, list[ChatMessage]]:
        """Blocking (generation detection, workspace look-ups): runs in a worker thread."""
        report = generation_for(request)
        return report, with_workspace_note(build_messages(request, report), self._chat)

    async def run(
        self, request: GenerateRequest, progress: Progress | None = None
    ) -> GenerateResult:
        """Generate, check and fix up to ``request.max_attempts`` times.

        :class:`PromptTooLongError` from the first attempt propagates (the request cannot be
        served); a later one ends the loop with the last, failing, code.
        """
        report, conversation = await asyncio.to_thread(self._prepare, request)
        total = max(1, min(request.max_attempts, MAX_ATTEMPTS))
        tell = _Reporter(progress, total)
        code, explanation, notes = "", "", []
        verdict = Verdict(has_code=False, ok=False, checker=self._chat.checker.name)
        attempt = 0
        await tell(0, f"attempt 1 of {total}: generating")
        while attempt < total:
            attempt += 1
            try:
                answer = await self._answer(conversation, attempt, tell)
            except PromptTooLongError:
                if attempt == 1:
                    raise
                attempt -= 1
                notes.append("the conversation grew too long for another attempt")
                break
            code, explanation = split_answer(answer)
            verdict = await self._chat.verify(answer) if code else verdict
            if code and verdict.ok and not verdict.tool_error:
                await tell(attempt, f"attempt {attempt} passed {verdict.checker}")
                break
            problems = verdict.problems if code else (NO_CODE,)
            again = "; asking the model to fix them" if attempt < total else ""
            await tell(attempt, f"attempt {attempt}: {len(problems)} error(s){again}")
            if verdict.tool_error and code:
                break  # the checker itself is broken: more attempts cannot be judged
            conversation += [
                ChatMessage("assistant", answer),
                ChatMessage("user", _fix_prompt(verdict, has_code=bool(code))),
            ]
        return GenerateResult(
            code=code,
            passed=bool(code) and verdict.ok and verdict.tool_error is None,
            checker=verdict.checker,
            attempts=attempt,
            generation=report.generation,
            errors=_remaining_errors(code, verdict),
            explanation=explanation,
            tool_error=verdict.tool_error if code else None,
            notes=tuple(notes),
        )

    async def _answer(self, conversation: list[ChatMessage], attempt: int, tell: _Reporter) -> str:
        """The model's whole answer, with a progress tick every :data:`TICK_CHUNKS` chunks."""
        stream = self._chat.backend.chat(conversation, self._params)
        chunks: list[str] = []
        try:
            async for chunk in stream:
                chunks.append(chunk)
                if len(chunks) % TICK_CHUNKS == 0:
                    share = min(len(chunks) / max(1, self._params.max_tokens), 1.0)
                    await tell(
                        attempt - 1 + 0.9 * share,
                        f"attempt {attempt} of {tell.total}: {len(chunks)} tokens so far",
                    )
            return "".join(chunks)
        finally:
            stream.cancel()
            if self._on_stats is not None:
                self._on_stats(stream.stats)


class _Reporter:
    """Progress as MCP wants it: a value that only ever increases (repeats are dropped)."""

    def __init__(self, progress: Progress | None, total: int) -> None:
        self._progress = progress
        self.total = total
        self._last = -1.0

    async def __call__(self, done: float, message: str) -> None:
        if self._progress is None or done <= self._last:
            return
        self._last = done
        await self._progress(done, self.total, message)


def _remaining_errors(code: str, verdict: Verdict) -> tuple[str, ...]:
    if not code:
        return (NO_CODE,)
    if verdict.tool_error:
        return (f"the code could not be checked: {verdict.tool_error}",)
    return () if verdict.ok else verdict.problems


def _fix_prompt(verdict: Verdict, *, has_code: bool) -> str:
    if not has_code:
        return "Your answer has no BBj code. Reply with the complete program in one ```bbj block."
    return fix_request(verdict)
