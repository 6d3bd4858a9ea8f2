"""The compiler check: every generated BBj program is checked before a user sees it.

Two checkers share one interface (:class:`Checker`): bbjcpl, the real BBj compiler, when a
BBj installation is found, and the built-in BBj statement and expression parser otherwise.
:func:`select_checker` picks one; :class:`CompletionGate` judges FIM completions against the
(often already broken) code around the cursor, parsing only the unit that holds the edit
when the built-in checker is in use. No check runs on the event loop. :func:`outline` reads
what a program declares and uses (classes, methods, ``use``, ``CALL``…) for the workspace index.
"""

from daemon.check._bbjcpl import (
    BbjcplChecker,
    find_bbjcpl,
    parse_bbjcpl_stderr,
    parse_error_line,
)
from daemon.check._builtin import NOT_SOURCE, BuiltinChecker, decode_source, not_source_reason
from daemon.check._gate import CompletionGate, GateVerdict
from daemon.check._outline import (
    Outline,
    OutlineSymbol,
    declarations,
    declared_type,
    outline,
)
from daemon.check._select import CHECKER_MODES, describe_checker, select_checker
from daemon.check._types import (
    Checker,
    CheckerConfigError,
    CheckError,
    CheckResult,
    Diagnostic,
    adds_errors,
)

__all__ = [
    "CHECKER_MODES",
    "NOT_SOURCE",
    "BbjcplChecker",
    "BuiltinChecker",
    "CheckError",
    "CheckResult",
    "Checker",
    "CheckerConfigError",
    "CompletionGate",
    "Diagnostic",
    "GateVerdict",
    "Outline",
    "OutlineSymbol",
    "adds_errors",
    "declarations",
    "declared_type",
    "decode_source",
    "describe_checker",
    "find_bbjcpl",
    "not_source_reason",
    "outline",
    "parse_bbjcpl_stderr",
    "parse_error_line",
    "select_checker",
]
