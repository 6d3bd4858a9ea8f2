"""The Health screen: a row per check, re-run with r, start the daemon with s."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from daemon import launcher
from daemon.instance import DaemonState, InstanceLock, read_state
from daemon.launcher import LaunchResult
from daemon.models.store import ModelStore
from daemon.models.tinymodel import TinyModel
from daemon.paths import AppPaths
from daemon.server.lifecycle import stop_daemon
from tests.conftest import free_port
from tests.tui.tui_support import (
    SAMPLE_OUTCOMES,
    FakeDoctor,
    FakeStarter,
    make_app,
    settle,
    text_of,
)
from tui import daemon_link
from tui.app import BbjCoderApp
from tui.context import default_context
from tui.widgets.check_row import CheckRow
from tui.widgets.status_line import StatusLine

pytestmark = pytest.mark.asyncio


def _status(app: object) -> StatusLine:
    return app.screen.query_one("#health-status", StatusLine)  # type: ignore[attr-defined]


async def test_each_check_gets_a_row_with_verdict_and_advice(home: AppPaths) -> None:
    app = make_app(home)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        rows = list(app.screen.query(CheckRow))
        assert [r.outcome for r in rows] == list(SAMPLE_OUTCOMES)
        daemon_row = app.screen.query_one("#check-daemon", CheckRow)
        assert text_of(daemon_row.query_one(".verdict")) == "FAIL"
        assert daemon_row.query_one(".verdict").has_class("-fail")
        text = text_of(daemon_row.query_one(".check-text"))
        assert text.splitlines() == [
            "bbj-coder is not running",
            "→ Start it with `bbj-coder serve` (or press s on the TUI's Health screen).",
        ]
        ok_row = app.screen.query_one("#check-gpu", CheckRow)
        assert "→" not in text_of(ok_row.query_one(".check-text"))
        assert text_of(_status(app)).startswith("1 failed, 2 with warnings, of 9 checks")
        assert _status(app).has_class("-failed")


async def test_r_runs_the_checks_again(home: AppPaths) -> None:
    doctor = FakeDoctor()
    app = make_app(home, doctor=doctor)
    async with app.run_test() as pilot:
        await settle(pilot)
        assert doctor.runs == 1
        doctor.outcomes = tuple(o for o in SAMPLE_OUTCOMES if o.verdict == "ok")
        await pilot.press("r")
        await settle(pilot)
        assert doctor.runs == 2
        assert text_of(_status(app)) == "All 4 checks passed."
        assert not _status(app).has_class("-failed")


async def test_s_starts_the_daemon_and_checks_again(home: AppPaths) -> None:
    doctor, starter = FakeDoctor(), FakeStarter()
    app = make_app(home, doctor=doctor, start_daemon=starter)
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        assert starter.calls == [home] and doctor.runs == 2
        assert text_of(_status(app)).startswith("bbj-coder started at http://127.0.0.1:1 (pid 1).")


async def test_a_failed_start_says_why(home: AppPaths) -> None:
    doctor = FakeDoctor()
    starter = FakeStarter(LaunchResult(False, "The daemon stopped at once: No model."))
    app = make_app(home, doctor=doctor, start_daemon=starter)
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        assert text_of(_status(app)) == "The daemon stopped at once: No model."
        assert _status(app).has_class("-failed") and doctor.runs == 1


async def test_s_is_not_offered_while_the_daemon_runs(home: AppPaths) -> None:
    lock = InstanceLock(home.lock_file, home.state_file)
    assert lock.acquire()
    lock.publish(DaemonState(os.getpid(), "127.0.0.1", 1, "0", time.time()))
    starter = FakeStarter()
    app = make_app(home, start_daemon=starter)
    try:
        async with app.run_test() as pilot:
            await settle(pilot)
            await pilot.press("s")
            await settle(pilot)
            assert starter.calls == []
            assert "start_daemon" not in {
                b.binding.action
                for b in app.screen.active_bindings.values()
                if b.binding.show and b.enabled
            }
    finally:
        lock.release()


async def test_starting_the_real_daemon(
    home: AppPaths, tiny_model: TinyModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    ModelStore(home.models_dir).import_file(tiny_model.gguf_path, name="tiny")
    monkeypatch.setenv("BBJ_CODER_SERVER_PORT", str(free_port()))
    result = await daemon_link.start_daemon(home)
    try:
        state = read_state(home.state_file)
        assert result.started and state is not None
        assert result.sentence == f"bbj-coder started at {state.url} (pid {state.pid})."
        again = await daemon_link.start_daemon(home)
        assert again.sentence == f"bbj-coder is already running at {state.url}."
    finally:
        print(stop_daemon(home))
        for process in launcher.started_daemons():
            process.wait(timeout=15)


async def test_a_daemon_that_cannot_start_says_why(home: AppPaths, tmp_path: Path) -> None:
    result = await daemon_link.start_daemon(home, timeout_s=60)
    assert not result.started
    assert result.sentence.startswith("The daemon stopped at once: No model is installed.")


async def test_the_real_checks_fill_the_screen(
    home: AppPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BBJ_CODER_CATALOGUE", "/media/usb/bundle")
    context = default_context()
    assert context.catalogue == "/media/usb/bundle" and context.paths == home
    async with BbjCoderApp(context).run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        daemon_row = pilot.app.screen.query_one("#check-daemon", CheckRow)
        assert daemon_row.outcome is not None
        assert daemon_row.outcome.summary == "bbj-coder is not running"
        assert all(row.outcome is not None for row in pilot.app.screen.query(CheckRow))
