"""The built-in checker: the BBj statement and expression parser plus block pairing."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field

from daemon.check._gate import GateVerdict, compare, judge_by_unit
from daemon.check._lexer import split_physical_lines
from daemon.check._offload import run_elsewhere
from daemon.check._program import finalise, program_diagnostics
from daemon.check._types import CheckResult
from daemon.check._units import UnitCache

logger = logging.getLogger("bbj_coder.check")

NOT_SOURCE = "not BBj source, not checked"
PROTECTED_MARK = "<<bbj>>"
"""Protected (tokenized, encrypted) BBj programs start with this; they are not source text."""
_SNIFF_CHARS = 8192
_MAX_CONTROL_SHARE = 0.02
_ALLOWED_CONTROLS = frozenset("\t\n\r\f\v\x1a")


def decode_source(data: bytes) -> str:
    """Decode BBj source bytes: UTF-8 (with or without BOM), else cp1252, else latin-1."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def not_source_reason(code: str) -> str | None:
    """Why ``code`` is not BBj source text (a protected program, binary data), or None."""
    head = code[:_SNIFF_CHARS].lstrip("\ufeff")
    if head[: len(PROTECTED_MARK)].lower() == PROTECTED_MARK:
        return f"{NOT_SOURCE}: a protected BBj program (it starts with {PROTECTED_MARK})"
    controls = sum(
        1 for ch in head if (ch < " " or "\x7f" <= ch < "\xa0") and ch not in _ALLOWED_CONTROLS
    )
    if head and controls > max(1, _MAX_CONTROL_SHARE * len(head)):
        return f"{NOT_SOURCE}: it looks like binary data"
    return None


@dataclass(frozen=True)
class BuiltinChecker:
    """A pure-Python BBj checker: statement and expression parser plus block pairing.

    ``note`` says why it is in use (for /health), e.g. that bbjcpl was not found. ``check``
    always runs in a worker thread, so the event loop never waits for a parse.
    """

    note: str | None = None
    name: str = field(default="builtin", init=False)
    units: UnitCache = field(default_factory=UnitCache, init=False, compare=False, repr=False)

    def check_text(self, code: str) -> CheckResult:
        """Check ``code`` synchronously; never raises."""
        started = time.perf_counter()
        if isinstance(code, (bytes, bytearray)):
            code = decode_source(bytes(code))
        skipped = not_source_reason(code)
        if skipped is not None:
            return CheckResult(True, (), self.name, time.perf_counter() - started, None, skipped)
        try:
            physical = split_physical_lines(code)
            diagnostics = finalise(program_diagnostics(physical), physical)
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

    def judge_unit(self, prefix: str, completion: str, suffix: str) -> GateVerdict | None:
        """The FIM gate's verdict from the unit around the cursor; None when that unit cannot
        be isolated (synchronous: the gate calls it in a worker thread)."""
        return judge_by_unit(self.name, self.units, prefix, completion, suffix)

    def judge_completion(self, prefix: str, completion: str, suffix: str) -> GateVerdict:
        """The gate's verdict, synchronously: by unit when possible, else whole programs."""
        verdict = self.judge_unit(prefix, completion, suffix)
        if verdict is not None:
            return verdict
        whole = prefix + completion + suffix
        return compare(self.check_text(prefix + suffix), self.check_text(whole))

    async def check(self, code: str, filename: str | None = None) -> CheckResult:
        """Check ``code`` off the event loop: in a worker thread, or for a large program in
        the checker's worker process. ``filename`` is unused."""
        return await asyncio.to_thread(run_elsewhere, check_program, code, self.check_text)


def check_program(code: str) -> CheckResult:
    """Check one program with a fresh built-in checker (what the worker process runs)."""
    return BuiltinChecker().check_text(code)
