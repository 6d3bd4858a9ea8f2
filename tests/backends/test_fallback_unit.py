"""FallbackBackend details that need no server: token counting off the event loop."""

from __future__ import annotations

import asyncio

from daemon.backends.fallback import Candidate, FallbackBackend
from daemon.errors import BackendUnavailableError


class Down:
    name = "llama"

    async def start(self) -> None:
        raise BackendUnavailableError("simulated: the model does not load")

    async def close(self) -> None:
        return None


class Up:
    name = "ollama"

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    def count_tokens(self, text: str) -> int:
        return len(text.split())


def test_count_tokens_works_from_a_worker_thread_while_a_preferred_backend_waits() -> None:
    async def go() -> int:
        chain = FallbackBackend([Candidate("llama", Down), Candidate("ollama", Up)], backoff_s=0)
        await chain.start()
        assert chain.name == "ollama"
        # The llama back-off (0 s) is over, so recovery is due; prompt assembly counts tokens
        # in a thread without an event loop, and must not try to schedule it there.
        return await asyncio.to_thread(chain.count_tokens, "a b c")

    assert asyncio.run(go()) == 3
