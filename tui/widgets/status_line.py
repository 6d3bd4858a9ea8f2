"""One line of text saying what just happened, or what went wrong and what to do."""

from __future__ import annotations

from textual.markup import escape
from textual.widgets import Static


class StatusLine(Static):
    def say(self, sentence: str, *, failed: bool = False) -> None:
        self.update(escape(sentence))
        self.set_class(failed, "-failed")
