"""Choosing the checker (auto, bbjcpl or built-in) and describing it for /health."""

from __future__ import annotations

from pathlib import Path

from daemon.check._bbjcpl import NOT_FOUND_HINT, BbjcplChecker, find_bbjcpl
from daemon.check._builtin import BuiltinChecker
from daemon.check._types import Checker, CheckerConfigError

CHECKER_MODES: tuple[str, ...] = ("auto", "bbjcpl", "builtin")


def select_checker(
    mode: str = "auto",
    bbjcpl: str | None = None,
    timeout_s: float = 10.0,
    max_concurrency: int = 2,
    retry_s: float = 60.0,
) -> Checker:
    """The checker for ``mode``: ``auto`` uses bbjcpl when it is found, else the built-in one.

    ``bbjcpl`` forces the compiler: when it cannot be found, every check reports that as a
    tool error instead of silently passing. Raises CheckerConfigError for an unknown mode.
    """
    wanted = (mode or "auto").strip().lower()
    if wanted not in CHECKER_MODES:
        raise CheckerConfigError(
            f"unknown checker {mode!r}: choose one of {', '.join(CHECKER_MODES)}"
        )
    if wanted == "builtin":
        return BuiltinChecker()
    found = find_bbjcpl(bbjcpl)
    if found is not None:
        return BbjcplChecker(
            found, timeout_s=timeout_s, max_concurrency=max_concurrency, retry_s=retry_s
        )
    if wanted == "bbjcpl":
        configured = (bbjcpl or "").strip()
        return BbjcplChecker(
            Path(configured).expanduser() if configured else None,
            timeout_s=timeout_s,
            max_concurrency=max_concurrency,
            retry_s=retry_s,
        )
    where = f"bbjcpl not found at {bbjcpl}" if bbjcpl else "bbjcpl not found"
    return BuiltinChecker(note=f"{where}: {NOT_FOUND_HINT}")


def describe_checker(checker: Checker) -> str:
    """One line for /health and the CLI: which checker runs, and why when it is a fallback."""
    if isinstance(checker, BbjcplChecker):
        problem = checker.executable_problem()
        resting = checker.resting()
        if problem is None and resting is not None:
            return (
                f"built-in checker while bbjcpl at {checker.executable} is unhealthy ({resting}); "
                f"bbjcpl is retried in {checker.retry_in_s():.0f} s"
            )
        if problem is None:
            return f"bbjcpl at {checker.executable}"
        return f"bbjcpl unusable ({problem})"
    if isinstance(checker, BuiltinChecker):
        return f"built-in checker ({checker.note})" if checker.note else "built-in checker"
    return str(getattr(checker, "name", type(checker).__name__))
