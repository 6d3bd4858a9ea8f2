"""The daemon's log lines, errors and warnings coloured."""

from __future__ import annotations

from rich.highlighter import Highlighter
from rich.text import Text
from textual.widgets import Log

MAX_LINES = 5000


class LevelHighlighter(Highlighter):
    def highlight(self, text: Text) -> None:
        text.highlight_regex(r"\b(ERROR|CRITICAL)\b.*", "bold red")
        text.highlight_regex(r"\bWARNING\b.*", "yellow")


class DaemonLog(Log):
    def __init__(self, *, id: str) -> None:
        super().__init__(id=id, highlight=True, max_lines=MAX_LINES, auto_scroll=True)
        self.highlighter = LevelHighlighter()
