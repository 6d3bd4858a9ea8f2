"""Next-edit suggestions: editor state → prompt → the model's updated window → minimal edits,
kept only when they change something, do not take back the user's last edit, and (with the
gate on) add no compile error to the file.

Latency rules as for FIM: a newer request from the same client supersedes the older one (the
same :class:`~daemon.services.fim.Supersession`), and a window not fully written within the
time budget is no suggestion. On the embedded llama.cpp the prompt runs on a lane of its own
with prompt-lookup decoding (:class:`daemon.backends.base.PromptLookup`); other backends get the raw
prompt on their FIM path.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field, replace
from typing import Protocol, runtime_checkable

from daemon.backends.base import (
    Backend,
    GenerationStats,
    PromptLookup,
    SamplingParams,
    TextStream,
)
from daemon.backends.stops import StopMatcher
from daemon.check import Checker, adds_errors
from daemon.config import NextEditSettings
from daemon.services.fim import Supersession
from daemon.services.fim_prompt import fim_max_tokens, fim_prompt_budget
from daemon.services.timed import TimedReader, starting_deadline
from fim import ContextFile
from fim.next_edit import (
    SWEEP_QWEN,
    Hunk,
    NextEditFormat,
    NextEditPrompt,
    NextEditState,
    Position,
    TextEdit,
    apply_edits,
    fit_prompt,
    last_hunk_of,
    minimal_edits,
    undoes,
)


@runtime_checkable
class EditBackend(Protocol):
    """A backend with a next-edit lane of its own (the embedded llama.cpp)."""

    def edit(self, prompt: str, params: SamplingParams, lookup: PromptLookup) -> TextStream: ...


@dataclass(frozen=True)
class NextEditRequest:
    path: str
    text: str
    cursor: Position
    hunks: tuple[Hunk, ...] = ()
    context: tuple[ContextFile, ...] = ()
    client: str = "default"
    max_tokens: int | None = None


@dataclass(frozen=True)
class NextEditCheck:
    checker: str
    passed: bool
    new_errors: tuple[str, ...] = ()


@dataclass
class NextEditResult:
    """``edits`` is empty when there is no suggestion; ``reason`` then says why."""

    edits: list[TextEdit] = field(default_factory=list)
    reason: str | None = None
    built: NextEditPrompt | None = None
    updated_window: str | None = None
    check: NextEditCheck | None = None
    stats: GenerationStats = field(default_factory=GenerationStats)
    superseded: bool = False
    elapsed_s: float = 0.0


def next_edit_format(settings: NextEditSettings) -> NextEditFormat:
    return replace(SWEEP_QWEN, lines_above=settings.lines_above, lines_below=settings.lines_below)


class NextEditService:
    def __init__(self, backend: Backend, settings: NextEditSettings, n_ctx: int) -> None:
        self.backend = backend
        self.settings = settings
        self.fmt = next_edit_format(settings)
        self.n_ctx = n_ctx
        self.supersession = Supersession()

    def _params(self, request: NextEditRequest) -> SamplingParams:
        max_tokens = fim_max_tokens(request.max_tokens, self.settings.max_tokens, self.n_ctx)
        return SamplingParams(max_tokens=max_tokens, temperature=0.0)

    def _budget(self, max_tokens: int) -> int:
        return fim_prompt_budget(self.n_ctx, max_tokens, self.settings.max_prompt_tokens)

    def _stream(self, prompt: str, params: SamplingParams) -> TextStream:
        backend: object = self.backend
        active = getattr(backend, "active_backend", None)  # FallbackBackend serving llama
        if active is not None:
            backend = active
        if isinstance(backend, EditBackend):
            lookup = PromptLookup(
                self.settings.prompt_lookup_tokens, self.settings.prompt_lookup_ngram
            )
            return backend.edit(prompt, params, lookup)
        return self.backend.fim(prompt, params)

    async def suggest(
        self, request: NextEditRequest, checker: Checker | None = None
    ) -> NextEditResult:
        """The next edit after ``request``'s state, or a result with a ``reason`` for none.
        Raises :class:`~fim.next_edit.CursorOutOfRangeError` for a cursor off the text."""
        started = time.perf_counter()
        ticket = self.supersession.ticket(request.client)
        try:
            result = await self._suggest(request, checker, ticket)
        finally:
            self.supersession.finish(request.client, ticket)
        if result.superseded:
            result.edits, result.reason = [], "superseded"
        result.elapsed_s = time.perf_counter() - started
        return result

    async def _suggest(
        self, request: NextEditRequest, checker: Checker | None, ticket: int
    ) -> NextEditResult:
        params = self._params(request)
        state = NextEditState(
            request.path, request.text, request.cursor, request.hunks, request.context
        )
        built = await asyncio.to_thread(
            fit_prompt, self.fmt, state, self.backend.count_tokens, self._budget(params.max_tokens)
        )
        result = NextEditResult(built=built)
        budget_s = self.settings.time_budget_ms / 1000
        deadline = starting_deadline(self.backend, budget_s)
        stream = self._stream(built.prompt, params)
        if not self.supersession.begin(request.client, ticket, stream):
            result.superseded = True
            return result
        try:
            raw, complete = await self._collect(stream, len(built.window.lines), budget_s, deadline)
        finally:
            self.supersession.end(request.client, ticket)
        result.stats, result.superseded = stream.stats, stream.superseded
        if result.superseded:
            return result
        if not complete:
            result.reason = "incomplete"  # the window was not fully written in time or tokens
            return result
        updated = self.fmt.parse(raw)
        result.updated_window = updated
        edits = minimal_edits(built.window, updated.split("\n"))
        if not edits:
            result.reason = "no_change"
            return result
        suggested = apply_edits(request.text, edits)
        if undoes(request.text, suggested, last_hunk_of(request.path, request.hunks)):
            result.reason = "undo"
            return result
        if checker is not None and self.settings.check:
            result.check = await self._judge(checker, request, suggested)
            if not self.supersession.is_current(request.client, ticket):
                result.superseded = True
                return result
            if not result.check.passed:
                result.reason = "check_failed"
                return result
        result.edits = edits
        return result

    async def _judge(
        self, checker: Checker, request: NextEditRequest, suggested: str
    ) -> NextEditCheck:
        """The edited file against the unedited one (often broken mid-edit already)."""
        baseline, candidate = await asyncio.gather(
            checker.check(request.text, request.path), checker.check(suggested, request.path)
        )
        if not adds_errors(baseline, candidate):
            return NextEditCheck(candidate.checker, True)
        before = {d.message for d in baseline.diagnostics}
        new = tuple(d.message for d in candidate.diagnostics if d.message not in before)
        return NextEditCheck(candidate.checker, False, new or (candidate.tool_error or "",))

    async def _collect(
        self, stream: TextStream, window_lines: int, budget_s: float, deadline: float | None
    ) -> tuple[str, bool]:
        """(text, complete): complete when the model ended the window itself. The budget ends
        at ``deadline``, or ``budget_s`` after the first chunk when there is none."""
        matcher = StopMatcher(self.fmt.stop_tokens)
        limit = 2 * window_lines + 10  # a runaway rewrite is no next edit
        text = ""
        complete = False
        reader = TimedReader(stream, budget_s, deadline)
        async with reader as chunks:
            async for chunk in chunks:
                text += matcher.feed(chunk)
                if matcher.stopped:
                    complete = True
                    break
                if text.count("\n") > limit:
                    stream.stats.finish_reason = "length"
                    break
        if reader.ended:
            complete = stream.stats.finish_reason == "stop"
        return text + matcher.flush(), complete
