"""``bbj-coder bundle build|setup``: the offline installation bundle."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def cmd_build(args: argparse.Namespace) -> int:
    from daemon.setup.bundle.build import bundle_build_command

    return bundle_build_command(args.out, args.model, args.platform, args.python_version)


def cmd_setup(args: argparse.Namespace) -> int:
    from daemon.setup.bundle.build import bundle_setup_command

    return bundle_setup_command(args.bundle)


def add_parsers(sub: Any) -> None:
    parser = sub.add_parser("bundle", help="build the offline installation bundle")
    actions = parser.add_subparsers(dest="bundle_command", required=True, metavar="ACTION")
    build = actions.add_parser("build", help="build an offline bundle folder and .tar.gz")
    build.add_argument("--out", type=Path, required=True, help="folder for the bundle")
    build.add_argument(
        "--model",
        type=Path,
        action="extend",
        nargs="+",
        default=[],
        help="GGUF file(s) to ship; the first becomes the active model",
    )
    build.add_argument("--platform", help="linux-x86_64, macos-arm64, windows-amd64, … or pip tags")
    build.add_argument("--python-version", help="target Python, e.g. 3.11 (default: this one)")
    build.set_defaults(handler=cmd_build)
    setup = actions.add_parser("setup", help="(used by the installers) token, config, models")
    setup.add_argument("bundle", type=Path)
    setup.set_defaults(handler=cmd_setup)
