"""``bbj-coder continue install|uninstall`` against real Continue config files."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from daemon.setup.continuedev.entries import (
    MANAGED_NAMES,
    model_entries,
    render_entries,
    render_new_config,
)
from daemon.setup.continuedev.install import (
    continue_install_command,
    continue_uninstall_command,
    daemon_endpoint,
)
from tests.installers.continue_rules import continue_problems

FIXTURES = Path(__file__).parent / "fixtures"

OLD_ENTRIES = """\
  # bbj-coder: chat (managed by `bbj-coder continue install`).
  - name: bbj-coder chat
    provider: ollama
    model: bbj-coder
    apiBase: http://127.0.0.1:11000
    roles: [chat, edit, apply]
    requestOptions:
      headers:
        Authorization: Bearer bbj-old-token-0000000000000000
  - name: bbj-coder autocomplete
    provider: ollama
    model: bbj-coder
    apiBase: http://127.0.0.1:11000
    roles: [autocomplete]
  - name: bbj-coder chat
    provider: openai
    model: bbj-coder
    apiBase: http://localhost:11000/v1
"""


@dataclass
class Setup:
    folder: Path
    home: Path

    @property
    def config(self) -> Path:
        return self.folder / "config.yaml"

    def backups(self, name: str = "config.yaml") -> list[Path]:
        return sorted(self.folder.glob(f"{name}.bak-*"))

    def token(self) -> str:
        return (self.home / "config" / "token").read_text().strip()


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Setup:
    for name in [n for n in os.environ if n.startswith("BBJ_CODER_")]:
        monkeypatch.delenv(name)
    folder, home = tmp_path / "continue", tmp_path / "bbj-home"
    folder.mkdir()
    monkeypatch.setenv("BBJ_CODER_HOME", str(home))
    monkeypatch.setenv("CONTINUE_GLOBAL_DIR", str(folder))
    return Setup(folder, home)


def models_of(path: Path) -> list[dict]:
    return yaml.safe_load(path.read_text())["models"]


def ours(path: Path) -> list[dict]:
    return [m for m in models_of(path) if m.get("name") in MANAGED_NAMES]


def test_a_missing_config_becomes_a_complete_valid_one(setup: Setup) -> None:
    assert continue_install_command("ollama", False, None) == 0

    text = setup.config.read_text()
    assert text == render_new_config(daemon_endpoint("ollama"))
    assert continue_problems(text, ours_only=True) == []
    assert stat.S_IMODE(setup.config.stat().st_mode) == 0o600  # it holds the token
    assert setup.backups() == []


@pytest.mark.parametrize(
    ("fixture", "dash_column"), [("with_other_models.yaml", 2), ("indentless.yaml", 0)]
)
def test_everything_else_is_kept_byte_for_byte(
    setup: Setup, fixture: str, dash_column: int
) -> None:
    original = (FIXTURES / fixture).read_text()
    setup.config.write_text(original)

    assert continue_install_command("ollama", False, None) == 0

    text = setup.config.read_text()
    block = render_entries(daemon_endpoint("ollama"), dash_column)
    assert block in text
    assert text.replace(block, "", 1) == original  # comments included
    assert continue_problems(text, ours_only=True) == []
    assert [b.read_text() for b in setup.backups()] == [original]


def test_the_token_lands_where_each_provider_sends_it(setup: Setup) -> None:
    continue_install_command("ollama", False, None)
    token = setup.token()
    for entry in ours(setup.config):
        assert entry["requestOptions"]["headers"]["Authorization"] == f"Bearer {token}"
        assert entry["apiBase"] == "http://127.0.0.1:11435"

    continue_install_command("openai", False, None)
    entries = ours(setup.config)
    assert [e["name"] for e in entries] == list(MANAGED_NAMES)
    for entry in entries:
        assert entry["apiKey"] == token
        assert "requestOptions" not in entry
        assert entry["apiBase"] == "http://127.0.0.1:11435/v1"
        assert not entry["model"].startswith(("gpt", "o"))
    roles = {e["name"]: e["roles"] for e in entries}
    assert roles == {
        "bbj-coder chat": ["chat", "edit", "apply"],
        "bbj-coder autocomplete": ["autocomplete"],
    }


def test_previous_entries_are_refreshed_in_place_without_duplicates(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = (FIXTURES / "with_other_models.yaml").read_text()
    anchor = "  - name: Codestral"
    setup.config.write_text(base.replace(anchor, OLD_ENTRIES + anchor))
    monkeypatch.setenv("BBJ_CODER_SERVER_PORT", "12345")

    assert continue_install_command("ollama", False, None) == 0

    endpoint = daemon_endpoint("ollama")
    assert endpoint.port == 12345
    assert setup.config.read_text() == base.replace(anchor, render_entries(endpoint, 2) + anchor)
    assert ours(setup.config) == model_entries(endpoint)


def test_a_second_run_changes_nothing_and_makes_no_second_backup(
    setup: Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    setup.config.write_text((FIXTURES / "with_other_models.yaml").read_text())
    continue_install_command("ollama", False, None)
    before = setup.config.read_bytes(), setup.config.stat().st_mtime_ns
    capsys.readouterr()

    assert continue_install_command("ollama", False, None) == 0

    assert "already up to date" in capsys.readouterr().out
    assert (setup.config.read_bytes(), setup.config.stat().st_mtime_ns) == before
    assert len(setup.backups()) == 1


def test_a_new_token_and_port_are_written_with_one_backup_per_change(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    continue_install_command("ollama", False, None)
    old_token = setup.token()
    (setup.home / "config" / "token").unlink()
    monkeypatch.setenv("BBJ_CODER_SERVER_PORT", "12001")

    assert continue_install_command("ollama", False, None) == 0

    text = setup.config.read_text()
    assert old_token not in text
    assert setup.token() in text
    assert {e["apiBase"] for e in ours(setup.config)} == {"http://127.0.0.1:12001"}
    assert len(setup.backups()) == 1  # the first install created the file: nothing to back up


def test_invalid_yaml_is_refused_and_left_alone(
    setup: Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    original = (FIXTURES / "invalid.yaml").read_bytes()
    setup.config.write_bytes(original)

    assert continue_install_command("ollama", False, None) == 2

    err = capsys.readouterr().err
    assert "is not valid YAML" in err and "line 7" in err
    assert setup.config.read_bytes() == original
    assert setup.backups() == []


def test_a_read_only_config_is_refused_and_left_alone(
    setup: Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    original = (FIXTURES / "with_other_models.yaml").read_bytes()
    setup.config.write_bytes(original)
    setup.config.chmod(0o444)

    assert continue_install_command("ollama", False, None) == 2

    err = capsys.readouterr().err
    assert "read-only" in err and "chmod u+w" in err
    assert setup.config.read_bytes() == original
    assert stat.S_IMODE(setup.config.stat().st_mode) == 0o444
    assert setup.backups() == []


def test_a_flow_style_models_list_is_refused(
    setup: Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    original = (
        "name: x\nversion: 1.0.0\nschema: v1\nmodels: [{name: a, provider: ollama, model: b}]\n"
    )
    setup.config.write_text(original)

    assert continue_install_command("ollama", False, None) == 2

    assert "not a block list" in capsys.readouterr().err
    assert setup.config.read_text() == original


def test_dry_run_prints_the_change_and_writes_nothing(
    setup: Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    assert continue_install_command("openai", True, None) == 0
    out = capsys.readouterr().out
    assert "+  - name: bbj-coder chat" in out and "+    provider: openai" in out
    assert "dry run" in out
    assert not setup.config.exists()

    original = (FIXTURES / "with_other_models.yaml").read_bytes()
    setup.config.write_bytes(original)
    assert continue_install_command("ollama", True, None) == 0
    assert "+  - name: bbj-coder autocomplete" in capsys.readouterr().out
    assert setup.config.read_bytes() == original
    assert setup.backups() == []


@pytest.mark.parametrize("fixture", ["with_other_models.yaml", "indentless.yaml"])
def test_uninstall_removes_exactly_what_install_added(setup: Setup, fixture: str) -> None:
    original = (FIXTURES / fixture).read_text()
    setup.config.write_text(original)
    continue_install_command("openai", False, None)

    assert continue_uninstall_command(False, None) == 0

    assert setup.config.read_text() == original
    assert continue_uninstall_command(False, None) == 0  # nothing left to remove
    assert len(setup.backups()) == 2  # one for the install, one for the uninstall


@pytest.mark.parametrize("models_line", ["models:\n", "models: []\n", "models: ~  # none yet\n"])
def test_an_empty_models_key_is_filled_and_emptied_again(setup: Setup, models_line: str) -> None:
    setup.config.write_text(f"name: x\nversion: 1.0.0\nschema: v1\n{models_line}context: []\n")

    continue_install_command("ollama", False, None)
    assert continue_problems(setup.config.read_text(), ours_only=True) == []
    assert [m["name"] for m in models_of(setup.config)] == list(MANAGED_NAMES)

    continue_uninstall_command(False, None)
    data = yaml.safe_load(setup.config.read_text())
    assert data["models"] == [] and data["context"] == []  # null would fail Continue's schema


def test_a_legacy_config_json_is_edited_instead_of_hidden(setup: Setup) -> None:
    legacy = setup.folder / "config.json"
    original = (FIXTURES / "legacy_config.json").read_text()
    legacy.write_text(original)

    assert continue_install_command("ollama", False, None) == 0

    assert not setup.config.exists()  # a config.yaml would make Continue ignore config.json
    data = json.loads(legacy.read_text())
    assert [m["title"] for m in data["models"]] == ["bbj-coder chat", "GPT-4o"]
    assert [m["title"] for m in data["tabAutocompleteModel"]] == [
        "bbj-coder autocomplete",
        "Starcoder",
    ]
    assert data["contextProviders"] == json.loads(original)["contextProviders"]

    assert continue_uninstall_command(False, None) == 0
    assert json.loads(legacy.read_text()) == json.loads(original)


def test_a_symlinked_config_is_edited_where_it_lives(setup: Setup, tmp_path: Path) -> None:
    real = tmp_path / "dotfiles" / "continue.yaml"
    real.parent.mkdir()
    real.write_text((FIXTURES / "with_other_models.yaml").read_text())
    setup.config.symlink_to(real)

    assert continue_install_command("ollama", False, None) == 0

    assert setup.config.is_symlink()
    assert len(ours(real)) == 2


def test_an_explicit_config_path_is_used(setup: Setup, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere" / "assistant.yaml"

    assert continue_install_command("ollama", False, target) == 0
    assert len(ours(target)) == 2
    assert not setup.config.exists()

    assert continue_uninstall_command(False, target) == 0
    assert ours(target) == []


def test_an_unknown_provider_is_refused(setup: Setup, capsys: pytest.CaptureFixture[str]) -> None:
    assert continue_install_command("anthropic", False, None) == 2
    assert "ollama, openai" in capsys.readouterr().err
    assert not setup.config.exists()


def test_a_windows_config_keeps_its_crlf_line_ends(setup: Setup) -> None:
    original = (FIXTURES / "with_other_models.yaml").read_text().replace("\n", "\r\n")
    setup.config.write_bytes(original.encode())

    assert continue_install_command("ollama", False, None) == 0
    installed = setup.config.read_bytes()
    assert installed.count(b"\n") == installed.count(b"\r\n")
    assert len(ours(setup.config)) == 2

    assert continue_uninstall_command(False, None) == 0
    assert setup.config.read_bytes() == original.encode()


def test_the_entry_point_the_installers_call(setup: Setup, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    command = [sys.executable, "-m", "daemon", "continue"]

    done = subprocess.run(
        [*command, "install", "--provider", "openai"],
        env=env,
        text=True,
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert {e["provider"] for e in ours(setup.config)} == {"openai"}

    broken = tmp_path / "broken.yaml"
    broken.write_text((FIXTURES / "invalid.yaml").read_text())
    refused = subprocess.run(
        [*command, "uninstall", "--config", str(broken)],
        env=env,
        text=True,
        capture_output=True,
        timeout=60,
    )
    assert refused.returncode == 2 and "not valid YAML" in refused.stderr


def _fake_running_daemon(setup: Setup, port: int) -> None:
    """A state file naming this (live) test process as the daemon, on ``port``."""
    state = setup.home / "state" / "daemon.json"
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text(
        json.dumps(
            {"pid": os.getpid(), "host": "127.0.0.1", "port": port, "version": "t", "started_at": 0}
        )
    )


def test_the_running_daemons_port_wins_over_the_config(setup: Setup) -> None:
    _fake_running_daemon(setup, 12345)
    assert continue_install_command("ollama", False, None) == 0
    assert {e["apiBase"] for e in ours(setup.config)} == {"http://127.0.0.1:12345"}


def test_port_and_url_flags_choose_the_address(
    setup: Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    _fake_running_daemon(setup, 12345)
    assert continue_install_command("openai", False, None, port=12002) == 0
    assert {e["apiBase"] for e in ours(setup.config)} == {"http://127.0.0.1:12002/v1"}
    assert continue_install_command("openai", False, None, url="http://localhost:12003") == 0
    assert {e["apiBase"] for e in ours(setup.config)} == {"http://localhost:12003/v1"}
    assert continue_install_command("openai", False, None, url="localhost:1") == 2
    assert "is not the daemon's address; give it as http://HOST:PORT" in capsys.readouterr().err


def test_dry_run_masks_the_token(setup: Setup, capsys: pytest.CaptureFixture[str]) -> None:
    for provider in ("ollama", "openai"):
        assert continue_install_command(provider, True, None) == 0
        out = capsys.readouterr().out
        assert setup.token() not in out and "<bbj-coder token hidden>" in out


def test_a_backup_never_keeps_the_token_but_keeps_other_keys(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup.config.write_text(
        "name: x\nversion: 1.0.0\nschema: v1\nmodels:\n  - name: theirs\n    provider: openai\n"
        "    model: gpt\n    apiKey: sk-users-own-key\n"
    )
    assert continue_install_command("openai", False, None) == 0
    monkeypatch.setenv("BBJ_CODER_SERVER_PORT", "12009")
    assert continue_install_command("ollama", False, None) == 0
    for backup in setup.backups():
        text = backup.read_text()
        assert setup.token() not in text
        assert "sk-users-own-key" in text
        assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert setup.token() in setup.config.read_text()


def test_uninstall_can_remove_the_skeleton_install_created(setup: Setup) -> None:
    assert continue_install_command("ollama", False, None) == 0
    assert continue_uninstall_command(False, None) == 0
    assert setup.config.exists(), "kept by default: it is Continue's config now"
    assert continue_install_command("ollama", False, None) == 0
    assert continue_uninstall_command(False, None, remove_skeleton=True) == 0
    assert not setup.config.exists()


def test_uninstall_keeps_a_config_with_the_users_own_models(setup: Setup) -> None:
    original = (FIXTURES / "with_other_models.yaml").read_bytes()
    setup.config.write_bytes(original)
    assert continue_install_command("ollama", False, None) == 0
    assert continue_uninstall_command(False, None, remove_skeleton=True) == 0
    assert setup.config.read_bytes() == original


def test_uninstall_masks_the_token_in_older_backups(setup: Setup) -> None:
    assert continue_install_command("ollama", False, None) == 0
    old_backup = setup.folder / "config.yaml.bak-20240101-000000"
    old_backup.write_text(setup.config.read_text())  # as versions before the fix left them
    assert continue_uninstall_command(False, None) == 0
    assert setup.token() not in old_backup.read_text()
    assert "<bbj-coder token hidden>" in old_backup.read_text()
