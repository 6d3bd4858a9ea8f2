"""Edit history: the user's recent changes, coalesced into hunks the model can read.

Keystrokes are too small to mean anything on their own. Edits that land within ``gap_lines``
of the hunk being built join it; an edit elsewhere closes that hunk (its net change from when
it began to now) and starts the next one. Hunks that are too big (a paste, a reformat) say
nothing about the next edit and are left out; only the newest ``max_hunks`` are kept.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from fim.next_edit.text import common_affixes, split_lines


@dataclass(frozen=True)
class Hunk:
    """Lines ``original`` became ``updated``, starting at line ``start_line`` of the document
    as it is after the change."""

    path: str
    start_line: int
    original: tuple[str, ...]
    updated: tuple[str, ...]

    @property
    def size(self) -> int:
        return len(self.original) + len(self.updated)

    def chars(self) -> int:
        return sum(len(line) + 1 for line in (*self.original, *self.updated))

    @staticmethod
    def block(lines: tuple[str, ...]) -> str:
        """Lines as the wire and the prompt carry them: each ends with ``\\n``."""
        return "".join(line + "\n" for line in lines)

    @staticmethod
    def unblock(text: str) -> tuple[str, ...]:
        """The inverse of :meth:`block` (a missing final newline is tolerated)."""
        if not text:
            return ()
        return tuple(split_lines(text[:-1] if text.endswith("\n") else text))


@dataclass(frozen=True)
class Region:
    """Lines ``[start, old_end)`` of the old text became ``[start, new_end)`` of the new."""

    start: int
    old_end: int
    new_end: int


def changed_region(old: list[str], new: list[str]) -> Region | None:
    """The smallest line range that differs between ``old`` and ``new`` (None when equal)."""
    if old == new:
        return None
    start, suffix = common_affixes(old, new)
    return Region(start, len(old) - suffix, len(new) - suffix)


def diff_hunk(path: str, old: list[str], new: list[str]) -> Hunk | None:
    region = changed_region(old, new)
    if region is None:
        return None
    return Hunk(
        path,
        region.start,
        tuple(old[region.start : region.old_end]),
        tuple(new[region.start : region.new_end]),
    )


class _Document:
    def __init__(self, text: str) -> None:
        self.anchor = split_lines(text)
        self.current = list(self.anchor)
        self.began = 0  # when the hunk being built began (orders hunks across documents)


class EditHistory:
    """Recent hunks of every document, oldest first, bounded in number and size."""

    def __init__(self, *, gap_lines: int = 2, max_hunks: int = 8, max_hunk_lines: int = 40) -> None:
        self.gap_lines = gap_lines
        self.max_hunks = max_hunks
        self.max_hunk_lines = max_hunk_lines
        self._documents: dict[str, _Document] = {}
        self._closed: deque[tuple[int, Hunk]] = deque(maxlen=max_hunks)
        self._clock = itertools.count(1)

    def open(self, path: str, text: str) -> None:
        """Start following ``path`` (its current text has no history yet)."""
        self._documents[path] = _Document(text)

    def forget(self, path: str) -> None:
        self._documents.pop(path, None)

    def text(self, path: str) -> str | None:
        document = self._documents.get(path)
        return None if document is None else "\n".join(document.current)

    def update(self, path: str, text: str) -> None:
        """Record that ``path`` now reads ``text``."""
        document = self._documents.get(path)
        if document is None:
            self.open(path, text)
            return
        new = split_lines(text)
        change = changed_region(document.current, new)
        if change is None:
            return
        building = changed_region(document.anchor, document.current)
        if building is not None and not self._near(building, change):
            self._close(path, document)
            building = None
        if building is None:
            document.began = next(self._clock)
        document.current = new

    def _near(self, building: Region, change: Region) -> bool:
        gap = self.gap_lines
        return change.start <= building.new_end + gap and change.old_end >= building.start - gap

    def _close(self, path: str, document: _Document) -> None:
        hunk = diff_hunk(path, document.anchor, document.current)
        if hunk is not None and self._fits(hunk):
            self._closed.append((document.began, hunk))
        document.anchor = list(document.current)

    def _fits(self, hunk: Hunk) -> bool:
        return max(len(hunk.original), len(hunk.updated)) <= self.max_hunk_lines

    def hunks(self) -> list[Hunk]:
        """Closed hunks and every document's hunk in progress, oldest first."""
        entries = list(self._closed)
        for path, document in self._documents.items():
            hunk = diff_hunk(path, document.anchor, document.current)
            if hunk is not None and self._fits(hunk):
                entries.append((document.began, hunk))
        entries.sort(key=lambda entry: entry[0])
        return [hunk for _, hunk in entries][-self.max_hunks :]


def bounded(hunks: Iterable[Hunk], max_hunks: int, max_chars: int) -> list[Hunk]:
    """The newest hunks that fit both bounds (oldest first)."""
    kept: list[Hunk] = []
    total = 0
    for hunk in reversed(list(hunks)):
        if len(kept) >= max_hunks or total + hunk.chars() > max_chars:
            break
        kept.append(hunk)
        total += hunk.chars()
    return kept[::-1]
