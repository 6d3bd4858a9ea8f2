"""A ring buffer of extra-context chunks from recently opened, edited and saved BBj files.

The snapshot the prompt is built from is frozen between :meth:`ContextRing.reshuffle` calls
(the daemon calls it when the user pauses): adding a chunk never changes the start of the next
prompt, so llama.cpp keeps its KV cache while the user types.
"""

from __future__ import annotations

from collections.abc import Hashable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from fim.formats import ContextFile

NEAR_DUPLICATE_JACCARD = 0.9
"""Chunks whose sets of (stripped, non-blank) lines are more similar than this are duplicates."""


@dataclass(frozen=True)
class _Chunk:
    path: str
    text: str
    first_line: int
    last_line: int
    line_set: frozenset[str]
    seq: int

    def as_context(self) -> ContextFile:
        return ContextFile(self.path, self.text)

    def overlaps(self, other: _Chunk) -> bool:
        return (
            self.path == other.path
            and self.first_line <= other.last_line
            and other.first_line <= self.last_line
        )


class ContextRing:
    """Holds at most ``max_chunks`` chunks of about ``chunk_lines`` lines each."""

    def __init__(self, max_chunks: int = 16, chunk_lines: int = 64) -> None:
        if max_chunks < 1 or chunk_lines < 1:
            raise ValueError("max_chunks and chunk_lines must be at least 1")
        self._max_chunks = max_chunks
        self._chunk_lines = chunk_lines
        self._chunks: list[_Chunk] = []
        self._published: tuple[ContextFile, ...] = ()
        self._seq = 0

    def __len__(self) -> int:
        return len(self._chunks)

    def add(self, path: str, text: str, cursor_line: int | None = None) -> None:
        """Take a chunk of ``text``: around ``cursor_line`` (0-based) if given, else its top.

        The new chunk evicts older chunks it nearly duplicates (Jaccard similarity of line
        sets above 0.9) and older chunks of the same file whose line ranges overlap it (a
        stale version of the same region).  The oldest chunk goes when the ring is full.
        """
        chunk = self._make_chunk(path, text, cursor_line)
        if chunk is None:
            return
        self._chunks = [old for old in self._chunks if not _supersedes(chunk, old)]
        self._chunks.append(chunk)
        if len(self._chunks) > self._max_chunks:
            self._chunks.pop(0)

    def snapshot(self) -> tuple[ContextFile, ...]:
        """The chunks as of the last :meth:`reshuffle`, oldest first (freshest nearest the file)."""
        return self._published

    def reshuffle(self) -> None:
        """Publish the current chunks as the new snapshot."""
        self._published = tuple(chunk.as_context() for chunk in self._chunks)

    def _make_chunk(self, path: str, text: str, cursor_line: int | None) -> _Chunk | None:
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        first = self._window_start(len(lines), cursor_line)
        window = lines[first : first + self._chunk_lines]
        line_set = frozenset(s for s in (line.strip() for line in window) if s)
        if not line_set:
            return None
        self._seq += 1
        body = "\n".join(window) + "\n"
        return _Chunk(path, body, first, first + len(window) - 1, line_set, self._seq)

    def _window_start(self, total: int, cursor_line: int | None) -> int:
        if cursor_line is None:
            return 0
        centred = max(cursor_line - self._chunk_lines // 2, 0)
        return max(min(centred, total - self._chunk_lines), 0)


def _supersedes(new: _Chunk, old: _Chunk) -> bool:
    return new.overlaps(old) or jaccard(new.line_set, old.line_set) > NEAR_DUPLICATE_JACCARD


def jaccard(a: AbstractSet[Hashable], b: AbstractSet[Hashable]) -> float:
    """Size of the intersection over size of the union (1.0 for two empty sets)."""
    union = len(a | b)
    return len(a & b) / union if union else 1.0
