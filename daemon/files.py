"""Files written all-or-nothing, and files hashed: the one place for both jobs.

A file is written to a temp file beside its final name, flushed to disk and renamed over it, so
a reader (or a crash) never sees half of it. Temp files end in ``.tmp``, which the hot-reload
watcher ignores. A directory is replaced the same way, through a hidden staging directory.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

CHUNK = 1 << 20

BytesCallback = Callable[[int], None]
"""Told the number of bytes just read or copied."""


@contextlib.contextmanager
def atomic_path(path: Path, *, mode: int | None = None, prefix: str = "") -> Iterator[Path]:
    """A fresh temp file beside ``path`` for the caller to fill, renamed over ``path`` after.

    On leaving the block normally the temp file is fsynced, given ``mode`` (exactly; without
    ``mode`` it keeps the permissions a new file gets, as ``open`` would create it) and renamed
    into place; on an exception it is removed and ``path`` is left as it was. ``prefix`` names
    the temp file (default ``.NAME.``). With a ``mode`` the temp file is private (0600) while
    it is being written.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{prefix or f'.{path.name}.'}{secrets.token_hex(6)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    os.close(os.open(tmp, flags, 0o600 if mode is not None else 0o666))
    try:
        yield tmp
        if mode is not None:
            os.chmod(tmp, mode)
        replace_synced(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def replace_synced(written: Path, path: Path) -> None:
    """Flush the finished file ``written`` to disk, then rename it over ``path``."""
    with open(written, "r+b") as handle:
        os.fsync(handle.fileno())
    os.replace(written, path)


def write_atomic(path: Path, data: str | bytes, *, mode: int | None = None) -> Path:
    """Write ``data`` (text as UTF-8, line ends untouched) to ``path`` all-or-nothing."""
    content = data.encode("utf-8") if isinstance(data, str) else data
    with atomic_path(path, mode=mode) as tmp:
        tmp.write_bytes(content)
    return path


@contextlib.contextmanager
def staged_directory(target: Path) -> Iterator[Path]:
    """A path beside ``target`` (not created yet) to build a directory in; it replaces
    ``target`` when the block ends normally and is removed when it fails."""
    staging = target.with_name(f".{target.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        yield staging
        shutil.rmtree(target, ignore_errors=True)
        os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def hash_file(
    path: Path, *, length: int | None = None, progress: BytesCallback | None = None
) -> hashlib._Hash:
    """The running sha256 of ``path`` (of its first ``length`` bytes when given), telling
    ``progress`` about every chunk read; more bytes may be fed to it later."""
    digest = hashlib.sha256()
    left = length
    with open(path, "rb") as handle:
        while left != 0 and (chunk := handle.read(CHUNK if left is None else min(CHUNK, left))):
            digest.update(chunk)
            if left is not None:
                left -= len(chunk)
            if progress:
                progress(len(chunk))
    return digest


def sha256_file(path: Path, progress: BytesCallback | None = None) -> str:
    """The hex sha256 of ``path``."""
    return hash_file(path, progress=progress).hexdigest()


def copy_hashed(source: Path, target: Path, progress: BytesCallback | None = None) -> str:
    """Copy ``source`` to ``target`` and return its hex sha256, reading it once."""
    digest = hashlib.sha256()
    with open(source, "rb") as src, open(target, "wb") as out:
        while chunk := src.read(CHUNK):
            digest.update(chunk)
            out.write(chunk)
            if progress:
                progress(len(chunk))
    return digest.hexdigest()
