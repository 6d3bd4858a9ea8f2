"""The embedded runtime: one copy of the weights, FIM before chat, prompts cancellable mid-way.

Everything runs the real llama.cpp on the tiny test model; token counts are the tokens really
handed to ``llama_decode``.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from dataclasses import replace

import pytest

from daemon.backends.base import ChatMessage, PromptLookup, SamplingParams, TextStream
from daemon.backends.llama import LlamaBackend, LlamaOptions
from daemon.backends.llama.engine import FIM_SEQ, PROMPT_CHUNK
from daemon.errors import BackendUnavailableError
from fim import QWEN25_CODER
from tests.backends.conftest import LONG

pytestmark = pytest.mark.asyncio

LONG_PREFIX = "".join(f"x{i} = {i} * {i}\n" for i in range(60))  # several PROMPT_CHUNKs


async def started(tiny_model, n_ctx: int = 4096) -> LlamaBackend:
    backend = LlamaBackend(LlamaOptions(model_path=tiny_model.gguf_path, n_ctx=n_ctx))
    await backend.start()
    return backend


async def test_fim_and_chat_share_one_loaded_model(tiny_model, monkeypatch) -> None:
    from llama_cpp import llama_cpp  # the bindings module every loader calls through

    loads: list[object] = []
    real_load = llama_cpp.llama_model_load_from_file

    def counting_load(*args: object) -> object:
        loads.append(args)
        return real_load(*args)

    monkeypatch.setattr(llama_cpp, "llama_model_load_from_file", counting_load)
    backend = await started(tiny_model)
    try:
        chat = backend.chat([ChatMessage("user", "hi")], SamplingParams(max_tokens=4))
        await chat.text()
        fim = backend.fim(QWEN25_CODER.render("x = ", "\n"), SamplingParams(max_tokens=4))
        await fim.text()
    finally:
        await backend.close()
    assert len(loads) == 1


async def test_cancelling_mid_prompt_stops_after_the_chunk_being_evaluated(tiny_model) -> None:
    backend = await started(tiny_model)
    try:
        engine = backend._engine
        tokens = backend.encode(QWEN25_CODER.render(LONG_PREFIX, "\n"))
        assert len(tokens) > 3 * PROMPT_CHUNK  # precondition: several chunks
        before = engine.evaluated
        cancelled = threading.Event()
        # The worker is idle, so the test may drive the engine's steps itself.
        steps = engine.evaluate(FIM_SEQ, tokens, cancelled)
        next(steps)  # the first chunk is decoded
        cancelled.set()
        with pytest.raises(StopIteration) as stop:
            next(steps)
        assert stop.value.value is None  # reported as cancelled
        assert engine.evaluated - before == PROMPT_CHUNK
        assert len(engine.cached(FIM_SEQ)) == PROMPT_CHUNK  # the KV holds what was evaluated
    finally:
        await backend.close()


async def test_a_request_cancelled_while_queued_evaluates_nothing(tiny_model, endless) -> None:
    backend = await started(tiny_model)
    try:
        blocker = backend.fim(
            QWEN25_CODER.render("x = ", "\n"),
            SamplingParams(max_tokens=LONG, temperature=0, logit_bias=endless),
        )
        iterator = aiter(blocker)
        await anext(iterator)  # the worker is busy with it
        queued = backend.fim(QWEN25_CODER.render(LONG_PREFIX, "\n"), SamplingParams(max_tokens=4))
        queued.cancel()
        await iterator.aclose()
        await queued.text()
        assert queued.stats.finish_reason == "cancelled"
        assert queued.stats.completion_tokens == 0
        assert queued.stats.prompt_eval_s == 0.0  # its prompt never reached llama.cpp
    finally:
        await backend.close()


async def test_fim_runs_between_the_tokens_of_a_long_chat(tiny_model, endless) -> None:
    backend = await started(tiny_model)
    try:
        chat = backend.chat(
            [ChatMessage("user", "Write a long program.")],
            SamplingParams(max_tokens=LONG, temperature=0, logit_bias=endless),
        )
        chat_iter = aiter(chat)
        await anext(chat_iter)  # the chat is generating
        fim = backend.fim(QWEN25_CODER.render("x = ", "\n"), SamplingParams(max_tokens=8))
        await fim.text()
        # The completion is done while the chat is still far from its end.
        assert chat.stats.completion_tokens < LONG // 2
        assert backend.in_flight()["chat"] == 1
        assert fim.stats.completion_tokens >= 1 or fim.stats.finish_reason == "stop"
        await chat_iter.aclose()
    finally:
        await backend.close()


async def test_a_chat_keeps_the_fim_prompt_cached(tiny_model) -> None:
    backend = await started(tiny_model)
    try:
        first = backend.fim(QWEN25_CODER.render(LONG_PREFIX, "\n"), SamplingParams(max_tokens=1))
        await first.text()
        chat = backend.chat([ChatMessage("user", "hello " * 200)], SamplingParams(max_tokens=4))
        await chat.text()
        again = backend.fim(
            QWEN25_CODER.render(LONG_PREFIX + "y", "\n"), SamplingParams(max_tokens=1)
        )
        await again.text()
        assert again.stats.prompt_tokens - again.stats.cached_tokens <= 8, again.stats
    finally:
        await backend.close()


async def test_unload_answers_queued_requests(tiny_model, endless) -> None:
    backend = await started(tiny_model)
    blocker = backend.fim(
        QWEN25_CODER.render("x = ", "\n"),
        SamplingParams(max_tokens=LONG, temperature=0, logit_bias=endless),
    )
    queued = backend.fim(QWEN25_CODER.render("y = ", "\n"), SamplingParams(max_tokens=4))
    await anext(aiter(blocker))
    await backend.close()
    for stream in (blocker, queued):
        await asyncio.wait_for(_drain(stream), timeout=60)


async def _drain(stream: TextStream) -> None:
    with contextlib.suppress(BackendUnavailableError):  # what an unload may end it with
        await stream.text()


async def test_each_distinct_text_is_tokenised_once(tiny_model, monkeypatch) -> None:
    backend = await started(tiny_model)
    try:
        engine = backend._engine
        calls: list[str] = []
        real = engine.tokenize

        def counting(text: str, special: bool) -> list[int]:
            calls.append(text)
            return real(text, special)

        monkeypatch.setattr(engine, "tokenize", counting)
        prefix, suffix = "x = 1\nprint x\ny = ", "\nend\n"
        backend.count_tokens(prefix)  # as prompt assembly does
        backend.count_tokens(suffix)
        tokens = backend.encode(QWEN25_CODER.render(prefix, suffix))
        assert calls == [prefix, suffix]
        assert tokens == backend.encode(QWEN25_CODER.render(prefix, suffix))
    finally:
        await backend.close()


LONG_SUFFIX = "".join(f"  print {i}\n" for i in range(60)) + "end\n"


async def _evaluated(
    backend: LlamaBackend, prefix: str, suffix: str, tokens: int = 1
) -> tuple[int, int]:
    """(prompt tokens, tokens llama.cpp decoded for the prompt) of a completion."""
    before = backend._engine.evaluated
    stream = backend.fim(QWEN25_CODER.render(prefix, suffix), SamplingParams(max_tokens=tokens))
    await stream.text()
    generated = stream.stats.completion_tokens
    return stream.stats.prompt_tokens, backend._engine.evaluated - before - max(0, generated - 1)


@pytest.mark.parametrize("edit", ["x = 1Q", "x = "], ids=["typed", "deleted"])
async def test_a_keystroke_shifts_the_unchanged_suffix_instead_of_decoding_it(
    tiny_model, edit
) -> None:
    backend = await started(tiny_model)
    try:
        # The first completion's generated tokens sit in the KV after its prompt.
        prompt_tokens, first = await _evaluated(backend, "rem start\nx = 1", LONG_SUFFIX, 8)
        assert first == prompt_tokens  # precondition: a cold prompt is decoded in full
        assert backend.count_tokens(LONG_SUFFIX) > 100
        _, again = await _evaluated(backend, "rem start\n" + edit, LONG_SUFFIX)
        assert again <= 12
        assert (
            list(backend._engine.cached(FIM_SEQ)[:-1])
            == backend.encode(QWEN25_CODER.render("rem start\n" + edit, LONG_SUFFIX))[
                : len(backend._engine.cached(FIM_SEQ)) - 1
            ]
        )
    finally:
        await backend.close()


async def test_a_shift_cancelled_half_way_keeps_the_suffix_for_the_next_prompt(tiny_model) -> None:
    backend = await started(tiny_model)
    try:
        engine = backend._engine
        await _evaluated(backend, "x = 1", LONG_SUFFIX)
        inserted = "x = 1" + "".join(f"\ny{i} = {i}" for i in range(60))
        tokens = backend.encode(QWEN25_CODER.render(inserted, LONG_SUFFIX))
        cancelled = threading.Event()
        steps = engine.evaluate(FIM_SEQ, tokens, cancelled)
        next(steps)  # the first chunk of the inserted middle
        cancelled.set()
        with pytest.raises(StopIteration):
            next(steps)
        from llama_cpp import llama_cpp

        cached = list(engine.cached(FIM_SEQ))
        # What was decoded, then the parked suffix put back right after it: no gap.
        assert llama_cpp.llama_memory_seq_pos_max(engine.ctx.memory, FIM_SEQ) == len(cached) - 1
        assert cached[-20:] == tokens[-21:-1]
        _, evaluated = await _evaluated(backend, inserted, LONG_SUFFIX)
        assert evaluated == len(tokens) - len(cached)  # the rest of the middle, and the end
    finally:
        await backend.close()


async def test_a_grammar_constrains_the_output(tiny_model) -> None:
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class WithGrammar(SamplingParams):  # main's SamplingParams has this field itself
        grammar: str | None = None

    backend = await started(tiny_model)
    try:
        params = WithGrammar(max_tokens=16, temperature=0.9, grammar='root ::= "yes" | "no"')
        texts = set()
        for seed in range(4):
            stream = backend.chat([ChatMessage("user", "ok?")], replace(params, seed=seed))
            texts.add(await stream.text())
    finally:
        await backend.close()
    assert texts <= {"yes", "no"} and texts


async def test_prompt_lookup_drafts_change_nothing_but_the_batching(tiny_model, endless) -> None:

    backend = await started(tiny_model)
    try:
        prompt = "".join(f"let a{i} = b{i}\n" for i in range(30)) * 2
        params = SamplingParams(max_tokens=60, temperature=0, logit_bias=endless)
        plain = await backend.edit(prompt, params).text()
        backend._engine.truncate(2, 0)  # the edit sequence starts cold again
        drafted = await backend.edit(prompt, params, PromptLookup(tokens=8, ngram=2)).text()
        # Both paths ran: drafts accepted and drafts rejected (12 of 13 on the tiny model).
        assert 0 < backend._engine.accepted < backend._engine.drafted
    finally:
        await backend.close()
    assert drafted == plain
