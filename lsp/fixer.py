"""Pure helpers for "Fix with bbj-coder": which lines to rewrite, what to ask, what came back.

The block sent to the chat is the method (else the class) around the diagnostic, found with the
BBj block pairs; a small program is sent whole; otherwise a window of lines around the error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fim.fences import BBJ_LANGUAGE, code_blocks
from fim.language import first_word

WHOLE_PROGRAM_LINES = 80
"""Programs up to this many lines are sent whole when no method or class encloses the error."""

WINDOW_LINES = 20
"""Lines either side of the error in the fallback window."""

MAX_BLOCK_LINES = 200
"""A method or class longer than this is not sent whole; the window is used instead."""

SYSTEM_PROMPT = (
    "You are bbj-coder, an expert in BBj (BASIS Business BASIC for Java). You fix compiler "
    "errors. Answer with the corrected code only, in exactly one ```bbj fenced code block, "
    "keeping everything that is not wrong unchanged."
)


@dataclass(frozen=True)
class LineSpan:
    """Lines ``first`` to ``last`` (0-based, inclusive)."""

    first: int
    last: int

    def __contains__(self, line: int) -> bool:
        return self.first <= line <= self.last


@dataclass(frozen=True)
class CompilerDiagnostic:
    """One compiler diagnostic: its 0-based line and message."""

    line: int
    message: str


def enclosing_block(lines: Sequence[str], line: int) -> LineSpan:
    """The method, else the class, containing ``line``; else the program or a window around it."""
    for opener, closer in (("method", "methodend"), ("class", "classend")):
        span = _find_block(lines, line, opener, closer)
        if span is not None and span.last - span.first < MAX_BLOCK_LINES:
            return span
    if len(lines) <= WHOLE_PROGRAM_LINES:
        return LineSpan(0, _last_non_blank(lines, 0, len(lines) - 1))
    return LineSpan(max(line - WINDOW_LINES, 0), min(line + WINDOW_LINES, len(lines) - 1))


def _find_block(lines: Sequence[str], line: int, opener: str, closer: str) -> LineSpan | None:
    """The ``opener``…``closer`` block around ``line``; an unclosed one ends before the next
    opener (or at the end of the file)."""
    first = None
    for index in range(line, -1, -1):
        word = first_word(lines[index])
        if word == opener:
            first = index
            break
        if word == closer and index != line:
            return None
    if first is None:
        return None
    for index in range(max(line, first + 1), len(lines)):
        word = first_word(lines[index])
        if word == closer:
            return LineSpan(first, index)
        if word == opener:
            return LineSpan(first, _last_non_blank(lines, first, index - 1))
    return LineSpan(first, _last_non_blank(lines, first, len(lines) - 1))


def _last_non_blank(lines: Sequence[str], first: int, last: int) -> int:
    while last > first and not lines[last].strip():
        last -= 1
    return last


def fix_messages(
    file_name: str, lines: Sequence[str], span: LineSpan, problems: Sequence[CompilerDiagnostic]
) -> list[dict[str, str]]:
    """The chat messages asking for a corrected version of ``span``."""
    block = "\n".join(lines[span.first : span.last + 1])
    reported = "\n".join(_describe(problem, lines) for problem in problems)
    user = (
        f"The BBj compiler reports these errors in `{file_name}`:\n{reported}\n\n"
        f"Here are lines {span.first + 1} to {span.last + 1} of the file:\n"
        f"```bbj\n{block}\n```\n\n"
        "Reply with the corrected version of exactly these lines, as one ```bbj code block."
    )
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]


def _describe(problem: CompilerDiagnostic, lines: Sequence[str]) -> str:
    source = lines[problem.line].strip() if 0 <= problem.line < len(lines) else ""
    return f"- line {problem.line + 1}: {problem.message}" + (f"\n  {source}" if source else "")


def extract_code(answer: str) -> str | None:
    """The first ```bbj block of ``answer`` (else its first fenced block); None without one."""
    blocks = [block for block in code_blocks(answer) if block.closed]
    chosen = next((b for b in blocks if b.language == BBJ_LANGUAGE), blocks[0] if blocks else None)
    return chosen.body.rstrip("\n") if chosen else None


def replace_span(lines: Sequence[str], span: LineSpan, code: str) -> tuple[str, LineSpan]:
    """The document with ``span`` replaced by ``code``, and where ``code`` now lies."""
    new_lines = code.split("\n")
    patched = [*lines[: span.first], *new_lines, *lines[span.last + 1 :]]
    return "\n".join(patched), LineSpan(span.first, span.first + len(new_lines) - 1)


def fix_passes(
    errors_before: Sequence[int], errors_after: Sequence[int], patched: LineSpan
) -> bool:
    """Whether a fix passes: no error left, or none left in the rewritten lines and fewer overall.

    Arguments are the 1-based lines of the diagnostics before and after the fix (errors
    elsewhere in the file must not make every fix fail).
    """
    if not errors_after:
        return True
    inside = any(line == 0 or (line - 1) in patched for line in errors_after)
    return not inside and len(errors_after) < len(errors_before)
