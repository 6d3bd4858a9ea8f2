"""Start ``bbj-coder serve`` in the background and wait until it answers ``/health``.

The daemon is started detached (its own session, no stdin, output to a log file) so that it
outlives the editor and is shared by every editor of the same user, like one started by hand.
It must never inherit the language server's stdout: that is the LSP protocol stream.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import daemon.paths
from daemon.paths import AppPaths

POLL_INTERVAL_S = 0.2
LOG_TAIL_CHARS = 600
LOG_NAME = "daemon-started-by-lsp.log"


@dataclass(frozen=True)
class LaunchResult:
    """Whether a started daemon answers, and if not, why (one sentence for the user)."""

    ok: bool
    problem: str = ""


HealthProbe = Callable[[], Awaitable[bool]]


class DaemonLauncher:
    """Starts at most one daemon process at a time and remembers it."""

    def __init__(self, paths: AppPaths) -> None:
        self._paths = paths
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def log_file(self) -> Path:
        return self._paths.logs_dir / LOG_NAME

    @property
    def pid(self) -> int | None:
        """The pid of the daemon this server started, while it runs."""
        if self._process is None or self._process.poll() is not None:
            return None
        return self._process.pid

    async def launch(self, port: int | None, probe: HealthProbe, timeout_s: float) -> LaunchResult:
        """Start a daemon (unless the one started earlier still runs) and wait for ``probe``."""
        if self.pid is None:
            try:
                self._process = self._spawn(port)
            except OSError as error:
                return LaunchResult(False, f"it could not be started: {error}")
        return await self._wait_healthy(probe, timeout_s)

    def _spawn(self, port: int | None) -> subprocess.Popen[bytes]:
        command = [sys.executable, "-m", "daemon", "serve"]
        if port is not None:
            command += ["--port", str(port)]
        self.log_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with open(self.log_file, "ab") as log:
            return subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=_daemon_environment(),
                close_fds=True,
                **_detached(),
            )

    async def _wait_healthy(self, probe: HealthProbe, timeout_s: float) -> LaunchResult:
        assert self._process is not None
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if await probe():
                return LaunchResult(ok=True)
            exit_code = self._process.poll()
            # Exit code 0 means another daemon already runs: it may take a moment to answer.
            if exit_code not in (None, 0):
                return LaunchResult(False, f"it exited with status {exit_code}: {self._tail()}")
            await asyncio.sleep(POLL_INTERVAL_S)
        return LaunchResult(False, f"it did not answer within {timeout_s:g} s: {self._tail()}")

    def _tail(self) -> str:
        try:
            text = self.log_file.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return f"see {self.log_file}"
        tail = " ".join(text[-LOG_TAIL_CHARS:].split())
        return f"{tail} (log: {self.log_file})"


def _detached() -> dict[str, object]:
    if os.name == "nt":  # pragma: no cover - exercised on Windows only
        flags = subprocess.DETACHED_PROCESS | subprocess.CREATE_NEW_PROCESS_GROUP
        return {"creationflags": flags}
    return {"start_new_session": True}


def _daemon_environment() -> dict[str, str]:
    """This environment, with bbj-coder's own packages importable from a source checkout too."""
    env = dict(os.environ)
    package_root = str(Path(daemon.paths.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    return env
