"""Running every example's BBj code through the compiler checker.

The checker is any ``Callable[[str], result]`` whose result has ``.ok`` and ``.diagnostics``
(each with ``.line`` and ``.message``), so tests can pass their own; the default is the daemon's
built-in checker, imported only when a build needs it.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, Protocol

from trainer.data.fences import bbj_blocks
from trainer.data.progress import progress_bar
from trainer.data.records import DataError, Example, StepReport

DETAIL_LIMIT = 50


class CheckOutcome(Protocol):
    ok: bool
    diagnostics: Sequence[Any]


CheckFn = Callable[[str], CheckOutcome]


def builtin_checker() -> CheckFn:
    """The daemon's built-in BBj checker (see DESIGN §4)."""
    try:
        from daemon.check import BuiltinChecker
    except ImportError as exc:
        raise DataError(
            f"the built-in BBj checker (daemon.check) cannot be imported ({exc}); "
            "set check_code = false to build without checking"
        ) from exc
    return BuiltinChecker().check_text


def example_code(example: Example) -> tuple[str, ...]:
    """The code a verdict is about: a Markdown example's ``## Code``, else the answers' blocks."""
    if example.declared_code is not None:
        return example.declared_code
    return tuple(block for text in _answers(example) for block in bbj_blocks(text))


def _answers(example: Example) -> list[str]:
    return [m.content for m in example.messages if m.role == "assistant"]


def check_examples(
    examples: list[Example], check: CheckFn, drop_failing: bool, show_progress: bool
) -> tuple[list[Example], StepReport]:
    """Set ``check_ok`` on every example with code; drop failures when asked to."""
    report = StepReport("checker")
    cache: dict[str, tuple[bool | None, str]] = {}
    by_generation: dict[str, Counter[str]] = {}
    result = []
    for example in progress_bar(examples, "checking code", show_progress):
        verdict, reason = _verdict(example_code(example), check, cache)
        if verdict is None:
            report.add("checker errors" if reason else "no code")
            if reason:
                _note(report, {"source": example.source, "checker_error": reason})
            result.append(example)
            continue
        report.add("passed" if verdict else "failed")
        for generation in example.generations:
            by_generation.setdefault(generation, Counter())["passed" if verdict else "failed"] += 1
        if not verdict:
            _note(report, {"source": example.source, "first_error": reason})
        if verdict or not drop_failing:
            result.append(replace(example, check_ok=verdict))
            if not verdict:
                report.add("kept although failing (drop_failing is off)")
        else:
            report.add("dropped")
    report.tables["pass_rate_by_generation"] = _rates(by_generation)
    return result, report


def _verdict(
    blocks: tuple[str, ...], check: CheckFn, cache: dict[str, tuple[bool | None, str]]
) -> tuple[bool | None, str]:
    """(verdict, first error) over all blocks: (None, "") without code, (None, why) on a crash."""
    if not blocks:
        return None, ""
    for block in blocks:
        digest = hashlib.sha256(block.encode("utf-8")).hexdigest()
        if digest not in cache:
            cache[digest] = _check_one(block, check)
        verdict, reason = cache[digest]
        if verdict is not True:
            return verdict, reason
    return True, ""


def _check_one(code: str, check: CheckFn) -> tuple[bool | None, str]:
    try:
        outcome = check(code)
    except Exception as exc:  # a checker bug must not stop a long build
        return None, f"checker raised {type(exc).__name__}: {exc}"
    tool_error = getattr(outcome, "tool_error", None)
    if tool_error:
        return None, f"checker failed: {tool_error}"
    if outcome.ok:
        return True, ""
    first = outcome.diagnostics[0] if outcome.diagnostics else None
    if first is None:
        return False, "failed without a diagnostic"
    return False, f"line {getattr(first, 'line', '?')}: {getattr(first, 'message', first)}"


def _rates(by_generation: dict[str, Counter[str]]) -> dict[str, dict[str, float | int]]:
    rates = {}
    for generation in sorted(by_generation):
        counts = by_generation[generation]
        total = counts["passed"] + counts["failed"]
        rates[generation] = {
            "checked": total,
            "passed": counts["passed"],
            "pass_rate": round(counts["passed"] / total, 4) if total else 0.0,
        }
    return rates


def _note(report: StepReport, detail: dict[str, object]) -> None:
    if len(report.details) < DETAIL_LIMIT:
        report.details.append(detail)
