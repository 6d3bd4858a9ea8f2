"""FIM gating: does prefix+completion+suffix have problems that prefix+suffix did not have?"""

from __future__ import annotations

from daemon.check import BuiltinChecker, CheckResult, Diagnostic, adds_errors

CHECKER = BuiltinChecker()


def gate(prefix: str, completion: str, suffix: str) -> bool:
    baseline = CHECKER.check_text(prefix + suffix)
    candidate = CHECKER.check_text(prefix + completion + suffix)
    return adds_errors(baseline, candidate)


def result(*diagnostics: Diagnostic, tool_error: str | None = None) -> CheckResult:
    ok = not diagnostics and tool_error is None
    return CheckResult(ok, diagnostics, "bbjcpl", 0.01, tool_error)


def test_completion_that_closes_the_open_block_adds_nothing() -> None:
    prefix = "x = 1\nfor i = 1 to 10\n    "
    assert not gate(prefix, "print i\nnext i\n", 'print "done"\n')


def test_completion_that_leaves_the_baseline_error_as_it_was_adds_nothing() -> None:
    prefix = "for i = 1 to 10\n    "
    assert not gate(prefix, "print i\n    total = total + i\n", "")


def test_lines_inserted_before_an_old_error_do_not_make_it_new() -> None:
    suffix = 'print "tail"\nwhile more\n'  # the unclosed while moves down by two lines
    assert not gate("x = 1\n", "y = 2\nz = 3\n", suffix)


def test_completion_with_a_new_error_is_caught() -> None:
    assert gate("x = 1\n", 'print "unterminated\n', "y = 2\n")
    assert gate("for i = 1 to 3\n", "  if i then\n", "next i\n")


def test_one_more_of_an_existing_error_counts() -> None:
    prefix = "if a then\n  x = 1\n"
    assert gate(prefix, "if b then\n  y = 2\n", "")


def test_fixing_one_error_while_adding_another_counts() -> None:
    assert gate("while x\n", 'wend\nprint "oops\n', "")


def test_clean_before_and_after() -> None:
    assert not gate("x = 1\n", "y = 2\n", "z = 3\n")


def test_bbjcpl_style_messages_are_compared_without_line_numbers() -> None:
    old = Diagnostic(4, "bbjcpl: syntax error in `x = (`", basic_line=40)
    moved = Diagnostic(7, "bbjcpl: syntax error in `x = (`", basic_line=70)
    new = Diagnostic(5, "bbjcpl: syntax error in `y = )`", basic_line=50)
    assert not adds_errors(result(old), result(moved))
    assert adds_errors(result(old), result(moved, new))
    assert not adds_errors(result(old, new), result(moved))


def test_a_candidate_the_tool_could_not_check_is_not_trusted() -> None:
    assert adds_errors(result(), result(tool_error="bbjcpl did not finish within 10 s"))


def test_failure_without_diagnostics_is_new_only_if_the_baseline_passed() -> None:
    silent_failure = CheckResult(False, (), "bbjcpl", 0.0)
    assert adds_errors(result(), silent_failure)
    assert not adds_errors(result(Diagnostic(1, "x")), silent_failure)
