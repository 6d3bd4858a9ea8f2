"""The built-in checker: the BBj tokenizer plus the structural parser, no external tools."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field, replace

from daemon.check._lexer import (
    LogicalLine,
    iter_logical_lines,
    layout_of,
    split_physical_lines,
)
from daemon.check._structure import BlockParser
from daemon.check._syntax import bracket_diagnostics
from daemon.check._types import CheckResult, Diagnostic

logger = logging.getLogger(__name__)

MAX_DIAGNOSTICS = 1000
"""More diagnostics than this are summarised in one final entry (binary junk makes thousands)."""

_THREAD_THRESHOLD_CHARS = 200_000
"""Programs larger than this are checked in a worker thread so the event loop stays free."""

_BAD_TOKEN_MESSAGES = {
    "bad_str": "unterminated string",
    "bad_hex": "unterminated hex string",
    "bad_mnem": "unterminated mnemonic",
}


def decode_source(data: bytes) -> str:
    """Decode BBj source bytes: UTF-8 (with or without BOM), else cp1252, else latin-1."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _lexical_diagnostics(line: LogicalLine) -> list[Diagnostic]:
    found = [
        Diagnostic(t.line, f"{_BAD_TOKEN_MESSAGES[t.kind]} on line {t.line}")
        for t in line.tokens
        if t.kind in _BAD_TOKEN_MESSAGES
    ]
    found.extend(bracket_diagnostics(line.tokens))
    return found


def _parse(
    physical: list[str], numbered: bool, indented: bool, prefer_indent: bool
) -> tuple[list[Diagnostic], list[Diagnostic]]:
    """One pass over the file: (lexical diagnostics, structural diagnostics)."""
    parser = BlockParser(numbered=numbered, indented=indented, prefer_indent=prefer_indent)
    lexical: list[Diagnostic] = []
    for line in iter_logical_lines(physical):
        lexical.extend(_lexical_diagnostics(line))
        parser.feed(line)
    return lexical, parser.finish()


def _all_diagnostics(physical: list[str]) -> list[Diagnostic]:
    numbered, indented = layout_of(physical)
    lexical, structural = _parse(physical, numbered, indented, prefer_indent=False)
    if structural and indented:
        # A broken, indented file: a second pass matching closers by indentation usually
        # names the block that really lost its closer.
        _, by_indent = _parse(physical, numbered, indented, prefer_indent=True)
        if len(by_indent) <= len(structural):
            structural = by_indent
    return lexical + structural


def _finalise(diagnostics: list[Diagnostic], physical: list[str]) -> tuple[Diagnostic, ...]:
    """Sort, drop duplicates, attach the source text and cap the count."""
    unique = sorted(set(diagnostics), key=lambda d: (d.line, d.message))
    with_source = [
        replace(d, source_line=physical[d.line - 1].strip()) if 0 < d.line <= len(physical) else d
        for d in unique[:MAX_DIAGNOSTICS]
    ]
    hidden = len(unique) - len(with_source)
    if hidden > 0:
        with_source.append(Diagnostic(0, f"{hidden} more problems not shown"))
    return tuple(with_source)


@dataclass(frozen=True)
class BuiltinChecker:
    """A pure-Python BBj checker: tokenizer plus block-structure parser.

    ``note`` says why it is in use (for /health), e.g. that bbjcpl was not found.
    """

    note: str | None = None
    name: str = field(default="builtin", init=False)

    def check_text(self, code: str) -> CheckResult:
        """Check ``code`` synchronously; never raises."""
        started = time.perf_counter()
        if isinstance(code, (bytes, bytearray)):
            code = decode_source(bytes(code))
        try:
            physical = split_physical_lines(code)
            diagnostics = _finalise(_all_diagnostics(physical), physical)
        except Exception as error:  # a checker bug must not take a request down with it
            logger.exception("built-in checker failed")
            return CheckResult(
                ok=False,
                diagnostics=(),
                checker=self.name,
                duration_s=time.perf_counter() - started,
                tool_error=f"the built-in checker failed: {error!r}",
            )
        return CheckResult(
            ok=not diagnostics,
            diagnostics=diagnostics,
            checker=self.name,
            duration_s=time.perf_counter() - started,
        )

    async def check(self, code: str, filename: str | None = None) -> CheckResult:
        """Check ``code``; large programs run in a worker thread. ``filename`` is unused."""
        if len(code) > _THREAD_THRESHOLD_CHARS:
            return await asyncio.to_thread(self.check_text, code)
        return self.check_text(code)
