"""Optional generation features on the engine's logits: a GBNF grammar (JSON mode) and per-token
log-probabilities. ``SamplingParams`` may or may not carry ``grammar``/``logprobs`` (read with
``getattr``), so the generation loop only asks these helpers."""

from __future__ import annotations

import ctypes
from typing import Any

import numpy as np


class GrammarMask:
    """llama.cpp's grammar sampler used as a mask: tokens the grammar forbids get -inf."""

    def __init__(self, vocab: Any, n_vocab: int, gbnf: str) -> None:
        import llama_cpp
        from llama_cpp._internals import LlamaTokenDataArray

        self._llama = llama_cpp
        self._sampler = llama_cpp.llama_sampler_init_grammar(vocab, gbnf.encode(), b"root")
        if not self._sampler:
            raise ValueError("llama.cpp could not parse the grammar")
        self._array = LlamaTokenDataArray(n_vocab=n_vocab)

    def __call__(self, logits: Any) -> Any:
        self._array.copy_logits(logits.astype(np.single, copy=False))
        self._llama.llama_sampler_apply(self._sampler, ctypes.byref(self._array.candidates))
        return np.array(self._array.candidates_data.logit, dtype=np.single)

    def accept(self, token: int) -> None:
        self._llama.llama_sampler_accept(self._sampler, token)

    def close(self) -> None:
        if self._sampler:
            self._llama.llama_sampler_free(self._sampler)
            self._sampler = None


def grammar_mask(params: Any, vocab: Any, n_vocab: int) -> GrammarMask | None:
    gbnf = getattr(params, "grammar", None)
    return GrammarMask(vocab, n_vocab, gbnf) if gbnf else None


def token_logprob(logits: Any, token: int, top: int, piece: Any) -> Any:
    """The log-probability of ``token`` under the raw ``logits`` it was sampled from, plus the
    ``top`` likeliest tokens (``piece(id) -> str`` names them)."""
    from daemon.backends.base import TokenLogprob  # type: ignore[attr-defined]

    values = logits.astype(np.float64)
    shifted = values - values.max()
    logprobs = shifted - np.log(np.exp(shifted).sum())
    alternatives: tuple[tuple[str, float], ...] = ()
    if top > 0:
        best = np.argsort(logprobs)[::-1][:top]
        alternatives = tuple((piece(int(i)), float(logprobs[i])) for i in best)
    return TokenLogprob(piece(token), float(logprobs[token]), alternatives)
