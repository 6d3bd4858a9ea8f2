"""Reading a generation against a time budget that starts at its first chunk (or at a deadline
the caller already has), shared by FIM and next edit."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, AsyncIterator

from daemon.backends.base import TextStream


def starting_deadline(backend: object, budget_s: float) -> float | None:
    """Where a generation's budget ends when it is known before the first chunk: a backend that
    evaluates prompts upstream, out of our reach, is given the budget from now; a local one
    (None) from its first chunk, since its prompt evaluation is cancelled when superseded."""
    return time.monotonic() + budget_s if getattr(backend, "remote_prompt", False) else None


class TimedReader:
    """``async with TimedReader(stream, budget_s) as chunks: async for chunk in chunks: ...``

    The budget ends at ``deadline`` when one is given, else ``budget_s`` after the first chunk
    (a local prompt evaluation is not counted: a newer request cancels it instead). When it
    ends, iteration stops and ``timed_out`` is set (the stream's ``finish_reason`` says
    ``time``). Leaving the block cancels the stream.
    """

    def __init__(self, stream: TextStream, budget_s: float, deadline: float | None = None):
        self.stream = stream
        self.budget_s = budget_s
        self.deadline = deadline
        self.timed_out = False
        self.ended = False  # the stream itself finished
        self._iterator = aiter(stream)
        self._chunks = self._read()

    async def __aenter__(self) -> AsyncIterator[str]:
        return self._chunks

    async def __aexit__(self, *exc: object) -> None:
        self.stream.cancel()
        await self._chunks.aclose()
        await self._iterator.aclose()

    async def _read(self) -> AsyncGenerator[str, None]:
        while True:
            timeout = (
                None if self.deadline is None else max(self.deadline - time.monotonic(), 0.001)
            )
            try:
                chunk = await asyncio.wait_for(anext(self._iterator), timeout=timeout)
            except StopAsyncIteration:
                self.ended = True
                return
            except (TimeoutError, asyncio.TimeoutError):  # distinct types before 3.11
                self.stream.stats.finish_reason = "time"
                self.timed_out = True
                return
            if self.deadline is None:
                self.deadline = time.monotonic() + self.budget_s
            yield chunk
