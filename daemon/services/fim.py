"""The FIM pipeline: type-ahead cache → prompt assembly → generation → post-processing.

Latency rules live here: a newer request from the same client supersedes the older one (which
is answered at once, empty, ``superseded``), a completion stops as soon as post-processing would
cut it anyway, and the time budget, counted from the first generated token, returns the
complete lines, or the partial first line when none is complete yet.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from daemon.backends.base import Backend, GenerationStats, SamplingParams, TextStream
from daemon.backends.stops import StopMatcher
from daemon.check import Checker, CompletionGate
from daemon.config import FimSettings
from daemon.services.fim_prompt import assemble_fim_prompt, fim_max_tokens, fim_prompt_budget
from daemon.services.fim_warm import KvWarmer
from daemon.services.timed import TimedReader, starting_deadline
from daemon.services.typeahead import TypeAheadCache
from fim import ContextFile, FimFormat
from fim.context import AssembledPrompt
from fim.postprocess import DEFAULT_CHAIN, FimContext, apply_chain, early_stop_index


@dataclass(frozen=True)
class FimRequest:
    prefix: str
    suffix: str
    path: str | None = None
    context: tuple[ContextFile, ...] = ()
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float = 0.95
    top_k: int = 40
    seed: int | None = None
    stop: tuple[str, ...] = ()
    logit_bias: tuple[tuple[int, float], ...] = ()
    client: str = "default"


@dataclass(frozen=True)
class FimCheck:
    """How a completion fared in the compile gate."""

    checker: str
    passed: bool
    attempts: int
    new_errors: tuple[str, ...] = ()


class CompileGate:
    """Accept a completion only if ``prefix + completion + suffix`` has no error that the
    baseline ``prefix + suffix`` (often mid-edit and already broken) does not have. The
    judging runs off the event loop and, with the built-in checker, parses only the unit
    around the cursor (``daemon.check.CompletionGate``)."""

    def __init__(self, checker: Checker, candidates: int = 2) -> None:
        self.checker = checker
        self.candidates = max(1, candidates)
        self._gate = CompletionGate(checker)

    async def judge(
        self, prefix: str, completion: str, suffix: str, attempt: int, deadline: float | None = None
    ) -> FimCheck:
        verdict = await self._gate.judge(prefix, completion, suffix, deadline)
        return FimCheck(verdict.checker, verdict.passed, attempt, verdict.new_errors)


@dataclass
class FimResult:
    text: str
    raw_text: str
    stats: GenerationStats = field(default_factory=GenerationStats)
    check: FimCheck | None = None
    cached: bool = False
    superseded: bool = False
    prompt_truncated: bool = False
    elapsed_s: float = 0.0


class Supersession:
    """Per client, only the newest FIM request may run: each request takes a ticket on arrival;
    a newer ticket cancels the older request's generation, and an older request that is still
    assembling or being checked notices it is stale and gives up."""

    def __init__(self) -> None:
        self._tickets = itertools.count(1)
        self._latest: dict[str, int] = {}
        self._running: dict[str, tuple[int, TextStream]] = {}

    def ticket(self, client: str) -> int:
        ticket = next(self._tickets)
        self._latest[client] = ticket
        running = self._running.get(client)
        if running is not None and running[0] < ticket:
            running[1].supersede()
        return ticket

    def is_current(self, client: str, ticket: int) -> bool:
        return self._latest.get(client) == ticket

    def begin(self, client: str, ticket: int, stream: TextStream) -> bool:
        """Register ``stream``; False (and the stream cancelled) when the ticket is stale."""
        if not self.is_current(client, ticket):
            stream.supersede()
            return False
        self._running[client] = (ticket, stream)
        return True

    def end(self, client: str, ticket: int) -> None:
        if self._running.get(client, (0,))[0] == ticket:
            del self._running[client]

    def finish(self, client: str, ticket: int) -> None:
        self.end(client, ticket)
        if self._latest.get(client) == ticket:
            del self._latest[client]

    def __len__(self) -> int:
        return len(self._running)


PinnedContext = Callable[[str | None, str, str, Callable[[str], int]], tuple[ContextFile, ...]]
"""``(path, prefix, suffix, count_tokens) -> chunks``: the workspace index's FIM context."""


