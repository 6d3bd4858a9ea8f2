"""The official ollama client against the real daemon (Continue's `provider: ollama` path)."""

from __future__ import annotations

import ollama
import pytest


@pytest.fixture(scope="module")
def client(daemon) -> ollama.Client:
    return ollama.Client(host=daemon.url, headers=daemon.headers)


def test_list_shows_the_model(client: ollama.Client) -> None:
    names = [m.model for m in client.list().models]
    assert "bbj-coder:latest" in names


def test_show_advertises_fim_template_and_model_info(client: ollama.Client) -> None:
    shown = client.show("bbj-coder")
    assert "{{ .Suffix }}" in shown.template
    assert shown.modelinfo is not None and "general.architecture" in shown.modelinfo
    assert "num_ctx" in shown.parameters
    assert "insert" in (shown.capabilities or [])


def test_generate_with_suffix(client: ollama.Client) -> None:
    result = client.generate(
        model="bbj-coder",
        prompt="for i = 1 to 10\n  ",
        suffix="\nnext i\n",
        options={"num_predict": 16, "temperature": 0},
    )
    assert result.done
    assert result.done_reason in ("stop", "length")
    assert result.eval_count is not None and result.eval_count <= 16
    again = client.generate(
        model="bbj-coder",
        prompt="for i = 1 to 10\n  ",
        suffix="\nnext i\n",
        options={"num_predict": 16, "temperature": 0},
    )
    assert again.response == result.response


def test_generate_with_suffix_streaming(client: ollama.Client) -> None:
    whole = client.generate(
        model="bbj-coder",
        prompt="x$ = ",
        suffix="\nprint x$\n",
        options={"num_predict": 12, "temperature": 0},
    ).response
    parts = list(
        client.generate(
            model="bbj-coder",
            prompt="x$ = ",
            suffix="\nprint x$\n",
            options={"num_predict": 12, "temperature": 0},
            stream=True,
        )
    )
    assert parts[-1].done
    assert "".join(p.response for p in parts) == whole


def test_chat(client: ollama.Client) -> None:
    result = client.chat(
        model="bbj-coder", messages=[{"role": "user", "content": "hi"}], options={"num_predict": 8}
    )
    assert result.message.role == "assistant"
    assert result.done


def test_chat_streaming_every_line_has_a_message(client: ollama.Client) -> None:
    parts = list(
        client.chat(
            model="bbj-coder",
            messages=[{"role": "user", "content": "hi"}],
            options={"num_predict": 8},
            stream=True,
        )
    )
    assert parts[-1].done
    assert all(p.message is not None for p in parts)


def test_unknown_model(client: ollama.Client) -> None:
    with pytest.raises(ollama.ResponseError) as info:
        client.generate(model="llama3", prompt="hi")
    assert info.value.status_code == 404
