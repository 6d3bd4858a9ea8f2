"""Issue #17 items 22 and 29: no runtime-dir warning without XDG_RUNTIME_DIR, and a pid
liveness check that works on Windows (only unit-testable here, with a stand-in kernel32)."""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys

import pytest

from daemon import instance
from tests.conftest import REPO_ROOT


def test_no_runtime_dir_warning_without_xdg_runtime_dir(tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BBJ_CODER_", "XDG_"))}
    env.update(HOME=str(tmp_path), PYTHONPATH=str(REPO_ROOT), PYTHONWARNINGS="default")
    result = subprocess.run(
        [
            sys.executable,
            "-W",
            "default",
            "-c",
            "from daemon.paths import app_paths; print(app_paths().runtime_dir)",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO_ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert "RuntimeDirWarning" not in result.stderr and "XDG_RUNTIME_DIR" not in result.stderr
    assert result.stdout.strip()


class _Kernel32:
    """Stands in for Windows' kernel32: a table of pid → exit code (259 = still active)."""

    def __init__(self, processes: dict[int, int], denied: tuple[int, ...] = ()) -> None:
        self.processes = processes
        self.denied = denied
        self.error = 0
        self.closed: list[int] = []

    def OpenProcess(self, access: int, inherit: bool, pid: int) -> int:
        if pid in self.denied:
            self.error = 5
            return 0
        if pid not in self.processes:
            self.error = 87
            return 0
        return pid + 1000

    def GetExitCodeProcess(self, handle: int, ref) -> int:
        ctypes.cast(ref, ctypes.POINTER(ctypes.c_ulong)).contents.value = self.processes[
            handle - 1000
        ]
        return 1

    def CloseHandle(self, handle: int) -> int:
        self.closed.append(handle)
        return 1


def test_windows_liveness_asks_the_process_table_not_a_signal(monkeypatch) -> None:
    kernel32 = _Kernel32({10: 259, 11: 0}, denied=(12,))
    assert instance._windows_pid_alive(10, kernel32, lambda: kernel32.error) is True
    assert instance._windows_pid_alive(11, kernel32, lambda: kernel32.error) is False
    assert instance._windows_pid_alive(12, kernel32, lambda: kernel32.error) is True
    assert instance._windows_pid_alive(13, kernel32, lambda: kernel32.error) is False
    assert kernel32.closed == [1010, 1011], "every opened handle is closed"


def test_on_windows_no_signal_is_sent(monkeypatch) -> None:
    sent: list[tuple[int, int]] = []
    monkeypatch.setattr(instance.os, "kill", lambda pid, sig: sent.append((pid, sig)))
    monkeypatch.setattr(instance.os, "name", "nt")
    monkeypatch.setattr(instance, "_windows_pid_alive", lambda pid: pid == 42)
    assert instance._pid_alive(42) is True and instance._pid_alive(43) is False
    assert sent == [], "os.kill(pid, 0) would send CTRL_C_EVENT on Windows"


@pytest.mark.skipif(os.name == "nt", reason="POSIX path")
def test_posix_liveness_sees_live_and_exited_processes() -> None:
    assert instance._pid_alive(os.getpid())
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert not instance._pid_alive(child.pid)
    assert not instance._pid_alive(0) and not instance._pid_alive(-1)
