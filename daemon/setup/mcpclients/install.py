"""``bbj-coder mcp install --client continue|vscode|claude [--dry-run] [--config FILE]``.

Adds or refreshes bbj-coder's one entry and leaves every other server and key as it was. The
same rules as ``continue install`` (shared helper :mod:`daemon.setup.config_files`): a dry run
prints the diff; a change is backed up and written atomically; a second run changes nothing; a
file that is not plain JSON, or whose server map has an unexpected shape, is refused with a
sentence and left as it is.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from daemon.errors import BbjCoderError, os_error_as
from daemon.setup import config_files
from daemon.setup.config_files import Edit
from daemon.setup.mcpclients.entries import (
    CLIENTS,
    SERVER_NAME,
    default_target,
    launch_command,
    launch_env,
    server_entry,
)

MAP_KEYS = {"continue": "mcpServers", "vscode": "servers", "claude": "mcpServers"}


class McpClientConfigError(BbjCoderError):
    """An MCP client's config cannot be read or edited safely; nothing was written."""


def _load_json(text: str, where: Path) -> dict[str, Any]:
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise McpClientConfigError(
            f"{where} is not plain JSON ({exc}); it may contain comments, which bbj-coder "
            "cannot keep. Add the entry shown by `--dry-run` on an empty file by hand. "
            "The file was left as it is."
        ) from exc
    if not isinstance(data, dict):
        raise McpClientConfigError(f"{where} is not a JSON object; it was left as it is.")
    return data


def _json_after(client: str, text: str, where: Path, entry: dict[str, Any]) -> str:
    data = _load_json(text, where)
    key = MAP_KEYS[client]
    servers = data.get(key, {})
    if not isinstance(servers, dict):
        raise McpClientConfigError(
            f"'{key}' in {where} is not an object of servers; it was left as it is."
        )
    if servers.get(SERVER_NAME) == entry:
        return text
    data[key] = {**servers, SERVER_NAME: entry}
    return json.dumps(data, indent=2) + "\n"


def plan(client: str, target: Path, command: list[str], env: dict[str, str] | None = None) -> Edit:
    real = target.expanduser().resolve()
    before = config_files.read_text(real, McpClientConfigError)
    entry = server_entry(client, command, env)
    return Edit(real, before, _json_after(client, before or "", target, entry))


def mcp_install(
    client: str, dry_run: bool, target: Path | None, command: list[str] | None = None
) -> str:
    """Install bbj-coder in ``client``'s config; returns what was done, in a sentence."""
    with os_error_as(McpClientConfigError):
        path = target or default_target(client)
        edit = plan(client, path, command or launch_command(), launch_env())
        if not edit.changed:
            return f"{edit.path} already has bbj-coder's MCP server; nothing changed."
        if dry_run:
            return config_files.diff(edit) + f"(dry run: {edit.path} was not changed)"
        saved = config_files.apply(edit, McpClientConfigError)
        kept = f"; the previous version is in {saved}" if saved else ""
        return f"{client} now starts bbj-coder's MCP server (`bbj-coder mcp`): {edit.path}{kept}."


def mcp_install_command(client: str, dry_run: bool, target: Path | None) -> int:
    if client not in CLIENTS:
        print(f"bbj-coder: --client must be one of {', '.join(CLIENTS)}.", file=sys.stderr)
        return 2
    try:
        print(mcp_install(client, dry_run, target))
    except BbjCoderError as exc:
        print(f"bbj-coder: {exc}", file=sys.stderr)
        return 2
    return 0
