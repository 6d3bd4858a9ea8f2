"""``bbj-coder config show|token``: the effective configuration and the API token."""

from __future__ import annotations

import argparse
from typing import Any

from daemon.cli._common import load


def cmd_config_show(args: argparse.Namespace) -> int:
    from daemon.config import describe

    paths, loaded = load(args)
    print(f"# config file: {paths.config_file}")
    print(describe(loaded))
    return 0


def cmd_config_token(args: argparse.Namespace) -> int:
    from daemon.paths import app_paths
    from daemon.server.security import load_or_create_token

    print(load_or_create_token(app_paths().token_file))
    return 0


def add_parsers(sub: Any) -> None:
    config = sub.add_parser("config", help="show the effective config or the API token")
    config_sub = config.add_subparsers(dest="config_command", required=True, metavar="ACTION")
    config_sub.add_parser(
        "show", help="effective config and where each value comes from"
    ).set_defaults(handler=cmd_config_show)
    config_sub.add_parser("token", help="print the bearer token").set_defaults(
        handler=cmd_config_token
    )
