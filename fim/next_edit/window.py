"""The fixed window of lines around the cursor that the model rewrites."""

from __future__ import annotations

from dataclasses import dataclass

from fim.next_edit.text import Position, check_position, split_lines


@dataclass(frozen=True)
class Window:
    """Lines ``start`` (inclusive) to ``end`` (exclusive) of a document."""

    start: int
    end: int
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def extract_window(text: str, cursor: Position, above: int, below: int) -> Window:
    """``above`` lines before the cursor's line, that line, and ``below`` lines after it;
    raises :class:`~fim.next_edit.text.CursorOutOfRangeError` for a cursor off the text."""
    lines = split_lines(text)
    check_position(lines, cursor)
    start = max(0, cursor.line - above)
    end = min(len(lines), cursor.line + below + 1)
    return Window(start, end, tuple(lines[start:end]))
