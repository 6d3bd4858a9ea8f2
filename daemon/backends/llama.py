"""The embedded backend: llama-cpp-python loads the GGUF in-process.

Two lanes, each a ``Llama`` context with its own KV cache and worker thread: FIM and chat. The
weights are memory-mapped once by the OS, so the second context costs only its KV cache, and
a long chat answer never delays a tab completion (nor evicts the FIM lane's cached prefix).
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import os
import re
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from daemon.backends.base import BackendInfo, ChatMessage, SamplingParams, TextStream
from daemon.backends.chatml import CHATML_MARKERS, CHATML_STOPS, chatml_segments
from daemon.backends.llama_extras import compiled_grammar, token_logprob
from daemon.backends.llama_lookup import PromptLookup
from daemon.errors import (
    BackendUnavailableError,
    GenerationError,
    ModelLoadError,
    PromptTooLongError,
)
from daemon.models.gguf_info import GgufInfo, read_gguf_info
from fim import FimFormat


@dataclass(frozen=True)
class LlamaOptions:
    model_path: Path
    n_ctx: int = 4096
    n_threads: int = 0
    n_gpu_layers: int = 0
    fim_format: FimFormat | None = None
    model_name: str = ""


def default_threads() -> int:
    """All cores but one: llama.cpp's threads spin-wait at every barrier, so when they compete
    with the editor (or each other) for every core, latency collapses (measured: 10x on 2 cores)."""
    return max(1, (os.cpu_count() or 1) - 1)


class _Lane:
    """One llama context plus the single thread allowed to touch it."""

    def __init__(self, name: str, llm: Any) -> None:
        self.name = name
        self.llm = llm
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"llama-{name}")
        self.lock = threading.Lock()
        self.running = 0
        self.generated = 0
        self.evaluated = 0
        self.pending: set[TextStream] = set()
        original_eval = llm.eval

        def counting_eval(tokens: Any) -> Any:
            # What llama.cpp really decodes, so KV-cache reuse is measured, not estimated.
            self.evaluated += len(tokens)
            return original_eval(tokens)

        llm.eval = counting_eval

    def submit(self, job: Callable[..., None], stream: TextStream, *args: Any) -> None:
        self.pending.add(stream)
        self.executor.submit(job, self, *args, stream)

    def close(self) -> None:
        for stream in list(self.pending):  # queued work would otherwise never be answered
            stream.cancel()
            stream.finish(BackendUnavailableError("The model was unloaded; try again."))
        self.executor.shutdown(wait=True, cancel_futures=True)
        with contextlib.suppress(Exception):
            self.llm.close()


class LlamaBackend:
    name = "llama"

    def __init__(self, options: LlamaOptions) -> None:
        self.options = options
        self.gguf: GgufInfo | None = None
        self.fim_format: FimFormat | None = options.fim_format
        self._fim_lane: _Lane | None = None
        self._chat_lane: _Lane | None = None
        self._chat_lane_lock = asyncio.Lock()
        self._marker_ids: dict[str, int] = {}
        self._stop_ids: frozenset[int] = frozenset()
        self._marker_pattern: re.Pattern[str] | None = None
        self.n_ctx = options.n_ctx
        self.edit_lanes: dict[str, _Lane] = {}  # daemon.backends.llama_lookup

    # life cycle -----------------------------------------------------------------------------
    async def start(self) -> None:
        self.gguf = await asyncio.to_thread(read_gguf_info, self.options.model_path)
        self.fim_format = self.fim_format or self.gguf.fim_format
        self.n_ctx = min(self.options.n_ctx, self.gguf.context_length)
        llm = await asyncio.to_thread(self._load)
        self._fim_lane = _Lane("fim", llm)
        self._index_special_tokens(llm)
        await self._chat()  # loaded up front: the first chat must not pay for it mid-session

    def _load(self) -> Any:
        try:
            import llama_cpp
        except ImportError as exc:
            raise BackendUnavailableError(
                "llama-cpp-python is not installed; install bbj-coder with its default "
                "dependencies or use the ollama backend."
            ) from exc
        try:
            return llama_cpp.Llama(
                model_path=str(self.options.model_path),
                n_ctx=self.n_ctx,
                n_batch=min(512, self.n_ctx),
                n_threads=self.options.n_threads or default_threads(),
                n_gpu_layers=self.options.n_gpu_layers,
                verbose=False,
            )
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelLoadError(
                f"llama.cpp could not load {self.options.model_path}: {exc}. The file may be "
                "corrupt, truncated or of an architecture this llama.cpp does not support."
            ) from exc
        except Exception as exc:  # e.g. jinja2's TemplateSyntaxError for a broken chat_template
            raise ModelLoadError(
                f"llama.cpp could not load {self.options.model_path}: "
                f"{type(exc).__name__}: {exc} (is the GGUF's chat_template valid Jinja?)"
            ) from exc

    def _index_special_tokens(self, llm: Any) -> None:
        texts = set(CHATML_MARKERS) | set(CHATML_STOPS)
        if self.fim_format:
            texts |= set(self.fim_format.marker_tokens) | set(self.fim_format.stop_tokens)
        for text in texts:
            ids = llm.tokenize(text.encode(), add_bos=False, special=True)
            if len(ids) == 1:
                self._marker_ids[text] = ids[0]
        stop_texts = set(CHATML_STOPS) | set(self.fim_format.stop_tokens if self.fim_format else ())
        self._stop_ids = frozenset(self._marker_ids[t] for t in stop_texts if t in self._marker_ids)
        alternatives = sorted(self._marker_ids, key=len, reverse=True)
        if alternatives:  # an empty alternation would split the prompt into single characters
            self._marker_pattern = re.compile("(" + "|".join(map(re.escape, alternatives)) + ")")

    async def _chat(self) -> _Lane:
        async with self._chat_lane_lock:
            if self._chat_lane is None:
                self._chat_lane = _Lane("chat", await asyncio.to_thread(self._load))
            return self._chat_lane

    async def close(self) -> None:
        for lane in (self._fim_lane, self._chat_lane, *self.edit_lanes.values()):
            if lane is not None:
                await asyncio.to_thread(lane.close)
        self._fim_lane = self._chat_lane = None
        self.edit_lanes = {}

    def info(self) -> BackendInfo:
        gguf = self.gguf
        return BackendInfo(
            name=self.name,
            model_name=self.options.model_name or (gguf.name if gguf else ""),
            model_path=str(self.options.model_path),
            context_length=self.n_ctx,
            fim_format=self.fim_format.name if self.fim_format else None,
            quant=gguf.quant if gguf else "unknown",
            details={
                "architecture": gguf.architecture if gguf else "unknown",
                "training_context": str(gguf.context_length if gguf else 0),
            },
        )

    def in_flight(self) -> dict[str, int]:
        return {lane.name: lane.running for lane in (self._fim_lane, self._chat_lane) if lane}

    def generated_tokens(self) -> int:
        return sum(lane.generated for lane in (self._fim_lane, self._chat_lane) if lane)

    # tokens ---------------------------------------------------------------------------------
    def _require_fim_lane(self) -> _Lane:
        if self._fim_lane is None:
            raise BackendUnavailableError("The model is not loaded.")
        return self._fim_lane

    def count_tokens(self, text: str) -> int:
        # As the prompt is really tokenised (markers are one token each): the prompt budget,
        # and the trainer's FIM samples cut to it, depend on this count being exact.
        return len(self.encode(text))

    def encode(self, prompt: str) -> list[int]:
        """Tokenise a rendered FIM/plain prompt: the format's markers become their token ids."""
        if self._marker_pattern is None:
            return self._encode_text(prompt)
        return self.encode_segments(
            [(piece, piece in self._marker_ids) for piece in self._marker_pattern.split(prompt)]
        )

    def encode_segments(self, segments: Sequence[tuple[str, bool]]) -> list[int]:
        """Marker segments become their single token id; text never turns into control tokens."""
        ids: list[int] = []
        for text, is_marker in segments:
            if is_marker and text in self._marker_ids:
                ids.append(self._marker_ids[text])
            elif text:
                ids.extend(self._encode_text(text))
        return ids

    def _encode_text(self, text: str) -> list[int]:
        llm = self._require_fim_lane().llm
        return list(llm.tokenize(text.encode("utf-8", "replace"), add_bos=False, special=False))

    # generation -----------------------------------------------------------------------------
    def fim(self, prompt: str, params: SamplingParams) -> TextStream:
        lane = self._require_fim_lane()
        tokens = self.encode(prompt)
        max_tokens = min(params.max_tokens, self.n_ctx - len(tokens))
        if max_tokens < 1:
            raise PromptTooLongError(
                f"The prompt takes {len(tokens)} tokens; the context window holds {self.n_ctx}."
            )
        stream = TextStream()
        lane.submit(self._run, stream, tokens, params, max_tokens)
        return stream

    def chat(self, messages: Sequence[ChatMessage], params: SamplingParams) -> TextStream:
        tokens = self.encode_segments(chatml_segments(messages))
        room = self.n_ctx - len(tokens)
        if room < 1:
            raise PromptTooLongError(
                f"The conversation takes {len(tokens)} tokens but the model's context window "
                f"holds {self.n_ctx}; shorten it or start a new chat."
            )
        stream = TextStream()

        async def submit() -> None:
            try:
                lane = await self._chat()
            except Exception as exc:
                stream.finish(exc)
                return
            lane.submit(self._run, stream, tokens, params, min(params.max_tokens, room))

        task = asyncio.get_running_loop().create_task(submit())
        stream.keepalive = task
        return stream

    def edit(self, prompt: str, params: SamplingParams, lookup: PromptLookup) -> TextStream:
        """Complete a next-edit prompt on its own lane, drafting by prompt lookup."""
        from daemon.backends.llama_lookup import edit_stream

        return edit_stream(self, prompt, params, lookup)

    def _run(
        self,
        lane: _Lane,
        tokens: list[int],
        params: SamplingParams,
        max_tokens: int,
        stream: TextStream,
    ) -> None:
        """Worker-thread body: evaluate the prompt (reusing the KV prefix), then sample."""
        try:
            if stream.cancelled.is_set():
                stream.stats.finish_reason = "cancelled"
            else:
                with lane.lock:
                    lane.running += 1
                    try:
                        self._generate(lane, tokens, params, max_tokens, stream)
                    finally:
                        lane.running -= 1
        except Exception as exc:  # llama.cpp errors surface as RuntimeError/ValueError
            stream.finish(GenerationError(f"Generation failed in llama.cpp: {exc}"))
        else:
            stream.finish()
        finally:
            lane.pending.discard(stream)

    def _generate(
        self,
        lane: _Lane,
        tokens: list[int],
        params: SamplingParams,
        max_tokens: int,
        stream: TextStream,
    ) -> None:
        import llama_cpp

        llm = lane.llm
        stats = stream.stats
        stats.prompt_tokens = len(tokens)
        evaluated_before = lane.evaluated
        if params.seed is not None:
            llm.set_seed(params.seed)
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        vocab = llm._model.vocab
        started = time.perf_counter()
        first_token_at: float | None = None
        stats.finish_reason = "length"
        generator = llm.generate(
            tokens,
            temp=params.temperature,
            top_p=params.top_p,
            top_k=params.top_k,
            min_p=0.0,
            repeat_penalty=params.repeat_penalty,
            logits_processor=_bias_processor(params.logit_bias),
            grammar=compiled_grammar(params.grammar),
        )
        if params.logprobs is not None:
            stats.logprobs = []
        for token in generator:
            if first_token_at is None:
                first_token_at = time.perf_counter()
                stats.prompt_eval_s = first_token_at - started
                stats.cached_tokens = max(0, len(tokens) - (lane.evaluated - evaluated_before))
            if stream.cancelled.is_set():
                stats.finish_reason = "cancelled"
                break
            if token in self._stop_ids or llama_cpp.llama_vocab_is_eog(vocab, token):
                stats.finish_reason = "stop"
                break
            stats.completion_tokens += 1
            lane.generated += 1
            if stats.logprobs is not None and params.logprobs is not None:
                stats.logprobs.append(token_logprob(llm, token, params.logprobs))
            text = decoder.decode(llm._model.detokenize([token], special=False))
            if text:
                stream.put(text)
            if stats.completion_tokens >= max_tokens:
                break
        generator.close()
        tail = decoder.decode(b"", final=True)
        if tail:
            stream.put(tail)
        stats.eval_s = time.perf_counter() - (first_token_at or started)


def _bias_processor(bias: tuple[tuple[int, float], ...]) -> Any:
    """OpenAI ``logit_bias`` as a llama-cpp-python logits processor (None when there is none)."""
    if not bias:
        return None
    import numpy as np

    ids = np.array([token for token, _ in bias], dtype=np.intc)
    values = np.array([value for _, value in bias], dtype=np.single)

    def apply(_input_ids: Any, scores: Any) -> Any:
        valid = ids < len(scores)
        scores[ids[valid]] += values[valid]
        return scores

    return [apply]
