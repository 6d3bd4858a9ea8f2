"""The FIM pipeline: type-ahead cache → prompt assembly → generation → post-processing.

Latency rules live here: a newer request from the same client supersedes the older one, a
completion stops as soon as post-processing would cut it anyway, and the time budget returns
whatever is complete at a line boundary.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from daemon.backends.base import Backend, GenerationStats, SamplingParams, TextStream
from daemon.check import Checker, adds_errors
from daemon.config import FimSettings
from daemon.stops import StopMatcher
from daemon.typeahead import TypeAheadCache
from fim import ContextFile, FimFormat
from fim.context import assemble_prompt
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
    baseline ``prefix + suffix`` (often mid-edit and already broken) does not have."""

    def __init__(self, checker: Checker, candidates: int = 2) -> None:
        self.checker = checker
        self.candidates = max(1, candidates)

    async def judge(self, prefix: str, completion: str, suffix: str, attempt: int) -> FimCheck:
        baseline = await self.checker.check(prefix + suffix, "completion.bbj")
        candidate = await self.checker.check(prefix + completion + suffix, "completion.bbj")
        if not adds_errors(baseline, candidate):
            return FimCheck(candidate.checker, True, attempt)
        known = {d.message for d in baseline.diagnostics}
        new = tuple(d.message for d in candidate.diagnostics if d.message not in known)
        return FimCheck(candidate.checker, False, attempt, new or (candidate.tool_error or "",))


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
    """Tracks each client's in-flight FIM stream so a newer request can cancel it."""

    def __init__(self) -> None:
        self._current: dict[str, TextStream] = {}

    def begin(self, client: str, stream: TextStream) -> None:
        previous = self._current.get(client)
        if previous is not None and previous is not stream:
            previous.superseded = True
            previous.cancel()
        self._current[client] = stream

    def end(self, client: str, stream: TextStream) -> None:
        if self._current.get(client) is stream:
            del self._current[client]

    def __len__(self) -> int:
        return len(self._current)


class FimService:
    def __init__(self, backend: Backend, fmt: FimFormat, settings: FimSettings, n_ctx: int) -> None:
        self.backend = backend
        self.fmt = fmt
        self.settings = settings
        self.n_ctx = n_ctx
        self.cache = TypeAheadCache(settings.cache_size)
        self.supersession = Supersession()

    def _budget(self, max_tokens: int) -> int:
        room = self.n_ctx - max_tokens
        if self.settings.max_prompt_tokens > 0:
            room = min(room, self.settings.max_prompt_tokens)
        return max(room, 16)

    def _params(self, request: FimRequest) -> SamplingParams:
        max_tokens = min(request.max_tokens or self.settings.max_tokens, self.n_ctx // 2)
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
        cached = self.cache.get(request.prefix, request.suffix)
        if cached is not None:
            return FimResult(
                text=cached, raw_text=cached, cached=True, elapsed_s=time.perf_counter() - started
            )
        params = self._params(request)
        assembled = await asyncio.to_thread(
            assemble_prompt,
            request.prefix,
            request.suffix,
            fmt=self.fmt,
            count_tokens=self.backend.count_tokens,
            max_prompt_tokens=self._budget(params.max_tokens),
            context=request.context,
            path=request.path,
            prefix_share=self.settings.prefix_share,
        )
        ctx = FimContext.build(assembled.prefix, assembled.suffix)
        result = FimResult(
            text="",
            raw_text="",
            prompt_truncated=(assembled.prefix_truncated or assembled.suffix_truncated),
        )
        deadline = started + self.settings.time_budget_ms / 1000
        for attempt in range(1, (gate.candidates if gate else 1) + 1):
            stream = self.backend.fim(assembled.prompt, params)
            self.supersession.begin(request.client, stream)
            try:
                result.raw_text = await self._collect(stream, ctx, request.stop)
            finally:
                self.supersession.end(request.client, stream)
            result.stats, result.superseded = stream.stats, stream.superseded
            if result.superseded:
                break
            result.text = apply_chain(result.raw_text, ctx, DEFAULT_CHAIN)
            if not result.text or gate is None:
                break
            result.check = await gate.judge(request.prefix, result.text, request.suffix, attempt)
            if result.check.passed:
                break
            result.text = ""
            if time.perf_counter() >= deadline:
                break
            params = replace(params, temperature=max(params.temperature, 0.7), seed=attempt)
        if result.text:
            self.cache.put(request.prefix, request.suffix, result.text)
        result.elapsed_s = time.perf_counter() - started
        return result

    async def _collect(self, stream: TextStream, ctx: FimContext, stops: Sequence[str]) -> str:
        """Read the stream until it ends, a stop/early-stop cuts it, or the time budget runs out."""
        matcher = StopMatcher(stops)
        deadline = time.monotonic() + self.settings.time_budget_ms / 1000
        text = ""
        iterator = aiter(stream)
        try:
            while True:
                remaining = deadline - time.monotonic()
                try:
                    chunk = await asyncio.wait_for(anext(iterator), timeout=max(remaining, 0.001))
                except StopAsyncIteration:
                    break
                except TimeoutError:
                    stream.stats.finish_reason = "time"
                    text = text[: text.rfind("\n") + 1] if "\n" in text else text
                    break
                text += matcher.feed(chunk)
                if matcher.stopped:
                    break
                cut = early_stop_index(text, ctx)
                if cut is not None:
                    text = text[:cut]
                    break
        finally:
            stream.cancel()
            await iterator.aclose()
        return text + matcher.flush()
