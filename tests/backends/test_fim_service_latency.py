"""FimService latency rules on real backends: the time budget counts generation only, a cut by
the clock still shows what it can, and a superseded request is answered at once."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from daemon.backends.fallback import Candidate, FallbackBackend
from daemon.backends.llama import LlamaBackend, LlamaOptions
from daemon.backends.ollama import OllamaBackend, OllamaOptions
from daemon.config import FimSettings
from daemon.services.fim import FimRequest, FimService, complete_lines
from fim import QWEN25_CODER

pytestmark = pytest.mark.asyncio

SAFETY_S = 60  # only so that a regression fails instead of hanging the suite


async def test_the_time_budget_starts_at_the_first_token(tiny_model, endless) -> None:
    backend = LlamaBackend(LlamaOptions(model_path=tiny_model.gguf_path, n_ctx=4096))
    await backend.start()
    try:
        # 1 ms could not even cover the prompt's evaluation; counted from the first token it
        # still lets that token through.
        settings = replace(FimSettings(), cache_size=0, time_budget_ms=1)
        service = FimService(backend, QWEN25_CODER, settings, 4096)
        prefix = "".join(f"x{i} = {i}\n" for i in range(80)) + "y = "
        request = FimRequest(prefix=prefix, suffix="\n", max_tokens=2000, logit_bias=endless)
        result = await service.complete(request)
    finally:
        await backend.close()
    assert result.stats.prompt_tokens > 300
    assert result.stats.completion_tokens >= 1
    assert result.raw_text  # the unfinished single line is kept: post-processing decides


async def test_a_clock_cut_keeps_complete_lines_or_else_the_partial_first_line() -> None:
    assert complete_lines("print x") == "print x"
    assert complete_lines("a = 1\nb = ") == "a = 1\n"
    assert complete_lines("\n  b = 2") == "\n  b = 2"  # the only complete line is blank
    assert complete_lines("") == ""


async def _ollama_service(fake_ollama) -> tuple[FimService, FallbackBackend]:
    fake_ollama.add_model("bbj-coder", num_ctx=4096, template="{{ .Prompt }}")
    chain = FallbackBackend(
        [Candidate("ollama", lambda: OllamaBackend(OllamaOptions(url=fake_ollama.url)))]
    )
    await chain.start()
    settings = replace(FimSettings(), cache_size=0, time_budget_ms=600_000)
    return FimService(chain, QWEN25_CODER, settings, 4096), chain


async def test_a_superseded_request_is_answered_while_the_newer_one_runs(fake_ollama) -> None:
    # The fake streams "tok " until the caller hangs up and the budget is ten minutes: only
    # supersession can end the first request, and only the relay's answer can end it at once.
    service, chain = await _ollama_service(fake_ollama)
    try:
        older = asyncio.create_task(
            service.complete(FimRequest(prefix="x = ", suffix="\n", max_tokens=2000))
        )
        while not fake_ollama.generation_started.is_set():
            await asyncio.sleep(0.01)
        newer = asyncio.create_task(
            service.complete(FimRequest(prefix="x = 1", suffix="\n", max_tokens=2000))
        )
        done, _ = await asyncio.wait(
            {older, newer}, timeout=SAFETY_S, return_when="FIRST_COMPLETED"
        )
        assert done == {older}  # answered first, and while the newer request still runs
        result = older.result()
        assert result.superseded and result.text == ""
        newer.cancel()
    finally:
        await chain.close()


async def test_the_fallback_relay_ends_its_stream_when_the_reader_cancels(fake_ollama) -> None:
    service, chain = await _ollama_service(fake_ollama)
    try:
        stream = chain.fim(QWEN25_CODER.render("x = ", "\n"), service._params(FimRequest("", "")))
        iterator = aiter(stream)
        await anext(iterator)
        stream.cancel()  # as a disconnecting client's route does: no supersede() here
        rest = await asyncio.wait_for(_rest(iterator), timeout=SAFETY_S)
        assert len(rest) < 1000  # it ended instead of relaying the whole filler
    finally:
        await chain.close()


async def _rest(iterator) -> list[str]:
    return [chunk async for chunk in iterator]


async def test_a_cached_answer_after_a_context_change_warms_the_kv(tiny_model) -> None:
    from fim import ContextFile

    backend = LlamaBackend(LlamaOptions(model_path=tiny_model.gguf_path, n_ctx=4096))
    await backend.start()
    try:
        service = FimService(backend, QWEN25_CODER, replace(FimSettings(), cache_size=8), 4096)
        old = (ContextFile("a.bbj", "rem old context\n" * 20),)
        new = (ContextFile("b.bbj", "".join(f"rem new context {i}\n" for i in range(20))),)
        prefix, suffix = "rem typing\nx = ", "\nend\n"
        first = await service.complete(
            FimRequest(prefix=prefix, suffix=suffix, context=old, max_tokens=4, logit_bias=())
        )
        if not first.text:
            pytest.skip("the tiny model wrote nothing showable here; nothing was cached")
        hit = await service.complete(FimRequest(prefix=prefix, suffix=suffix, context=new))
        assert hit.cached
        assert service.warmer.task is not None
        await service.warmer.task  # the user pauses
        typed = await service.complete(
            FimRequest(prefix=prefix + "y", suffix=suffix, context=new, max_tokens=1)
        )
        assert not typed.cached
        evaluated = typed.stats.prompt_tokens - typed.stats.cached_tokens
        assert typed.stats.prompt_tokens > 200
        assert evaluated <= 12, typed.stats
    finally:
        await backend.close()
