"""Walking input directories in a stable order, following directory links without looping."""

from __future__ import annotations

import fnmatch
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from trainer.data.records import InputProblem


def is_excluded(rel_path: str, patterns: tuple[str, ...]) -> bool:
    """True when the POSIX path below the root, or any part of it, matches a glob pattern."""
    parts = rel_path.split("/")
    for pattern in patterns:
        if fnmatch.fnmatchcase(rel_path, pattern):
            return True
        if any(fnmatch.fnmatchcase(part, pattern) for part in parts):
            return True
    return False


def walk_files(
    root: Path, exclude: tuple[str, ...], skipped: Counter[str], problems: list[InputProblem]
) -> Iterator[tuple[Path, str]]:
    """Yield (path, POSIX path below ``root``) of every file, sorted by name, depth first.

    A directory reached a second time (a link loop, or two links to one place) is skipped and
    counted, so a symlink loop ends the walk of that branch instead of recursing forever.
    """
    if root.is_file():
        yield root, root.name
        return
    visited: set[tuple[int, int]] = set()
    stack = [(root, "")]
    while stack:
        directory, prefix = stack.pop()
        try:
            info = directory.stat()
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            problems.append(InputProblem(str(directory), f"cannot be read ({exc.strerror})"))
            continue
        if (info.st_dev, info.st_ino) in visited:
            skipped["directory reached again through a link"] += 1
            problems.append(InputProblem(str(directory), "already visited (a link loop?) skipped"))
            continue
        visited.add((info.st_dev, info.st_ino))
        subdirs = []
        for entry in entries:
            rel = prefix + entry.name
            if is_excluded(rel, exclude):
                skipped["excluded"] += 1
            elif _is_dir(entry):
                subdirs.append((Path(entry.path), rel + "/"))
            else:
                yield Path(entry.path), rel
        stack.extend(reversed(subdirs))


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir(follow_symlinks=True)
    except OSError:
        return False
