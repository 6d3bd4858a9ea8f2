"""Cutting a file's text around a FIM middle to a token budget, at line boundaries.

Costs are per-line token counts (computed once per file in one batch); the exact count of the
final prompt is checked by the caller, since BPE over joined lines can differ slightly.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from itertools import accumulate

from trainer.data.spans import FileLines
from trainer.data.tokens import TokenCounter


class LineCosts:
    """Cumulative per-line token counts of files, cached by text."""

    def __init__(self, counter: TokenCounter) -> None:
        self.counter = counter
        self._cache: dict[str, list[int]] = {}

    def of(self, lines: FileLines) -> list[int]:
        """``costs[i]`` is the token count of lines ``0..i-1``."""
        costs = self._cache.get(lines.text)
        if costs is None:
            costs = [0, *accumulate(self.counter.count_many(lines.lines))]
            self._cache[lines.text] = costs
        return costs


def trim_prefix(
    lines: FileLines, costs: list[int], counter: TokenCounter, start: int, budget: int
) -> tuple[int, int]:
    """Where the prefix before ``start`` begins when it may cost ``budget``; (offset, cost)."""
    if start == 0:
        return 0, 0
    line = lines.line_at(start - 1)
    partial = lines.text[lines.starts[line] : start]
    partial_cost = counter.count(partial)
    if partial_cost > budget:
        keep = fit_chars(partial, budget, counter, from_end=True)
        return start - keep, counter.count(partial[len(partial) - keep :]) if keep else 0
    available = budget - partial_cost
    first = bisect_left(costs, costs[line] - available, 0, line + 1)
    return lines.starts[first], costs[line] - costs[first] + partial_cost


def trim_suffix(
    lines: FileLines, costs: list[int], counter: TokenCounter, end: int, budget: int
) -> tuple[int, int]:
    """Where the suffix after ``end`` stops when it may cost ``budget``; (offset, cost)."""
    size = len(lines.text)
    if end >= size:
        return size, 0
    line = lines.line_at(end)
    partial_cost = 0
    first_full = line
    if end != lines.starts[line]:
        partial = lines.text[end : lines.end_of(line)]
        partial_cost = counter.count(partial)
        if partial_cost > budget:
            keep = fit_chars(partial, budget, counter, from_end=False)
            return end + keep, counter.count(partial[:keep]) if keep else 0
        first_full = line + 1
    available = budget - partial_cost
    count = len(lines.lines)
    last = bisect_right(costs, costs[first_full] + available, first_full, count + 1) - 1
    offset = lines.starts[last] if last < count else size
    return offset, costs[last] - costs[first_full] + partial_cost


def fit_chars(text: str, budget: int, counter: TokenCounter, from_end: bool) -> int:
    """The most characters of ``text`` (from its end, or its start) that cost ``budget``."""
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        piece = text[len(text) - middle :] if from_end else text[:middle]
        if counter.count(piece) <= budget:
            low = middle
        else:
            high = middle - 1
    return low
