"""Program units for the FIM gate: judge a completion by the code around the cursor only.

A unit runs from one *boundary line* (``method``, ``methodend``, ``class``, ``classend``,
``interface``, ``interfaceend`` at the start of a line) to the next: a method, the fields
between two methods, the program section before or after the classes. A completion that adds
no boundary line changes only the unit around the cursor, and the pairing of blocks restarts
at every boundary (a ``method`` line unwinds to its class, a ``class`` line closes everything),
so the verdict on the whole file follows from parsing that one unit twice (without and with
the completion) from the same starting state — as long as both parses end in the same block
state at the next boundary, which is checked; otherwise the caller checks the whole file.

Boundaries are found with ``str.rfind``/``str.find`` from the cursor, never by scanning the
file line by line, so judging a completion in a 150 KB file costs about what it costs in a
5 KB one. Baseline units are cached by content.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from daemon.check._lexer import layout_of, split_physical_lines
from daemon.check._program import pair_blocks, parse_lines
from daemon.check._structure import Block, Where
from daemon.check._types import Diagnostic

BOUNDARY_WORDS = frozenset(
    {"method", "methodend", "class", "classend", "interface", "interfaceend"}
)
_STEMS = ("method", "class", "interface")
_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_$%!@")
_TYPE_WORDS = ("class", "interface")


@dataclass(frozen=True)
class Boundary:
    word: str
    start: int  # where its line starts
    keyword: int  # where the keyword starts


def _line_start(low: str, pos: int) -> int | None:
    """Start of the line when only blanks (or a line number) precede ``pos`` on it."""
    j = pos - 1
    while j >= 0 and low[j] in " \t":
        j -= 1
    if j >= 0 and low[j].isdigit():
        while j >= 0 and low[j].isdigit():
            j -= 1
    if j < 0 or low[j] in "\n\r":
        return j + 1
    return None


def _boundary_at(low: str, pos: int, stem: str) -> Boundary | None:
    end = pos + len(stem)
    while end < len(low) and low[end] in _WORD_CHARS:
        end += 1
    word = low[pos:end]
    if word not in BOUNDARY_WORDS:
        return None
    start = _line_start(low, pos)
    return None if start is None else Boundary(word, start, pos)


def last_boundary(low: str, end: int, stems: tuple[str, ...] = _STEMS) -> Boundary | None:
    """The last boundary line whose keyword starts before ``end``."""
    best: Boundary | None = None
    for stem in stems:
        pos = end
        while True:
            pos = low.rfind(stem, 0 if best is None else best.keyword, pos)
            if pos < 0:
                break
            found = _boundary_at(low, pos, stem)
            if found is not None:
                if best is None or found.keyword > best.keyword:
                    best = found
                break
    return best


def first_boundary(low: str, begin: int) -> Boundary | None:
    """The first boundary line whose keyword starts at or after ``begin``."""
    best: Boundary | None = None
    for stem in _STEMS:
        pos = begin
        while True:
            pos = low.find(stem, pos, len(low) if best is None else best.keyword)
            if pos < 0:
                break
            found = _boundary_at(low, pos, stem)
            if found is not None:
                best = found
                break
            pos += 1
    return best


def _line_end(low: str, pos: int) -> int:
    """Just past the end of the line at ``pos`` and any ``:`` continuation lines after it."""
    while True:
        newline = low.find("\n", pos)
        if newline < 0:
            return len(low)
        pos = newline + 1
        rest = low[pos : pos + 80].lstrip(" \t")
        if not rest.startswith(":") or rest.startswith("::"):
            return pos


def _indent_of(text: str, boundary: Boundary) -> int:
    prefix = text[boundary.start : boundary.keyword]
    return len(prefix.lstrip("0123456789").expandtabs(4))


@dataclass(frozen=True)
class Unit:
    """The unit around a cursor: ``text[start:end]`` parsed inside ``context``."""

    start: int
    end: int
    first_line: int
    context: tuple[Block, ...]
    to_the_end: bool


def unit_around(base: str, cursor: int) -> Unit | None:
    """The unit of ``base`` that contains ``cursor``, or None when it cannot be scoped."""
    if "\r" in base and base.count("\r") != base.count("\r\n"):
        return None  # old Mac line ends: line starts are not where "\n" says
    low = base.lower()
    # The cursor's own line may change kind with the completion (``method`` + ``end``), so
    # the unit reaches from the last boundary above that line to the first one below it.
    cursor_line_start = low.rfind("\n", 0, cursor) + 1
    cursor_line_end = low.find("\n", cursor)
    cursor_line_end = len(low) if cursor_line_end < 0 else cursor_line_end
    before = last_boundary(low, cursor_line_start)
    after = first_boundary(low, cursor_line_end)
    context: tuple[Block, ...] = ()
    if before is None:
        start = 0
    elif before.word in ("class", "interface"):
        start = before.start
    elif before.word in ("classend", "interfaceend"):
        start = _line_end(low, before.keyword)
    else:
        owner = last_boundary(low, before.start, _TYPE_WORDS)
        if owner is None or owner.word != "class":
            return None  # a method outside a class, or inside an interface
        where = Where(0, _indent_of(base, owner), 0, None)
        context = (Block("class", where),)
        start = before.start if before.word == "method" else _line_end(low, before.keyword)
    end = len(base) if after is None else _line_end(low, after.keyword)
    first_line = base.count("\n", 0, start) + 1
    return Unit(start, end, first_line, context, to_the_end=after is None)


@dataclass(frozen=True)
class UnitResult:
    diagnostics: tuple[Diagnostic, ...]
    state: tuple[object, ...]
    layout: tuple[bool, bool]


def parse_unit(text: str, unit: Unit, layout: tuple[bool, bool] | None = None) -> UnitResult:
    """Parse a unit's text; ``layout`` (numbered, indented) defaults to the text's own, and a
    candidate is parsed with its baseline's layout so that both are paired alike."""
    physical = split_physical_lines(text)
    numbered, indented = layout or layout_of(physical)
    parser = parse_lines(physical, numbered, unit.first_line)
    structural, state = pair_blocks(
        tuple(parser.events),
        numbered,
        indented,
        context=unit.context,
        to_the_end=unit.to_the_end,
    )
    return UnitResult((*parser.errors, *structural), state, (numbered, indented))


class UnitCache:
    """Parses of baseline units by content, least recently used out first; shared by threads."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._entries: OrderedDict[tuple[object, ...], UnitResult] = OrderedDict()
        self._lock = threading.Lock()

    def parse(self, text: str, unit: Unit) -> UnitResult:
        key = (text, unit.first_line, unit.context, unit.to_the_end)
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                return found
        result = parse_unit(text, unit)
        with self._lock:
            self._entries[key] = result
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return result

    def __len__(self) -> int:
        return len(self._entries)
