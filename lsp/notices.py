"""User-facing warnings (``window/showMessage``), each shown once until its problem goes away."""

from __future__ import annotations

from collections.abc import Callable

from lsprotocol import types

ShowMessage = Callable[[types.ShowMessageParams], None]


class Notices:
    """Shows each problem once, not on every keystroke; shows it again after it was resolved."""

    def __init__(self, show: ShowMessage) -> None:
        self._show = show
        self._shown: set[str] = set()

    def warn(self, key: str, message: str) -> None:
        """Show ``message`` as a warning unless the problem ``key`` is already showing."""
        if key in self._shown:
            return
        self._shown.add(key)
        self._show(types.ShowMessageParams(type=types.MessageType.Warning, message=message))

    def info(self, message: str) -> None:
        """Show ``message`` every time (for answers to something the user asked for)."""
        self._show(types.ShowMessageParams(type=types.MessageType.Info, message=message))

    def resolved(self, *keys: str) -> None:
        """The problems ``keys`` went away: warn again if they come back."""
        self._shown.difference_update(keys)
