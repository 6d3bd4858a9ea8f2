"""The versioned, atomically published output directory.

A build is written into a hidden ``OUT/.building-*`` directory and renamed to the next free
``OUT/vNNNN`` only when everything is written, so a directory named ``vNNNN`` is always
complete; ``OUT/LATEST`` then names it. An interrupted build leaves at most a hidden
``.building-*`` directory behind, which is safe to delete.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from daemon.files import write_atomic
from trainer.data.records import DataError

_VERSION = re.compile(r"^v(\d{4,})$")
LATEST_FILE = "LATEST"
PUBLISH_ATTEMPTS = 100


def next_version(root: Path) -> str:
    numbers = [int(m.group(1)) for p in root.iterdir() if (m := _VERSION.match(p.name))]
    return f"v{max(numbers, default=0) + 1:04d}"


@contextmanager
def staging_directory(root: Path) -> Iterator[Path]:
    """A fresh directory beside the published ones; removed again if the build fails."""
    try:
        root.mkdir(parents=True, exist_ok=True)
        stage = root / f".building-{os.getpid()}-{secrets.token_hex(4)}"
        stage.mkdir()
    except OSError as exc:
        raise DataError(f"cannot create the output directory {root} ({exc.strerror})") from exc
    try:
        yield stage
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise


def publish(stage: Path, root: Path) -> Path:
    """Rename ``stage`` to the next ``vNNNN`` (retrying if a parallel build took it)."""
    for _ in range(PUBLISH_ATTEMPTS):
        target = root / next_version(root)
        try:
            os.rename(stage, target)
        except OSError:
            if target.exists():
                continue
            raise
        _write_latest(root, target.name)
        return target
    raise DataError(f"could not find a free version directory in {root}")


def _write_latest(root: Path, name: str) -> None:
    write_atomic(root / LATEST_FILE, name + "\n")


def write_jsonl(path: Path, records: Iterable[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def write_json(path: Path, document: object) -> None:
    text = json.dumps(document, ensure_ascii=False, indent=2, sort_keys=False)
    path.write_text(text + "\n", encoding="utf-8", newline="\n")
