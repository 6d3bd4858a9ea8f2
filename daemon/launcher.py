"""Start ``bbj-coder serve`` in the background and wait until it answers ``/health``.

The daemon is started detached (its own session or process group, no stdin, output appended
to a log file) so that it outlives whoever started it (the language server, the TUI) and is
shared by every client of the same user, like one started by hand. It never inherits the
starter's stdout, which may carry a protocol (LSP or MCP over stdio).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import daemon
from daemon.client import DaemonClient, DaemonClientError, local_daemon
from daemon.instance import read_state
from daemon.paths import AppPaths

POLL_INTERVAL_S = 0.2
HEALTH_TIMEOUT_S = 2.0

HealthProbe = Callable[[], Awaitable[bool]]
"""True once the daemon answers."""

# Started daemons outlive their starter; holding them here keeps Popen from warning when collected.
_STARTED: list[subprocess.Popen[bytes]] = []


@dataclass(frozen=True)
class LaunchResult:
    """Whether a daemon answers; ``sentence`` says where, or why not, in words for the user."""

    started: bool
    sentence: str


def started_daemons() -> tuple[subprocess.Popen[bytes], ...]:
    """The daemon processes this process started (tests wait for them after stopping them)."""
    return tuple(_STARTED)


class DaemonLauncher:
    """Starts at most one daemon process at a time, remembers it, and waits for it to answer.

    Its output goes to ``log_name`` in the logs folder; ``look_here`` ends the sentence for a
    daemon that does not answer in time (by default it names that file).
    """

    def __init__(self, paths: AppPaths, log_name: str, *, look_here: str | None = None) -> None:
        self._paths = paths
        self.log_file = paths.logs_dir / log_name
        self._look_here = look_here or f"its output is in {self.log_file}"
        self._process: subprocess.Popen[bytes] | None = None
        self._log_start = 0

    @property
    def pid(self) -> int | None:
        """The pid of the daemon this launcher started, while it runs."""
        if self._process is None or self._process.poll() is not None:
            return None
        return self._process.pid

    async def launch(
        self,
        timeout_s: float,
        *,
        port: int | None = None,
        probe: HealthProbe | None = None,
        argv: Sequence[str] | None = None,
    ) -> LaunchResult:
        """Start a daemon (unless the one started earlier still runs) and wait until ``probe``
        (by default: the state file names a daemon that answers ``/health``) says it answers.

        ``argv`` replaces the command's arguments after ``bbj-coder`` (default: ``serve``)."""
        if self.pid is None:
            try:
                self._process = self._spawn(port, argv)
            except OSError as error:
                return LaunchResult(False, f"The daemon could not be started: {error}")
            _STARTED.append(self._process)
        return await self._wait_healthy(probe or self._answers, timeout_s)

    def _spawn(self, port: int | None, argv: Sequence[str] | None) -> subprocess.Popen[bytes]:
        command = [sys.executable, "-m", "daemon", *(argv or ["serve"])]
        if port is not None:
            command += ["--port", str(port)]
        self.log_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with open(self.log_file, "ab") as log:
            self._log_start = log.tell()
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
                return LaunchResult(True, self._started_sentence())
            exit_code = self._process.poll()
            # Exit code 0 means another daemon already runs: it may take a moment to answer.
            if exit_code not in (None, 0):
                reason = self._last_line() or f"exit status {exit_code}"
                return LaunchResult(False, f"The daemon stopped at once: {reason}")
            await asyncio.sleep(POLL_INTERVAL_S)
        return LaunchResult(
            False, f"The daemon did not answer within {timeout_s:g} s; {self._look_here}."
        )

    async def _answers(self) -> bool:
        if read_state(self._paths.state_file) is None:
            return False
        url, token = local_daemon(self._paths)
        try:
            async with DaemonClient(url, token, timeout=HEALTH_TIMEOUT_S) as client:
                await client.health()
        except DaemonClientError:
            return False
        return True

    def _started_sentence(self) -> str:
        state = read_state(self._paths.state_file)
        if state is None:
            return "bbj-coder started."
        return f"bbj-coder started at {state.url} (pid {state.pid})."

    def _last_line(self) -> str:
        """The last line this launch's daemon wrote (its error sentence, when it refused)."""
        try:
            with open(self.log_file, "rb") as log:
                log.seek(self._log_start)
                text = log.read().decode("utf-8", errors="replace")
        except OSError:
            return ""
        lines = text.strip().splitlines()
        return lines[-1].removeprefix("bbj-coder: ") if lines else ""


def _detached() -> dict[str, object]:
    if os.name == "nt":  # pragma: no cover - exercised on Windows only
        flags = subprocess.DETACHED_PROCESS | subprocess.CREATE_NEW_PROCESS_GROUP
        return {"creationflags": flags}
    return {"start_new_session": True}


def _daemon_environment() -> dict[str, str]:
    """This environment, with bbj-coder's own packages importable from a source checkout too."""
    env = dict(os.environ)
    package_root = str(Path(daemon.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    return env
