"""Several backends in priority order, served from the first healthy one.

A backend that fails to start, or fails a request before producing any text, sits out
``backoff_s`` seconds while the next one serves; after that it is tried again, and the daemon
moves back to it when it works. Every switch is logged, and :meth:`attempts` says why each
backend is or is not in use (``/health`` shows it).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from daemon.backends.base import Backend, BackendInfo, ChatMessage, SamplingParams, TextStream
from daemon.errors import BackendError, BackendUnavailableError, ModelError

log = logging.getLogger("bbj_coder")
SERVING = "serving"
NOT_NEEDED = "not needed: an earlier choice serves"


@dataclass(frozen=True)
class Candidate:
    kind: str
    make: Callable[[], Backend]


@dataclass(frozen=True)
class Attempt:
    backend: str
    ok: bool
    reason: str


class FallbackBackend:
    def __init__(self, candidates: Sequence[Candidate], backoff_s: float = 30.0) -> None:
        self.candidates = tuple(candidates)
        self.backoff_s = backoff_s
        self._started: dict[str, Backend] = {}
        self._down_until: dict[str, float] = {}
        self._reasons: dict[str, str] = {}
        self._active: Backend | None = None
        self._last_info: BackendInfo | None = None
        self._recovery: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    @property
    def name(self) -> str:
        return self._active.name if self._active else "none"

    # life cycle -----------------------------------------------------------------------------
    async def start(self) -> None:
        await self._select()
        if self._active is None:
            raise BackendUnavailableError("No backend can serve: " + self._summary())

    async def close(self) -> None:
        if self._recovery is not None:
            self._recovery.cancel()
        for backend in self._started.values():
            await backend.close()
        self._started.clear()
        self._active = None

    @property
    def active_backend(self) -> Backend | None:
        """The backend serving now (None while none can)."""
        return self._active

    @property
    def remote_prompt(self) -> bool:
        """Whether the backend serving now evaluates prompts upstream (see HttpBackend)."""
        return bool(getattr(self._active, "remote_prompt", False))

    def attempts(self) -> list[Attempt]:
        active = self._active.name if self._active else None
        return [
            Attempt(c.kind, c.kind == active, self._reasons.get(c.kind, NOT_NEEDED))
            for c in self.candidates
        ]

    def _summary(self) -> str:
        return "; ".join(f"{a.backend}: {a.reason}" for a in self.attempts())

    async def _select(self) -> None:
        """Make the first usable candidate active, starting it if needed."""
        async with self._lock:
            now = time.monotonic()
            for candidate in self.candidates:
                if self._down_until.get(candidate.kind, 0.0) > now:
                    continue
                backend = self._started.get(candidate.kind) or await self._try_start(candidate)
                if backend is None:
                    continue
                if self._active is None:
                    log.info("backend: %s serves", candidate.kind)
                elif backend is not self._active:
                    log.warning("backend switch: %s → %s", self._active.name, candidate.kind)
                self._active = backend
                self._reasons[candidate.kind] = SERVING
                return
            self._active = None

    async def _try_start(self, candidate: Candidate) -> Backend | None:
        backend = candidate.make()
        try:
            await backend.start()
        except (ModelError, BackendError) as exc:
            await backend.close()
            self._mark_down(candidate.kind, str(exc))
            return None
        self._started[candidate.kind] = backend
        return backend

    def _mark_down(self, kind: str, reason: str) -> None:
        self._down_until[kind] = time.monotonic() + self.backoff_s
        self._reasons[kind] = reason
        log.warning("backend %s unavailable (retry in %.0f s): %s", kind, self.backoff_s, reason)

    def _require_active(self) -> Backend:
        self._recover_soon()
        if self._active is None:
            raise BackendUnavailableError("No backend can serve: " + self._summary())
        return self._active

    def _recover_soon(self) -> None:
        """When nothing serves, or a preferred backend's back-off is over, re-select in the
        background; requests keep using the current backend meanwhile."""
        if self._recovery is not None and not self._recovery.done():
            return
        now = time.monotonic()
        for candidate in self.candidates:
            if self._active is not None and candidate.kind == self._active.name:
                return  # nothing preferred over the active backend is waiting
            if self._down_until.get(candidate.kind, 0.0) <= now:
                self._recovery = asyncio.get_running_loop().create_task(self._select())
                return

    # protocol -------------------------------------------------------------------------------
    def info(self) -> BackendInfo:
        if self._active is not None:
            self._last_info = self._active.info()
        if self._last_info is None:
            raise BackendUnavailableError("No backend can serve: " + self._summary())
        return self._last_info

    def in_flight(self) -> dict[str, int]:
        merged: dict[str, int] = {}
        for backend in self._started.values():
            for lane, count in backend.in_flight().items():
                merged[lane] = merged.get(lane, 0) + count
        return merged

    def generated_tokens(self) -> int:
        return sum(backend.generated_tokens() for backend in self._started.values())

    def count_tokens(self, text: str) -> int:
        # Called from worker threads (prompt assembly): no event loop here, so no recovery.
        active = self._active
        if active is None:
            raise BackendUnavailableError("No backend can serve: " + self._summary())
        return active.count_tokens(text)

    def warm(self, prompt: str) -> TextStream | None:
        """Evaluate a FIM prompt ahead of need, when the active backend can (else None)."""
        warm = getattr(self._active, "warm", None)
        return None if warm is None else warm(prompt)

    def fim(self, prompt: str, params: SamplingParams) -> TextStream:
        return self._serve(lambda backend: backend.fim(prompt, params))

    def chat(self, messages: Sequence[ChatMessage], params: SamplingParams) -> TextStream:
        return self._serve(lambda backend: backend.chat(messages, params))

    def _serve(self, call: Callable[[Backend], TextStream]) -> TextStream:
        first = self._require_active()
        inner = call(first)  # a prompt that is too long is a 400 at once, not a fallback
        outer = TextStream()
        task = asyncio.get_running_loop().create_task(self._relay(call, first, inner, outer))
        outer.keepalive = task
        outer.add_cancel_callback(task.cancel)
        return outer

    async def _relay(
        self,
        call: Callable[[Backend], TextStream],
        backend: Backend,
        inner: TextStream,
        outer: TextStream,
    ) -> None:
        """Copy ``inner`` to ``outer``; if the backend turns out to be down before any text,
        retry once per other backend. Every way out finishes ``outer``: a reader never hangs."""
        tried: set[str] = set()
        try:
            while True:
                produced = await self._copy(inner, outer)
                if produced is None:
                    outer.finish()
                    return
                tried.add(backend.name)
                self._mark_down(backend.name, str(produced))
                await self._select()
                if self._active is None or self._active.name in tried:
                    raise BackendUnavailableError("No backend can serve: " + self._summary())
                backend = self._active
                inner = call(backend)
        except asyncio.CancelledError:  # the reader cancelled: it must not wait for an answer
            outer.finish()
            raise
        except BackendError as exc:
            outer.finish(exc)
        except Exception as exc:  # never leave the reader waiting on a dead relay
            outer.finish(BackendUnavailableError(f"The {backend.name} backend failed: {exc!r}"))

    @staticmethod
    async def _copy(inner: TextStream, outer: TextStream) -> BackendUnavailableError | None:
        """Relay ``inner``; return its failure if the backend is down and nothing was sent yet."""
        outer.stats = inner.stats
        outer.add_cancel_callback(inner.cancel)
        produced = False
        try:
            async for chunk in inner:
                produced = True
                outer.put(chunk)
        except BackendUnavailableError as exc:
            if produced:
                raise
            return exc
        return None
