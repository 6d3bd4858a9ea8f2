"""The bbj-coder TUI: Health, Models and Logs screens, one Textual mode each."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import ClassVar

from textual.app import App
from textual.binding import Binding, BindingType

from tui.context import TuiContext, default_context
from tui.screens.health import HealthScreen
from tui.screens.logs import LogsScreen
from tui.screens.models import ModelsScreen

SCREEN_NAMES = ("health", "models", "logs")
DARK, LIGHT = "textual-dark", "textual-light"


class BbjCoderApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "bbj-coder"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("1", "switch_mode('health')", "Health", show=False),
        Binding("2", "switch_mode('models')", "Models", show=False),
        Binding("3", "switch_mode('logs')", "Logs", show=False),
        Binding("t", "toggle_theme", "Theme"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(self, context: TuiContext, *, screen: str = "health", theme: str = DARK):
        super().__init__()
        if screen not in SCREEN_NAMES:
            raise ValueError(f"unknown screen {screen!r}; choose one of {SCREEN_NAMES}")
        self.context = context
        self._first_screen = screen
        self._first_theme = theme
        self.add_mode("health", lambda: HealthScreen(context))
        self.add_mode("models", lambda: ModelsScreen(context))
        self.add_mode("logs", lambda: LogsScreen(context))

    def on_mount(self) -> None:
        self.theme = self._first_theme
        self.switch_mode(self._first_screen)

    def action_toggle_theme(self) -> None:
        self.theme = LIGHT if self.theme == DARK else DARK


def run_tui(catalogue: str | None = None, screen: str = "health") -> int:
    """Run the TUI until the user quits; ``catalogue`` is a URL or a bundle folder."""
    app = BbjCoderApp(default_context(catalogue), screen=screen)
    result = app.run()
    return result if isinstance(result, int) else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bbj-coder tui", description=__doc__)
    parser.add_argument(
        "--catalogue",
        metavar="URL|DIR",
        help="model catalogue: a catalogue.json URL or an offline bundle folder "
        "(default: $BBJ_CODER_CATALOGUE)",
    )
    parser.add_argument("--screen", choices=SCREEN_NAMES, default="health")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_tui(args.catalogue, args.screen)
