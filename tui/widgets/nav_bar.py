"""The top line: the app's name and the three screens, each reachable by key or click."""

from __future__ import annotations

from textual.widgets import Static

SCREENS: tuple[tuple[str, str, str], ...] = (
    ("health", "1", "Health"),
    ("models", "2", "Models"),
    ("logs", "3", "Logs"),
)


class NavBar(Static):
    """``bbj-coder  1 Health  2 Models  3 Logs`` with the current screen highlighted."""

    def __init__(self, current: str) -> None:
        super().__init__(self._markup(current), id="nav-bar")
        self.current = current

    @staticmethod
    def _markup(current: str) -> str:
        tabs = []
        for mode, key, title in SCREENS:
            style = "reverse b" if mode == current else "b"
            tabs.append(f"[@click=app.switch_mode('{mode}')][{style}] {key} {title} [/][/]")
        return "[b]bbj-coder[/]  " + " ".join(tabs)
