"""Messages the screens post to themselves when background work reports back."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from daemon.setup.doctor import CheckOutcome


@dataclass
class CheckCompleted(Message):
    """One health check finished."""

    outcome: CheckOutcome


@dataclass(frozen=True)
class Transfer:
    """A download, import or verification in progress."""

    label: str
    done: int
    total: int
    rate: float = 0.0
    eta_s: float | None = None


@dataclass
class TransferUpdated(Message):
    transfer: Transfer


@dataclass
class TransferEnded(Message):
    """A transfer finished, failed or was cancelled; ``sentence`` says which and what next."""

    sentence: str
    failed: bool = False


@dataclass
class StoreChanged(Message):
    """The model store changed (or may have): refresh the tables and say ``sentence``."""

    sentence: str = ""
    failed: bool = False
