"""POST /v1/admin/reload swaps the model and config without failing in-flight requests."""

from __future__ import annotations

import httpx
import pytest

from daemon.models.tinymodel import build_tiny_model
from tests.conftest import run_cli, start_daemon
from tests.daemon.fim_load import fim_load


@pytest.fixture
def store_daemon(tiny_model, tmp_path):
    assert (
        run_cli(
            tmp_path, "model", "import", str(tiny_model.gguf_path), "--name", "first"
        ).returncode
        == 0
    )
    running = start_daemon(tmp_path, BBJ_CODER_SERVER_WATCH="false")  # explicit reloads only
    yield running
    running.stop()


def _health(running) -> dict:
    return httpx.get(f"{running.url}/health").json()


def _reload(running) -> httpx.Response:
    return httpx.post(f"{running.url}/v1/admin/reload", headers=running.headers, timeout=60)


def test_reload_swaps_in_a_newly_activated_model_under_load(store_daemon, tmp_path_factory) -> None:
    second = build_tiny_model(tmp_path_factory.mktemp("second"), seed=7)
    with fim_load(store_daemon) as load:
        imported = run_cli(
            store_daemon.home, "model", "import", str(second.gguf_path), "--name", "second"
        )
        assert imported.returncode == 0, imported.stderr
        response = _reload(store_daemon)
    assert response.status_code == 200, response.text
    assert response.json()["changed"] is True
    assert _health(store_daemon)["model"]["name"] == "second"
    assert load.served > 0 and load.failures == [], store_daemon.log()


def test_reload_with_nothing_changed_is_a_no_op(store_daemon) -> None:
    response = _reload(store_daemon)
    assert response.status_code == 200 and response.json()["changed"] is False


def test_a_workspace_change_says_it_needs_a_restart(store_daemon, tmp_path) -> None:
    config = store_daemon.home / "config" / "config.toml"
    config.write_text(f"[workspace]\nroots = [{str(tmp_path)!r}]\n")
    response = _reload(store_daemon)
    assert response.status_code == 200, response.text
    (note,) = response.json()["notes"]
    assert "[workspace] changed" in note and "restart" in note
    assert _reload(store_daemon).json()["notes"] == []


def test_invalid_config_keeps_the_old_one_and_health_says_why(store_daemon) -> None:
    config = store_daemon.home / "config" / "config.toml"
    config.write_text('[fim]\nmax_tokens = "lots"\n')
    response = _reload(store_daemon)
    assert response.status_code == 409
    assert "fim.max_tokens" in response.json()["error"]["message"]
    health = _health(store_daemon)
    assert health["status"] == "ok" and health["model"]["name"] == "first"
    assert "fim.max_tokens" in health["reload_error"]
    config.write_text("[fim]\nmax_tokens = 16\n")
    assert _reload(store_daemon).status_code == 200
    assert _health(store_daemon)["reload_error"] is None


def test_corrupt_new_model_keeps_serving_the_old_one(store_daemon, tiny_model) -> None:
    models = store_daemon.home / "models"
    broken = models / "first.gguf"
    good = broken.read_bytes()
    # Simulate a model replaced by a truncated copy behind the store's back.
    (models / "broken.gguf").write_bytes(good[: len(good) // 2])
    manifest = (models / "manifest.json").read_text()
    (models / "manifest.json").write_text(
        manifest.replace('"active": "first"', '"active": "broken"').replace(
            '"models": [',
            '"models": [{"name": "broken", "file": "broken.gguf", "size": 1, '
            '"sha256": "x", "roles": []}, ',
            1,
        )
    )
    response = _reload(store_daemon)
    assert response.status_code == 409
    assert "still serving first" in response.json()["error"]["message"]
    fim = httpx.post(
        f"{store_daemon.url}/v1/bbj/fim",
        headers=store_daemon.headers,
        json={"prefix": "a = ", "suffix": "\n", "max_tokens": 4},
    )
    assert fim.status_code == 200
