"""A reader leaving a stream early stops the generation upstream, not just the local relay.

The upstream is the real daemon, asked for a generation known to run long undisturbed (logit_bias
banning every stop for the OpenAI route; a probed prompt for Ollama's, which has no logit_bias).
Each test times a short undisturbed generation first (the machine may be busy with other work,
so the pace is measured, not assumed), then reads one chunk of the long one, leaves, and requires
the daemon's running-generations gauge to drop long before the rest could have been written.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from daemon.backends.base import ChatMessage, SamplingParams, TextStream
from daemon.backends.ollama import OllamaBackend, OllamaOptions
from daemon.backends.openai_upstream import OpenAIOptions, OpenAIUpstreamBackend
from tests.backends.conftest import LONG, running

pytestmark = pytest.mark.asyncio

IDLE = {"fim": 0, "chat": 0}
PACE_TOKENS = 300


async def seconds_per_token(stream: TextStream) -> float:
    """The pace of an undisturbed generation of PACE_TOKENS tokens, prompt and HTTP included."""
    started = time.perf_counter()
    await stream.text()
    assert stream.stats.completion_tokens == PACE_TOKENS  # precondition: no early stop
    return (time.perf_counter() - started) / PACE_TOKENS


async def collect(iterator: AsyncIterator[str]) -> list[str]:
    return [chunk async for chunk in iterator]


async def idle_after_leaving(
    stream: TextStream, http: httpx.AsyncClient, lane: str, limit: float
) -> float:
    """Read one chunk, leave, and return how long the daemon's ``lane`` stayed busy."""
    iterator = aiter(stream)
    await anext(iterator)
    assert await running(http, lane) == 1  # the gauge does show this generation
    left = time.perf_counter()
    await iterator.aclose()  # the reader leaves, as a disconnecting client's relay does
    while await running(http, lane) and time.perf_counter() - left < limit:
        await asyncio.sleep(0.01)
    return time.perf_counter() - left


async def test_leaving_an_openai_stream_stops_the_upstream(daemon, endless) -> None:
    backend = OpenAIUpstreamBackend(
        OpenAIOptions(base_url=f"{daemon.url}/v1", api_key=daemon.token)
    )
    await backend.start()
    messages = [ChatMessage("user", "Write a long program.")]
    # With every stop token banned the tiny model writes all max_tokens.
    pace = SamplingParams(max_tokens=PACE_TOKENS, temperature=0, logit_bias=endless)
    long = SamplingParams(max_tokens=LONG, temperature=0, logit_bias=endless)
    try:
        rest_s = await seconds_per_token(backend.chat(messages, pace)) * (LONG - 1)
        stream = backend.chat(messages, long)
        async with httpx.AsyncClient(base_url=daemon.url, headers=daemon.headers) as http:
            busy_s = await idle_after_leaving(stream, http, "chat", limit=rest_s)
        assert busy_s < rest_s / 4, f"still busy {busy_s:.2f}s after leaving ({rest_s:.2f}s)"
        assert stream.stats.finish_reason == "cancelled"
        assert backend.in_flight() == IDLE
    finally:
        await backend.close()


async def test_leaving_an_ollama_stream_stops_the_upstream(daemon, long_raw_prompt) -> None:
    backend = OllamaBackend(OllamaOptions(url=daemon.url, token=daemon.token))
    await backend.start()
    prompt, tokens = long_raw_prompt.prompt, long_raw_prompt.tokens
    pace = SamplingParams(max_tokens=PACE_TOKENS, temperature=0)
    try:
        rest_s = await seconds_per_token(backend.fim(prompt, pace)) * (tokens - 1)
        stream = backend.fim(prompt, SamplingParams(max_tokens=LONG, temperature=0))
        async with httpx.AsyncClient(base_url=daemon.url, headers=daemon.headers) as http:
            busy_s = await idle_after_leaving(stream, http, "fim", limit=rest_s)
        assert busy_s < rest_s / 4, f"still busy {busy_s:.2f}s after leaving ({rest_s:.2f}s)"
        assert stream.stats.finish_reason == "cancelled"
        assert backend.in_flight() == IDLE
    finally:
        await backend.close()


@pytest.mark.parametrize("lane", ["fim", "chat"])
async def test_cancelling_closes_the_ollama_connection(fake_ollama, lane: str) -> None:
    fake_ollama.add_model("bbj-coder")
    backend = OllamaBackend(OllamaOptions(url=fake_ollama.url))
    await backend.start()
    try:
        params = SamplingParams(max_tokens=LONG)
        stream = (
            backend.fim("x", params)
            if lane == "fim"
            else backend.chat([ChatMessage("user", "hi")], params)
        )
        iterator = aiter(stream)
        await anext(iterator)
        assert backend.in_flight()[lane] == 1
        stream.cancel()  # e.g. a newer FIM request superseded this one
        assert await asyncio.to_thread(fake_ollama.generation_abandoned.wait, 5)
        assert fake_ollama.filler_sent < 100  # of the 5000 lines it would have sent
        rest = await asyncio.wait_for(collect(iterator), 10)  # a cancelled stream ends
        assert len(rest) < 100
        assert backend.in_flight() == IDLE
    finally:
        await backend.close()