class FimService:
    def __init__(self, backend: Backend, fmt: FimFormat, settings: FimSettings, n_ctx: int) -> None:
        self.backend = backend
        self.fmt = fmt
        self.settings = settings
        self.n_ctx = n_ctx
        self.cache = TypeAheadCache(settings.cache_size)
        self.supersession = Supersession()
        self.pinned_context: PinnedContext | None = None
        """Workspace signatures pinned at the front of every prompt (set by the runtime)."""
        self.warmer = KvWarmer(backend)

    def _budget(self, max_tokens: int) -> int:
        return fim_prompt_budget(self.n_ctx, max_tokens, self.settings.max_prompt_tokens)

    def _params(self, request: FimRequest) -> SamplingParams:
        max_tokens = fim_max_tokens(request.max_tokens, self.settings.max_tokens, self.n_ctx)
        temperature = (
            self.settings.temperature if request.temperature is None else request.temperature
        )
        return SamplingParams(
            max_tokens=max_tokens,
            temperature=temperature,
            top_p=request.top_p,
            top_k=request.top_k,
            seed=request.seed,
            logit_bias=request.logit_bias,
        )

    async def complete(self, request: FimRequest, gate: CompileGate | None = None) -> FimResult:
        """Complete at the cursor; with a ``gate``, a completion that adds compile errors is
        replaced by another candidate within the time budget, or not shown at all."""
        started = time.perf_counter()
        ticket = self.supersession.ticket(request.client)
        self.warmer.stop()
        try:
            result = await self._complete(request, gate, ticket, started)
        finally:
            self.supersession.finish(request.client, ticket)
        if result.text and not result.cached:
            self.cache.put(request.prefix, request.suffix, result.text)
        result.elapsed_s = time.perf_counter() - started
        return result

    def _assemble(self, request: FimRequest, max_tokens: int) -> AssembledPrompt:
        """Blocking (runs in a worker thread): pinned workspace context, then the prompt."""
        count = self.backend.count_tokens
        pinned = self.pinned_context
        return assemble_fim_prompt(
            request.prefix,
            request.suffix,
            fmt=self.fmt,
            count_tokens=count,
            budget=self._budget(max_tokens),
            context=request.context,
            path=request.path,
            prefix_share=self.settings.prefix_share,
            pinned=pinned(request.path, request.prefix, request.suffix, count) if pinned else (),
        )

    async def _complete(
        self, request: FimRequest, gate: CompileGate | None, ticket: int, started: float
    ) -> FimResult:
        cached = self.cache.get(request.prefix, request.suffix)
        params = self._params(request)
        if cached is not None:
            self.warmer.after_cache_hit(
                (request.path, request.context),
                lambda: self._assemble(request, params.max_tokens).prompt,
            )
            return FimResult(text=cached, raw_text=cached, cached=True)
        self.warmer.sent((request.path, request.context))
        assembled = await asyncio.to_thread(self._assemble, request, params.max_tokens)
        result = FimResult(
            text="",
            raw_text="",
            prompt_truncated=(assembled.prefix_truncated or assembled.suffix_truncated),
        )
        ctx = FimContext.build(assembled.prefix, assembled.suffix)
        budget_s = self.settings.time_budget_ms / 1000
        deadline = starting_deadline(self.backend, budget_s)  # then from the first token
        for attempt in range(1, (gate.candidates if gate else 1) + 1):
            stream = self.backend.fim(assembled.prompt, params)
            if self.supersession.begin(request.client, ticket, stream):
                try:
                    result.raw_text, deadline = await self._collect(
                        stream, ctx, request.stop, budget_s, deadline
                    )
                finally:
                    self.supersession.end(request.client, ticket)
            result.stats, result.superseded = stream.stats, stream.superseded
            if result.superseded:
                return result
            result.text = apply_chain(result.raw_text, ctx, DEFAULT_CHAIN)
            if not result.text or gate is None:
                return result
            result.check = await gate.judge(
                request.prefix, result.text, request.suffix, attempt, deadline
            )
            if not self.supersession.is_current(request.client, ticket):
                result.superseded, result.text = True, ""
                return result
            if result.check.passed:
                return result
            result.text = ""
            if deadline is None or time.monotonic() >= deadline:
                return result
            params = replace(params, temperature=max(params.temperature, 0.7), seed=attempt)
        return result

    async def _collect(
        self,
        stream: TextStream,
        ctx: FimContext,
        stops: Sequence[str],
        budget_s: float,
        deadline: float | None,
    ) -> tuple[str, float | None]:
        """Read the stream until it ends, a stop/early-stop cuts it, or ``budget_s`` after its
        first chunk (or the given ``deadline``) passes; returns the text and the deadline."""
        matcher = StopMatcher(stops)
        text = ""
        line_started = False  # the unfinished last line has a non-blank character
        reader = TimedReader(stream, budget_s, deadline)
        async with reader as chunks:
            async for chunk in chunks:
                text += matcher.feed(chunk)
                if matcher.stopped:
                    break
                # Early stop can only change its mind when a line ends or a new line shows its
                # first character (see early_stop_index), so the rest of the chunks skip it.
                tail = text[text.rfind("\n") + 1 :]
                if "\n" in chunk or (tail.strip() and not line_started):
                    cut = early_stop_index(text, ctx)
                    if cut is not None:
                        text = text[:cut]
                        break
                line_started = bool(tail.strip())
        if reader.timed_out:
            text = complete_lines(text)
        return text + matcher.flush(), reader.deadline


def complete_lines(text: str) -> str:
    """What a completion cut by the clock shows: its complete lines, or the partial first line
    when no complete line has anything in it (post-processing decides the rest, not the clock)."""
    if "\n" not in text:
        return text
    complete = text[: text.rfind("\n") + 1]
    return complete if complete.strip() else text
