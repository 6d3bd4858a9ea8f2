"""``bbj-coder continue install|uninstall``: point Continue.dev at the daemon, or stop."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def _daemon_config(args: argparse.Namespace) -> Path | None:
    value = getattr(args, "config", None)
    return Path(value) if value else None


def cmd_install(args: argparse.Namespace) -> int:
    from daemon.setup.continuedev.install import continue_install_command

    return continue_install_command(
        args.provider,
        args.dry_run,
        args.continue_config,
        daemon_config=_daemon_config(args),
        port=args.port,
        url=args.url,
    )


def cmd_uninstall(args: argparse.Namespace) -> int:
    from daemon.setup.continuedev.install import continue_uninstall_command

    return continue_uninstall_command(
        args.dry_run,
        args.continue_config,
        daemon_config=_daemon_config(args),
        remove_skeleton=args.remove_skeleton,
    )


def add_parsers(sub: Any) -> None:
    from daemon.setup.continuedev.entries import PROVIDERS

    parser = sub.add_parser("continue", help="point Continue.dev at bbj-coder, or stop")
    actions = parser.add_subparsers(dest="continue_command", required=True, metavar="ACTION")
    where = "Continue config file (default: ~/.continue/config.yaml)"
    install = actions.add_parser("install", help="add or refresh bbj-coder's models in Continue")
    install.add_argument("--provider", choices=PROVIDERS, default="ollama")
    install.add_argument("--dry-run", action="store_true", help="print the change, write nothing")
    install.add_argument("--config", dest="continue_config", type=Path, help=where)
    address = install.add_mutually_exclusive_group()
    address.add_argument(
        "--port", type=int, help="the daemon's port (default: the running daemon's, else config)"
    )
    address.add_argument("--url", help="the daemon's address, http://HOST:PORT")
    install.set_defaults(handler=cmd_install)
    uninstall = actions.add_parser("uninstall", help="remove the models `install` added")
    uninstall.add_argument("--dry-run", action="store_true", help="print the change only")
    uninstall.add_argument("--config", dest="continue_config", type=Path, help=where)
    uninstall.add_argument(
        "--remove-skeleton",
        action="store_true",
        help="also delete the config when only what `install` created is left in it",
    )
    uninstall.set_defaults(handler=cmd_uninstall)
