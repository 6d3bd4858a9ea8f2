"""Choosing the next token from llama.cpp's logits (numpy; the context has no sampler chain).

Greedy at temperature 0; otherwise OpenAI/llama.cpp-style logit bias, repeat penalty, top-k,
top-p and temperature, drawn from a generator seeded per request so a seed reproduces a draw.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from daemon.backends.base import SamplingParams

REPEAT_WINDOW = 64


class Sampler:
    def __init__(self, params: SamplingParams, n_vocab: int) -> None:
        self.params = params
        self.rng = np.random.default_rng(params.seed)
        self.bias_ids = np.array([t for t, _ in params.logit_bias if 0 <= t < n_vocab], np.intp)
        self.bias_values = np.array(
            [v for t, v in params.logit_bias if 0 <= t < n_vocab], np.float32
        )

    def __call__(self, logits: Any, history: Sequence[int]) -> int:
        params = self.params
        if self.bias_ids.size:
            logits = logits.copy()
            logits[self.bias_ids] += self.bias_values
        if params.repeat_penalty != 1.0 and history:
            recent = np.unique(np.asarray(history[-REPEAT_WINDOW:], np.intp))
            logits = logits.copy() if not self.bias_ids.size else logits
            values = logits[recent]
            logits[recent] = np.where(
                values > 0, values / params.repeat_penalty, values * params.repeat_penalty
            )
        if params.temperature <= 0:
            return int(np.argmax(logits))
        k = params.top_k if 0 < params.top_k < logits.size else logits.size
        top = np.argpartition(logits, -k)[-k:]
        scores = logits[top].astype(np.float64) / params.temperature
        order = np.argsort(scores)[::-1]
        top, scores = top[order], scores[order]
        probs = np.exp(scores - scores[0])
        probs /= probs.sum()
        if 0 < params.top_p < 1:
            keep = int(np.searchsorted(np.cumsum(probs), params.top_p)) + 1
            top, probs = top[:keep], probs[:keep] / probs[:keep].sum()
        return int(top[self.rng.choice(top.size, p=probs)])
