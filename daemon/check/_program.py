"""One parse of a whole program: the statement parser over every logical line, then block
pairing of the structural events it reported."""

from __future__ import annotations

from dataclasses import dataclass, replace

from daemon.check._lexer import iter_logical_lines, layout_of
from daemon.check._statements import LineParser
from daemon.check._structure import Block, BlockParser, Event
from daemon.check._types import Diagnostic

MAX_DIAGNOSTICS = 1000
"""More diagnostics than this are summarised in one final entry."""


@dataclass(frozen=True)
class ParsedProgram:
    """One parse of a program: syntax errors, structural events and the file's layout."""

    errors: tuple[Diagnostic, ...]
    events: tuple[Event, ...]
    numbered: bool
    indented: bool


def parse_lines(physical: list[str], numbered: bool, first_line: int = 1) -> LineParser:
    """Run the statement parser over physical lines (numbered from ``first_line``)."""
    parser = LineParser(numbered=numbered)
    parse = parser.parse
    for line in iter_logical_lines(physical, first_line):
        parse(line)
    return parser


def parse_program(physical: list[str]) -> ParsedProgram:
    numbered, indented = layout_of(physical)
    parser = parse_lines(physical, numbered)
    return ParsedProgram(tuple(parser.errors), tuple(parser.events), numbered, indented)


def pair_blocks(
    events: tuple[Event, ...],
    numbered: bool,
    indented: bool,
    *,
    context: tuple[Block, ...] = (),
    to_the_end: bool = True,
) -> tuple[list[Diagnostic], tuple[object, ...]]:
    """Structural diagnostics and the block state after the events (see BlockParser.state).

    The events are paired starting inside the ``context`` blocks; ``to_the_end`` reports
    what is still open afterwards. For a broken indented file they are paired a second time
    by indentation, which usually names the block that really lost its closer.
    """
    first = BlockParser(numbered=numbered, indented=indented, context=context).feed(events)
    state = first.state()
    found = first.finish() if to_the_end else first.diagnostics
    if found and indented:
        second = BlockParser(
            numbered=numbered, indented=indented, prefer_indent=True, context=context
        ).feed(events)
        again = second.finish() if to_the_end else second.diagnostics
        if len(again) <= len(found):
            found = again
    return found, state


def program_diagnostics(physical: list[str]) -> list[Diagnostic]:
    parsed = parse_program(physical)
    structural, _ = pair_blocks(parsed.events, parsed.numbered, parsed.indented)
    return [*parsed.errors, *structural]


def finalise(diagnostics: list[Diagnostic], physical: list[str]) -> tuple[Diagnostic, ...]:
    """Sort, drop duplicates, attach the source text and cap the count."""
    unique = sorted(set(diagnostics), key=lambda d: (d.line, d.col or 0, d.message))
    with_source = [
        replace(d, source_line=physical[d.line - 1].strip()) if 0 < d.line <= len(physical) else d
        for d in unique[:MAX_DIAGNOSTICS]
    ]
    hidden = len(unique) - len(with_source)
    if hidden > 0:
        with_source.append(Diagnostic(0, f"{hidden} more problems not shown"))
    return tuple(with_source)
