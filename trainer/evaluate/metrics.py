"""The evaluation's numbers: compile@k, FIM exact match and edit similarity, latency."""

from __future__ import annotations

import math
from collections.abc import Sequence


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k (Chen et al. 2021): 1 - C(n-c, k) / C(n, k) for c passes in n samples."""
    if not 0 < k <= n:
        raise ValueError(f"k must be between 1 and n={n}, not {k}")
    if n - c < k:
        return 1.0
    return 1.0 - math.prod((n - c - i) / (n - i) for i in range(k))


def levenshtein(a: str, b: str) -> int:
    """Edit distance (insertions, deletions, substitutions) in O(len(a) * len(b))."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, start=1):
        current = [i]
        for j, char_b in enumerate(b, start=1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b))
            )
        previous = current
    return previous[-1]


def edit_similarity(prediction: str, reference: str) -> float:
    """1 - Levenshtein distance / length of the longer text (1.0 for two empty texts)."""
    longest = max(len(prediction), len(reference))
    if longest == 0:
        return 1.0
    return 1.0 - levenshtein(prediction, reference) / longest


def normalise_code(text: str) -> str:
    """Code compared for exact match: trailing spaces and surrounding blank lines ignored."""
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines()).strip("\n")


def exact_match(prediction: str, reference: str) -> bool:
    return normalise_code(prediction) == normalise_code(reference)


def percentile(values: Sequence[float], share: float) -> float:
    """The ``share`` (0..1) percentile by linear interpolation; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    position = share * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def latency_summary(seconds: Sequence[float]) -> dict[str, float]:
    if not seconds:
        return {"mean": 0.0, "p50": 0.0, "p95": 0.0}
    return {
        "mean": round(sum(seconds) / len(seconds), 4),
        "p50": round(percentile(seconds, 0.5), 4),
        "p95": round(percentile(seconds, 0.95), 4),
    }


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0
