"""The BBj tokenizer: source text -> physical lines -> logical lines -> tokens.

A logical line is one physical line plus the ``:`` continuation lines that follow it, joined
the way BBj joins them: the text after each ``:`` is appended directly, so a string opened on
one line may go on across continuation lines (``style! = "`` then ``: body {…}"``). Legacy line
numbers (``0010 PRINT ...``) and labels (``name:``) are taken off the front.

Tokens are plain strings (``findall`` is far cheaper than match objects; large files produce
millions of tokens); their kind follows from the first character (:func:`kind_of`). Columns
are only needed for diagnostics, so :meth:`LogicalLine.locate` recomputes them on demand.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass

LINE_BREAK = re.compile(r"\r\n|\r|\n")

_TOKEN_PATTERN = r"""
    "[^"]*(?:""[^"]*)*"|".*                 # string ("" is the only escape), or unterminated
    |\$[^$]*\$|\$.*                         # hex string $0D0A$, or unterminated
    |'[^']*'|'.*                            # mnemonic 'CS', or unterminated
    |::.*?::|::.*                           # a BBj file path ::lib/util.bbj::
    |(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?   # number
    |[^\W\d]\w*[$%!@]?                      # word, with its type suffix
    |<>|<=|>=|=<|=>|><|[^\s]                # operator or any other single character
"""
_TOKEN = re.compile(_TOKEN_PATTERN, re.VERBOSE)
_FIND_TOKENS = _TOKEN.findall
_LINE_NUMBER = re.compile(r"[ \t]*(\d+)(?!\d)")
_LABEL = re.compile(r"[ \t]*([^\W\d]\w*):(?!:)")
_INDENT = re.compile(r"[ \t]*")
_TAB_WIDTH = 4

WORD, NUMBER, STRING, HEX, MNEMONIC, PATH, OPERATOR, END = (
    "word",
    "number",
    "string",
    "hex",
    "mnemonic",
    "path",
    "operator",
    "end",
)
_KIND_OF_FIRST: dict[str, str] = {'"': STRING, "$": HEX, "'": MNEMONIC}
_KIND_OF_FIRST.update(dict.fromkeys("0123456789", NUMBER))
_KIND_OF_FIRST.update(dict.fromkeys("_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", WORD))
_CLOSING = {STRING: '"', HEX: "$", MNEMONIC: "'", PATH: "::"}


def kind_of(token: str) -> str:
    """The kind of a token: word, number, string, hex, mnemonic, path, operator or end."""
    if not token:
        return END
    kind = _KIND_OF_FIRST.get(token[0])
    if kind is not None:
        return kind
    if token[0] == "." and len(token) > 1:
        return NUMBER
    if token[0] == ":" and len(token) > 1:
        return PATH
    if token[0].isalpha():
        return WORD
    return OPERATOR


def is_terminated(token: str) -> bool:
    """False for a string, hex string, mnemonic or path that runs off the end of its line."""
    closing = _CLOSING.get(kind_of(token))
    if closing is None:
        return True
    if len(token) < 2 * len(closing) or not token.endswith(closing):
        return False
    if closing == '"':
        return (token.count('"') % 2) == 0
    return True


def tokenize(text: str) -> list[str]:
    """The tokens of ``text`` (blanks dropped)."""
    return _FIND_TOKENS(text)


def token_starts(text: str) -> list[int]:
    """Where each token of :func:`tokenize` starts in ``text`` (for columns in diagnostics)."""
    return [match.start() for match in _TOKEN.finditer(text)]


def split_physical_lines(code: str) -> list[str]:
    """Split on CRLF, CR or LF, as bbjcpl counts lines."""
    return LINE_BREAK.split(code)


def is_continuation(text: str) -> bool:
    stripped = text.lstrip(" \t")
    return stripped.startswith(":") and not stripped.startswith("::")


def layout_of(physical_lines: list[str]) -> tuple[bool, bool]:
    """Return (uses legacy line numbers, uses indentation) for a file's physical lines."""
    numbered = indented = False
    for text in physical_lines:
        if not text.strip() or is_continuation(text):
            continue
        basic_line, _label, indent, _start = line_prefix(text)
        numbered = numbered or basic_line is not None
        indented = indented or indent > 0
        if numbered and indented:
            break
    return numbered, indented


def line_prefix(text: str) -> tuple[int | None, str | None, int, int]:
    """Return (line number, label, indent, position where statements start)."""
    pos = 0
    basic_line: int | None = None
    number = _LINE_NUMBER.match(text)
    if number is not None:
        basic_line = int(number.group(1))
        pos = number.end()
    indent_match = _INDENT.match(text, pos)
    indent = len(indent_match.group().expandtabs(_TAB_WIDTH)) if indent_match else 0
    if basic_line is not None:
        indent = max(0, indent - 1)  # the blank that separates a line number from code
    label: str | None = None
    label_match = _LABEL.match(text, pos)
    if label_match is not None:
        label = label_match.group(1)
        pos = label_match.end()
    return basic_line, label, indent, pos


@dataclass(frozen=True)
class LogicalLine:
    """One statement line, its continuation lines joined.

    ``text`` is the statement text after any line number and label; ``segments`` maps it back
    to the source: ``(offset in text, physical line, column of that offset)`` per physical line.
    """

    line: int
    indent: int
    text: str
    segments: tuple[tuple[int, int, int], ...]
    basic_line: int | None = None
    label: str | None = None

    @property
    def last_line(self) -> int:
        return self.segments[-1][1]

    def locate_offset(self, offset: int) -> tuple[int, int]:
        """(physical line, 1-based column) of a character offset in ``text``."""
        index = bisect.bisect_right(self.segments, (offset, 1 << 62)) - 1
        start, line, column = self.segments[max(index, 0)]
        return line, column + (offset - start) + 1

    def locate(self, token_index: int) -> tuple[int, int]:
        """(physical line, 1-based column) of the token at ``token_index`` (or the line's end)."""
        starts = token_starts(self.text)
        if token_index < len(starts):
            return self.locate_offset(starts[token_index])
        return self.locate_offset(len(self.text.rstrip()))

    def line_of(self, token_index: int) -> int:
        if len(self.segments) == 1:
            return self.line
        return self.locate(token_index)[0]


def _logical_line(pieces: list[tuple[int, str]]) -> LogicalLine:
    first_line, first_text = pieces[0]
    basic_line, label, indent, start = line_prefix(first_text)
    parts = [first_text[start:]]
    segments = [(0, first_line, start)]
    offset = len(parts[0])
    for number, text in pieces[1:]:
        colon = text.index(":") + 1
        segments.append((offset, number, colon))
        parts.append(text[colon:])
        offset += len(text) - colon
    return LogicalLine(
        line=first_line,
        indent=indent,
        text="".join(parts),
        segments=tuple(segments),
        basic_line=basic_line,
        label=label,
    )


def iter_logical_lines(physical_lines: list[str], first_line: int = 1) -> Iterator[LogicalLine]:
    """Yield the logical lines made of already split physical lines (blank lines skipped)."""
    pending: list[tuple[int, str]] = []
    for number, text in enumerate(physical_lines, start=first_line):
        if pending and is_continuation(text):
            pending.append((number, text))
            continue
        if pending:
            yield _logical_line(pending)
            pending = []
        if text and not text.isspace():
            pending = [(number, text)]
    if pending:
        yield _logical_line(pending)


def logical_lines(code: str) -> Iterator[LogicalLine]:
    """Yield the logical lines of ``code`` in order (blank lines are skipped)."""
    return iter_logical_lines(split_physical_lines(code))
