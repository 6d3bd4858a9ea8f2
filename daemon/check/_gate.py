"""The FIM compile gate: does ``prefix + completion + suffix`` add errors to ``prefix + suffix``?

The baseline (``prefix + suffix``) is often mid-edit and already broken, so a completion is
rejected only for problems the baseline does not have (:func:`adds_errors`). With the built-in
checker only the unit around the cursor is parsed (:mod:`daemon.check._units`); any other
checker (bbjcpl) checks both whole programs. Either way the work runs off the event loop.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from daemon.check._types import Checker, CheckResult, adds_errors
from daemon.check._units import UnitCache, parse_unit, unit_around

GATE_FILENAME = "completion.bbj"
logger = logging.getLogger("bbj_coder.check")


@dataclass(frozen=True)
class GateVerdict:
    """How a completion fared: ``scope`` is ``unit`` when only the code around the cursor was
    parsed, ``file`` when both whole programs were checked."""

    passed: bool
    checker: str
    new_errors: tuple[str, ...] = ()
    scope: str = "file"


def compare(baseline: CheckResult, candidate: CheckResult, scope: str = "file") -> GateVerdict:
    if not adds_errors(baseline, candidate):
        return GateVerdict(True, candidate.checker, (), scope)
    known = {d.message for d in baseline.diagnostics}
    new = tuple(d.describe() for d in candidate.diagnostics if d.message not in known)
    reason = candidate.tool_error or "the completion adds errors"
    return GateVerdict(False, candidate.checker, new or (reason,), scope)


def judge_by_unit(
    checker_name: str, cache: UnitCache, prefix: str, completion: str, suffix: str
) -> GateVerdict | None:
    """Judge a completion by parsing the unit around the cursor, with and without it; None
    when the unit cannot be isolated (the caller then checks both whole programs).

    The text before the unit is the same in both programs, so both parses start in the same
    state; when they also end in the same block state, the rest of the file pairs the same
    way in both and cannot change the verdict. The completion may even hold boundary lines.
    """
    base = prefix + suffix
    try:
        unit = unit_around(base, len(prefix))
        if unit is None:
            return None
        before = base[unit.start : len(prefix)]
        after = base[len(prefix) : unit.end]
        old = cache.parse(before + after, unit)
        new = parse_unit(before + completion + after, unit, old.layout)
    except Exception:  # a checker bug: the whole-program check reports it as a tool error
        logger.exception("judging the unit around the cursor failed")
        return None
    if not unit.to_the_end and old.state != new.state:
        return None
    baseline = CheckResult(not old.diagnostics, old.diagnostics, checker_name, 0.0)
    candidate = CheckResult(not new.diagnostics, new.diagnostics, checker_name, 0.0)
    return compare(baseline, candidate, "unit")


@runtime_checkable
class JudgesUnits(Protocol):
    """A checker that can judge a completion by the unit around the cursor."""

    def judge_unit(self, prefix: str, completion: str, suffix: str) -> GateVerdict | None: ...


class CompletionGate:
    """Judges the completions of one FIM request against that request's baseline.

    With a ``deadline`` (a ``time.monotonic`` value: where the FIM request's time budget ends) a
    whole-program check that would overrun it is not waited for: the built-in checker judges
    that completion instead, while the slow check runs on in the background (so a hung bbjcpl
    still reaches its own timeout and trips its circuit breaker).
    """

    def __init__(self, checker: Checker) -> None:
        self.checker = checker
        self._baselines: dict[tuple[str, str], CheckResult] = {}

    async def judge(
        self, prefix: str, completion: str, suffix: str, deadline: float | None = None
    ) -> GateVerdict:
        if isinstance(self.checker, JudgesUnits):
            verdict = await asyncio.to_thread(self.checker.judge_unit, prefix, completion, suffix)
            if verdict is not None:
                return verdict
        key = (prefix, suffix)
        if key not in self._baselines:
            baseline = await self._within(prefix + suffix, deadline)
            if baseline is None:
                return await _builtin_gate().judge(prefix, completion, suffix)
            self._baselines[key] = baseline
        candidate = await self._within(prefix + completion + suffix, deadline)
        if candidate is None:
            return await _builtin_gate().judge(prefix, completion, suffix)
        return compare(self._baselines[key], candidate)

    async def _within(self, code: str, deadline: float | None) -> CheckResult | None:
        """The check's result, or None when it would not finish by ``deadline``."""
        work = asyncio.ensure_future(self.checker.check(code, GATE_FILENAME))
        if deadline is None:
            return await work
        try:
            return await asyncio.wait_for(asyncio.shield(work), max(deadline - time.monotonic(), 0))
        except asyncio.TimeoutError:
            _BACKGROUND.add(work)
            work.add_done_callback(_BACKGROUND.discard)
            logger.info("%s is slower than the FIM time budget", self.checker.name)
            return None


_BACKGROUND: set[asyncio.Future[CheckResult]] = set()


def _builtin_gate() -> CompletionGate:
    return CompletionGate(_builtin_checker())


@functools.cache
def _builtin_checker() -> Checker:
    from daemon.check._builtin import BuiltinChecker  # _builtin imports this module

    return BuiltinChecker(note="bbjcpl was slower than the FIM time budget")
