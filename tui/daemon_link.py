"""The TUI's only ways to reach the daemon: HTTP through the typed client, or starting it.

Every function answers with a sentence for the user rather than raising: the screens show it.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import daemon
from daemon.client import DaemonClient, DaemonClientError, DaemonHTTPError, local_daemon
from daemon.instance import read_state
from daemon.paths import AppPaths

CONSOLE_LOG = "serve-console.log"
# Started daemons outlive the TUI; holding them here keeps Popen from warning when collected.
_STARTED: list[subprocess.Popen[bytes]] = []


def started_daemons() -> tuple[subprocess.Popen[bytes], ...]:
    """The daemon processes this process started (tests wait for them after stopping them)."""
    return tuple(_STARTED)


def daemon_running(paths: AppPaths) -> bool:
    return read_state(paths.state_file) is not None


async def reload_daemon(paths: AppPaths, model_name: str | None) -> str:
    """Make a running daemon serve the store's active model; a sentence saying how it went."""
    serves = f"serve {model_name}" if model_name else "notice the change"
    if not daemon_running(paths):
        return f"The daemon is not running; it will {serves} when it starts."
    url, token = local_daemon(paths)
    try:
        async with DaemonClient(url, token, timeout=300) as client:
            await client.reload()
    except DaemonHTTPError as exc:
        return f"{exc.message} Fix the model, or activate another one."
    except DaemonClientError as exc:
        return f"Could not reach the daemon to reload it ({exc}); restart it to {serves}."
    return f"The daemon now serves {model_name}." if model_name else "The daemon was reloaded."


@dataclass(frozen=True)
class LaunchResult:
    started: bool
    sentence: str


def _child_environment() -> dict[str, str]:
    """This environment, plus the folder holding our packages (for source checkouts)."""
    env = dict(os.environ)
    root = str(Path(daemon.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    return env


def _last_line(file: Path) -> str:
    try:
        lines = file.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return ""
    return lines[-1].removeprefix("bbj-coder: ") if lines else ""


async def start_daemon(paths: AppPaths, timeout_s: float = 90.0) -> LaunchResult:
    """Start ``bbj-coder serve`` in the background and wait until it answers /health."""
    if (state := read_state(paths.state_file)) is not None:
        return LaunchResult(True, f"bbj-coder is already running at {state.url}.")
    paths.logs_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    console = paths.logs_dir / CONSOLE_LOG
    with open(console, "wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "daemon", "serve"],
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            env=_child_environment(),
            start_new_session=True,
        )
    _STARTED.append(process)
    return await _wait_until_healthy(paths, process, console, timeout_s)


async def _wait_until_healthy(
    paths: AppPaths, process: subprocess.Popen[bytes], console: Path, timeout_s: float
) -> LaunchResult:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            reason = _last_line(console) or f"exit status {process.returncode}"
            return LaunchResult(False, f"The daemon stopped at once: {reason}")
        state = read_state(paths.state_file)
        if state is not None and await _answers(paths):
            return LaunchResult(True, f"bbj-coder started at {state.url} (pid {state.pid}).")
        await asyncio.sleep(0.2)
    return LaunchResult(
        False,
        f"The daemon did not answer within {timeout_s:.0f} s; the Logs screen shows what it is "
        "doing.",
    )


async def _answers(paths: AppPaths) -> bool:
    url, token = local_daemon(paths)
    try:
        async with DaemonClient(url, token, timeout=2) as client:
            await client.health()
    except DaemonClientError:
        return False
    return True
