"""The official openai client against the real daemon (Continue's `provider: openai` path)."""

from __future__ import annotations

import openai
import pytest

from fim import QWEN25_CODER, STARCODER2

PREFIX = "class public Greeter\n  method public void greet(BBjString name$)\n    "
SUFFIX = "\n  methodend\nclassend\n"


@pytest.fixture(scope="module")
def client(daemon) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{daemon.url}/v1", api_key=daemon.token, max_retries=0)


def test_models_list_names_the_served_model(client: openai.OpenAI) -> None:
    ids = [m.id for m in client.models.list().data]
    assert "bbj-coder" in ids
    assert len(ids) >= 2


def test_templated_fim_prompt_is_split_and_completed(client: openai.OpenAI, daemon) -> None:
    prompt = QWEN25_CODER.render(PREFIX, SUFFIX)
    result = client.completions.create(
        model="bbj-coder",
        prompt=prompt,
        max_tokens=24,
        temperature=0,
        stop=["<|endoftext|>", "\n\n"],
    )
    text = result.choices[0].text
    assert "<|fim" not in text
    assert result.choices[0].finish_reason in ("stop", "length")
    assert result.usage is not None and result.usage.prompt_tokens > 0
    # The daemon re-rendered the prompt itself, so the same request twice is deterministic.
    again = client.completions.create(
        model="bbj-coder",
        prompt=prompt,
        max_tokens=24,
        temperature=0,
        stop=["<|endoftext|>", "\n\n"],
    )
    assert again.choices[0].text == text


def test_starcoder_style_prompt_is_recognised_as_fim(client: openai.OpenAI) -> None:
    prompt = STARCODER2.render(PREFIX, SUFFIX)
    plain = QWEN25_CODER.render(PREFIX, SUFFIX)
    a = client.completions.create(model="bbj-coder", prompt=prompt, max_tokens=16, temperature=0)
    b = client.completions.create(model="bbj-coder", prompt=plain, max_tokens=16, temperature=0)
    # Both styles are split back into the same prefix/suffix and run through the same pipeline.
    assert a.choices[0].text == b.choices[0].text


def test_suffix_means_fim(client: openai.OpenAI) -> None:
    with_suffix = client.completions.create(
        model="bbj-coder", prompt=PREFIX, suffix=SUFFIX, max_tokens=16, temperature=0
    )
    templated = client.completions.create(
        model="bbj-coder", prompt=QWEN25_CODER.render(PREFIX, SUFFIX), max_tokens=16, temperature=0
    )
    assert with_suffix.choices[0].text == templated.choices[0].text


def test_streaming_fim_matches_non_streaming(client: openai.OpenAI) -> None:
    prompt = QWEN25_CODER.render(PREFIX, SUFFIX)
    whole = (
        client.completions.create(model="bbj-coder", prompt=prompt, max_tokens=16, temperature=0)
        .choices[0]
        .text
    )
    chunks = list(
        client.completions.create(
            model="bbj-coder", prompt=prompt, max_tokens=16, temperature=0, stream=True
        )
    )
    assert "".join(c.choices[0].text for c in chunks if c.choices) == whole
    assert chunks[-1].choices[0].finish_reason in ("stop", "length")


def test_chat_non_streaming(client: openai.OpenAI) -> None:
    result = client.chat.completions.create(
        model="bbj-coder",
        max_tokens=12,
        temperature=0,
        messages=[{"role": "user", "content": "Write a BBj loop that prints 1 to 3."}],
    )
    message = result.choices[0].message
    assert message.role == "assistant"
    assert isinstance(message.content, str) and message.content
    assert result.usage.completion_tokens <= 12


def test_chat_streaming_with_usage(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="bbj-coder",
        max_tokens=10,
        temperature=0,
        stream=True,
        stream_options={"include_usage": True},
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hello"}],
    )
    chunks = list(stream)
    deltas = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert deltas
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens <= 10
    finals = [
        c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason
    ]
    assert finals == ["length"] or finals == ["stop"]


def test_chat_accepts_and_ignores_tools(client: openai.OpenAI) -> None:
    tool = {"type": "function", "function": {"name": "noop", "parameters": {"type": "object"}}}
    result = client.chat.completions.create(
        model="bbj-coder", max_tokens=4, tools=[tool], messages=[{"role": "user", "content": "hi"}]
    )
    assert result.choices[0].message.content is not None


def test_unknown_model_is_404(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError, match="not found"):
        client.chat.completions.create(
            model="gpt-4o", max_tokens=4, messages=[{"role": "user", "content": "hi"}]
        )
