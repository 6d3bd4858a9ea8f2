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
import time
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


LOCK_POLL_S = 0.02


def try_lock(fd: int) -> bool:
    """Take an exclusive lock on the open file ``fd`` without waiting; False when another
    process holds it. The OS drops the lock when the file is closed or the process dies."""
    try:
        if os.name == "nt":
            import msvcrt

            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


@contextlib.contextmanager
def file_lock(path: Path, *, timeout_s: float = 30.0) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created empty, 0600, when missing) for the block.

    For read-modify-write of a shared file by several processes. Waits up to ``timeout_s``
    for another holder, then raises :class:`TimeoutError` (an ``OSError``) naming the file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o600)
    try:
        deadline = time.monotonic() + timeout_s
        while not try_lock(fd):
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"{path} stayed locked by another bbj-coder process for {timeout_s:g} s"
                )
            time.sleep(LOCK_POLL_S)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock on every platform


def private_temp_beside(path: Path, *, prefix: str) -> Path:
    """A new empty 0600 file in ``path``'s folder named ``PREFIX<random>.tmp``, for content
    that is renamed into place later with :func:`replace_synced`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{prefix}{secrets.token_hex(6)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    os.close(os.open(tmp, flags, 0o600))
    return tmp
