"""``bbj-coder mcp`` (the MCP server on stdio) and ``bbj-coder mcp install``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from daemon.setup.mcpclients.entries import CLIENTS


def cmd_serve(args: argparse.Namespace) -> int:
    import anyio

    from daemon.mcp_server.remote import serve_stdio
    from daemon.paths import app_paths

    anyio.run(lambda: serve_stdio(app_paths(), start=not args.no_start))
    return 0


def cmd_install(args: argparse.Namespace) -> int:
    from daemon.setup.mcpclients import mcp_install_command

    return mcp_install_command(args.client, args.dry_run, args.target)


def add_parsers(sub: Any) -> None:
    parser = sub.add_parser(
        "mcp",
        help="serve bbj-coder's tools to MCP clients on stdio, or register it with a client",
    )
    parser.add_argument(
        "--no-start", action="store_true", help="do not start the daemon if it is not running"
    )
    parser.set_defaults(handler=cmd_serve)
    actions = parser.add_subparsers(dest="mcp_command", metavar="ACTION")
    install = actions.add_parser(
        "install", help="add bbj-coder to an MCP client's config (Continue, VS Code, Claude)"
    )
    install.add_argument("--client", choices=CLIENTS, required=True)
    install.add_argument("--dry-run", action="store_true", help="print the change, write nothing")
    install.add_argument(
        "--config",
        dest="target",
        type=Path,
        help="the client's config file (default: where the client looks for it)",
    )
    install.set_defaults(handler=cmd_install)
