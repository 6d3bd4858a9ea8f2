"""Choosing the middle of a FIM sample: a whole line, a BBj block, or a random span.

Spans are (start, end) character offsets into the file text. Line and block spans start at a
line start and end after a line break, never splitting a ``:`` continuation line from the line
it continues.
"""

from __future__ import annotations

import random
from bisect import bisect_right
from dataclasses import dataclass
from functools import cached_property

from fim.language import BLOCK_CLOSERS, BLOCK_OPENERS, CONTINUATION_CHAR, first_word

MAX_BLOCK_LINES = 40
MAX_RUN_LINES = 6
MAX_RANDOM_CHARS = 400


@dataclass(frozen=True)
class FileLines:
    """A file's text with its lines (line breaks kept) and where each line starts."""

    text: str

    @cached_property
    def lines(self) -> list[str]:
        return self.text.splitlines(keepends=True)

    @cached_property
    def starts(self) -> list[int]:
        starts, position = [], 0
        for line in self.lines:
            starts.append(position)
            position += len(line)
        return starts

    def line_at(self, offset: int) -> int:
        """Index of the line holding character ``offset`` (the last line for the end)."""
        return max(0, bisect_right(self.starts, offset) - 1)

    def end_of(self, index: int) -> int:
        return self.starts[index] + len(self.lines[index])

    @cached_property
    def depth_changes(self) -> list[int]:
        """Per line: blocks opened minus blocks closed by its statements."""
        return [sum(_statement_change(s) for s in statements(line)) for line in self.lines]


def statements(line: str) -> list[str]:
    """The ``;``-separated statements of a line, ignoring ``;`` in strings and after REM."""
    parts, current, in_string = [], [], False
    for char in line:
        if char == '"':
            in_string = not in_string
        if char == ";" and not in_string:
            parts.append("".join(current))
            current = []
            if first_word(parts[-1]) == "rem":
                return parts
            continue
        current.append(char)
    parts.append("".join(current))
    return parts


def _statement_change(statement: str) -> int:
    word = first_word(statement)
    if word in BLOCK_CLOSERS:
        return -1
    if word not in BLOCK_OPENERS:
        return 0
    body = statement.strip().lower()
    if word == "if":
        return 1 if body.endswith("then") else 0
    if word == "def":
        return 0 if "=" in body else 1
    return 1


def _is_continuation(line: str) -> bool:
    return line.lstrip().startswith(CONTINUATION_CHAR)


def _is_statement_start(line: str) -> bool:
    return bool(line.strip()) and not _is_continuation(line)


def line_span(lines: FileLines, rng: random.Random) -> tuple[int, int] | None:
    candidates = [i for i, line in enumerate(lines.lines) if _is_statement_start(line)]
    if not candidates:
        return None
    index = rng.choice(candidates)
    return _whole_lines(lines, index, index)


def block_span(lines: FileLines, rng: random.Random) -> tuple[int, int] | None:
    """A block from its opener to its closer; a short run of statements when there is none."""
    blocks = find_blocks(lines)
    if blocks:
        first, last = rng.choice(blocks)
        return _whole_lines(lines, first, last)
    starts = [i for i, line in enumerate(lines.lines) if _is_statement_start(line)]
    if len(starts) < 2:
        return None
    first = rng.choice(starts[:-1])
    last = min(len(lines.lines) - 1, first + rng.randint(1, MAX_RUN_LINES - 1))
    return _whole_lines(lines, first, last)


def find_blocks(lines: FileLines) -> list[tuple[int, int]]:
    """(first line, last line) of every multi-line block up to ``MAX_BLOCK_LINES`` long."""
    changes = lines.depth_changes
    blocks = []
    for first, change in enumerate(changes):
        if change <= 0:
            continue
        depth = 0
        for last in range(first, min(len(changes), first + MAX_BLOCK_LINES)):
            depth += changes[last] if last > first else change
            if depth <= 0:
                blocks.append((first, last))
                break
    return blocks


def _whole_lines(lines: FileLines, first: int, last: int) -> tuple[int, int]:
    while last + 1 < len(lines.lines) and _is_continuation(lines.lines[last + 1]):
        last += 1
    return lines.starts[first], lines.end_of(last)


def random_span(
    lines: FileLines, rng: random.Random, max_chars: int = MAX_RANDOM_CHARS
) -> tuple[int, int] | None:
    size = len(lines.text)
    if size == 0:
        return None
    start = rng.randrange(size)
    length = rng.randint(1, max(1, min(max_chars, size - start)))
    return start, start + length


SPAN_CHOOSERS = {"line": line_span, "block": block_span, "random": random_span}
