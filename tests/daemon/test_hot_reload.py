"""watchfiles hot reload: a replaced model or a broken config is noticed without any request."""

from __future__ import annotations

import time

import httpx
import pytest

from daemon.models.tinymodel import build_tiny_model
from tests.conftest import run_cli, start_daemon
from tests.daemon.fim_load import fim_load


@pytest.fixture
def watched_daemon(tiny_model, tmp_path):
    imported = run_cli(tmp_path, "model", "import", str(tiny_model.gguf_path), "--name", "main")
    assert imported.returncode == 0, imported.stderr
    running = start_daemon(tmp_path)
    yield running
    running.stop()


def _wait_for(predicate, timeout_s: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def _health(running) -> dict:
    return httpx.get(f"{running.url}/health").json()


def test_replacing_the_model_under_load_fails_no_request(watched_daemon, tmp_path_factory) -> None:
    old_sha = _health(watched_daemon)["model"]["sha256_recorded"]
    assert old_sha
    replacement = build_tiny_model(tmp_path_factory.mktemp("replacement"), seed=11)
    with fim_load(watched_daemon) as load:
        # Same name, --replace: the new file goes beside the served one, the manifest switches
        # to it, and the old file is removed once nothing names it.
        result = run_cli(
            watched_daemon.home,
            "model",
            "import",
            str(replacement.gguf_path),
            "--name",
            "main",
            "--replace",
        )
        assert result.returncode == 0, result.stderr
        swapped = _wait_for(lambda: _health(watched_daemon)["model"]["sha256_recorded"] != old_sha)
    assert swapped, watched_daemon.log()
    assert "hot reload: now serving main" in watched_daemon.log()  # the watcher did it
    assert load.served > 0 and load.failures == [], watched_daemon.log()


def test_invalid_config_is_reported_and_the_old_one_kept(watched_daemon) -> None:
    config = watched_daemon.home / "config" / "config.toml"
    config.write_text('[fim]\nmax_tokens = "lots"\n')
    assert _wait_for(lambda: _health(watched_daemon)["reload_error"] is not None)
    health = _health(watched_daemon)
    assert "fim.max_tokens" in health["reload_error"]
    assert health["status"] == "ok"
    with watched_daemon.client() as http:
        assert (
            http.post(
                "/v1/bbj/fim", json={"prefix": "b = ", "suffix": "\n", "max_tokens": 4}
            ).status_code
            == 200
        )
    config.write_text("[fim]\nmax_tokens = 8\n")
    assert _wait_for(lambda: _health(watched_daemon)["reload_error"] is None)
