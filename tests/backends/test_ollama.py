"""The Ollama backend against servers that speak Ollama's API: the real daemon (its ``/api``)
and, for what the daemon cannot do on cue, the stand-in."""

from __future__ import annotations

import asyncio

import pytest
from tokenizers import Tokenizer

from daemon.backends.base import Backend, ChatMessage, SamplingParams
from daemon.backends.ollama import OllamaBackend, OllamaOptions
from daemon.errors import BackendUnavailableError, ModelNotFoundError, PromptTooLongError
from fim import QWEN25_CODER
from tests.conftest import free_port

pytestmark = pytest.mark.asyncio


def on_daemon(daemon, **options) -> OllamaBackend:
    return OllamaBackend(OllamaOptions(url=daemon.url, token=daemon.token, **options))


async def started(backend: OllamaBackend) -> OllamaBackend:
    await backend.start()
    return backend


async def test_start_learns_the_context_window_and_info_is_sane(daemon) -> None:
    backend = await started(on_daemon(daemon, context_length=1024))
    try:
        assert isinstance(backend, Backend)
        info = backend.info()
        assert info.name == "ollama"
        assert info.model_name == "bbj-coder"
        assert info.context_length == 8192  # from /api/show's num_ctx, not the 1024 default
        assert info.fim_format == "qwen2.5-coder"  # found in the model's template
        assert info.quant == "F16"
        assert backend.in_flight() == {"fim": 0, "chat": 0}
        assert "token" not in repr(info.details).lower()
    finally:
        await backend.close()


async def test_fim_streams_a_raw_prompt_and_fills_the_stats(daemon) -> None:
    backend = await started(on_daemon(daemon))
    try:
        stream = backend.fim("rem hello\n", SamplingParams(max_tokens=16, temperature=0))
        chunks = [chunk async for chunk in stream]
        stats = stream.stats
        assert "".join(chunks)
        assert 1 <= stats.completion_tokens <= 16
        assert stats.prompt_tokens >= 1
        assert stats.eval_s > 0
        assert stats.finish_reason in ("stop", "length")
        assert backend.in_flight() == {"fim": 0, "chat": 0}
    finally:
        await backend.close()


async def test_a_rendered_fim_prompt_reaches_the_fim_pipeline(daemon) -> None:
    backend = await started(on_daemon(daemon))
    try:
        prompt = QWEN25_CODER.render("rem ollama fim\nx = ", "\nprint x\n")
        stream = backend.fim(prompt, SamplingParams(max_tokens=8, temperature=0))
        await stream.text()
        assert stream.stats.prompt_tokens > 0  # counted by the upstream, not echoed by us
    finally:
        await backend.close()


async def test_chat_streams_an_answer(daemon) -> None:
    backend = await started(on_daemon(daemon))
    try:
        stream = backend.chat(
            [ChatMessage("user", "Say hello in BBj.")], SamplingParams(max_tokens=12)
        )
        text = await stream.text()
        assert text
        assert stream.stats.completion_tokens >= 1
        assert stream.stats.prompt_tokens > 0
    finally:
        await backend.close()


async def test_an_unreachable_ollama_is_a_sentence() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    backend = OllamaBackend(OllamaOptions(url=url))
    with pytest.raises(BackendUnavailableError, match="not reachable") as caught:
        await backend.start()
    await backend.close()
    assert url in str(caught.value)
    assert "ollama serve" in str(caught.value)


async def test_a_refused_token_is_a_sentence(daemon) -> None:
    backend = OllamaBackend(OllamaOptions(url=daemon.url, token="wrong"))
    with pytest.raises(BackendUnavailableError, match="refused our credentials"):
        await backend.start()
    await backend.close()


async def test_a_missing_model_names_the_models_ollama_has(daemon) -> None:
    backend = on_daemon(daemon, model="no-such-model")
    with pytest.raises(ModelNotFoundError) as caught:
        await backend.start()
    await backend.close()
    message = str(caught.value)
    assert "'no-such-model'" in message
    assert "bbj-coder:latest" in message
    assert "push-ollama" in message


