"""``bbj-coder check FILE...``: check BBj files from the command line.

Exit status: 0 when every file passes, 1 when any file fails (or the checker could not check
it), 2 when an argument cannot be read or the options are wrong.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from daemon.check import (
    Checker,
    CheckerConfigError,
    CheckResult,
    decode_source,
    describe_checker,
    select_checker,
)
from fim.language import SOURCE_EXTENSIONS

OUTPUT_FORMATS = ("text", "json")


@dataclass(frozen=True)
class SourceFile:
    path: str
    code: str


@dataclass(frozen=True)
class UnreadableFile:
    path: str
    reason: str


def _complain(message: str) -> None:
    print(f"bbj-coder check: {message}", file=sys.stderr)


def _files_in(folder: Path) -> list[Path]:
    return sorted(
        p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in SOURCE_EXTENSIONS
    )


def _read_one(path: Path) -> SourceFile | UnreadableFile:
    try:
        return SourceFile(str(path), decode_source(path.read_bytes()))
    except FileNotFoundError:
        return UnreadableFile(str(path), "no such file")
    except PermissionError:
        return UnreadableFile(str(path), "permission denied")
    except OSError as error:
        return UnreadableFile(str(path), error.strerror or str(error))


def read_sources(arguments: list[str]) -> tuple[list[SourceFile], list[UnreadableFile]]:
    """Read every argument (a folder stands for the BBj source files inside it)."""
    readable: list[SourceFile] = []
    unreadable: list[UnreadableFile] = []
    for argument in arguments:
        path = Path(argument)
        targets = _files_in(path) if path.is_dir() else [path]
        if path.is_dir() and not targets:
            unreadable.append(UnreadableFile(argument, "the folder holds no BBj source files"))
        for target in targets:
            outcome = _read_one(target)
            if isinstance(outcome, SourceFile):
                readable.append(outcome)
            else:
                unreadable.append(outcome)
    return readable, unreadable


async def _check_all(checker: Checker, sources: list[SourceFile]) -> list[CheckResult]:
    return list(await asyncio.gather(*(checker.check(s.code, filename=s.path) for s in sources)))


def _print_text(sources: list[SourceFile], results: list[CheckResult]) -> None:
    for source, result in zip(sources, results, strict=True):
        if result.tool_error is not None:
            print(f"{source.path}: error: {result.tool_error}")
        if result.skipped is not None:
            print(f"{source.path}: {result.skipped}")
        for diagnostic in result.diagnostics:
            column = f"{diagnostic.col}:" if diagnostic.col else ""
            print(f"{source.path}:{diagnostic.line}:{column} {diagnostic.message}")


def _json_report(
    checker: Checker,
    sources: list[SourceFile],
    results: list[CheckResult],
    unreadable: list[UnreadableFile],
) -> dict[str, Any]:
    return {
        "checker": describe_checker(checker),
        "ok": not unreadable and all(r.ok for r in results),
        "files": [{"path": s.path, **r.to_dict()} for s, r in zip(sources, results, strict=True)],
        "unreadable": [{"path": u.path, "error": u.reason} for u in unreadable],
    }


def _summary(checker: Checker, results: list[CheckResult], unreadable: int) -> str:
    failed = sum(1 for r in results if not r.ok)
    text = f"{len(results)} file(s) checked with {describe_checker(checker)}: {failed} failed"
    return text + (f", {unreadable} could not be read" if unreadable else "")


def run_check_command(
    paths: list[str],
    output_format: str = "text",
    checker_mode: str = "auto",
    bbjcpl: str | None = None,
) -> int:
    """Check ``paths`` and print ``path:line:col: message`` lines (or JSON); return the exit
    status."""
    if output_format not in OUTPUT_FORMATS:
        _complain(f"unknown output format {output_format!r}: choose text or json")
        return 2
    if not paths:
        _complain("no files given: name one or more BBj source files")
        return 2
    try:
        checker = select_checker(checker_mode, bbjcpl)
    except CheckerConfigError as error:
        _complain(str(error))
        return 2
    sources, unreadable = read_sources(paths)
    for problem in unreadable:
        _complain(f"cannot read {problem.path}: {problem.reason}")
    results = asyncio.run(_check_all(checker, sources))
    if output_format == "json":
        print(json.dumps(_json_report(checker, sources, results, unreadable), indent=2))
    else:
        _print_text(sources, results)
        print(_summary(checker, results, len(unreadable)), file=sys.stderr)
    if unreadable:
        return 2
    return 0 if all(r.ok for r in results) else 1


def cmd_check(args: argparse.Namespace) -> int:
    return run_check_command(
        args.files, output_format=args.format, checker_mode=args.checker, bbjcpl=args.bbjcpl
    )


def add_parsers(sub: Any) -> None:
    check = sub.add_parser("check", help="check BBj files with bbjcpl or the built-in checker")
    check.add_argument("files", nargs="+")
    check.add_argument("--format", choices=["text", "json"], default="text")
    check.add_argument("--checker", choices=["auto", "bbjcpl", "builtin"], default="auto")
    check.add_argument("--bbjcpl", help="path to bbjcpl")
    check.set_defaults(handler=cmd_check)
