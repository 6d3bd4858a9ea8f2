"""Shared fixtures: the tiny test model and real daemons on free loopback ports."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from daemon.models.tinymodel import TinyModel, build_tiny_model

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> TinyModel:
    """The tiny Qwen2-architecture GGUF with Qwen2.5-Coder special tokens (built once)."""
    return build_tiny_model(tmp_path_factory.mktemp("tiny-model"), context_length=8192)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningDaemon:
    url: str
    token: str
    home: Path
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def client(self, **kwargs: object) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=self.headers, timeout=60, **kwargs)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def daemon_env(home: Path, **overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BBJ_CODER_")}
    env.update({"BBJ_CODER_HOME": str(home), "PYTHONUNBUFFERED": "1"}, **overrides)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    return env


def run_cli(
    home: Path, *args: str, timeout: float = 60, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "daemon", *args],
        env=daemon_env(home, **env),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO_ROOT,
    )


def start_daemon(home: Path, *args: str, wait_healthy: bool = True, **env: str) -> RunningDaemon:
    port = free_port()
    log_path = home / "daemon-stderr.log"
    home.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "daemon", "serve", "--port", str(port), *args],
            env=daemon_env(home, **env),
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=REPO_ROOT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"daemon exited with {process.returncode}:\n{log_path.read_text()}")
        try:
            healthy = httpx.get(f"{url}/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            healthy = False
        # The state file is written just after the socket opens; clients find the daemon by it.
        if healthy and (home / "state" / "daemon.json").exists():
            break
        time.sleep(0.1)
    else:
        process.kill()
        raise RuntimeError(f"daemon did not become healthy:\n{log_path.read_text()}")
    token = (home / "config" / "token").read_text().strip()
    return RunningDaemon(url=url, token=token, home=home, process=process, log_path=log_path)


@pytest.fixture(scope="session")
def daemon(
    tiny_model: TinyModel, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningDaemon]:
    """One real daemon serving the tiny model, shared by the API tests.

    The compile gate is off here: the tiny model writes random text that would almost always
    be dropped, hiding what these tests look at (its own tests start their own daemon). So is
    the type-ahead cache: a repeated request must really run the model.
    """
    home = tmp_path_factory.mktemp("daemon-home")
    running = start_daemon(
        home,
        "--model",
        str(tiny_model.gguf_path),
        BBJ_CODER_MODEL_N_CTX="8192",
        BBJ_CODER_FIM_TIME_BUDGET_MS="20000",
        BBJ_CODER_CHECK_FIM="false",
        BBJ_CODER_FIM_CACHE_SIZE="0",
    )
    yield running
    running.stop()
