"""``bbj-coder`` command line: one module per command group, one small entry function per command.

The CLI is the one place that reaches up into ``lsp``, ``tui`` and ``trainer``, always lazily,
inside the handler: ``bbj-coder --help`` imports none of them (``train`` passes its arguments
through to the trainer's own parser).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from daemon import __version__
from daemon.cli import (
    bundle,
    check,
    config,
    continuedev,
    doctor,
    editors,
    mcp,
    model,
    serve,
    train,
)
from daemon.errors import BbjCoderError

Handler = Callable[[argparse.Namespace], int]

GROUPS = (serve, config, model, check, doctor, editors, continuedev, mcp, bundle, train)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bbj-coder",
        description=(
            "Local AI coding assistant for BBj: a daemon serving checked completions and chat."
        ),
    )
    parser.add_argument("--version", action="version", version=f"bbj-coder {__version__}")
    parser.add_argument("--config", help="config file (default: the platform config dir)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in GROUPS:
        group.add_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    # argparse.REMAINDER does not take arguments that start with "-", so commands that hand
    # their arguments on (``train …``, ``lsp …``) get them from parse_known_args instead.
    args, rest = parser.parse_known_args(argv)
    if rest:
        if not hasattr(args, "passthrough"):
            parser.error(f"unrecognized arguments: {' '.join(rest)}")
        args.passthrough = [*args.passthrough, *rest]
    handler: Handler = args.handler
    try:
        status = handler(args)
        sys.stdout.flush()  # a closed pipe shows here, where it is handled, not at exit
        return status
    except BbjCoderError as exc:
        print(f"bbj-coder: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return _reader_went_away()


SIGPIPE_STATUS = 141
"""What a shell reports for a program ended by SIGPIPE (``… | head -1``), as ``cat`` would."""


def _reader_went_away() -> int:
    # Output still buffered would raise again when Python flushes stdout at exit.
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), sys.stdout.fileno())
    return SIGPIPE_STATUS


__all__ = ["build_parser", "main"]
