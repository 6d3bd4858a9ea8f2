"""Result types shared by every checker, the checker interface and the FIM gating comparison."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from daemon.errors import BbjCoderError


class CheckError(BbjCoderError):
    """Root of the exceptions raised by the compiler-check package."""


class CheckerConfigError(CheckError):
    """A checker was asked for with settings that cannot work (unknown mode, bad limit)."""


@dataclass(frozen=True)
class Diagnostic:
    """One problem found in a program.

    ``line`` is the physical line (1-based; 0 when the tool did not say which line) and
    ``col`` the 1-based column when the tool knows it (bbjcpl does not say).
    ``basic_line`` is the BASIC line number bbjcpl reports (physical x 10 for files without
    line numbers). ``source_line`` is the offending source text when known.
    """

    line: int
    message: str
    basic_line: int | None = None
    source_line: str | None = None
    severity: str = "error"
    col: int | None = None

    def location(self) -> str:
        """``line 3, col 9`` (or ``line 3`` without a column)."""
        return f"line {self.line}, col {self.col}" if self.col else f"line {self.line}"

    def describe(self) -> str:
        """``line 3, col 9: expected an expression after '+'``."""
        return f"{self.location()}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "col": self.col,
            "message": self.message,
            "basic_line": self.basic_line,
            "source_line": self.source_line,
            "severity": self.severity,
        }


@dataclass(frozen=True)
class CheckResult:
    """The verdict on one program.

    ``tool_error`` is set when the checker itself failed (bbjcpl missing, not executable, hung
    or crashed); ``ok`` is then False, so a broken tool never reads as a pass. ``skipped`` says
    why the input was not checked at all (a protected program is not BBj source); such input
    has no errors to report, so ``ok`` stays True.
    """

    ok: bool
    diagnostics: tuple[Diagnostic, ...]
    checker: str
    duration_s: float
    tool_error: str | None = None
    skipped: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checker": self.checker,
            "duration_s": round(self.duration_s, 6),
            "tool_error": self.tool_error,
            "skipped": self.skipped,
            "diagnostics": [d.to_dict() for d in self.diagnostics],
        }


@runtime_checkable
class Checker(Protocol):
    """Anything that can check a BBj program: the built-in checker or bbjcpl."""

    name: str

    async def check(self, code: str, filename: str | None = None) -> CheckResult: ...


_LINE_REFERENCE = re.compile(r"\blines?\s+\d+(?:\s*\(\d+\))?", re.IGNORECASE)
_WHITESPACE = re.compile(r"\s+")


def _normalised_message(diagnostic: Diagnostic) -> str:
    """The message with line numbers removed, so inserted lines do not make it look new."""
    without_lines = _LINE_REFERENCE.sub("line", diagnostic.message)
    return _WHITESPACE.sub(" ", without_lines).strip().lower()


def adds_errors(baseline: CheckResult, candidate: CheckResult) -> bool:
    """True when ``candidate`` has problems that ``baseline`` did not have.

    Used for FIM gating: ``baseline`` checks prefix+suffix (often already broken mid-edit),
    ``candidate`` checks prefix+completion+suffix. A completion inserts lines, so diagnostics
    are compared as a multiset of messages with their line numbers removed: the candidate adds
    errors when any message occurs more often than in the baseline. A candidate the tool could
    not check (``tool_error``) counts as adding errors: unverified code is never passed.
    """
    if candidate.tool_error is not None:
        return True
    if candidate.ok:
        return False
    before = Counter(_normalised_message(d) for d in baseline.diagnostics)
    after = Counter(_normalised_message(d) for d in candidate.diagnostics)
    if not after:
        # Failed without any diagnostic: only "new" if the baseline passed.
        return baseline.ok
    return bool(after - before)
