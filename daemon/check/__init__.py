"""The compiler check: every generated BBj program is checked before a user sees it.

Two checkers share one interface (:class:`Checker`): bbjcpl, the real BBj compiler, when a
BBj installation is found, and a built-in tokenizer + block-structure parser otherwise.
:func:`select_checker` picks one, :func:`adds_errors` gates FIM completions against the
(often already broken) code around the cursor.
"""

from daemon.check._bbjcpl import (
    BbjcplChecker,
    find_bbjcpl,
    parse_bbjcpl_stderr,
    parse_error_line,
)
from daemon.check._builtin import BuiltinChecker, decode_source
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
    "BbjcplChecker",
    "BuiltinChecker",
    "CheckError",
    "CheckResult",
    "Checker",
    "CheckerConfigError",
    "Diagnostic",
    "adds_errors",
    "decode_source",
    "describe_checker",
    "find_bbjcpl",
    "parse_bbjcpl_stderr",
    "parse_error_line",
    "select_checker",
]
