"""``bbj-coder lsp`` and ``bbj-coder tui``: the language server and the terminal UI."""

from __future__ import annotations

import argparse
from typing import Any


def cmd_tui(args: argparse.Namespace) -> int:
    from tui.app import run_tui

    return run_tui(args.catalogue, args.screen)


def cmd_lsp(args: argparse.Namespace) -> int:
    from lsp.server import run_lsp

    return run_lsp(args.passthrough)


def add_parsers(sub: Any) -> None:
    tui = sub.add_parser("tui", help="health checks, models and logs in the terminal")
    tui.add_argument("--catalogue", help="model catalogue: a URL, a folder or a catalogue.json")
    tui.add_argument("--screen", choices=["health", "models", "logs"], default="health")
    tui.set_defaults(handler=cmd_tui)

    lsp = sub.add_parser(
        "lsp",
        help="run the language server on stdio (for any LSP editor); e.g. --log-level debug",
        add_help=False,
    )
    lsp.set_defaults(handler=cmd_lsp, passthrough=[])
