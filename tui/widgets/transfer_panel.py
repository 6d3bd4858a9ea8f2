"""A progress bar with bytes, rate and time left, for downloads, imports and verifications."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label, ProgressBar

from tui.formatting import format_transfer
from tui.messages import Transfer


class TransferPanel(Vertical):
    """Hidden while nothing is being transferred."""

    def compose(self) -> ComposeResult:
        yield Label("", id="transfer-label")
        yield ProgressBar(id="transfer-bar", show_eta=False)

    def on_mount(self) -> None:
        self.display = False

    def show(self, transfer: Transfer) -> None:
        self.display = True
        details = format_transfer(transfer.done, transfer.total, transfer.rate, transfer.eta_s)
        self.query_one("#transfer-label", Label).update(f"{transfer.label}: {details}")
        self.query_one(ProgressBar).update(total=max(transfer.total, 1), progress=transfer.done)

    def hide(self) -> None:
        self.display = False
