"""Prompt-lookup drafts for the next-edit lane: a next edit mostly copies the window it was
shown, so the n-gram that ends the output so far usually occurs earlier, and the tokens that
followed it there are a good guess. The engine checks a whole draft in one batch; at
temperature 0 every accepted token is exactly what plain decoding would have produced."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def find_draft(history: Sequence[int], ngram: int, tokens: int) -> list[int]:
    """Up to ``tokens`` tokens that followed the latest earlier occurrence of the longest
    (at most ``ngram``) n-gram ending ``history``; [] when there is none."""
    if tokens < 1:
        return []
    ids = np.asarray(history, np.int64)
    for size in range(min(ngram, len(ids) - 1), 0, -1):
        pattern = ids[-size:]
        windows = np.lib.stride_tricks.sliding_window_view(ids[:-1], size)
        hits = np.flatnonzero((windows == pattern).all(axis=1))
        hits = hits[hits + size < len(ids)]
        if hits.size:
            start = int(hits[-1]) + size
            return [int(t) for t in ids[start : start + tokens]]
    return []
