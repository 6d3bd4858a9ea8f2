"""The embedded backend: llama-cpp-python loads the GGUF in-process, once.

FIM and chat are two lanes of one :class:`~daemon.backends.llama.engine.Engine`: one model,
one context with a KV sequence per lane, one worker thread that gives FIM priority between
chat steps. See the engine's docstring for why.
"""

from __future__ import annotations

import asyncio
import codecs
import os
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from daemon.backends.base import (
    BackendInfo,
    ChatMessage,
    PromptLookup,
    SamplingParams,
    TextStream,
)
from daemon.backends.chatml import CHATML_MARKERS, CHATML_STOPS, chatml_segments
from daemon.backends.llama.engine import (
    CHAT_SEQ,
    EDIT_SEQ,
    FIM_PROMPT_CHUNK,
    FIM_SEQ,
    LANES,
    PROMPT_CHUNK,
    Engine,
    Job,
    Step,
    load_engine,
)
from daemon.backends.llama.extras import grammar_mask, token_logprob
from daemon.backends.llama.lookup import find_draft
from daemon.backends.llama.sampling import Sampler
from daemon.errors import (
    BackendUnavailableError,
    GenerationError,
    ModelLoadError,
    PromptTooLongError,
)
from daemon.models.gguf_info import GgufInfo, read_gguf_info
from fim import FimFormat

