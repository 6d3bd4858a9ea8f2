"""Issue #17 item 7: a team server that stalls mid-answer fails the answer after
``backend.upstream_read_timeout_s``, and FIM still answers within its time budget."""

from __future__ import annotations

import asyncio
import dataclasses
import signal
from collections.abc import Iterator

import pytest

from daemon.backends.base import ChatMessage, SamplingParams
from daemon.backends.factory import build_backend
from daemon.backends.openai_upstream import OpenAIOptions, OpenAIUpstreamBackend
from daemon.config import Config
from daemon.config.sections import BackendSettings, FimSettings
from daemon.errors import BackendUnavailableError
from daemon.services.fim import FimRequest, FimService
from fim import format_by_name
from tests.backends.conftest import LONG
from tests.conftest import RunningDaemon

pytestmark = pytest.mark.asyncio
NEVER_HANG_S = 30  # well under the old fixed 60 s read timeout


@pytest.fixture
def stallable(upstream: RunningDaemon) -> Iterator[RunningDaemon]:
    yield upstream
    upstream.process.send_signal(signal.SIGCONT)  # before it is stopped


async def test_a_stalled_upstream_fails_after_the_read_timeout(stallable, endless) -> None:
    backend = OpenAIUpstreamBackend(
        OpenAIOptions(base_url=f"{stallable.url}/v1", api_key=stallable.token, read_timeout_s=1.0)
    )
    await backend.start()
    try:
        stream = backend.chat(
            [ChatMessage("user", "Write a long program.")],
            SamplingParams(max_tokens=LONG, logit_bias=endless),
        )
        iterator = aiter(stream)
        await anext(iterator)
        stallable.process.send_signal(signal.SIGSTOP)

        async def drain() -> None:
            async for _ in iterator:
                pass

        with pytest.raises(BackendUnavailableError, match="read timeout"):
            await asyncio.wait_for(drain(), NEVER_HANG_S)
    finally:
        stallable.process.send_signal(signal.SIGCONT)
        await backend.close()


async def test_fim_on_a_stalled_upstream_answers_within_its_budget(stallable, endless) -> None:
    backend = OpenAIUpstreamBackend(
        OpenAIOptions(
            base_url=f"{stallable.url}/v1",
            api_key=stallable.token,
            fim_format=format_by_name("qwen2.5-coder"),
            context_length=8192,
        )
    )
    await backend.start()
    try:
        settings = dataclasses.replace(FimSettings(), time_budget_ms=1500, cache_size=0)
        service = FimService(backend, format_by_name("qwen2.5-coder"), settings, 8192)
        stallable.process.send_signal(signal.SIGSTOP)
        request = FimRequest(prefix="x = ", suffix="\n", client="t", max_tokens=LONG)
        result = await asyncio.wait_for(service.complete(request), NEVER_HANG_S)
        assert result.text == ""
    finally:
        stallable.process.send_signal(signal.SIGCONT)
        await backend.close()


async def test_the_read_timeout_comes_from_the_config() -> None:
    config = Config(
        backend=BackendSettings(
            kind="openai", upstream_url="http://127.0.0.1:9/v1", upstream_read_timeout_s=7.5
        )
    )
    backend = build_backend(config, "m", None)
    assert isinstance(backend, OpenAIUpstreamBackend)
    assert backend.options.read_timeout_s == 7.5
