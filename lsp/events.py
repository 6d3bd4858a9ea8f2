"""Document events fanned out to the features that care (pygls allows one handler per method)."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass


class DocumentChange(enum.Enum):
    OPENED = "opened"
    CHANGED = "changed"
    SAVED = "saved"
    CLOSED = "closed"


@dataclass(frozen=True)
class DocumentEvent:
    """Something happened to the document at ``uri``."""

    uri: str
    change: DocumentChange
    line: int | None = None
    """For CHANGED: the first line the edit touched (0-based), when the editor said."""


DocumentListener = Callable[[DocumentEvent], None]


class DocumentEvents:
    """Listeners are called in the order they subscribed; each must return quickly."""

    def __init__(self) -> None:
        self._listeners: list[DocumentListener] = []

    def subscribe(self, listener: DocumentListener) -> None:
        self._listeners.append(listener)

    def emit(self, event: DocumentEvent) -> None:
        for listener in self._listeners:
            listener(event)
