"""The BBj tokenizer: source text -> physical lines -> tokens -> logical lines.

A logical line is one physical line plus the ``:`` continuation lines that follow it. Legacy
line numbers (``0010 PRINT ...``) and labels (``name:``) are taken off the front of a logical
line. ``REM`` comments, strings (``""`` is the only escape), hex strings (``$0D0A$``) and
mnemonics (``'CS'``) are single tokens; an unterminated one becomes a ``bad-*`` token that the
checker reports.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

LINE_BREAK = re.compile(r"\r\n|\r|\n")

# Leading blanks are skipped by the same match; a line's trailing blanks match nothing.
_TOKEN = re.compile(
    r"""
    [ \t\f\v\r]*
    (?:(?P<str>"[^"]*(?:""[^"]*)*")
    |(?P<bad_str>".*)
    |(?P<hex>\$[^$]*\$)
    |(?P<bad_hex>\$.*)
    |(?P<mnem>'[^']*')
    |(?P<bad_mnem>'.*)
    |(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
    |(?P<word>[^\W\d]\w*[$%!]?)
    |(?P<op><>|<=|>=|::|\S))
    """,
    re.VERBOSE,
)
_LINE_NUMBER = re.compile(r"[ \t]*(\d+)(?!\d)")
_LABEL = re.compile(r"[ \t]*([^\W\d]\w*):(?!:)")
_INDENT = re.compile(r"[ \t]*")
_TAB_WIDTH = 4

# Verbs that merely start with the letters "rem"; every other such word at the start of a
# statement is read as an old-style comment ("REMARK ...") rather than flagged.
_REM_LOOKALIKES = frozenset({"remove", "remove_callback"})
_NOT_A_COMMENT_AFTER = frozenset("=([.:")
_STATEMENT_STARTERS = frozenset({"then", "else"})


class Token(NamedTuple):
    """One token. A NamedTuple rather than a dataclass: large files create millions of them.

    ``kind`` is one of ``word num str hex mnem op rem opaque bad_str bad_hex bad_mnem``.
    """

    kind: str
    text: str
    line: int
    col: int


@dataclass(frozen=True)
class LogicalLine:
    """A statement line with its continuations joined, ready for the structural parser."""

    line: int
    indent: int
    tokens: tuple[Token, ...]
    basic_line: int | None = None
    label: str | None = None


def split_physical_lines(code: str) -> list[str]:
    """Split on CRLF, CR or LF, as bbjcpl counts lines."""
    return LINE_BREAK.split(code)


def layout_of(physical_lines: list[str]) -> tuple[bool, bool]:
    """Return (uses legacy line numbers, uses indentation) for a file's physical lines."""
    numbered = indented = False
    for text in physical_lines:
        if not text.strip() or _is_continuation(text):
            continue
        basic_line, _label, indent, _start = _line_prefix(text)
        numbered = numbered or basic_line is not None
        indented = indented or indent > 0
        if numbered and indented:
            break
    return numbered, indented


def _is_continuation(text: str) -> bool:
    stripped = text.lstrip(" \t")
    return stripped.startswith(":") and not stripped.startswith("::")


def _indent_width(text: str) -> int:
    return len(text.expandtabs(_TAB_WIDTH))


class _LineTokenizer:
    """Tokenizes one physical line, knowing whether a statement starts at the first token."""

    def __init__(self, text: str, line: int, at_statement_start: bool) -> None:
        self.text = text
        self.line = line
        self.at_statement_start = at_statement_start
        self.tokens: list[Token] = []

    def run(self, pos: int) -> bool:
        """Tokenize from ``pos``; return whether a statement starts after the last token."""
        resume: int | None = pos
        while resume is not None:
            resume = self._scan(resume)
        return self.at_statement_start

    def _scan(self, pos: int) -> int | None:
        """Tokenize from ``pos`` to the end of the line, or return where to resume after an
        opaque ``use`` path."""
        text, line, tokens = self.text, self.line, self.tokens
        at_start = self.at_statement_start
        for match in _TOKEN.finditer(text, pos):
            kind = match.lastgroup or "op"
            value = match.group(kind)
            col = match.start(kind)
            if kind == "word":
                lower = value.lower()
                if lower.startswith("rem") and self._starts_comment(lower, at_start, match.end()):
                    tokens.append(Token("rem", text[col:], line, col))
                    self.at_statement_start = True
                    return None
                tokens.append(Token(kind, value, line, col))
                if lower == "use" and at_start:
                    self.at_statement_start = False
                    return self._opaque_use_path(match.end())
                at_start = lower in _STATEMENT_STARTERS
            else:
                tokens.append(Token(kind, value, line, col))
                at_start = value == ";"
        self.at_statement_start = at_start
        return None

    def _starts_comment(self, word: str, at_start: bool, end: int) -> bool:
        if word == "rem":
            return not self.tokens or self.tokens[-1].text != "."
        if not at_start or word in _REM_LOOKALIKES or word[-1] in "$%!":
            return False
        following = self.text[end:].lstrip(" \t")[:1]
        return following not in _NOT_A_COMMENT_AFTER

    def _opaque_use_path(self, pos: int) -> int:
        """``use ::some/path.bbj::Class``: the path between the ``::`` marks is one token."""
        rest = self.text[pos:]
        stripped = rest.lstrip(" \t")
        if not stripped.startswith("::"):
            return pos
        start = pos + len(rest) - len(stripped)
        close = self.text.find("::", start + 2)
        end = len(self.text) if close < 0 else close + 2
        self.tokens.append(Token("opaque", self.text[start:end], self.line, start))
        return end


def _line_prefix(text: str) -> tuple[int | None, str | None, int, int]:
    """Return (line number, label, indent, position where statements start)."""
    pos = 0
    basic_line: int | None = None
    number = _LINE_NUMBER.match(text)
    if number is not None:
        basic_line = int(number.group(1))
        pos = number.end()
    indent_match = _INDENT.match(text, pos)
    indent = _indent_width(indent_match.group()) if indent_match else 0
    if basic_line is not None:
        indent = max(0, indent - 1)  # the blank that separates a line number from code
    label: str | None = None
    label_match = _LABEL.match(text, pos)
    if label_match is not None:
        label = label_match.group(1)
        pos = label_match.end()
    return basic_line, label, indent, pos


class _LogicalLineBuilder:
    """Accumulates the tokens of one logical line across its continuation lines."""

    def __init__(self, text: str, line: int) -> None:
        self.line = line
        self.basic_line, self.label, self.indent, start = _line_prefix(text)
        tokenizer = _LineTokenizer(text, line, at_statement_start=True)
        self.at_statement_start = tokenizer.run(start)
        self.tokens: list[Token] = tokenizer.tokens

    def continue_with(self, text: str, line: int) -> None:
        start = text.index(":") + 1
        tokenizer = _LineTokenizer(text, line, self.at_statement_start)
        self.at_statement_start = tokenizer.run(start)
        self.tokens.extend(tokenizer.tokens)

    def build(self) -> LogicalLine:
        return LogicalLine(
            line=self.line,
            indent=self.indent,
            tokens=tuple(self.tokens),
            basic_line=self.basic_line,
            label=self.label,
        )


def logical_lines(code: str) -> Iterator[LogicalLine]:
    """Yield the logical lines of ``code`` in order (blank lines are skipped)."""
    return iter_logical_lines(split_physical_lines(code))


def iter_logical_lines(physical_lines: list[str]) -> Iterator[LogicalLine]:
    """Yield the logical lines made of already split physical lines."""
    current: _LogicalLineBuilder | None = None
    for number, text in enumerate(physical_lines, start=1):
        if current is not None and _is_continuation(text):
            current.continue_with(text, number)
            continue
        if current is not None:
            yield current.build()
            current = None
        if text.strip():
            current = _LogicalLineBuilder(text, number)
    if current is not None:
        yield current.build()
