"""``bbj-coder mcp install``: idempotent, backed up, foreign entries left alone, refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from daemon.setup.mcpclients import McpClientConfigError, mcp_install
from daemon.setup.mcpclients.install import plan
from tests.conftest import REPO_ROOT, run_cli

COMMAND = ["/opt/bbj/bin/bbj-coder", "mcp"]
TEMPLATES = REPO_ROOT / "continue-config" / "mcp"

FOREIGN = {
    "continue": json.dumps({"mcpServers": {"playwright": {"command": "npx", "args": ["pw"]}}}),
    "vscode": json.dumps(
        {"inputs": [{"id": "key"}], "servers": {"github": {"type": "http", "url": "https://x"}}}
    ),
    "claude": json.dumps(
        {"globalShortcut": "Ctrl+Space", "mcpServers": {"fs": {"command": "npx", "args": []}}}
    ),
}
FILES = {"continue": "bbj-coder.json", "vscode": "mcp.json", "claude": "claude.json"}


def servers(client: str, path: Path) -> dict[str, dict[str, object]]:
    return servers_of_text(client, path.read_text())


@pytest.mark.parametrize("client", sorted(FILES))
def test_install_adds_our_entry_keeps_foreign_ones_and_is_idempotent(
    client: str, tmp_path: Path
) -> None:
    target = tmp_path / FILES[client]
    target.write_text(FOREIGN[client])
    first = mcp_install(client, False, target, COMMAND)
    after_first = target.read_text()
    second = mcp_install(client, False, target, COMMAND)
    found = servers(client, target)
    foreign_name = {"continue": "playwright", "vscode": "github", "claude": "fs"}[client]
    assert "now starts bbj-coder" in first and "nothing changed" in second
    assert target.read_text() == after_first
    assert found["bbj-coder"]["command"] == COMMAND[0] and found["bbj-coder"]["args"] == ["mcp"]
    assert found[foreign_name] == servers_of_text(client, FOREIGN[client])[foreign_name]
    backups = list(tmp_path.glob(f"{target.name}.bak-*"))
    assert len(backups) == 1 and backups[0].read_text() == FOREIGN[client]
    if client == "vscode":
        assert json.loads(target.read_text())["inputs"] == [{"id": "key"}]
    if client == "claude":
        assert json.loads(target.read_text())["globalShortcut"] == "Ctrl+Space"


def servers_of_text(client: str, text: str) -> dict[str, dict[str, object]]:
    return json.loads(text)["servers" if client == "vscode" else "mcpServers"]


@pytest.mark.parametrize("client", sorted(FILES))
def test_install_refreshes_a_stale_entry_of_ours(client: str, tmp_path: Path) -> None:
    target = tmp_path / FILES[client]
    mcp_install(client, False, target, ["/old/bbj-coder", "mcp"])
    mcp_install(client, False, target, COMMAND)
    assert servers(client, target)["bbj-coder"]["command"] == COMMAND[0]
    assert len(servers(client, target)) == 1


@pytest.mark.parametrize("client", sorted(FILES))
def test_dry_run_shows_the_diff_and_writes_nothing(client: str, tmp_path: Path) -> None:
    target = tmp_path / FILES[client]
    target.write_text(FOREIGN[client])
    shown = mcp_install(client, True, target, COMMAND)
    assert "dry run" in shown and "+" in shown and COMMAND[0] in shown
    assert target.read_text() == FOREIGN[client]
    assert not list(tmp_path.glob("*.bak-*"))


@pytest.mark.parametrize(
    ("client", "text", "words"),
    [
        ("vscode", '{\n  // my servers\n  "servers": {}\n}\n', "not plain JSON"),
        ("claude", '{"mcpServers": ["fs"]}', "is not an object of servers"),
        ("continue", '{"mcpServers": [{"name": "a"}]}', "is not an object of servers"),
        ("continue", '["just", "a list"]', "is not a JSON object"),
    ],
)
def test_files_it_cannot_edit_safely_are_refused_and_left_alone(
    client: str, text: str, words: str, tmp_path: Path
) -> None:
    target = tmp_path / FILES[client]
    target.write_text(text)
    with pytest.raises(McpClientConfigError, match=words):
        mcp_install(client, False, target, COMMAND)
    assert target.read_text() == text


def test_read_only_file_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "mcp.json"
    target.write_text(FOREIGN["vscode"])
    target.chmod(0o444)
    with pytest.raises(McpClientConfigError, match="read-only"):
        mcp_install("vscode", False, target, COMMAND)
    assert target.read_text() == FOREIGN["vscode"]


@pytest.mark.parametrize("client", sorted(FILES))
def test_shipped_templates_are_what_install_writes(client: str) -> None:
    name = {
        "continue": "bbj-coder.json",
        "vscode": "mcp.json",
        "claude": "claude_desktop_config.json",
    }
    template = TEMPLATES / name[client]
    fresh = plan(client, Path("/nonexistent") / name[client], ["bbj-coder", "mcp"])
    assert template.read_text() == fresh.after


def test_cli_installs_for_claude_and_refuses_unknown_clients(tmp_path: Path) -> None:
    target = tmp_path / "claude.json"
    done = run_cli(
        tmp_path / "home", "mcp", "install", "--client", "claude", "--config", str(target)
    )
    again = run_cli(
        tmp_path / "home", "mcp", "install", "--client", "claude", "--config", str(target)
    )
    bad = run_cli(tmp_path / "home", "mcp", "install", "--client", "emacs")
    assert done.returncode == 0, done.stderr
    entry = servers("claude", target)["bbj-coder"]
    # run_cli sets BBJ_CODER_HOME: a portable install's server must look for the same daemon.
    assert entry["env"] == {"BBJ_CODER_HOME": str((tmp_path / "home").resolve())}
    assert again.returncode == 0 and "nothing changed" in again.stdout
    assert bad.returncode == 2 and "invalid choice" in bad.stderr


def test_offline_bundle_carries_the_mcp_templates(tmp_path: Path) -> None:
    from daemon.setup.bundle.files import copy_installers

    copy_installers(REPO_ROOT, tmp_path)
    shipped = tmp_path / "continue-config" / "mcp"
    for name in ("bbj-coder.json", "mcp.json", "claude_desktop_config.json", "README.md"):
        assert (shipped / name).read_text() == (TEMPLATES / name).read_text()


def test_one_list_of_clients_and_one_token_masker() -> None:
    from daemon.cli import mcp as mcp_cli
    from daemon.setup import config_files
    from daemon.setup.continuedev import install as continue_install
    from daemon.setup.mcpclients import entries

    assert mcp_cli.CLIENTS is entries.CLIENTS
    assert not hasattr(continue_install, "mask_secrets")
    text = 'apiKey: "ours-123"\nAuthorization: Bearer theirs-456\n'
    shown = config_files.masked(text, ["ours-123"], every_key=True)
    assert "ours-123" not in shown and "theirs-456" not in shown
    kept = config_files.masked(text, ["ours-123"])  # a backup keeps other models' keys
    assert "ours-123" not in kept and "theirs-456" in kept
