"""``bbj-coder train run``: the argparse wiring and the entry function."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from daemon.config import field_help
from trainer.train.config import ENGINES, TrainConfig, load_train_config
from trainer.train.errors import TrainError


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        required=True,
        help="TOML file whose [train] table holds the settings (see trainer/README-train.md).",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="Continue the run in the config's out directory from its newest "
        "checkpoint, with the same data order.",
    )
    parser.add_argument(
        "--engine",
        choices=ENGINES,
        default=None,
        help=field_help(TrainConfig, "engine") + " Overrides the config.",
    )
    parser.add_argument(
        "--no-progress",
        dest="progress",
        action="store_const",
        const=False,
        default=None,
        help="Do not draw the live progress line.",
    )


def run_command_from_args(args: argparse.Namespace) -> int:
    """Exit status: 0 done, 1 training failed, 2 bad config or input, 130 interrupted."""
    overrides = {"engine": args.engine, "progress": args.progress}
    try:
        config = load_train_config(args.config, overrides)
    except TrainError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    return run_command(config, resume=args.resume)


def run_command(config: TrainConfig, *, resume: bool = False) -> int:
    from trainer.train.run import report_failure, run_training

    try:
        run_training(config, resume=resume)
    except TrainError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(
            f"\ninterrupted: resume with `bbj-coder train run --config ... --resume` "
            f"(checkpoints are in {config.out})",
            file=sys.stderr,
        )
        return 130
    except (RuntimeError, ValueError, OSError) as exc:
        print(f"error: {report_failure(exc)}", file=sys.stderr)
        return 1
    return 0
