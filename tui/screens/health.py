"""The Health screen: every doctor check with its verdict and what to do about it."""

from __future__ import annotations

from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer

from daemon.setup.doctor import CHECK_NAMES, CheckOutcome
from tui.context import TuiContext
from tui.daemon_link import daemon_running
from tui.messages import CheckCompleted
from tui.widgets.check_row import CheckRow, row_id
from tui.widgets.nav_bar import NavBar
from tui.widgets.status_line import StatusLine


def summarise(outcomes: list[CheckOutcome]) -> str:
    failed = sum(o.verdict == "fail" for o in outcomes)
    warned = sum(o.verdict == "warn" for o in outcomes)
    if failed == warned == 0:
        return f"All {len(outcomes)} checks passed."
    return (
        f"{failed} failed, {warned} with warnings, of {len(outcomes)} checks; "
        "the arrows under each say what to do."
    )


class HealthScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "rerun", "Re-run checks"),
        Binding("s", "start_daemon", "Start daemon"),
    ]

    def __init__(self, context: TuiContext) -> None:
        super().__init__(id="health")
        self.context = context
        self.outcomes: list[CheckOutcome] = []
        self._notice = ""

    def compose(self) -> ComposeResult:
        yield NavBar("health")
        yield StatusLine("Running the checks…", id="health-status")
        with VerticalScroll(id="check-list"):
            for name in CHECK_NAMES:
                yield CheckRow(name)
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#check-list").focus()
        self.action_rerun()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "start_daemon":
            return not daemon_running(self.context.paths)
        return True

    def action_rerun(self) -> None:
        for row in self.query(CheckRow):
            row.show(None)
        self.query_one("#health-status", StatusLine).say(self._notice + "Running the checks…")
        self._run_checks()

    @work(exclusive=True, group="doctor")
    async def _run_checks(self) -> None:
        outcomes = await self.context.run_checks(
            lambda outcome: self.post_message(CheckCompleted(outcome))
        )
        self.outcomes = outcomes
        failed = any(o.verdict == "fail" for o in outcomes)
        status = self.query_one("#health-status", StatusLine)
        status.say(self._notice + summarise(outcomes), failed=failed)
        self._notice = ""
        self.refresh_bindings()

    def on_check_completed(self, message: CheckCompleted) -> None:
        outcome = message.outcome
        self.query_one(f"#{row_id(outcome.name)}", CheckRow).show(outcome)

    def action_start_daemon(self) -> None:
        self.query_one("#health-status", StatusLine).say("Starting bbj-coder…")
        self._start_daemon()

    @work(exclusive=True, group="start")
    async def _start_daemon(self) -> None:
        result = await self.context.start_daemon(self.context.paths)
        self.refresh_bindings()
        if not result.started:
            self.query_one("#health-status", StatusLine).say(result.sentence, failed=True)
            return
        self._notice = result.sentence + " "
        self.action_rerun()
