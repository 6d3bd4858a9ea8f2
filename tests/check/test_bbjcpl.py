"""BbjcplChecker end to end against the fake bbjcpl, plus discovery and stderr parsing."""

from __future__ import annotations

import asyncio
import os
import stat
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import pytest

from daemon.check import (
    BbjcplChecker,
    BuiltinChecker,
    CheckerConfigError,
    describe_checker,
    find_bbjcpl,
    parse_bbjcpl_stderr,
    parse_error_line,
    select_checker,
)
from tests.check.helpers import install_fake_bbjcpl, posix_only

T = TypeVar("T")
BROKEN = 'print "fine"\nprint "unterminated\nx = 1\ny = SYNTAXERROR\n'


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


def _is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def _wait_until_gone(pid: int, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _is_running(pid):
            return True
        time.sleep(0.05)
    return False


# ------------------------------------------------------------------------ end to end
@posix_only
def test_each_flagged_line_becomes_a_diagnostic(fake_bbjcpl: Path) -> None:
    result = run(BbjcplChecker(fake_bbjcpl).check(BROKEN))
    assert not result.ok
    assert result.checker == "bbjcpl"
    assert result.tool_error is None
    assert [d.line for d in result.diagnostics] == [2, 4]
    assert [d.basic_line for d in result.diagnostics] == [20, 40]
    assert result.diagnostics[0].source_line == 'print "unterminated'
    assert 'print "unterminated' in result.diagnostics[0].message
    assert result.diagnostics[1].message == "bbjcpl: syntax error in `y = SYNTAXERROR`"


@posix_only
def test_clean_program_passes(fake_bbjcpl: Path) -> None:
    result = run(BbjcplChecker(fake_bbjcpl).check('print "hello"\n'))
    assert result.ok
    assert result.diagnostics == ()
    assert result.tool_error is None


@posix_only
def test_line_numbered_program_keeps_its_own_basic_numbers(fake_bbjcpl: Path) -> None:
    code = '0010 PRINT "A"\n0020 PRINT "B\n0030 END\n'
    result = run(BbjcplChecker(fake_bbjcpl).check(code))
    assert [(d.line, d.basic_line) for d in result.diagnostics] == [(2, 20)]


@posix_only
def test_windows_paths_are_parsed(fake_bbjcpl: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_BBJCPL_MODE", "windows")
    result = run(BbjcplChecker(fake_bbjcpl).check(BROKEN))
    assert [d.line for d in result.diagnostics] == [2, 4]
    assert all("C:" not in d.message for d in result.diagnostics)


@posix_only
def test_unparsable_lines_are_kept_verbatim(
    fake_bbjcpl: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_BBJCPL_MODE", "garbage")
    result = run(BbjcplChecker(fake_bbjcpl).check(BROKEN))
    messages = [d.message for d in result.diagnostics]
    assert "bbjcpl: Exception in thread main: something odd happened" in messages
    assert len(messages) == 3
    assert result.tool_error is None


@posix_only
def test_fatal_error_is_a_tool_error(fake_bbjcpl: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_BBJCPL_MODE", "fatal")
    result = run(BbjcplChecker(fake_bbjcpl).check('print "ok"\n'))
    assert not result.ok
    assert result.tool_error == "bbjcpl failed: stdin: error: unexpected end of input"


@posix_only
def test_timeout_kills_the_whole_process_tree(
    fake_bbjcpl: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    log, child_pidfile = tmp_path / "runs.log", tmp_path / "child.pid"
    monkeypatch.setenv("FAKE_BBJCPL_MODE", "slow")
    monkeypatch.setenv("FAKE_BBJCPL_LOG", str(log))
    monkeypatch.setenv("FAKE_BBJCPL_CHILD_PIDFILE", str(child_pidfile))
    started = time.monotonic()
    result = run(BbjcplChecker(fake_bbjcpl, timeout_s=1.5).check('print "x"\n'))
    assert time.monotonic() - started < 10
    assert not result.ok
    assert result.tool_error == "bbjcpl did not finish within 1.5 s and was stopped"
    bbjcpl_pid = int(log.read_text().split()[2])
    assert "end" not in log.read_text()
    assert _wait_until_gone(bbjcpl_pid)
    assert _wait_until_gone(int(child_pidfile.read_text()))


@posix_only
def test_runs_in_a_private_directory_that_is_removed(
    fake_bbjcpl: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seen: list[Path] = []
    real_invoke = BbjcplChecker._invoke

    async def spy(self: BbjcplChecker, source: Path) -> tuple[str, str | None]:
        seen.append(source)
        assert stat.S_IMODE(source.parent.stat().st_mode) == 0o700
        return await real_invoke(self, source)

    monkeypatch.setattr(BbjcplChecker, "_invoke", spy)
    run(BbjcplChecker(fake_bbjcpl).check('print "x"\n', filename="/work/app/orders.src"))
    assert seen and seen[0].name == "program.src"
    assert not seen[0].parent.exists()


# ---------------------------------------------------------------------- tool problems
def test_missing_executable_is_a_tool_error(tmp_path: Path) -> None:
    result = run(BbjcplChecker(tmp_path / "nowhere" / "bbjcpl").check("x=1\n"))
    assert not result.ok
    assert result.tool_error == f"bbjcpl was not found at {tmp_path / 'nowhere' / 'bbjcpl'}"


def test_no_executable_at_all_says_how_to_configure() -> None:
    result = run(BbjcplChecker(None).check("x=1\n"))
    assert result.tool_error == "bbjcpl was not found: set check.bbjcpl or BBJ_HOME"


@posix_only
def test_non_executable_file_is_a_tool_error(tmp_path: Path) -> None:
    program = install_fake_bbjcpl(tmp_path)
    program.chmod(0o644)
    result = run(BbjcplChecker(program).check("x=1\n"))
    assert not result.ok
    assert "is not executable" in (result.tool_error or "")


def test_folder_instead_of_program_is_a_tool_error(tmp_path: Path) -> None:
    result = run(BbjcplChecker(tmp_path).check("x=1\n"))
    assert result.tool_error == f"{tmp_path} is a folder, not the bbjcpl program"


def test_bad_limits_are_refused_in_words() -> None:
    with pytest.raises(CheckerConfigError, match="timeout must be positive"):
        BbjcplChecker(None, timeout_s=0)
    with pytest.raises(CheckerConfigError, match="at least one concurrent run"):
        BbjcplChecker(None, max_concurrency=0)


# ------------------------------------------------------------------ cache, concurrency
@posix_only
def test_same_content_is_served_from_the_cache(fake_bbjcpl: Path) -> None:
    checker = BbjcplChecker(fake_bbjcpl)

    async def three_checks() -> list[bool]:
        first = await checker.check(BROKEN)
        again = await checker.check(BROKEN)
        other = await checker.check('print "other"\n')
        return [first == again, first.ok, other.ok]

    assert run(three_checks()) == [True, False, True]
    assert checker.runs == 2


@posix_only
def test_tool_failures_are_not_cached(fake_bbjcpl: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_BBJCPL_MODE", "fatal")
    checker = BbjcplChecker(fake_bbjcpl)
    run(checker.check("x=1\n"))
    run(checker.check("x=1\n"))
    assert checker.runs == 2


def _intervals(log: Path) -> list[tuple[float, float]]:
    starts: dict[str, float] = {}
    spans = []
    for line in log.read_text().splitlines():
        event, moment, pid = line.split()
        if event == "start":
            starts[pid] = float(moment)
        else:
            spans.append((starts[pid], float(moment)))
    return sorted(spans)


@posix_only
@pytest.mark.parametrize(("limit", "overlap"), [(1, False), (2, True)])
def test_concurrency_limit(
    fake_bbjcpl: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, limit: int, overlap: bool
) -> None:
    log = tmp_path / "runs.log"
    monkeypatch.setenv("FAKE_BBJCPL_MODE", "slow")
    monkeypatch.setenv("FAKE_BBJCPL_SLEEP", "0.6")
    monkeypatch.setenv("FAKE_BBJCPL_LOG", str(log))
    checker = BbjcplChecker(fake_bbjcpl, max_concurrency=limit)

    async def two_at_once() -> None:
        await asyncio.gather(checker.check("a=1\n"), checker.check("b=2\n"))

    run(two_at_once())
    (_, first_end), (second_start, _) = _intervals(log)
    assert (second_start < first_end) is overlap


# --------------------------------------------------------------------------- discovery
@posix_only
def test_discovery_order_config_then_bbj_home_then_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    configured = install_fake_bbjcpl(tmp_path / "configured")
    home_program = install_fake_bbjcpl(tmp_path / "home" / "bin")
    path_program = install_fake_bbjcpl(tmp_path / "on-path")
    monkeypatch.setenv("PATH", str(path_program.parent))
    assert find_bbjcpl(None) == path_program
    monkeypatch.setenv("BBJ_HOME", str(tmp_path / "home"))
    assert find_bbjcpl(None) == home_program
    assert find_bbjcpl(str(configured)) == configured
    assert find_bbjcpl(str(tmp_path / "home")) == home_program  # an install folder works too
    assert find_bbjcpl(str(tmp_path / "missing" / "bbjcpl")) == home_program


def test_discovery_finds_the_windows_program_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "bbjcpl.exe").write_bytes(b"MZ")
    monkeypatch.setenv("BBJ_HOME", str(tmp_path))
    assert find_bbjcpl(None) == tmp_path / "bin" / "bbjcpl.exe"


def test_discovery_without_any_install_finds_nothing() -> None:
    assert find_bbjcpl(None) is None
    assert find_bbjcpl("") is None


# ------------------------------------------------------------------ selecting a checker
@posix_only
def test_auto_uses_bbjcpl_when_found(fake_bbjcpl: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BBJ_HOME", str(fake_bbjcpl.parent.parent))
    checker = select_checker("auto")
    assert isinstance(checker, BbjcplChecker)
    assert describe_checker(checker) == f"bbjcpl at {fake_bbjcpl}"


def test_auto_falls_back_to_builtin_and_says_why() -> None:
    checker = select_checker("auto")
    assert isinstance(checker, BuiltinChecker)
    assert describe_checker(checker) == (
        "built-in checker (bbjcpl not found: set check.bbjcpl or BBJ_HOME)"
    )


def test_forced_bbjcpl_without_install_reports_instead_of_passing(tmp_path: Path) -> None:
    checker = select_checker("bbjcpl", bbjcpl=str(tmp_path / "no-bbjcpl"))
    result = run(checker.check('print "x"\n'))
    assert not result.ok
    assert result.tool_error == f"bbjcpl was not found at {tmp_path / 'no-bbjcpl'}"
    assert describe_checker(checker).startswith("bbjcpl unusable (bbjcpl was not found")


def test_builtin_mode_and_bad_mode() -> None:
    assert isinstance(select_checker("BuiltIn"), BuiltinChecker)
    assert describe_checker(select_checker("builtin")) == "built-in checker"
    with pytest.raises(CheckerConfigError, match="choose one of auto, bbjcpl, builtin"):
        select_checker("javac")


# ---------------------------------------------------------------------- stderr parsing
def test_parse_splits_at_the_marker_followed_by_a_location() -> None:
    line = 'C:\\work\\x.bbj: error at line 20 (2):  print "a: error at line 5 (9): b'
    diagnostic = parse_error_line(line)
    assert diagnostic is not None
    assert (diagnostic.line, diagnostic.basic_line) == (2, 20)
    assert diagnostic.source_line == 'print "a: error at line 5 (9): b'


def test_parse_keeps_real_indentation_out_of_the_source_text() -> None:
    line = "/tmp/p.bbj: error at line 30 (3):     method public void broken())"
    diagnostic = parse_error_line(line)
    assert diagnostic is not None
    assert diagnostic.source_line == "method public void broken())"


def test_parse_rejects_lines_that_are_not_errors() -> None:
    assert parse_error_line("stdin: error: unexpected end of input") is None
    assert parse_error_line("x.bbj: error at line abc (2): y") is None


def test_stderr_parsing_ignores_jvm_notices_and_blank_lines() -> None:
    stderr = "Picked up _JAVA_OPTIONS: -Xmx512m\n\n/p.bbj: error at line 10 (1):  x=\n"
    diagnostics, tool_error = parse_bbjcpl_stderr(stderr)
    assert tool_error is None
    assert [(d.line, d.message) for d in diagnostics] == [(1, "bbjcpl: syntax error in `x=`")]


def test_unparsable_line_gets_a_best_guess_line() -> None:
    diagnostics, tool_error = parse_bbjcpl_stderr("odd message about line 7\n")
    assert tool_error == "bbjcpl failed: odd message about line 7"
    assert [(d.line, d.message) for d in diagnostics] == [(7, "bbjcpl: odd message about line 7")]


def test_auto_names_the_configured_path_it_could_not_find(tmp_path: Path) -> None:
    checker = select_checker("auto", bbjcpl=str(tmp_path / "bbj" / "bin" / "bbjcpl"))
    assert isinstance(checker, BuiltinChecker)
    assert describe_checker(checker) == (
        f"built-in checker (bbjcpl not found at {tmp_path / 'bbj' / 'bin' / 'bbjcpl'}: "
        "set check.bbjcpl or BBJ_HOME)"
    )
