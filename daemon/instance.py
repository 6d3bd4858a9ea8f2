"""One daemon per user: an exclusive lock file plus a state file saying where it listens."""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

from daemon.errors import InstanceError
from daemon.files import try_lock, write_atomic


@dataclass(frozen=True)
class DaemonState:
    pid: int
    host: str
    port: int
    version: str
    started_at: float

    @property
    def url(self) -> str:
        return http_url(self.host, self.port)


def http_url(host: str, port: int) -> str:
    """``http://host:port``, with an IPv6 address in brackets."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class InstanceLock:
    """Hold the per-user lock for the daemon's lifetime; the OS drops it if the process dies."""

    def __init__(self, lock_file: Path, state_file: Path) -> None:
        self.lock_file = lock_file
        self.state_file = state_file
        self._handle: IO[str] | None = None

    def acquire(self) -> bool:
        """Take the lock; False when another live daemon holds it."""
        self.lock_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        handle = open(self.lock_file, "a+", encoding="utf-8")  # noqa: SIM115 - held open on purpose
        if not try_lock(handle.fileno()):
            handle.close()
            return False
        self._handle = handle
        return True

    def publish(self, state: DaemonState) -> None:
        """Write the state file atomically so readers never see half of it."""
        self.state_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_atomic(self.state_file, json.dumps(asdict(state)))

    def release(self) -> None:
        if self._handle is None:
            return
        with contextlib.suppress(OSError):
            if read_state(self.state_file) and read_state(self.state_file).pid == os.getpid():
                self.state_file.unlink()
        self._handle.close()
        self._handle = None


def read_state(state_file: Path) -> DaemonState | None:
    """The running daemon's state, or None when there is none (or the file is stale/corrupt)."""
    try:
        data = json.loads(state_file.read_text(encoding="utf-8"))
        state = DaemonState(**data)
    except (OSError, ValueError, TypeError):
        return None
    return state if _pid_alive(state.pid) else None


def _pid_alive(pid: int) -> bool:
    """Whether process ``pid`` runs, without signalling it, on every platform."""
    if pid <= 0:
        return False
    if os.name == "nt":
        return _windows_pid_alive(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _is_zombie(pid)


PROCESS_QUERY_LIMITED_INFORMATION = 0x1000
STILL_ACTIVE = 259
ERROR_ACCESS_DENIED = 5


def _windows_pid_alive(
    pid: int, kernel32: Any = None, last_error: Callable[[], int] | None = None
) -> bool:
    """Windows has no signal 0 (``os.kill(pid, 0)`` sends CTRL_C_EVENT there) and no /proc:
    open the process for a query and ask whether it has exited yet."""
    import ctypes

    if kernel32 is None:  # pragma: no cover - Windows only; the tests pass a stand-in
        kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]
        last_error = ctypes.get_last_error  # type: ignore[attr-defined]
    handle = kernel32.OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, False, pid)
    if not handle:
        # Access denied: it exists but belongs to another user. Any other failure: it is gone.
        return last_error is not None and last_error() == ERROR_ACCESS_DENIED
    try:
        code = ctypes.c_ulong(0)
        if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
            return True
        return code.value == STILL_ACTIVE
    finally:
        kernel32.CloseHandle(handle)


def _is_zombie(pid: int) -> bool:
    """An exited process its parent has not reaped yet still answers kill(pid, 0) on Linux;
    elsewhere (no /proc) it is taken as running."""
    try:
        stat_line = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat_line.rsplit(")", 1)[-1].split()[0] == "Z"


def wait_for_exit(pid: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not _pid_alive(pid):
            return True
        time.sleep(0.05)
    return False


def require_lock(lock: InstanceLock, state_file: Path) -> None:
    if not lock.acquire():
        state = read_state(state_file)
        where = f" at {state.url} (pid {state.pid})" if state else ""
        raise InstanceError(f"bbj-coder is already running{where}.")
