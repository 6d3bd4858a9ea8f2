"""``bbj-coder check``: output formats and exit statuses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from daemon.cli.check import run_check_command
from tests.check.helpers import install_fake_bbjcpl, posix_only

GOOD = 'print "hello"\n'
BAD = 'x = 1\nprint "oops\nwhile x\n'


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    good, bad = tmp_path / "good.bbj", tmp_path / "bad.bbj"
    good.write_text(GOOD)
    bad.write_text(BAD)
    return {"good": good, "bad": bad}


def test_passing_file_exits_zero(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_check_command([str(files["good"])]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "1 file(s) checked with built-in checker" in captured.err
    assert "0 failed" in captured.err


def test_failing_file_prints_path_line_message(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_check_command([str(files["good"]), str(files["bad"])], checker_mode="builtin") == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        f'{files["bad"]}:2:7: unterminated string: expected a closing `"`',
        f"{files['bad']}:3:1: `while` is never closed: expected `wend` before the end of the "
        "program",
    ]


def test_json_output(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    status = run_check_command([str(files["bad"]), str(files["good"])], output_format="json")
    report = json.loads(capsys.readouterr().out)
    assert status == 1
    assert report["ok"] is False
    assert report["checker"].startswith("built-in checker")
    assert [f["ok"] for f in report["files"]] == [False, True]
    assert [d["line"] for d in report["files"][0]["diagnostics"]] == [2, 3]
    assert report["unreadable"] == []


def test_unreadable_argument_exits_two_but_checks_the_rest(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing.bbj"
    assert run_check_command([str(missing), str(files["good"])]) == 2
    captured = capsys.readouterr()
    assert f"bbj-coder check: cannot read {missing}: no such file" in captured.err
    assert "1 file(s) checked" in captured.err


def test_folder_argument_checks_its_bbj_files(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    (files["good"].parent / "notes.txt").write_text('print "not bbj\n')
    assert run_check_command([str(files["good"].parent)]) == 1
    out = capsys.readouterr().out
    assert "bad.bbj:2:" in out
    assert "notes.txt" not in out


def test_empty_folder_is_unreadable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty").mkdir()
    assert run_check_command([str(tmp_path / "empty")]) == 2
    assert "holds no BBj source files" in capsys.readouterr().err


def test_non_utf8_file_is_decoded(tmp_path: Path) -> None:
    legacy = tmp_path / "legacy.bbj"
    legacy.write_bytes('0010 PRINT "Gr\xfc\xdfe"\n0020 END\n'.encode("latin-1"))
    assert run_check_command([str(legacy)]) == 0


@pytest.mark.parametrize(
    ("kwargs", "complaint"),
    [
        ({"output_format": "xml"}, "unknown output format 'xml': choose text or json"),
        ({"checker_mode": "javac"}, "unknown checker 'javac'"),
    ],
)
def test_bad_options_exit_two_with_a_sentence(
    files: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
    kwargs: dict[str, str],
    complaint: str,
) -> None:
    assert run_check_command([str(files["good"])], **kwargs) == 2
    assert complaint in capsys.readouterr().err


def test_no_files_exits_two(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_check_command([]) == 2
    assert "no files given" in capsys.readouterr().err


@posix_only
def test_bbjcpl_mode_uses_the_given_compiler(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    program = install_fake_bbjcpl(tmp_path / "bin")
    status = run_check_command([str(files["bad"])], checker_mode="bbjcpl", bbjcpl=str(program))
    assert status == 1
    assert capsys.readouterr().out.splitlines() == [
        f'{files["bad"]}:2: bbjcpl: syntax error in `print "oops`'
    ]


def test_bbjcpl_mode_without_bbjcpl_fails_loudly(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_check_command([str(files["good"])], checker_mode="bbjcpl") == 1
    assert capsys.readouterr().out == (
        f"{files['good']}: error: bbjcpl was not found: set check.bbjcpl or BBJ_HOME\n"
    )
