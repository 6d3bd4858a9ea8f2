"""BBj block structure as post-processing sees it: ``:`` continuation lines, indentation, and
the blocks (``FOR``…``NEXT``, ``METHOD``…``METHODEND``) that are open at the cursor.

Keywords come from :mod:`fim.language`; a line is judged statement by statement (``;``), and
nothing after ``REM`` counts.
"""

from __future__ import annotations

from dataclasses import dataclass

from fim.language import (
    BLOCK_CLOSERS,
    BLOCK_OPENERS,
    CLOSER_TO_OPENER,
    COMMENT_KEYWORD,
    CONTINUATION_CHAR,
    STATEMENT_SEPARATOR,
    first_word,
)

QUOTES = "\"'"
"""The characters that open a string or a mnemonic; ``;`` and brackets inside do not count."""
_BLOCK_WORDS = BLOCK_OPENERS | BLOCK_CLOSERS
_TAB_WIDTH = 4

BlockEvent = tuple[bool, str]
"""``(True, opener)`` or ``(False, closer)``."""


@dataclass(frozen=True)
class OpenBlock:
    """A block open at the cursor: its opener keyword and the opener line's indentation."""

    opener: str
    indent: int
    closed_in_suffix: bool = False


def is_continuation(line: str) -> bool:
    """Is ``line`` a ``:`` continuation of the line before it?"""
    return line.lstrip().startswith(CONTINUATION_CHAR)


def indent_width(line: str) -> int:
    stripped = line.lstrip(" \t")
    return len(line[: len(line) - len(stripped)].expandtabs(_TAB_WIDTH))


def block_events(line: str) -> list[BlockEvent]:
    """Block openers and closers in one physical line, statement by statement, before ``REM``."""
    if STATEMENT_SEPARATOR not in line and first_word(line) not in _BLOCK_WORDS:
        return []
    events: list[BlockEvent] = []
    for statement in _statements(line):
        word = first_word(statement)
        if word == COMMENT_KEYWORD:
            break
        if word in BLOCK_CLOSERS:
            events.append((False, word))
        elif word in BLOCK_OPENERS and _opens_block(word, statement):
            events.append((True, word))
    return events


def _statements(line: str) -> list[str]:
    """Split at ``;`` outside strings and mnemonics."""
    if STATEMENT_SEPARATOR not in line:
        return [line]
    parts: list[str] = []
    start = 0
    quote = ""
    for index, ch in enumerate(line):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in QUOTES:
            quote = ch
        elif ch == STATEMENT_SEPARATOR:
            parts.append(line[start:index])
            start = index + 1
    parts.append(line[start:])
    return parts


def _opens_block(word: str, statement: str) -> bool:
    """``IF … THEN`` opens a block only with nothing after THEN; ``DEF FN`` only without ``=``."""
    if word == "if":
        text = statement.rstrip().lower()
        return text.endswith("then") and not text[-5:-4].isalnum()
    if word == "def":
        return "=" not in statement
    return True


def find_open_blocks(above: list[str], below: list[str]) -> tuple[OpenBlock, ...]:
    """Blocks open at the cursor (innermost first), marked when the suffix closes them.

    ``above`` ends with the cursor line's text before the cursor; ``below`` starts with the
    rest of the cursor line.
    """
    open_blocks = _scan_upwards(above)
    closed = _closed_by_suffix([opener for opener, _ in open_blocks], below)
    return tuple(
        OpenBlock(opener, indent, index in closed)
        for index, (opener, indent) in enumerate(open_blocks)
    )


def _scan_upwards(above: list[str]) -> list[tuple[str, int]]:
    pending: list[str] = []  # closers seen so far, waiting for their openers further up
    found: list[tuple[str, int]] = []
    continued = False
    for line in reversed(above):
        for is_opener, word in reversed(block_events(line)):
            if not is_opener:
                pending.append(word)
            elif word == "if" and continued:
                continue  # IF … THEN followed by a ':' line is a one-statement IF
            elif not pending:
                found = _open_found(found, word, indent_width(line))
            elif CLOSER_TO_OPENER[pending[-1]] == word:
                pending.pop()
            elif word not in ("if", "method"):
                pending.pop()  # tolerate a mismatch; IFs and interface methods may not close
        continued = is_continuation(line)
    return found


def _open_found(found: list[tuple[str, int]], opener: str, indent: int) -> list[tuple[str, int]]:
    if opener == "interface":
        # Methods inside an interface are declarations, not blocks.
        found = [entry for entry in found if entry[0] != "method"]
    return [*found, (opener, indent)]


def _closed_by_suffix(openers: list[str], below: list[str]) -> set[int]:
    """Indices of ``openers`` (innermost first) whose closers the suffix provides."""
    closed: set[int] = set()
    depth = 0
    position = 0
    in_interface = bool(openers) and openers[0] == "interface"
    for index, line in enumerate(below):
        if position >= len(openers):
            break
        continued = index + 1 < len(below) and is_continuation(below[index + 1])
        for is_opener, word in block_events(line):
            if is_opener:
                declaration = word == "method" and in_interface and depth == 0
                depth += 0 if declaration or (word == "if" and continued) else 1
            elif depth:
                depth -= 1
            else:
                match = _next_match(openers, position, CLOSER_TO_OPENER[word])
                if match is None:
                    return closed
                closed.add(match)
                position = match + 1
    return closed


def _next_match(openers: list[str], start: int, opener: str) -> int | None:
    for index in range(start, len(openers)):
        if openers[index] == opener:
            return index
    return None