async def test_token_counts_are_exact_with_the_local_gguf(daemon, tiny_model) -> None:
    backend = await started(on_daemon(daemon, gguf_path=tiny_model.gguf_path))
    tokenizer = Tokenizer.from_file(str(tiny_model.tokenizer_path))
    text = 'rem count me\nfor i = 1 to 10\n  print "i=", i\nnext i\n'
    try:
        exact = len(tokenizer.encode(text, add_special_tokens=False).ids)
        assert backend.count_tokens(text) == exact
    finally:
        await backend.close()


async def test_without_a_vocabulary_counts_are_estimates(daemon, tmp_path) -> None:
    unreadable = tmp_path / "missing.gguf"
    backend = await started(on_daemon(daemon, gguf_path=unreadable))
    try:
        short, longer = backend.count_tokens("print 1"), backend.count_tokens("print 1\n" * 50)
        assert 0 < short < longer
        assert longer >= len("print 1\n" * 50) // 3
    finally:
        await backend.close()


async def test_a_prompt_that_cannot_fit_is_refused_at_once(daemon, tiny_model) -> None:
    backend = await started(on_daemon(daemon, gguf_path=tiny_model.gguf_path))
    try:
        with pytest.raises(PromptTooLongError, match="8192"):
            backend.fim("print 1\n" * 5000, SamplingParams(max_tokens=4))
        assert backend.in_flight() == {"fim": 0, "chat": 0}
    finally:
        await backend.close()


# against the stand-in -----------------------------------------------------------------------
async def fake_backend(fake, **options) -> OllamaBackend:
    fake.add_model("bbj-coder", num_ctx=2048, template="{{ .Prompt }}")
    return await started(OllamaBackend(OllamaOptions(url=fake.url, **options)))


async def test_every_request_keeps_the_model_loaded_and_the_context_fixed(fake_ollama) -> None:
    fake_ollama.script = [{"response": "a", "done": True, "done_reason": "stop"}]
    backend = await fake_backend(fake_ollama, keep_alive="45m", fim_format=QWEN25_CODER)
    try:
        prompt = QWEN25_CODER.render("x = ", "\n")
        await backend.fim(prompt, SamplingParams(max_tokens=5, seed=7)).text()
        await backend.chat([ChatMessage("user", "hi")], SamplingParams(max_tokens=5)).text()
    finally:
        await backend.close()
    (fim_path, fim), (chat_path, chat) = fake_ollama.requests
    assert (fim_path, chat_path) == ("/api/generate", "/api/chat")
    assert fim["prompt"] == prompt and fim["raw"] is True and "suffix" not in fim
    assert fim["options"]["num_predict"] == 5 and fim["options"]["seed"] == 7
    assert "<|fim_prefix|>" in fim["options"]["stop"]
    assert chat["messages"] == [{"role": "user", "content": "hi"}]
    for body in (fim, chat):
        assert body["keep_alive"] == "45m"
        assert body["options"]["num_ctx"] == 2048
        assert body["stream"] is True


async def test_an_error_line_ends_the_stream_with_its_message(fake_ollama) -> None:
    fake_ollama.script = [{"response": "par", "done": False}, {"error": "model runner crashed"}]
    backend = await fake_backend(fake_ollama)
    try:
        stream = backend.fim("x", SamplingParams(max_tokens=5))
        chunks = []
        with pytest.raises(BackendUnavailableError, match="model runner crashed"):
            async for chunk in stream:
                chunks.append(chunk)
        assert chunks == ["par"]
        assert backend.in_flight()["fim"] == 0
    finally:
        await backend.close()


async def test_a_stop_token_in_the_text_ends_generation_upstream(fake_ollama) -> None:
    fake_ollama.script = [
        {"response": "print 1", "done": False},
        {"response": "<|endo", "done": False},
        {"response": "ftext|>rem never", "done": False},
    ]
    backend = await fake_backend(fake_ollama, fim_format=QWEN25_CODER)
    try:
        stream = backend.fim("x", SamplingParams(max_tokens=500))
        assert await stream.text() == "print 1"
        assert stream.stats.finish_reason == "stop"
        assert await asyncio.to_thread(fake_ollama.generation_abandoned.wait, 5)
        assert fake_ollama.filler_sent < 50
    finally:
        await backend.close()
