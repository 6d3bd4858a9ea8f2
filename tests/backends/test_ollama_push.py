"""Registering the local GGUF with Ollama (``/api/blobs`` + ``/api/create``), no Modelfile."""

from __future__ import annotations

import asyncio
import os
import re

import pytest

from daemon.backends.base import SamplingParams
from daemon.backends.ollama import OllamaBackend, OllamaOptions
from daemon.backends.ollama_push import push_command, push_to_ollama
from daemon.errors import BackendUnavailableError, ModelNotFoundError
from daemon.files import sha256_file
from daemon.models.store import ModelStore
from fim import CODELLAMA, QWEN25_CODER, FimFormat
from tests.conftest import free_port


def push(fake, gguf, name="bbj-coder", **kwargs) -> str:
    kwargs.setdefault("fim_format", QWEN25_CODER)
    kwargs.setdefault("num_ctx", 4096)
    return asyncio.run(push_to_ollama(fake.url, gguf, name, **kwargs))


def render_fim_branch(template: str, prefix: str, suffix: str) -> str:
    """What Ollama's template makes of a request with a suffix (its ``if .Suffix`` branch)."""
    branch = re.search(r"\{\{- if \.Suffix \}\}(.*?)\{\{-? else", template, re.S)
    assert branch, template
    return branch.group(1).replace("{{ .Prompt }}", prefix).replace("{{ .Suffix }}", suffix)


def test_first_push_uploads_and_creates_the_model(fake_ollama, tiny_model) -> None:
    gguf = tiny_model.gguf_path
    uploaded: list[int] = []
    assert push(fake_ollama, gguf, progress=uploaded.append) == "bbj-coder"
    digest = f"sha256:{sha256_file(gguf)}"
    assert fake_ollama.uploads == 1
    assert fake_ollama.blobs == {digest: gguf.stat().st_size}
    assert sum(uploaded) == gguf.stat().st_size
    create = fake_ollama.creates[-1]
    assert create["files"] == {gguf.name: digest}
    assert create["stream"] is False
    assert "bbj-coder:latest" in fake_ollama.models


def test_a_second_push_skips_the_upload(fake_ollama, tiny_model) -> None:
    push(fake_ollama, tiny_model.gguf_path)
    push(fake_ollama, tiny_model.gguf_path, name="bbj-coder-2")
    assert fake_ollama.uploads == 1
    assert fake_ollama.heads == 2
    assert {"bbj-coder:latest", "bbj-coder-2:latest"} <= set(fake_ollama.models)


def test_a_corrupted_upload_is_a_clear_error(fake_ollama, tiny_model) -> None:
    fake_ollama.corrupt_uploads = True
    with pytest.raises(BackendUnavailableError, match="does not match") as caught:
        push(fake_ollama, tiny_model.gguf_path)
    assert "import it again" in str(caught.value)
    assert fake_ollama.models == {}
    assert fake_ollama.creates == []


@pytest.mark.parametrize("fmt", [QWEN25_CODER, CODELLAMA], ids=lambda f: f.name)
def test_the_template_renders_our_fim_prompt(fake_ollama, tiny_model, fmt: FimFormat) -> None:
    push(fake_ollama, tiny_model.gguf_path, fim_format=fmt, num_ctx=6144)
    create = fake_ollama.creates[-1]
    template = create["template"]
    assert ".Suffix" in template
    assert all(token in template for token in (fmt.prefix_token, fmt.middle_token))
    prefix, suffix = "x = 1\ny = ", "\nprint y\n"
    assert render_fim_branch(template, prefix, suffix) == fmt.render(prefix, suffix)
    assert ".Messages" in template and "<|im_start|>" in template  # chat still works
    parameters = create["parameters"]
    assert parameters["num_ctx"] == 6144
    assert set(fmt.stop_tokens) | {"<|im_end|>"} <= set(parameters["stop"])


def test_without_a_format_the_one_in_the_gguf_is_used(fake_ollama, tiny_model) -> None:
    push(fake_ollama, tiny_model.gguf_path, fim_format=None)
    assert "<|fim_prefix|>" in fake_ollama.creates[-1]["template"]


def test_a_missing_file_is_a_sentence(fake_ollama, tmp_path) -> None:
    with pytest.raises(ModelNotFoundError, match="does not exist"):
        push(fake_ollama, tmp_path / "gone.gguf", fim_format=QWEN25_CODER)


def test_start_registers_the_model_when_ollama_lacks_it(fake_ollama, tiny_model) -> None:
    options = OllamaOptions(
        url=fake_ollama.url,
        model="bbj-coder",
        gguf_path=tiny_model.gguf_path,
        context_length=3072,
    )

    async def go() -> tuple[int, str | None]:
        backend = OllamaBackend(options)
        await backend.start()
        try:
            return backend.info().context_length, backend.info().fim_format
        finally:
            await backend.close()

    assert asyncio.run(go()) == (3072, "qwen2.5-coder")
    assert fake_ollama.uploads == 1
    assert "bbj-coder:latest" in fake_ollama.models


def test_start_does_not_push_when_told_not_to(fake_ollama, tiny_model) -> None:
    options = OllamaOptions(url=fake_ollama.url, gguf_path=tiny_model.gguf_path, push=False)

    async def go() -> None:
        backend = OllamaBackend(options)
        try:
            await backend.start()
        finally:
            await backend.close()

    with pytest.raises(ModelNotFoundError, match="push-ollama"):
        asyncio.run(go())
    assert fake_ollama.uploads == 0 and fake_ollama.models == {}


def test_the_pushed_model_serves_fim_through_the_backend(fake_ollama, tiny_model) -> None:
    fake_ollama.script = [{"response": "42", "done": True, "done_reason": "stop", "eval_count": 1}]
    push(fake_ollama, tiny_model.gguf_path)

    async def go() -> str:
        backend = OllamaBackend(OllamaOptions(url=fake_ollama.url))
        await backend.start()
        try:
            return await backend.fim(QWEN25_CODER.render("x = ", ""), SamplingParams(4)).text()
        finally:
            await backend.close()

    assert asyncio.run(go()) == "42"


# bbj-coder model push-ollama ----------------------------------------------------------------
@pytest.fixture
def store_home(tmp_path, monkeypatch, tiny_model):
    monkeypatch.setenv("BBJ_CODER_HOME", str(tmp_path / "home"))
    for key in [k for k in os.environ if k.startswith("BBJ_CODER_") and k != "BBJ_CODER_HOME"]:
        monkeypatch.delenv(key)
    store = ModelStore(tmp_path / "home" / "models")
    return store.import_file(tiny_model.gguf_path, name="bbj-tiny")


def test_push_command_registers_a_store_model(fake_ollama, store_home, capsys) -> None:
    assert push_command("bbj-tiny", fake_ollama.url, None) == 0
    out = capsys.readouterr().out
    assert "bbj-tiny" in out and fake_ollama.url in out
    assert fake_ollama.blobs == {f"sha256:{store_home.sha256}": store_home.size}
    assert fake_ollama.models["bbj-tiny:latest"]["parameters"]["num_ctx"] == 4096


def test_push_command_explains_a_model_that_is_not_installed(
    fake_ollama, store_home, capsys
) -> None:
    assert push_command("nope", fake_ollama.url, None) == 2
    err = capsys.readouterr().err
    assert "No model named 'nope'" in err and "bbj-tiny" in err
    assert fake_ollama.uploads == 0


def test_push_command_explains_an_unreachable_ollama(store_home, capsys) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    assert push_command("bbj-tiny", url, None) == 2
    assert "Ollama is not reachable at " + url in capsys.readouterr().err
