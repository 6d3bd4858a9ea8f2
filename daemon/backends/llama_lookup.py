"""The embedded backend's next-edit lane: its own llama context, optionally drafting tokens by
prompt lookup (llama-cpp-python's ``LlamaPromptLookupDecoding``).

A next edit mostly copies the window it was shown, so the n-gram that ends the output so far
usually occurs in the prompt, and the tokens that followed it there are a good draft: the model
checks a whole draft in one batch instead of one token per step.

Why a lane of its own, not the FIM lane: llama-cpp-python only verifies drafts on a ``Llama``
built with a ``draft_model``, which forces ``logits_all`` on, and that copies the logits of
*every* prompt token (vocabulary-sized rows) out of llama.cpp. Here the prompt is evaluated with
logits for its last token only, and all logits are requested just for the short batches that
carry a draft (one sampled token plus at most ``num_pred_tokens``), and none are copied back
into Python. The lane also keeps the FIM lane's KV cache for tab completion.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from daemon.backends.base import SamplingParams, TextStream
from daemon.errors import ModelLoadError, PromptTooLongError

if TYPE_CHECKING:
    from daemon.backends.llama import LlamaBackend, _Lane


@dataclass(frozen=True)
class PromptLookup:
    """Draft ``tokens`` tokens after the longest (up to ``ngram``) match in the prompt;
    ``tokens == 0`` means plain decoding."""

    tokens: int = 10
    ngram: int = 2

    @property
    def lane_name(self) -> str:
        return f"edit-lookup{self.tokens}x{self.ngram}" if self.tokens else "edit"


def load_edit_llama(backend: LlamaBackend, lookup: PromptLookup) -> Any:
    """A second context on the same (memory-mapped) weights, with the draft model."""
    import llama_cpp
    from llama_cpp.llama_speculative import LlamaPromptLookupDecoding

    from daemon.backends.llama import default_threads

    options = backend.options
    draft = None
    if lookup.tokens:
        draft = LlamaPromptLookupDecoding(
            max_ngram_size=lookup.ngram, num_pred_tokens=lookup.tokens
        )
    try:
        llm = llama_cpp.Llama(
            model_path=str(options.model_path),
            n_ctx=backend.n_ctx,
            n_batch=min(512, backend.n_ctx),
            n_threads=options.n_threads or default_threads(),
            n_gpu_layers=options.n_gpu_layers,
            draft_model=draft,
            verbose=False,
        )
    except (ValueError, RuntimeError, OSError) as exc:
        raise ModelLoadError(f"llama.cpp could not open a next-edit context: {exc}") from exc
    if draft is not None:
        _logits_only_for_drafts(llm, lookup.tokens + 1)
    return llm


def _logits_only_for_drafts(llm: Any, draft_batch: int) -> None:
    """Evaluate prompts with the last row of logits only and draft batches with every row,
    never copying logits into ``llm.scores``: sampling reads them inside llama.cpp.

    llama-cpp-python sizes ``scores`` by the constructor's ``logits_all`` (n_batch rows when
    False) but a draft model turns ``_logits_all`` on, so a prompt longer than n_batch fails to
    copy ("could not broadcast"); ``logits_all=True`` instead costs n_ctx x vocabulary floats.
    """
    evaluate = llm.eval
    llm._logits_all = False

    def eval_(tokens: Any) -> Any:
        if len(tokens) > draft_batch:
            return evaluate(tokens)
        n_past = llm.n_tokens
        llm._ctx.kv_cache_seq_rm(-1, n_past, -1)
        llm._batch.set_batch(batch=tokens, n_past=n_past, logits_all=True)
        llm._ctx.decode(llm._batch)
        llm.input_ids[n_past : n_past + len(tokens)] = tokens
        llm.n_tokens += len(tokens)
        llm._requires_eval = False
        return None

    llm.eval = eval_


async def edit_lane(backend: LlamaBackend, lookup: PromptLookup) -> _Lane:
    from daemon.backends.llama import _Lane

    async with backend._chat_lane_lock:
        lane = backend.edit_lanes.get(lookup.lane_name)
        if lane is None:
            llm = await asyncio.to_thread(load_edit_llama, backend, lookup)
            lane = _Lane(lookup.lane_name, llm)
            backend.edit_lanes[lookup.lane_name] = lane
        return lane


def edit_stream(
    backend: LlamaBackend, prompt: str, params: SamplingParams, lookup: PromptLookup
) -> TextStream:
    tokens = backend.encode(prompt)
    room = backend.n_ctx - len(tokens)
    if room < 1:
        raise PromptTooLongError(
            f"The next-edit prompt takes {len(tokens)} tokens; the context holds {backend.n_ctx}."
        )
    stream = TextStream()

    async def submit() -> None:
        try:
            lane = await edit_lane(backend, lookup)
        except Exception as exc:
            stream.finish(exc)
            return
        lane.submit(backend._run, stream, tokens, params, min(params.max_tokens, room))

    stream.keepalive = asyncio.get_running_loop().create_task(submit())
    return stream
