"""A progress bar with bytes, rate and time left, for downloads, imports and verifications."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label, ProgressBar

from daemon.progress import format_duration, format_size
from tui.messages import Transfer


def format_transfer(done: int, total: int, rate: float, eta_s: float | None) -> str:
    """``1.2 GB of 4.1 GB · 35.0 MB/s · 1 min left``."""
    parts = [f"{format_size(done)} of {format_size(total)}"]
    if rate > 0:
        parts.append(f"{format_size(rate)}/s")
    if done < total:
        parts.append("estimating…" if eta_s is None else f"{format_duration(eta_s)} left")
    return " · ".join(parts)


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
