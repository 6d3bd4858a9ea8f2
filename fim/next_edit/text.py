"""Line and position arithmetic on plain text (``\\n`` line ends; positions are 0-based
``(line, character)`` with ``character`` counted in code points)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fim.errors import BbjCoderError


class NextEditInputError(BbjCoderError):
    """A next-edit request that cannot be served as given (the message says what is wrong)."""


class CursorOutOfRangeError(NextEditInputError):
    """The cursor points past the end of the document or of its line."""


@dataclass(frozen=True, order=True)
class Position:
    line: int
    character: int


def split_lines(text: str) -> list[str]:
    """The document's lines; a trailing newline gives a last, empty line (as editors count)."""
    return text.split("\n")


def check_position(lines: list[str], position: Position) -> None:
    if position.line < 0 or position.character < 0:
        raise CursorOutOfRangeError(
            f"The cursor ({position.line}, {position.character}) has a negative coordinate."
        )
    if position.line >= len(lines):
        raise CursorOutOfRangeError(
            f"The cursor is on line {position.line} but the document has {len(lines)} lines "
            "(lines count from 0)."
        )
    if position.character > len(lines[position.line]):
        raise CursorOutOfRangeError(
            f"The cursor is at character {position.character} of line {position.line}, "
            f"which has {len(lines[position.line])} characters."
        )


def offset_of(lines: list[str], position: Position) -> int:
    return sum(len(line) + 1 for line in lines[: position.line]) + position.character


def advance(position: Position, text: str) -> Position:
    """The position reached after ``text`` is read from ``position``."""
    newlines = text.count("\n")
    if newlines == 0:
        return Position(position.line, position.character + len(text))
    return Position(position.line + newlines, len(text) - text.rfind("\n") - 1)


@dataclass(frozen=True)
class TextEdit:
    """Replace the text between ``start`` and ``end`` with ``new_text`` (LSP's TextEdit)."""

    start: Position
    end: Position
    new_text: str

    def to_dict(self) -> dict[str, object]:
        return {
            "range": {
                "start": {"line": self.start.line, "character": self.start.character},
                "end": {"line": self.end.line, "character": self.end.character},
            },
            "new_text": self.new_text,
        }


def apply_edits(text: str, edits: list[TextEdit] | tuple[TextEdit, ...]) -> str:
    """``text`` with non-overlapping ``edits`` applied (positions refer to the original text)."""
    lines = split_lines(text)
    for edit in sorted(edits, key=lambda e: e.start, reverse=True):
        start, end = offset_of(lines, edit.start), offset_of(lines, edit.end)
        text = text[:start] + edit.new_text + text[end:]
    return text


def common_affixes(a: Sequence[object], b: Sequence[object]) -> tuple[int, int]:
    """Lengths of the longest common prefix and (non-overlapping) common suffix of a and b
    (strings, or lists of lines)."""
    limit = min(len(a), len(b))
    prefix = 0
    while prefix < limit and a[prefix] == b[prefix]:
        prefix += 1
    suffix = 0
    while suffix < limit - prefix and a[-1 - suffix] == b[-1 - suffix]:
        suffix += 1
    return prefix, suffix
