"""The Logs screen follows the daemon log and filters it; the follower survives rotation."""

from __future__ import annotations

from pathlib import Path

import pytest

from daemon.paths import AppPaths
from tests.tui.tui_support import make_app, settle, text_of
from tui.log_follower import TAIL_BYTES, LogFollower
from tui.widgets.daemon_log import DaemonLog
from tui.widgets.status_line import StatusLine

pytestmark = pytest.mark.asyncio


def _append(path: Path, *lines: str) -> None:
    with open(path, "a", encoding="utf-8") as handle:
        handle.writelines(f"{line}\n" for line in lines)


async def test_follower_returns_complete_new_lines(tmp_path: Path) -> None:
    log = tmp_path / "daemon.log"
    follower = LogFollower(log)
    assert follower.poll() == []
    _append(log, "one", "two")
    assert follower.poll() == ["one", "two"]
    with open(log, "a", encoding="utf-8") as handle:
        handle.write("half")
    assert follower.poll() == []
    _append(log, " done")
    assert follower.poll() == ["half done"]


async def test_follower_starts_over_after_rotation_and_truncation(tmp_path: Path) -> None:
    log = tmp_path / "daemon.log"
    _append(log, "old")
    follower = LogFollower(log)
    assert follower.poll() == ["old"]
    log.rename(tmp_path / "daemon.log.1")
    _append(log, "new")
    assert follower.poll() == ["new"]
    log.write_text("")
    _append(log, "after truncation")
    assert follower.poll() == ["after truncation"]


async def test_follower_starts_at_the_tail_of_a_big_log(tmp_path: Path) -> None:
    log = tmp_path / "daemon.log"
    _append(log, *(f"line {i:07d} " + "x" * 50 for i in range(10_000)))
    lines = LogFollower(log).poll()
    assert lines[-1].startswith("line 0009999")
    assert sum(len(line) + 1 for line in lines) <= TAIL_BYTES
    assert all(line.startswith("line ") and len(line) == 63 for line in lines)


async def test_logs_screen_follows_and_filters(home: AppPaths) -> None:
    _append(home.log_file, "10:00 INFO bbj_coder: listening", "10:01 ERROR bbj_coder: model broke")
    app = make_app(home, screen="logs", log_poll_s=0.05)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        log = app.screen.query_one(DaemonLog)
        assert list(log.lines) == [
            "10:00 INFO bbj_coder: listening",
            "10:01 ERROR bbj_coder: model broke",
        ]
        source = text_of(app.screen.query_one("#log-source", StatusLine))
        assert source == f"Following {home.log_file}."
        _append(home.log_file, "10:02 INFO bbj_coder: reloaded")
        await pilot.pause(0.3)
        assert list(log.lines)[-1] == "10:02 INFO bbj_coder: reloaded"
        await pilot.press("slash", *"error")
        await pilot.pause()
        assert list(log.lines) == ["10:01 ERROR bbj_coder: model broke"]
        _append(home.log_file, "10:03 INFO quiet", "10:04 ERROR again")
        await pilot.pause(0.3)
        assert list(log.lines) == ["10:01 ERROR bbj_coder: model broke", "10:04 ERROR again"]
        assert "showing lines containing 'error'" in text_of(
            app.screen.query_one("#log-source", StatusLine)
        )
        await pilot.press("escape")
        await pilot.pause()
        assert len(log.lines) == 5


async def test_logs_screen_without_a_log_says_when_it_appears(home: AppPaths) -> None:
    app = make_app(home, screen="logs", log_poll_s=0.05)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        source = text_of(app.screen.query_one("#log-source", StatusLine))
        assert source == f"No daemon log yet at {home.log_file}; it appears when the daemon starts."
        _append(home.log_file, "hello")
        await pilot.pause(0.3)
        assert list(app.screen.query_one(DaemonLog).lines) == ["hello"]


async def test_number_keys_and_clicks_switch_screens(home: AppPaths) -> None:
    app = make_app(home)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.screen.id == "health"
        await pilot.press("2")
        assert app.screen.id == "models"
        await pilot.press("3")
        assert app.screen.id == "logs"
        await pilot.click("#nav-bar", offset=(14, 0))
        assert app.screen.id == "health"
        await pilot.press("t")
        assert app.theme == "textual-light"
        await pilot.press("t")
        assert app.theme == "textual-dark"


async def test_a_line_wider_than_the_log_gets_a_sideways_hint(home: AppPaths) -> None:
    _append(home.log_file, "10:00 INFO short")
    app = make_app(home, screen="logs", log_poll_s=0.05)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        source = app.screen.query_one("#log-source", StatusLine)
        assert "scroll with" not in text_of(source)
        _append(home.log_file, "10:01 WARNING " + "x" * 200)
        await pilot.pause(0.3)
        assert "Long lines continue to the right: scroll with" in text_of(source)
