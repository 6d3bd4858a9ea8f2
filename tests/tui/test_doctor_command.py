"""``bbj-coder doctor``: the same checks as text or JSON, exit 1 when any failed."""

from __future__ import annotations

import json

import pytest

from daemon.paths import AppPaths
from daemon.setup.doctor import CHECK_NAMES, CheckOutcome, render_text, run_doctor_command


def test_text_report_and_exit_status(home: AppPaths, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_doctor_command() == 1
    out = capsys.readouterr().out
    assert "FAIL  Daemon          bbj-coder is not running" in out
    assert "→ Start it with `bbj-coder serve`" in out
    assert out.rstrip().endswith("9 checks.")


def test_json_report(home: AppPaths, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_doctor_command(as_json=True) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False
    assert [c["name"] for c in report["checks"]] == list(CHECK_NAMES)
    assert set(report["checks"][0]) == {"name", "verdict", "summary", "advice"}


def test_text_report_lists_advice_only_for_problems() -> None:
    text = render_text(
        [CheckOutcome("A", "ok", "fine", "unused"), CheckOutcome("Bee", "warn", "meh", "Do X.")]
    )
    assert text.splitlines() == [
        "OK    A    fine",
        "WARN  Bee  meh",
        "           → Do X.",
        "",
        "0 failed, 1 warnings, 2 checks.",
    ]
