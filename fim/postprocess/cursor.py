"""The text around the cursor and what the filters derive from it, built once per request."""

from __future__ import annotations

from dataclasses import dataclass

from fim.postprocess.blocks import OpenBlock, block_events, find_open_blocks, is_continuation

MAX_SCAN_LINES = 1000
"""How far ``FimContext.build`` looks back into the prefix and forward into the suffix."""


@dataclass(frozen=True)
class FimContext:
    """The text around the cursor and what the filters derive from it (built once per request)."""

    prefix: str
    suffix: str
    line_prefix: str
    """The cursor line's text before the cursor."""
    line_suffix: str
    """The cursor line's text after the cursor."""
    previous_line: str
    """The last non-blank line above the cursor line, stripped."""
    suffix_lines: tuple[str, ...]
    """The first two non-blank lines from the cursor on, stripped."""
    open_blocks: tuple[OpenBlock, ...]
    """Blocks open at the cursor, innermost first, each marked if the suffix closes it."""
    continues_after_cursor: bool
    """The cursor's statement goes on in a ``:`` continuation line after the cursor."""
    line_prefix_events: int
    """How many block openers/closers the text before the cursor on its line holds."""

    @property
    def multiline(self) -> bool:
        """Multi-line completions are allowed only on an empty (or whitespace-only) line."""
        return not self.line_prefix.strip()

    @classmethod
    def build(cls, prefix: str, suffix: str) -> FimContext:
        above = prefix.rsplit("\n", MAX_SCAN_LINES)
        if len(above) > MAX_SCAN_LINES:
            above = above[1:]
        below = suffix.split("\n", MAX_SCAN_LINES)
        if len(below) > MAX_SCAN_LINES:
            below = below[:-1]
        line_prefix, line_suffix = above[-1], below[0]
        return cls(
            prefix=prefix,
            suffix=suffix,
            line_prefix=line_prefix,
            line_suffix=line_suffix,
            previous_line=_last_non_blank(above[:-1]),
            suffix_lines=_first_non_blank(below, 2),
            open_blocks=find_open_blocks(above, below),
            continues_after_cursor=_continues_after_cursor(line_prefix, below),
            line_prefix_events=len(block_events(line_prefix)),
        )


def _last_non_blank(lines: list[str]) -> str:
    for line in reversed(lines):
        if line.strip():
            return line.strip()
    return ""


def _first_non_blank(lines: list[str], wanted: int) -> tuple[str, ...]:
    found: list[str] = []
    for line in lines:
        if line.strip():
            found.append(line.strip())
            if len(found) == wanted:
                break
    return tuple(found)


def _continues_after_cursor(line_prefix: str, below: list[str]) -> bool:
    if below[0].strip():
        return not line_prefix.strip() and is_continuation(below[0])
    return len(below) > 1 and is_continuation(below[1])
