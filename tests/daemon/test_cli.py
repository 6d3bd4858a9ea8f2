"""The CLI end to end in subprocesses: serve, status, stop, config, model import/list, --demo."""

from __future__ import annotations

import httpx

from tests.conftest import run_cli, start_daemon


def test_serve_without_a_model_says_how_to_get_one(tmp_path) -> None:
    result = run_cli(tmp_path, "serve", "--port", "1")
    assert result.returncode != 0
    assert "bbj-coder model import" in result.stderr
    assert "--demo" in result.stderr


def test_second_serve_points_at_the_first_and_exits_zero(daemon) -> None:
    result = run_cli(daemon.home, "serve", "--port", "1")
    assert result.returncode == 0
    assert "already running" in result.stdout
    assert daemon.url in result.stdout


def test_status_reports_the_running_daemon(daemon) -> None:
    result = run_cli(daemon.home, "status")
    assert result.returncode == 0, result.stdout + result.stderr
    assert daemon.url in result.stdout
    assert "llama" in result.stdout


def test_status_when_not_running(tmp_path) -> None:
    result = run_cli(tmp_path, "status")
    assert result.returncode == 3
    assert "not running" in result.stdout


def test_config_show_lists_sources(tmp_path) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.toml").write_text("[fim]\nmax_tokens = 50\n")
    result = run_cli(tmp_path, "config", "show", BBJ_CODER_SERVER_PORT="12345")
    assert result.returncode == 0, result.stderr
    assert "max_tokens = 50  # " in result.stdout and "line 2" in result.stdout
    assert "port = 12345  # env BBJ_CODER_SERVER_PORT" in result.stdout


def test_broken_config_is_a_clear_error(tmp_path) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.toml").write_text("[fim]\nmax_tokenz = 50\n")
    result = run_cli(tmp_path, "config", "show")
    assert result.returncode == 2
    assert "line 2" in result.stderr and "fim.max_tokenz" in result.stderr
    assert "Traceback" not in result.stderr


def test_config_token_prints_the_token(tmp_path) -> None:
    first = run_cli(tmp_path, "config", "token").stdout.strip()
    assert first == run_cli(tmp_path, "config", "token").stdout.strip()
    assert first == (tmp_path / "config" / "token").read_text().strip()


def test_model_import_list_and_serve_the_active_model(tiny_model, tmp_path) -> None:
    imported = run_cli(tmp_path, "model", "import", str(tiny_model.gguf_path), "--name", "tiny")
    assert imported.returncode == 0, imported.stderr
    listing = run_cli(tmp_path, "model", "list").stdout
    assert "* tiny" in listing and "qwen2.5-coder" in listing
    running = start_daemon(tmp_path)
    try:
        health = httpx.get(f"{running.url}/health").json()
        assert health["model"]["name"] == "tiny"
        stopped = run_cli(tmp_path, "stop")
        assert "Stopped" in stopped.stdout
        assert running.process.wait(timeout=15) == 0
    finally:
        running.stop()


def test_model_import_refuses_a_bad_sha256(tiny_model, tmp_path) -> None:
    result = run_cli(tmp_path, "model", "import", str(tiny_model.gguf_path), "--sha256", "0" * 64)
    assert result.returncode == 2
    assert "expected" in result.stderr
    assert not list((tmp_path / "models").glob("*.gguf"))
    assert not list((tmp_path / "models").glob(".import-*"))


def test_demo_serves_a_tiny_model_and_says_so(tmp_path) -> None:
    running = start_daemon(tmp_path, "--demo")
    try:
        health = httpx.get(f"{running.url}/health").json()
        assert health["demo"] is True and health["status"] == "ok"
        assert "DEMO" in running.log()
        response = httpx.post(
            f"{running.url}/v1/bbj/fim",
            headers=running.headers,
            json={"prefix": "x = ", "suffix": "\n", "max_tokens": 4},
        )
        assert response.status_code == 200
    finally:
        running.stop()
