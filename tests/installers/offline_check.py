"""Run by the *installed* venv's Python inside a network namespace with only loopback.

``python offline_check.py PREFIX PORT RESULT.json``: prove there is no network, start the
installed daemon, get one FIM completion over HTTP, run ``bbj-coder doctor --json``, stop the
daemon, and write what happened to RESULT.json (stdlib and the installed package only).
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any


def network_reachable() -> bool:
    """A public address (PyPI's CDN); in the namespace there is no route to anywhere."""
    try:
        socket.create_connection(("151.101.0.223", 443), timeout=3).close()
    except OSError:
        return False
    return True


def request(url: str, token: str | None = None, body: dict[str, Any] | None = None) -> Any:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    with urllib.request.urlopen(urllib.request.Request(url, data, headers), timeout=60) as reply:
        return json.loads(reply.read())


def wait_healthy(url: str, daemon: subprocess.Popen[bytes]) -> dict[str, Any]:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if daemon.poll() is not None:
            raise SystemExit(f"the daemon exited with {daemon.returncode}")
        try:
            return request(f"{url}/health")
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the daemon did not answer /health within 90 s")


def check(bbj: Path, url: str, daemon: subprocess.Popen[bytes]) -> dict[str, Any]:
    health = wait_healthy(url, daemon)
    token = subprocess.run(
        [bbj, "config", "token"], capture_output=True, text=True, check=True
    ).stdout.strip()
    fim = request(
        f"{url}/api/generate",
        token,
        {
            "model": "bbj-coder",
            "prompt": 'rem greet\nprint "',
            "suffix": '"\nend\n',
            "stream": False,
            "options": {"num_predict": 8},
        },
    )
    doctor = subprocess.run([bbj, "doctor", "--json"], capture_output=True, text=True)
    return {
        "health": health,
        "fim": fim,
        "doctor_rc": doctor.returncode,
        "doctor": json.loads(doctor.stdout) if doctor.stdout.strip() else None,
        "doctor_stderr": doctor.stderr,
    }


def main(prefix: str, port: str, result_file: str) -> int:
    bbj = Path(prefix) / "venv" / "bin" / "bbj-coder"
    result: dict[str, Any] = {"network_reachable": network_reachable()}
    log = Path(result_file).with_suffix(".log")
    with open(log, "wb") as output:
        daemon = subprocess.Popen([bbj, "serve", "--port", port], stdout=output, stderr=output)
    result["daemon_pid"] = daemon.pid
    try:
        result.update(check(bbj, f"http://127.0.0.1:{port}", daemon))
    finally:
        daemon.terminate()
        try:
            daemon.wait(timeout=20)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()
        Path(result_file).write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
