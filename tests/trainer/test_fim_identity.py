"""Train/serve identity: a FIM training sample's prompt is, byte for byte, the prompt the
daemon's FimService sends to its backend for the same file and cursor as the LSP sends them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace

import pytest

from daemon.backends.base import BackendInfo, SamplingParams, TextStream
from daemon.config import FimSettings as ServeFim
from daemon.services.fim import FimRequest, FimService
from fim import QWEN25_CODER
from fim.ring import ContextRing
from fim.window import fim_window
from trainer.data.fim_samples import FimBuilder, FimSettings
from trainer.data.records import SourceFile
from trainer.data.tokens import HFTokenCounter

N_CTX = 1024
MAX_TOKENS = 48


class RecordingBackend:
    """Counts tokens as ``count`` does and records every FIM prompt it is sent."""

    name = "recording"

    def __init__(self, count: Callable[[str], int]) -> None:
        self.count = count
        self.prompts: list[str] = []

    def fim(self, prompt: str, params: SamplingParams) -> TextStream:
        self.prompts.append(prompt)
        stream = TextStream()
        stream.finish()
        return stream

    def chat(self, messages: object, params: SamplingParams) -> TextStream:
        raise AssertionError("not used")

    def count_tokens(self, text: str) -> int:
        return self.count(text)

    def in_flight(self) -> dict[str, int]:
        return {}

    def info(self) -> BackendInfo:
        return BackendInfo("recording", "recording", "", N_CTX, "qwen2.5-coder", "F16")

    async def start(self) -> None: ...

    async def close(self) -> None: ...


def served_prompt(count: Callable[[str], int], sample: dict, files: dict[str, SourceFile]) -> str:
    """What the daemon renders when the LSP asks for a completion at the sample's cursor: the
    document (the file without the middle), the window around the cursor, the file's path in
    the workspace and the ring's chunks of the files the user opened before."""
    file = files[sample["file"]]
    start = sample["offset"] + len(sample["prefix"])
    document = file.text[:start] + file.text[start + len(sample["middle"]) :]
    prefix, suffix = fim_window(document, start)
    ring = ContextRing()
    for key in sample["context_files"]:
        ring.add(files[key].project_path, files[key].text)
    ring.reshuffle()
    backend = RecordingBackend(count)
    settings = replace(ServeFim(), max_tokens=MAX_TOKENS, cache_size=0)
    service = FimService(backend, QWEN25_CODER, settings, N_CTX)
    request = FimRequest(
        prefix=prefix, suffix=suffix, path=file.project_path, context=ring.snapshot()
    )
    asyncio.run(service.complete(request))
    (prompt,) = backend.prompts
    return prompt


def samples(files: list[SourceFile], counter: HFTokenCounter, repo_rate: float) -> list[dict]:
    settings = FimSettings(
        max_seq_len=2048,
        rate=1.0,
        samples_per_file=3,
        span_types=("line", "block", "random"),
        repo_rate=repo_rate,
        repo_max_files=2,
        max_middle_tokens=64,
        seed=3,
        prompt_budget=N_CTX - MAX_TOKENS,
    )
    return FimBuilder(files, settings, counter).build("train", False)


def project(bbj_source: Callable) -> list[SourceFile]:
    return [
        SourceFile("corpus", "app", f"app/src/p{i}.bbj", bbj_source(i, lines), "utf-8", f"s{i}")
        for i, lines in enumerate((12, 20, 300, 16))
    ]


@pytest.mark.parametrize("repo_rate", [0.0, 1.0], ids=["single-file", "repo-level"])
def test_training_prompt_is_the_served_prompt(
    bbj_source: Callable, counter: HFTokenCounter, repo_rate: float
) -> None:
    files = project(bbj_source)
    built = samples(files, counter, repo_rate)
    assert built
    assert {s["repo_level"] for s in built} == {bool(repo_rate)}
    assert any(s["truncated"] for s in built), "no sample was cut to the budget"
    by_key = {f.key: f for f in files}
    for sample in built:
        assert sample["prompt"] == served_prompt(counter.count, sample, by_key)
        assert sample["path"].startswith("src/")


def test_the_daemons_llama_backend_counts_as_the_trainer_does(
    bbj_source: Callable, counter: HFTokenCounter, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The budget cut depends on token counts: the daemon's llama.cpp backend must count a
    rendered prompt (markers as single tokens) exactly as the trainer's tokenizer does, or the
    served prompt of a long file keeps other lines than the training sample."""
    pytest.importorskip("llama_cpp")
    from daemon.backends.llama import LlamaBackend, LlamaOptions
    from daemon.models.tinymodel import build_tiny_model

    tiny = build_tiny_model(tmp_path_factory.mktemp("tiny-gguf"))
    backend = LlamaBackend(LlamaOptions(model_path=tiny.gguf_path, n_ctx=N_CTX))
    loop = asyncio.new_event_loop()
    loop.run_until_complete(backend.start())
    try:
        files = project(bbj_source)
        by_key = {f.key: f for f in files}
        built = samples(files, counter, 1.0)
        assert any(s["truncated"] for s in built)
        for sample in built:
            assert backend.count_tokens(sample["prompt"]) == counter.count(sample["prompt"])
            assert sample["prompt"] == served_prompt(backend.count_tokens, sample, by_key)
    finally:
        loop.run_until_complete(backend.close())
        loop.close()
