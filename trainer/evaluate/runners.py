"""Generating with a model under evaluation: a GGUF through the daemon's own llama.cpp backend,
or a Hugging Face directory through transformers ``generate``.

Both render chat as the daemon does (its ChatML) and stop on the same tokens, so a GGUF and the
HF model it came from are measured the same way.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from trainer.train.errors import TrainError


@dataclass(frozen=True)
class Generated:
    text: str
    seconds: float
    tokens: int


@dataclass(frozen=True)
class Sampling:
    max_tokens: int
    temperature: float = 0.0
    seed: int = 0


class Runner(Protocol):
    kind: str

    def chat(self, messages: list[dict[str, str]], sampling: Sampling) -> Generated: ...

    def fim(self, prompt: str, sampling: Sampling) -> Generated: ...

    def close(self) -> None: ...


def stop_texts() -> tuple[str, ...]:
    from daemon.backends.chatml import CHATML_STOPS
    from fim.formats import QWEN25_CODER

    return tuple(dict.fromkeys((*CHATML_STOPS, *QWEN25_CODER.stop_tokens)))


class GgufRunner:
    """A GGUF model in the daemon's :class:`daemon.backends.llama.LlamaBackend`."""

    kind = "gguf"

    def __init__(self, path: Path, n_ctx: int = 4096, threads: int = 0) -> None:
        from daemon.backends.llama import LlamaBackend, LlamaOptions
        from daemon.errors import BbjCoderError

        self.loop = asyncio.new_event_loop()
        self.backend = LlamaBackend(LlamaOptions(model_path=path, n_ctx=n_ctx, n_threads=threads))
        try:
            self.loop.run_until_complete(self.backend.start())
        except BbjCoderError as exc:
            self.loop.close()
            raise TrainError(f"Cannot evaluate {path}: {exc}") from exc

    def _run(self, start: Any, sampling: Sampling) -> Generated:
        from daemon.backends.base import SamplingParams

        params = SamplingParams(
            max_tokens=sampling.max_tokens, temperature=sampling.temperature, seed=sampling.seed
        )

        async def collect() -> Generated:
            began = time.perf_counter()
            stream = start(params)
            text = await stream.text()
            return Generated(text, time.perf_counter() - began, stream.stats.completion_tokens)

        return self.loop.run_until_complete(collect())

    def chat(self, messages: list[dict[str, str]], sampling: Sampling) -> Generated:
        from daemon.backends.base import ChatMessage

        turns = [ChatMessage(m["role"], m["content"]) for m in messages]
        return self._run(lambda params: self.backend.chat(turns, params), sampling)

    def fim(self, prompt: str, sampling: Sampling) -> Generated:
        return self._run(lambda params: self.backend.fim(prompt, params), sampling)

    def close(self) -> None:
        self.loop.run_until_complete(self.backend.close())
        self.loop.close()


class HfRunner:
    """A Hugging Face model directory, generated with transformers."""

    kind = "hf"

    def __init__(self, path: Path) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from transformers.utils import logging

        logging.disable_progress_bar()
        self.torch = torch
        self.device = "cuda" if torch.cuda.is_available() else "cpu"
        dtype = torch.bfloat16 if self.device == "cuda" else torch.float32
        self.tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        self.model = (
            AutoModelForCausalLM.from_pretrained(str(path), dtype=dtype, local_files_only=True)
            .to(self.device)
            .eval()
        )
        vocab = self.tokenizer.get_vocab()
        self.stop_ids = [vocab[text] for text in stop_texts() if text in vocab]

    def _generate(self, text: str, sampling: Sampling) -> Generated:
        ids = self.tokenizer(text, add_special_tokens=False, return_tensors="pt")["input_ids"]
        self.torch.manual_seed(sampling.seed)
        sample = sampling.temperature > 0
        began = time.perf_counter()
        with self.torch.no_grad():
            output = self.model.generate(
                ids.to(self.device),
                max_new_tokens=sampling.max_tokens,
                do_sample=sample,
                temperature=sampling.temperature if sample else None,
                top_p=0.95 if sample else None,
                top_k=None,
                eos_token_id=self.stop_ids,
                pad_token_id=self.stop_ids[0],
            )
        seconds = time.perf_counter() - began
        new = [t for t in output[0, ids.shape[1] :].tolist() if t not in self.stop_ids]
        return Generated(self.tokenizer.decode(new), seconds, len(new))

    def chat(self, messages: list[dict[str, str]], sampling: Sampling) -> Generated:
        from daemon.backends.base import ChatMessage
        from daemon.backends.chatml import render_chatml

        turns = [ChatMessage(m["role"], m["content"]) for m in messages]
        return self._generate(render_chatml(turns), sampling)

    def fim(self, prompt: str, sampling: Sampling) -> Generated:
        return self._generate(prompt, sampling)

    def close(self) -> None:
        del self.model


def open_runner(path: Path, n_ctx: int, threads: int) -> Runner:
    if path.is_file() and path.suffix == ".gguf":
        return GgufRunner(path, n_ctx=n_ctx, threads=threads)
    if path.is_dir() and (path / "config.json").is_file():
        return HfRunner(path)
    raise TrainError(
        f"{path} is neither a .gguf file nor a Hugging Face model directory (with config.json)."
    )
