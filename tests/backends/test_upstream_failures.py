"""An upstream that dies mid-stream ends the stream with BackendUnavailableError, never a hang."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import pytest

from daemon.backends.base import ChatMessage, SamplingParams, TextStream
from daemon.backends.ollama import OllamaBackend, OllamaOptions
from daemon.backends.openai_upstream import OpenAIOptions, OpenAIUpstreamBackend
from daemon.errors import BackendUnavailableError
from tests.backends.conftest import LONG
from tests.conftest import RunningDaemon

pytestmark = pytest.mark.asyncio

NEVER_HANG_S = 20
# A killed server's connection ends with FIN (a truncated answer) or RST (a broken connection).
GONE = re.compile("closed the connection mid-answer|the connection broke")


@pytest.fixture
def doomed(upstream: RunningDaemon) -> RunningDaemon:
    """A second daemon the test may kill."""
    return upstream


async def drain(iterator: AsyncIterator[str]) -> None:
    async for _ in iterator:
        pass


async def dies_mid_stream(stream: TextStream, daemon: RunningDaemon) -> str:
    """Read one chunk, kill the upstream, read on; returns the error the stream ended with."""
    iterator = aiter(stream)
    await anext(iterator)
    daemon.process.kill()
    daemon.process.wait(timeout=NEVER_HANG_S)  # gone for good: a new connection is refused
    with pytest.raises(BackendUnavailableError) as caught:
        await asyncio.wait_for(drain(iterator), NEVER_HANG_S)
    return str(caught.value)


async def test_openai_upstream_dying_mid_stream(doomed, endless) -> None:
    backend = OpenAIUpstreamBackend(
        OpenAIOptions(base_url=f"{doomed.url}/v1", api_key=doomed.token)
    )
    await backend.start()
    try:
        params = SamplingParams(max_tokens=LONG, logit_bias=endless)
        stream = backend.chat([ChatMessage("user", "Write a long program.")], params)
        message = await dies_mid_stream(stream, doomed)
        assert GONE.search(message), message
        assert doomed.url.removeprefix("http://") in message
        assert backend.in_flight() == {"fim": 0, "chat": 0}

        after = backend.fim("rem again\n", SamplingParams(max_tokens=4))
        with pytest.raises(BackendUnavailableError, match="cannot connect"):
            await asyncio.wait_for(after.text(), NEVER_HANG_S)
    finally:
        await backend.close()


async def test_ollama_dying_mid_stream(doomed, long_raw_prompt) -> None:
    backend = OllamaBackend(OllamaOptions(url=doomed.url, token=doomed.token))
    await backend.start()
    try:
        stream = backend.fim(long_raw_prompt.prompt, SamplingParams(max_tokens=LONG, temperature=0))
        message = await dies_mid_stream(stream, doomed)
        assert GONE.search(message), message
        assert "ollama ps" in message
        assert backend.in_flight() == {"fim": 0, "chat": 0}

        after = backend.chat([ChatMessage("user", "hi")], SamplingParams(max_tokens=4))
        with pytest.raises(BackendUnavailableError, match="cannot connect"):
            await asyncio.wait_for(after.text(), NEVER_HANG_S)
    finally:
        await backend.close()
