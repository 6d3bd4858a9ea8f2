"""The interface every backend implements, and the stream type generation returns."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class ChatMessage:
    role: str
    content: str


@dataclass(frozen=True)
class SamplingParams:
    max_tokens: int
    temperature: float = 0.0
    top_p: float = 0.95
    top_k: int = 40
    seed: int | None = None
    repeat_penalty: float = 1.0
    logit_bias: tuple[tuple[int, float], ...] = ()
    grammar: str | None = None  # GBNF constraining the output (JSON mode); embedded llama only
    logprobs: int | None = None  # record each token's logprob and this many alternatives


@dataclass(frozen=True)
class TokenLogprob:
    """One generated token's log-probability and the most likely alternatives at its place."""

    token: str
    logprob: float
    top: tuple[tuple[str, float], ...] = ()


@dataclass
class GenerationStats:
    """Counts filled in by the backend as generation proceeds (read once the stream ends)."""

    prompt_tokens: int = 0
    cached_tokens: int = 0
    completion_tokens: int = 0
    prompt_eval_s: float = 0.0
    eval_s: float = 0.0
    finish_reason: str = "stop"
    logprobs: list[TokenLogprob] | None = None  # filled when SamplingParams.logprobs is set

    @property
    def evaluated_prompt_tokens(self) -> int:
        return self.prompt_tokens - self.cached_tokens


@dataclass(frozen=True)
class BackendInfo:
    name: str
    model_name: str
    model_path: str
    context_length: int
    fim_format: str | None
    quant: str
    details: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PromptLookup:
    """Prompt-lookup drafting for a next edit: up to ``tokens`` tokens found in the prompt after
    the longest (up to ``ngram``) match of the output's end; ``tokens == 0`` means plain
    decoding."""

    tokens: int
    ngram: int


class TextStream:
    """Async iterator of text chunks fed from a producer (a worker thread or an HTTP stream).

    ``cancel()`` asks the producer to stop at the next token; leaving an ``async for`` early
    (client disconnect, superseded request) cancels too, so generation never outlives its reader.
    """

    _DONE = object()

    def __init__(self) -> None:
        self.stats = GenerationStats()
        self.cancelled = threading.Event()
        self._loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue[object] = asyncio.Queue()
        self._error: BaseException | None = None
        self._finished = False
        self.superseded = False
        self.keepalive: object | None = None  # a task the producer needs kept alive
        self._on_cancel: list[Callable[[], None]] = []

    # producer side (any thread)
    def put(self, text: str) -> None:
        self._loop.call_soon_threadsafe(self._queue.put_nowait, text)

    def finish(self, error: BaseException | None = None) -> None:
        def _done() -> None:
            self._error = error
            self._queue.put_nowait(self._DONE)

        with contextlib.suppress(RuntimeError):  # loop already closed at shutdown
            self._loop.call_soon_threadsafe(_done)

    def add_cancel_callback(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` (on the event loop) when the reader cancels, e.g. to close an
        upstream HTTP stream; runs at once if the stream is already cancelled."""
        if self.cancelled.is_set():
            callback()
        else:
            self._on_cancel.append(callback)

    # consumer side
    def cancel(self) -> None:
        if self.cancelled.is_set():
            return
        self.cancelled.set()
        callbacks, self._on_cancel = self._on_cancel, []
        for callback in callbacks:
            callback()

    def supersede(self) -> None:
        """Cancel, and end the reader's iteration now rather than when the producer notices
        (mid-chunk of a prompt, or behind a relay): a superseded request is answered at once."""
        self.superseded = True
        self.cancel()
        with contextlib.suppress(RuntimeError):  # loop already closed at shutdown
            self._loop.call_soon_threadsafe(self._queue.put_nowait, self._DONE)

    def __aiter__(self) -> AsyncIterator[str]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[str]:
        try:
            while True:
                item = await self._queue.get()
                if item is self._DONE:
                    self._finished = True
                    if self._error is not None:
                        raise self._error
                    return
                assert isinstance(item, str)
                yield item
        finally:
            if not self._finished:
                self.cancel()

    async def text(self) -> str:
        return "".join([chunk async for chunk in self])


class Generation(Protocol):
    """What routes stream to clients: final text chunks, statistics, and a way to stop."""

    stats: GenerationStats

    def cancel(self) -> None: ...

    def __aiter__(self) -> AsyncIterator[str]: ...


@runtime_checkable
class Backend(Protocol):
    """What the daemon needs from a model runtime (embedded llama.cpp, Ollama, an upstream)."""

    name: str

    async def start(self) -> None:
        """Load or connect; raise a :class:`daemon.errors.ModelError` subclass on failure."""

    async def close(self) -> None: ...

    def info(self) -> BackendInfo: ...

    def in_flight(self) -> dict[str, int]:
        """Generations running now, per lane (``{"fim": 1, "chat": 0}``)."""

    def generated_tokens(self) -> int:
        """Tokens this backend has generated since it started, cancelled generations included."""

    def count_tokens(self, text: str) -> int:
        """Tokens ``text`` takes in the model's vocabulary (used for prompt budgets)."""

    def fim(self, prompt: str, params: SamplingParams) -> TextStream:
        """Stream the completion of an already rendered FIM prompt (on the FIM lane)."""

    def chat(self, messages: Sequence[ChatMessage], params: SamplingParams) -> TextStream:
        """Stream an assistant answer to ``messages`` (on a lane FIM never waits behind)."""
