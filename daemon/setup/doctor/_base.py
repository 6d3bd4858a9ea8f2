"""What every check shares: the outcome type, settings, and the context gathered once."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from daemon.client import DaemonClient, DaemonClientError, local_daemon
from daemon.config import Config, load_config
from daemon.errors import BbjCoderError
from daemon.instance import DaemonState, http_url, read_state
from daemon.paths import AppPaths

Verdict = Literal["ok", "warn", "fail", "skip"]

VERDICTS: tuple[Verdict, ...] = ("ok", "warn", "fail", "skip")

CHECK_NAMES = (
    "Config",
    "Daemon",
    "Backend",
    "Model",
    "Compiler check",
    "GPU",
    "Ollama",
    "Continue.dev",
    "Latency",
)

START_ADVICE = "Start it with `bbj-coder serve` (or press s on the TUI's Health screen)."


@dataclass(frozen=True)
class CheckOutcome:
    name: str
    verdict: Verdict
    summary: str
    advice: str = ""

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"unknown verdict {self.verdict!r}")
        if self.verdict in ("warn", "fail") and not self.advice:
            raise ValueError(f"the {self.name} check must say what to do about {self.summary!r}")


@dataclass(frozen=True)
class DoctorSettings:
    continue_dir: Path | None = None
    """Continue's global folder; None means ``$CONTINUE_GLOBAL_DIR`` or ``~/.continue``."""
    ollama_url: str | None = None
    """None means ``$OLLAMA_HOST`` or ``http://127.0.0.1:11434``."""
    slow_after_ms: float = 1000.0
    health_timeout_s: float = 5.0
    probe_timeout_s: float = 30.0


@dataclass(frozen=True)
class DoctorContext:
    """What every check may look at, gathered once per run."""

    paths: AppPaths
    config: Config
    config_outcome: CheckOutcome
    state: DaemonState | None
    url: str
    token: str | None
    health: dict[str, Any] | None = None
    health_error: str | None = None


def display_path(path: Path) -> str:
    home = str(Path.home())
    text = str(path)
    return "~" + text[len(home) :] if home != "/" and text.startswith(home + os.sep) else text


def check_config(paths: AppPaths) -> tuple[Config, CheckOutcome]:
    """The effective config (defaults when it is broken) and what to say about it."""
    file = paths.config_file
    try:
        config = load_config(file).config
    except BbjCoderError as exc:
        return Config(), CheckOutcome(
            "Config",
            "fail",
            str(exc),
            "Fix the setting named above (`bbj-coder config show` prints the effective "
            "settings); until then the defaults are used.",
        )
    if file.exists():
        return config, CheckOutcome("Config", "ok", f"read {display_path(file)}")
    return config, CheckOutcome("Config", "ok", "no config file; the defaults are in use")


async def gather_context(paths: AppPaths, settings: DoctorSettings) -> DoctorContext:
    config, config_outcome = check_config(paths)
    state = read_state(paths.state_file)
    url, token = local_daemon(paths)
    if state is None:
        # Where it will listen once started: what `continue install` writes too.
        host = config.server.host
        url = http_url("127.0.0.1" if host in ("", "0.0.0.0", "::") else host, config.server.port)
    context = DoctorContext(paths, config, config_outcome, state, url, token)
    if state is None:
        return context
    try:
        async with DaemonClient(url, token, timeout=settings.health_timeout_s) as client:
            health = await client.health()
    except DaemonClientError as exc:
        return replace(context, health_error=str(exc))
    return replace(context, health=health)
