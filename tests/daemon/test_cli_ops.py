"""Issue #17 ops items seen from the command line: import refusals, JSON status when down,
closed pipes, demo mode said plainly, and no proxy between a client and the loopback daemon."""

from __future__ import annotations

import asyncio
import http.server
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from daemon.client import DaemonClient, DaemonHTTPError, loopback_client
from daemon.paths import AppPaths
from tests.conftest import REPO_ROOT, daemon_env, free_port, run_cli, start_daemon
from tui.daemon_link import reload_daemon


def test_model_import_refuses_an_existing_name_unless_replace(tiny_model, tmp_path) -> None:
    assert (
        run_cli(tmp_path, "model", "import", str(tiny_model.gguf_path), "--name", "t").returncode
        == 0
    )
    again = run_cli(
        tmp_path, "model", "import", str(tiny_model.gguf_path), "--name", "t", "--no-activate"
    )
    assert again.returncode == 2 and "Traceback" not in again.stderr
    assert "'t' is already installed (the active model); import with --replace" in again.stderr
    replaced = run_cli(
        tmp_path, "model", "import", str(tiny_model.gguf_path), "--name", "t", "--replace"
    )
    assert replaced.returncode == 0, replaced.stderr
    dotted = run_cli(tmp_path, "model", "import", str(tiny_model.gguf_path), "--name", "..")
    assert dotted.returncode == 2 and "not a usable model name" in dotted.stderr


def test_status_json_when_down_is_json(tmp_path) -> None:
    result = run_cli(tmp_path, "status", "--json")
    assert result.returncode == 3
    assert json.loads(result.stdout)["running"] is False


@pytest.mark.parametrize("unbuffered", ["1", ""])
@pytest.mark.parametrize("args", [("config", "show"), ("model", "list"), ("check", "DIR")])
def test_a_closed_pipe_ends_quietly(tmp_path, args, unbuffered) -> None:
    if args == ("check", "DIR"):
        source = tmp_path / "src"
        source.mkdir()
        for i in range(3):
            (source / f"p{i}.bbj").write_text('PRINT "hi"\nEND\n')
        args = ("check", str(source))
    env = daemon_env(tmp_path, PYTHONUNBUFFERED=unbuffered)
    process = subprocess.Popen(
        [sys.executable, "-m", "daemon", *args],
        env=env,
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    process.stdout.close()  # the reader is gone before the first line, as `| head -0` would be
    _, stderr = process.communicate(timeout=60)
    assert b"Traceback" not in stderr and b"BrokenPipeError" not in stderr, stderr.decode()
    assert process.returncode in (0, 141)


def test_importing_into_a_demo_daemon_says_demo_mode_is_pinned(tiny_model, tmp_path) -> None:
    stale = tmp_path / "models" / ".import-killed.tmp"  # an import killed an hour ago
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"half a model")
    os.utime(stale, (time.time() - 3600, time.time() - 3600))
    running = start_daemon(tmp_path, "--demo")
    try:
        assert not stale.exists(), "swept when the daemon starts"
        imported = run_cli(tmp_path, "model", "import", str(tiny_model.gguf_path), "--name", "t")
        assert imported.returncode == 0, imported.stderr
        assert "runs in demo mode (--demo) and keeps serving the tiny demo model" in imported.stdout
        status = run_cli(tmp_path, "status")
        assert "mode:    DEMO" in status.stdout
        doctor = json.loads(run_cli(tmp_path, "doctor", "--json").stdout)
        model = next(c for c in doctor["checks"] if c["name"] == "Model")
        assert model["verdict"] == "warn" and "demo mode (serve --demo)" in model["summary"]
        assert "installed and active: t" in model["summary"]
        paths = AppPaths(
            *(tmp_path / n for n in ("config", "models", "logs", "cache", "state", "run"))
        )
        sentence = asyncio.run(reload_daemon(paths, "t"))
        assert sentence.startswith("The daemon runs in demo mode (--demo) and keeps serving")
    finally:
        running.stop()


class _RecordingProxy(http.server.BaseHTTPRequestHandler):
    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.seen.append(self.path)
        self.send_response(502)
        self.end_headers()

    do_POST = do_GET

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def proxy() -> Iterator[tuple[str, list[str]]]:
    seen: ClassVar[list[str]] = []
    handler = type("Proxy", (_RecordingProxy,), {"seen": seen})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


def test_no_proxy_sees_the_loopback_daemon(daemon, proxy, monkeypatch, tmp_path: Path) -> None:
    proxy_url, seen = proxy
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "HTTPS_PROXY"):
        monkeypatch.setenv(name, proxy_url)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    status = run_cli(daemon.home, "status", "--json", HTTP_PROXY=proxy_url, http_proxy=proxy_url)
    assert json.loads(status.stdout)["answering"] is True, status.stdout + status.stderr
    with loopback_client(daemon.url, timeout=10) as http:
        assert http.get("/health").status_code == 200

    async def through_client() -> dict:
        async with DaemonClient(daemon.url, daemon.token) as client:
            return await client.health()

    assert asyncio.run(through_client())["status"] in ("ok", "degraded")
    assert seen == [], f"the proxy saw {seen}"


def test_a_remote_daemon_url_still_uses_the_proxy(proxy, monkeypatch) -> None:
    proxy_url, seen = proxy
    monkeypatch.setenv("HTTP_PROXY", proxy_url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)

    async def remote() -> None:
        async with DaemonClient("http://daemon.example.invalid:11435", None) as client:
            await client.health()

    with pytest.raises(DaemonHTTPError):  # the recording proxy answers 502
        asyncio.run(remote())
    assert seen and seen[0].startswith("http://daemon.example.invalid")


def test_serve_detach_returns_once_the_daemon_answers(tmp_path) -> None:
    started = run_cli(tmp_path, "serve", "--detach", "--demo", "--port", str(free_port()))
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        assert "bbj-coder started at http://127.0.0.1:" in started.stdout
        status = run_cli(tmp_path, "status", "--json")
        assert status.returncode == 0 and json.loads(status.stdout)["demo"] is True
        again = run_cli(tmp_path, "serve", "--detach")
        assert again.returncode == 0 and "already running" in again.stdout
    finally:
        stopped = run_cli(tmp_path, "stop")
    assert "Stopped" in stopped.stdout


def test_serve_detach_says_why_a_daemon_did_not_start(tmp_path) -> None:
    result = run_cli(tmp_path, "serve", "--detach")  # no model installed
    assert result.returncode == 1
    assert "The daemon stopped at once" in result.stderr and "model import" in result.stderr
