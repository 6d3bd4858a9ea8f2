"""One health check on the Health screen: verdict, name, summary and what to do."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.markup import escape
from textual.widgets import Label, Static

from daemon.setup.doctor import CheckOutcome

VERDICT_LABELS = {"ok": "OK", "warn": "WARN", "fail": "FAIL", "skip": "SKIP", "pending": "…"}


def row_id(check_name: str) -> str:
    return "check-" + "".join(c if c.isalnum() else "-" for c in check_name.lower())


class CheckRow(Horizontal):
    """Shows ``outcome`` (None while the check is still running)."""

    def __init__(self, check_name: str) -> None:
        super().__init__(id=row_id(check_name), classes="check-row")
        self.check_name = check_name
        self.outcome: CheckOutcome | None = None

    def compose(self) -> ComposeResult:
        yield Label(VERDICT_LABELS["pending"], classes="verdict -pending")
        yield Label(self.check_name, classes="check-name")
        yield Static("checking…", classes="check-text")

    def show(self, outcome: CheckOutcome | None) -> None:
        self.outcome = outcome
        verdict = outcome.verdict if outcome else "pending"
        label = self.query_one(".verdict", Label)
        label.update(VERDICT_LABELS[verdict])
        label.set_classes(f"verdict -{verdict}")
        self.query_one(".check-text", Static).update(self._text(outcome))

    @staticmethod
    def _text(outcome: CheckOutcome | None) -> str:
        if outcome is None:
            return "checking…"
        text = escape(outcome.summary)
        if outcome.verdict != "ok" and outcome.advice:
            text += f"\n[i]→ {escape(outcome.advice)}[/]"
        return text
