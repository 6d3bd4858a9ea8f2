"""``bbj-coder train data``: the argparse wiring and the entry function."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from daemon.config import field_help
from trainer.data.config import DataConfig, load_data_config
from trainer.data.records import DataError

SHOWN_PROBLEMS = 5


def add_data_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``train data`` options; a flag given here wins over the config file."""
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help="TOML file with the settings (top level or a [data] table).",
    )
    for name in ("markdown", "chatml", "sources"):
        parser.add_argument(
            f"--{name}",
            type=Path,
            action="append",
            default=None,
            metavar="PATH",
            help=field_help(DataConfig, name) + " Repeatable.",
        )
    parser.add_argument("--out", type=Path, default=None, help=field_help(DataConfig, "out"))
    parser.add_argument(
        "--tokenizer", type=Path, default=None, help=field_help(DataConfig, "tokenizer")
    )
    parser.add_argument(
        "--max-seq-len", type=int, default=None, help=field_help(DataConfig, "max_seq_len")
    )
    parser.add_argument("--seed", type=int, default=None, help=field_help(DataConfig, "seed"))
    parser.add_argument(
        "--val-fraction", type=float, default=None, help=field_help(DataConfig, "val_fraction")
    )
    parser.add_argument(
        "--test-fraction", type=float, default=None, help=field_help(DataConfig, "test_fraction")
    )
    parser.add_argument(
        "--fim-rate", type=float, default=None, help=field_help(DataConfig, "fim_rate")
    )
    parser.add_argument(
        "--no-check",
        dest="check_code",
        action="store_const",
        const=False,
        default=None,
        help="Do not run the checker on examples' code.",
    )
    parser.add_argument(
        "--drop-failing",
        action="store_const",
        const=True,
        default=None,
        help=field_help(DataConfig, "drop_failing"),
    )
    parser.add_argument(
        "--keep-failing",
        dest="drop_failing",
        action="store_const",
        const=False,
        default=None,
        help="Keep examples whose code fails the checker (flagged in the report).",
    )
    parser.add_argument(
        "--no-progress",
        dest="progress",
        action="store_const",
        const=False,
        default=None,
        help="Do not draw progress bars.",
    )


_OVERRIDES = (
    "markdown",
    "chatml",
    "sources",
    "out",
    "tokenizer",
    "max_seq_len",
    "seed",
    "val_fraction",
    "test_fraction",
    "fim_rate",
    "check_code",
    "drop_failing",
    "progress",
)


def data_command_from_args(args: argparse.Namespace) -> int:
    overrides = {name: getattr(args, name, None) for name in _OVERRIDES}
    try:
        config = load_data_config(getattr(args, "config", None), overrides)
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return run_data_command(config)


def run_data_command(config: DataConfig) -> int:
    """Build the data; print where it went, the counts and the time. 0 on success."""
    from trainer.data.build import build_dataset

    try:
        result = build_dataset(config)
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: no output directory was published", file=sys.stderr)
        return 130
    report = result.report
    _print_problems(report["problems"])
    chat, fim, cpt = report["chat"], report["fim"], report["cpt"]
    print(
        f"chat: {chat['train']} train, {chat['val']} validation, {chat.get('test', 0)} test; "
        f"FIM: {fim.get('train', 0)} train, {fim.get('val', 0)} validation, "
        f"{fim.get('test', 0)} test; pretraining: "
        f"{cpt['cpt train'].get('records', 0)} train, {cpt['cpt val'].get('records', 0)} "
        "validation records"
    )
    print(
        f"wrote {result.directory} in {result.seconds:.1f} s "
        f"(report: {result.directory / 'report.md'})"
    )
    return 0


def _print_problems(problems: dict) -> None:
    if not problems["count"]:
        return
    print(
        f"{problems['count']} input problem(s), {problems['skipped']} input(s) skipped:",
        file=sys.stderr,
    )
    for item in problems["items"][:SHOWN_PROBLEMS]:
        where = item["path"] + (f", line {item['line']}" if item["line"] else "")
        where += f", field '{item['field']}'" if item["field"] else ""
        print(f"  {where}: {item['message']}", file=sys.stderr)
    if problems["count"] > SHOWN_PROBLEMS:
        print("  … the full list is in report.json", file=sys.stderr)
