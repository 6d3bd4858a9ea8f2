"""Helpers for the pilot and snapshot tests: fake check runs and an app built on a home."""

from __future__ import annotations

from dataclasses import dataclass, field

from textual.pilot import Pilot
from textual.widgets import Static

from daemon.launcher import LaunchResult
from daemon.paths import AppPaths
from daemon.setup.doctor import CheckOutcome, OutcomeCallback
from tui.app import BbjCoderApp
from tui.context import TuiContext

SAMPLE_OUTCOMES = (
    CheckOutcome("Config", "ok", "no config file; the defaults are in use"),
    CheckOutcome(
        "Daemon",
        "fail",
        "bbj-coder is not running",
        "Start it with `bbj-coder serve` (or press s on the TUI's Health screen).",
    ),
    CheckOutcome("Backend", "skip", "needs the daemon running", "Start the daemon first."),
    CheckOutcome("Model", "ok", "bbj-coder-1.5b (Q4_K_M, 1.1 GB, context 32768), sha256 verified"),
    CheckOutcome(
        "Compiler check",
        "warn",
        "bbjcpl not found; the built-in checker is in use",
        "Install BBj on this machine, or set check.bbjcpl (or BBJ_HOME) to its bbjcpl.",
    ),
    CheckOutcome("GPU", "ok", "CPU only: this llama.cpp build has no GPU offload"),
    CheckOutcome(
        "Ollama",
        "warn",
        "Ollama does not answer at http://127.0.0.1:11434",
        "Start Ollama only if you want it as the fallback backend.",
    ),
    CheckOutcome("Continue.dev", "ok", "~/.continue/config.yaml: 1 model points at bbj-coder"),
    CheckOutcome("Latency", "skip", "needs the daemon running", "Start the daemon first."),
)


@dataclass
class FakeDoctor:
    """Reports ``outcomes`` and counts how often it was asked."""

    outcomes: tuple[CheckOutcome, ...] = SAMPLE_OUTCOMES
    runs: int = 0

    async def __call__(self, on_outcome: OutcomeCallback) -> list[CheckOutcome]:
        self.runs += 1
        for outcome in self.outcomes:
            on_outcome(outcome)
        return list(self.outcomes)


@dataclass
class FakeStarter:
    result: LaunchResult = field(
        default_factory=lambda: LaunchResult(
            True, "bbj-coder started at http://127.0.0.1:1 (pid 1)."
        )
    )
    calls: list[AppPaths] = field(default_factory=list)

    async def __call__(self, paths: AppPaths) -> LaunchResult:
        self.calls.append(paths)
        return self.result


def make_app(
    paths: AppPaths,
    *,
    screen: str = "health",
    doctor: FakeDoctor | None = None,
    catalogue: str | None = None,
    **context: object,
) -> BbjCoderApp:
    tui_context = TuiContext(
        paths=paths, run_checks=doctor or FakeDoctor(), catalogue=catalogue, **context
    )
    return BbjCoderApp(tui_context, screen=screen)


async def settle(pilot: Pilot[int]) -> None:
    """Wait for background workers and the messages they posted."""
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def text_of(widget: Static) -> str:
    """The plain text a Static (or Label) shows, markup removed."""
    visual = widget.visual
    return str(getattr(visual, "plain", visual))
