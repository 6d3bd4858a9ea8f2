"""Warming the KV cache while the user pauses after a context change.

The type-ahead cache answers a request whose prefix and suffix it has seen, even when the
context chunks in front of the prompt changed (another file opened or edited). Without more,
the model's KV cache still holds the old context and the *next* keystroke pays for evaluating
the new one. So when a cached answer follows a context change, the new prompt is evaluated in
the background (no generation); any newer request cancels that between two prompt chunks and
keeps what was evaluated so far.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from fim import ContextFile

log = logging.getLogger("bbj_coder")

ContextKey = tuple[str | None, tuple[ContextFile, ...]]


class KvWarmer:
    def __init__(self, backend: Any) -> None:
        self.backend = backend
        self._sent: ContextKey | None = None  # the context of the last prompt the model saw
        self._stream: Any = None
        self.task: asyncio.Task[None] | None = None

    def sent(self, key: ContextKey) -> None:
        self._sent = key

    def stop(self) -> None:
        """A newer request runs now: warming gives way (its evaluated chunks stay cached)."""
        if self.task is not None and not self.task.done():
            self.task.cancel()
        if self._stream is not None:
            self._stream.cancel()
            self._stream = None

    def after_cache_hit(self, key: ContextKey, render: Callable[[], str]) -> None:
        """Warm with ``render()``'s prompt when ``key`` differs from what the model last saw."""
        warm = getattr(self.backend, "warm", None)
        if warm is None or key == self._sent or getattr(self.backend, "remote_prompt", False):
            return
        self._sent = key
        self.task = asyncio.get_running_loop().create_task(self._warm(warm, render))

    async def _warm(self, warm: Callable[[str], Any], render: Callable[[], str]) -> None:
        try:
            prompt = await asyncio.to_thread(render)
            self._stream = warm(prompt)
            if self._stream is not None:
                await self._stream.text()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # warming is an optimisation: never fail a request for it
            log.debug("warming the KV cache failed: %s", exc)
        finally:
            self._stream = None
