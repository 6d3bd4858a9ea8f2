"""The Logs screen: follow the daemon's log file, filtered as you type."""

from __future__ import annotations

from collections import deque
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, Input

from tui.context import TuiContext
from tui.log_follower import LogFollower
from tui.widgets.daemon_log import MAX_LINES, DaemonLog
from tui.widgets.nav_bar import NavBar
from tui.widgets.status_line import StatusLine


class LogsScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "focus_filter", "Filter"),
        Binding("escape", "clear_filter", "Clear filter"),
    ]

    def __init__(self, context: TuiContext) -> None:
        super().__init__(id="logs")
        self.context = context
        self.follower = LogFollower(context.paths.log_file)
        self.lines: deque[str] = deque(maxlen=MAX_LINES)
        self.filter = ""

    def compose(self) -> ComposeResult:
        yield NavBar("logs")
        yield StatusLine(id="log-source")
        yield Input(
            placeholder="Filter: show only lines containing… (press /)",
            id="log-filter",
            compact=True,
        )
        yield DaemonLog(id="daemon-log")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one(DaemonLog).focus()
        self.poll_log()
        self.set_interval(self.context.log_poll_s, self.poll_log)

    def poll_log(self) -> None:
        new = self.follower.poll()
        self._say_source()
        self.lines.extend(new)
        shown = [line for line in new if self._matches(line)]
        if shown:
            self.query_one(DaemonLog).write_lines(shown)
            self._say_source()

    def _say_source(self) -> None:
        path = self.context.paths.log_file
        status = self.query_one("#log-source", StatusLine)
        if not path.exists():
            status.say(f"No daemon log yet at {path}; it appears when the daemon starts.")
            return
        detail = f", showing lines containing {self.filter!r}" if self.filter else ""
        status.say(f"Following {path}{detail}.{self._sideways_hint()}")

    def _sideways_hint(self) -> str:
        """Said once a line is wider than the log: the log does not wrap, it scrolls."""
        width = self.query_one(DaemonLog).scrollable_content_region.width
        if width and any(len(line) > width for line in self.lines if self._matches(line)):
            return " Long lines continue to the right: scroll with ← → (or shift+wheel)."
        return ""

    def _matches(self, line: str) -> bool:
        return not self.filter or self.filter in line.lower()

    def on_input_changed(self, event: Input.Changed) -> None:
        self.filter = event.value.strip().lower()
        log = self.query_one(DaemonLog)
        log.clear()
        log.write_lines([line for line in self.lines if self._matches(line)])
        self._say_source()

    def action_focus_filter(self) -> None:
        self.query_one("#log-filter", Input).focus()

    def action_clear_filter(self) -> None:
        self.query_one("#log-filter", Input).value = ""
        self.query_one(DaemonLog).focus()