TOKEN_CACHE_ENTRIES = 512
WARM = SamplingParams(max_tokens=0)


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
    with the editor for every core, latency collapses (measured: 10x on 2 cores)."""
    return max(1, (os.cpu_count() or 1) - 1)


class LlamaBackend:
    name = "llama"

    def __init__(self, options: LlamaOptions) -> None:
        self.options = options
        self.gguf: GgufInfo | None = None
        self.fim_format: FimFormat | None = options.fim_format
        self._engine: Engine | None = None
        self._pending: set[TextStream] = set()
        self._marker_ids: dict[str, int] = {}
        self._stop_ids: frozenset[int] = frozenset()
        self._marker_pattern: re.Pattern[str] | None = None
        self.n_ctx = options.n_ctx
        # Prompt assembly counts the prefix, suffix and context chunks, then the rendered
        # prompt is encoded from the same pieces, and most pieces recur on the next keystroke:
        # each distinct text is tokenised once.
        self._tokens: OrderedDict[str, list[int]] = OrderedDict()
        self._tokens_lock = threading.Lock()

    # life cycle -----------------------------------------------------------------------------
    async def start(self) -> None:
        self.gguf = await asyncio.to_thread(read_gguf_info, self.options.model_path)
        self.fim_format = self.fim_format or self.gguf.fim_format
        self.n_ctx = min(self.options.n_ctx, self.gguf.context_length)
        self._engine = await asyncio.to_thread(self._load)
        self._index_special_tokens(self._engine)

    def _load(self) -> Engine:
        try:
            import llama_cpp  # noqa: F401
        except ImportError as exc:
            raise BackendUnavailableError(
                "llama-cpp-python is not installed; install bbj-coder with its default "
                "dependencies or use the ollama backend."
            ) from exc
        try:
            return load_engine(
                str(self.options.model_path),
                n_ctx=self.n_ctx,
                n_threads=self.options.n_threads or default_threads(),
                n_gpu_layers=self.options.n_gpu_layers,
            )
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelLoadError(
                f"llama.cpp could not load {self.options.model_path}: {exc}. The file may be "
                "corrupt, truncated or of an architecture this llama.cpp does not support."
            ) from exc

    def _index_special_tokens(self, engine: Engine) -> None:
        texts = set(CHATML_MARKERS) | set(CHATML_STOPS)
        if self.fim_format:
            texts |= set(self.fim_format.marker_tokens) | set(self.fim_format.stop_tokens)
        for text in texts:
            ids = engine.tokenize(text, special=True)
            if len(ids) == 1:
                self._marker_ids[text] = ids[0]
        stop_texts = set(CHATML_STOPS) | set(self.fim_format.stop_tokens if self.fim_format else ())
        self._stop_ids = frozenset(self._marker_ids[t] for t in stop_texts if t in self._marker_ids)
        alternatives = sorted(self._marker_ids, key=len, reverse=True)
        if alternatives:  # an empty alternation would split the prompt into single characters
            self._marker_pattern = re.compile("(" + "|".join(map(re.escape, alternatives)) + ")")

    async def close(self) -> None:
        engine, self._engine = self._engine, None
        if engine is None:
            return
        for stream in list(self._pending):  # queued work would otherwise never be answered
            stream.cancel()
        await asyncio.to_thread(engine.close)
        for stream in list(self._pending):
            stream.finish(BackendUnavailableError("The model was unloaded; try again."))
        self._pending.clear()

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
        if self._engine is None:
            return {}
        return {lane: self._engine.running[lane] for lane in LANES}

    def generated_tokens(self) -> int:
        return self._engine.generated if self._engine else 0

    def evaluated_tokens(self) -> int:
        """Tokens llama.cpp actually decoded (prompt and generated): KV reuse, measured."""
        return self._engine.evaluated if self._engine else 0

    # tokens ---------------------------------------------------------------------------------
    def _require_engine(self) -> Engine:
        if self._engine is None:
            raise BackendUnavailableError("The model is not loaded.")
        return self._engine

    def count_tokens(self, text: str) -> int:
        # As the prompt is really tokenised (markers are one token each): the prompt budget,
        # and the trainer's FIM samples cut to it, depend on this count being exact.
        return len(self.encode(text))

    def encode(self, prompt: str) -> list[int]:
        """Tokenise a rendered FIM/plain prompt: the format's markers become their token ids."""
        if self._marker_pattern is None:
            return list(self._encode_text(prompt))
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
                ids += self._encode_text(text)  # a copy: the cached list stays untouched
        return ids

    def _encode_text(self, text: str) -> list[int]:
        with self._tokens_lock:
            cached = self._tokens.get(text)
            if cached is not None:
                self._tokens.move_to_end(text)
                return cached
        tokens = self._require_engine().tokenize(text, special=False)
        with self._tokens_lock:
            self._tokens[text] = tokens
            if len(self._tokens) > TOKEN_CACHE_ENTRIES:
                self._tokens.popitem(last=False)
        return tokens

    def _piece_text(self, token: int) -> str:
        return self._require_engine().piece(token).decode("utf-8", errors="replace")

    # generation -----------------------------------------------------------------------------
    def fim(self, prompt: str, params: SamplingParams) -> TextStream:
        return self.submit_tokens("fim", FIM_SEQ, self.encode(prompt), params, "prompt")

    def chat(self, messages: Sequence[ChatMessage], params: SamplingParams) -> TextStream:
        tokens = self.encode_segments(chatml_segments(messages))
        return self.submit_tokens("chat", CHAT_SEQ, tokens, params, "conversation")

    def warm(self, prompt: str) -> TextStream:
        """Evaluate a FIM prompt into the FIM sequence without generating (cancellable)."""
        return self.submit_tokens("fim", FIM_SEQ, self.encode(prompt), WARM, "prompt")

    def edit(
        self, prompt: str, params: SamplingParams, lookup: PromptLookup | None = None
    ) -> TextStream:
        """A next-edit prompt, on its own KV sequence (after FIM, before chat); with a
        ``lookup`` and greedy sampling, drafts from the prompt are checked a batch at a time."""
        drafting = lookup is not None and lookup.tokens > 0 and params.temperature <= 0
        use = (lookup.tokens, lookup.ngram) if drafting and lookup is not None else None
        tokens = self.encode(prompt)
        return self.submit_tokens("edit", EDIT_SEQ, tokens, params, "prompt", draft=use)

    def submit_tokens(
        self,
        lane: str,
        seq: int,
        tokens: list[int],
        params: SamplingParams,
        what: str,
        draft: tuple[int, int] | None = None,
    ) -> TextStream:
        """Generate after ``tokens`` on KV sequence ``seq``, scheduled as ``lane``."""
        engine = self._require_engine()
        room = self.n_ctx - len(tokens)
        if room < 1 or not tokens:
            raise PromptTooLongError(
                f"The {what} takes {len(tokens)} tokens but the model's context window "
                f"holds {self.n_ctx}; shorten it."
            )
        stream = TextStream()
        max_tokens = min(params.max_tokens, room)
        self._pending.add(stream)

        def fail(exc: BaseException) -> None:
            self._pending.discard(stream)
            stream.finish(GenerationError(f"Generation failed in llama.cpp: {exc}"))

        def start() -> Step:
            return self._generate(engine, seq, tokens, params, max_tokens, stream, draft)

        engine.submit(Job(lane, start, fail))
        return stream

    def _generate(
        self,
        engine: Engine,
        seq: int,
        tokens: list[int],
        params: SamplingParams,
        max_tokens: int,
        stream: TextStream,
        draft: tuple[int, int] | None = None,
    ) -> Step:
        """Worker-thread steps: the prompt in chunks (reusing the KV prefix), then one token
        per step. Cancellation is honoured between any two steps."""
        stats = stream.stats
        stats.prompt_tokens = len(tokens)
        stats.finish_reason = "cancelled"
        started = time.perf_counter()
        error: BaseException | None = None
        try:
            chunk = PROMPT_CHUNK if seq == CHAT_SEQ else FIM_PROMPT_CHUNK
            cached = yield from engine.evaluate(seq, tokens, stream.cancelled, chunk)
            if cached is None:
                return
            stats.cached_tokens = cached
            stats.prompt_eval_s = time.perf_counter() - started
            if max_tokens < 1:  # warming: the prompt is all
                stats.finish_reason = "length"
                return
            history = list(tokens)
            yield from self._sample(engine, seq, history, params, max_tokens, stream, draft)
        except GeneratorExit:  # the engine closed under us
            error = BackendUnavailableError("The model was unloaded; try again.")
            raise
        except Exception as exc:  # llama.cpp errors surface as RuntimeError/ValueError
            error = GenerationError(f"Generation failed in llama.cpp: {exc}")
        finally:
            self._pending.discard(stream)
            stream.finish(error)

    def _sample(
        self,
        engine: Engine,
        seq: int,
        history: list[int],
        params: SamplingParams,
        max_tokens: int,
        stream: TextStream,
        draft_shape: tuple[int, int] | None = None,
    ) -> Step:
        stats = stream.stats
        sampler = Sampler(params, engine.n_vocab)
        mask = grammar_mask(params, engine.vocab, engine.n_vocab)
        top_logprobs = getattr(params, "logprobs", None)
        if top_logprobs is not None:
            stats.logprobs = []  # type: ignore[attr-defined]
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        rows = [engine.logits()]  # logits per position: more than one while checking a draft
        draft: list[int] = []  # drafted tokens in the KV, not yet confirmed
        first_token_at = time.perf_counter()
        stats.finish_reason = "length"
        try:
            while True:
                if stream.cancelled.is_set():
                    stats.finish_reason = "cancelled"
                    return
                logits = rows.pop(0)
                token = sampler(mask(logits) if mask else logits, history)
                if token in self._stop_ids or engine.is_end(token):
                    stats.finish_reason = "stop"
                    return
                if mask:
                    mask.accept(token)
                if top_logprobs is not None:
                    stats.logprobs.append(  # type: ignore[attr-defined]
                        token_logprob(logits, token, top_logprobs, self._piece_text)
                    )
                stats.completion_tokens += 1
                engine.generated += 1
                text = decoder.decode(engine.piece(token))
                if text:
                    stream.put(text)
                if stats.completion_tokens >= max_tokens:
                    return
                history.append(token)
                if draft:
                    if token == draft[0]:  # already in the KV, and rows[0] follows it
                        draft.pop(0)
                        engine.accepted += 1
                        continue
                    engine.truncate(seq, len(history) - 1)  # the rest of the draft was wrong
                    draft, rows = [], []
                epoch = engine.epoch(seq)
                yield  # a waiting FIM job runs here
                if engine.epoch(seq) != epoch:  # our KV was evicted meanwhile: rebuild it
                    if (yield from engine.evaluate(seq, history, stream.cancelled)) is None:
                        stats.finish_reason = "cancelled"
                        return
                    rows = [engine.logits()]
                    continue
                if draft_shape is not None:
                    room = max_tokens - stats.completion_tokens - 1
                    draft = find_draft(history, draft_shape[1], min(draft_shape[0], room))
                engine.decode(seq, [token, *draft], all_logits=bool(draft))
                engine.drafted += len(draft)
                rows = engine.logits_rows(len(draft) + 1) if draft else [engine.logits()]
        finally:
            if mask:
                mask.close()
            tail = decoder.decode(b"", final=True)
            if tail:
                stream.put(tail)
            stats.eval_s = time.perf_counter() - first_token_at
