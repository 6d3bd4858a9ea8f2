"""bbj-coder's entry in each MCP client's config, and where each client keeps that config.

* Continue: ``~/.continue/mcpServers/bbj-coder.json``, a JSON MCP config (``mcpServers`` map,
  the format Claude Desktop uses) that Continue loads from that folder — its global one as
  well as a workspace's ``.continue/mcpServers`` — so the user's ``config.yaml`` is never
  rewritten.
* VS Code: the workspace's ``.vscode/mcp.json``, ``servers`` map keyed by name.
* Claude Desktop: ``claude_desktop_config.json``, ``mcpServers`` map keyed by name.

All three launch ``bbj-coder mcp`` on stdio; it finds (or starts) the daemon and its token
itself, so no secret is written into any of these files.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

from daemon.paths import HOME_ENV

SERVER_NAME = "bbj-coder"
CLIENTS = ("continue", "vscode", "claude")


def launch_command() -> list[str]:
    """How an editor should start the server: the installed ``bbj-coder`` script by its full
    path (editors do not see a virtual environment's PATH), else this Python with ``-m``."""
    script = shutil.which("bbj-coder")
    if script:
        return [str(Path(script).resolve()), "mcp"]
    return [sys.executable, "-m", "daemon", "mcp"]


def launch_env() -> dict[str, str]:
    """What the server's environment must carry to find this installation's daemon: a
    portable install's ``BBJ_CODER_HOME`` (absolute, as the editor starts it elsewhere)."""
    home = os.environ.get(HOME_ENV, "").strip()
    return {HOME_ENV: str(Path(home).expanduser().resolve())} if home else {}


def server_entry(
    client: str, command: list[str], env: dict[str, str] | None = None
) -> dict[str, Any]:
    entry: dict[str, Any] = {"command": command[0], "args": command[1:]}
    if env:
        entry["env"] = dict(env)
    if client == "vscode":
        return {"type": "stdio", **entry}
    return entry


def default_target(client: str) -> Path:
    if client == "continue":
        override = os.environ.get("CONTINUE_GLOBAL_DIR", "").strip()
        folder = Path(override).expanduser() if override else Path.home() / ".continue"
        return folder / "mcpServers" / f"{SERVER_NAME}.json"
    if client == "vscode":
        return Path.cwd() / ".vscode" / "mcp.json"
    return claude_config_file()


def claude_config_file() -> Path:
    if sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    elif os.name == "nt":
        base = Path(os.environ.get("APPDATA") or Path.home() / "AppData" / "Roaming")
    else:
        base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "Claude" / "claude_desktop_config.json"
