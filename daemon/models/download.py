"""Downloading catalogue models into the model store: resumable, hash-checked and cancellable.

Bytes go to ``<models dir>/<name>-<sha256 prefix>.gguf.part`` and are hashed as they are
written; an interrupted download resumes from the ``.part`` file with an HTTP ``Range``
request (a server that ignores it makes the download start again from zero). Only a file
whose size and sha256 match the catalogue is renamed into place and recorded in the manifest,
so a half-written model never becomes usable. Local sources (an offline bundle, ``file://``)
are copied through the same path.

Every failure is one of these, and ``str(exc)`` says what to do::

    DownloadError
    ├── DownloadSourceError        the source cannot be read: an HTTP error status, a missing
    │                              bundle file, a server whose file differs from the catalogue
    ├── DownloadTransferError      the connection failed or dropped part-way; run the download
    │                              again to resume where it stopped
    ├── DownloadDiskError          the models folder cannot be written
    │   └── InsufficientSpaceError not enough free space (checked before starting, or a write
    │                              failed with ENOSPC); the .part file is kept for a resume
    ├── DownloadIntegrityError     the bytes are not what the catalogue promised (size, sha256,
    │                              not a GGUF); the .part file is removed
    └── DownloadCancelledError     the user cancelled; the .part file is kept for a resume
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hashlib
import os
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from daemon.errors import BbjCoderError, ModelError
from daemon.files import CHUNK, hash_file
from daemon.models.catalogue import CatalogueEntry, local_path
from daemon.models.store import ModelEntry, ModelStore
from daemon.progress import RateMeter, format_size

if TYPE_CHECKING:
    import httpx

RATE_WINDOW_S = 5.0
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")


class DownloadError(BbjCoderError):
    """Base class of every download failure."""


class DownloadSourceError(DownloadError):
    pass


class DownloadTransferError(DownloadError):
    pass


class DownloadDiskError(DownloadError):
    pass


class InsufficientSpaceError(DownloadDiskError):
    pass


class DownloadIntegrityError(DownloadError):
    pass


class DownloadCancelledError(DownloadError):
    pass


@dataclass(frozen=True)
class DownloadProgress:
    name: str
    done: int
    total: int
    rate: float
    """Bytes per second over the last few seconds."""
    eta_s: float | None

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0


ProgressCallback = Callable[[DownloadProgress], None]


def part_path(models_dir: Path, entry: CatalogueEntry) -> Path:
    """Where ``entry`` is downloaded to; the sha256 in the name keeps stale parts apart."""
    return models_dir / f"{entry.name}-{entry.sha256[:12]}.gguf.part"


def partial_bytes(models_dir: Path, entry: CatalogueEntry) -> int:
    """Bytes of ``entry`` already downloaded (0 when there is nothing to resume)."""
    try:
        return part_path(models_dir, entry).stat().st_size
    except OSError:
        return 0


def discard_partial(models_dir: Path, entry: CatalogueEntry) -> None:
    with contextlib.suppress(FileNotFoundError):
        part_path(models_dir, entry).unlink()


def check_free_space(directory: Path, needed: int, what: str) -> None:
    """Refuse, in a sentence naming both amounts, when ``directory`` has less than ``needed``."""
    free = shutil.disk_usage(directory).free
    if free < needed:
        raise InsufficientSpaceError(
            f"{what} needs {format_size(needed)} of free space in {directory}, but only "
            f"{format_size(free)} is free; free up space or choose a smaller model."
        )


def _meter(entry: CatalogueEntry, done: int, callback: ProgressCallback | None) -> RateMeter:
    """Counts bytes; reports progress (rate over the last few seconds) at most every 0.1 s."""

    def report(meter: RateMeter) -> None:
        if callback is not None:
            done = int(meter.done)
            callback(DownloadProgress(entry.name, done, entry.size, meter.rate, meter.eta_s))

    return RateMeter(entry.size, done, window_s=RATE_WINDOW_S, report=report)


def _open_part(path: Path, offset: int) -> BinaryIO:
    """Open the .part file for writing at ``offset``, dropping anything after it."""
    handle = open(path, "r+b" if offset and path.exists() else "wb")  # noqa: SIM115
    handle.seek(offset)
    handle.truncate()
    return handle


class _PartFile:
    """The .part file plus the running sha256 of everything in it."""

    def __init__(self, path: Path, entry: CatalogueEntry, meter: RateMeter) -> None:
        self.path = path
        self.entry = entry
        self.meter = meter
        self.digest = hashlib.sha256()

    @contextlib.contextmanager
    def open_at(self, offset: int) -> Iterator[BinaryIO]:
        if offset == 0:
            self.digest = hashlib.sha256()
            self.meter.restart()
        try:
            handle = _open_part(self.path, offset)
        except OSError as exc:
            raise _disk_error(exc, self) from exc
        with handle:
            yield handle
            _flush(handle, self)

    def write(self, handle: BinaryIO, chunk: bytes) -> None:
        try:
            handle.write(chunk)
        except OSError as exc:
            raise _disk_error(exc, self) from exc
        self.digest.update(chunk)
        self.meter.advance(len(chunk))


def _flush(handle: BinaryIO, part: _PartFile) -> None:
    try:
        handle.flush()
        os.fsync(handle.fileno())
    except OSError as exc:
        raise _disk_error(exc, part) from exc


def _disk_error(exc: OSError, part: _PartFile) -> DownloadDiskError:
    folder = part.path.parent
    if exc.errno == errno.ENOSPC:
        return InsufficientSpaceError(
            f"The disk holding {folder} filled up after {format_size(part.meter.done)} of "
            f"{part.entry.name}; free up space and download again to resume."
        )
    return DownloadDiskError(
        f"Cannot write {part.path} ({exc.strerror or exc}); check that the models folder "
        f"{folder} is writable."
    )


def _resumable_offset(path: Path, size: int) -> int:
    """Bytes of an earlier attempt worth keeping; a .part longer than the model is discarded."""
    try:
        existing = path.stat().st_size
    except FileNotFoundError:
        return 0
    if existing > size:
        path.unlink()
        return 0
    return existing


def _raise_if_cancelled(cancel: asyncio.Event | None, part: _PartFile) -> None:
    if cancel is not None and cancel.is_set():
        percent = 100 * part.meter.done // max(part.entry.size, 1)
        raise DownloadCancelledError(
            f"The download of {part.entry.name} was cancelled at {percent} %; download it "
            "again to resume."
        )


async def download_model(
    entry: CatalogueEntry,
    store: ModelStore,
    *,
    progress: ProgressCallback | None = None,
    cancel: asyncio.Event | None = None,
    activate: bool = False,
    http: httpx.AsyncClient | None = None,
) -> ModelEntry:
    """Download ``entry`` into ``store`` (resuming a .part), verify it and register it."""
    store.models_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    store.sweep_stale()
    path = part_path(store.models_dir, entry)
    offset = _resumable_offset(path, entry.size)
    check_free_space(store.models_dir, entry.size - offset, f"Downloading {entry.name}")
    part = _PartFile(path, entry, _meter(entry, offset, progress))
    if offset:
        part.digest = await asyncio.to_thread(hash_file, path, length=offset)
    if offset < entry.size:
        if entry.is_local:
            await _copy_local(entry, part, offset, cancel)
        else:
            await _fetch_http(entry, part, offset, cancel, http)
    part.meter.report()
    return _register(entry, store, part, activate)


def _register(
    entry: CatalogueEntry, store: ModelStore, part: _PartFile, activate: bool
) -> ModelEntry:
    size = part.path.stat().st_size
    if size < entry.size:
        raise DownloadTransferError(
            f"The source of {entry.name} ended after {format_size(size)} of "
            f"{format_size(entry.size)}; download it again to resume."
        )
    digest = part.digest.hexdigest()
    if size != entry.size or digest != entry.sha256:
        part.path.unlink()
        raise DownloadIntegrityError(
            f"The download of {entry.name} does not match the catalogue ({format_size(size)}, "
            f"sha256 {digest[:12]}… instead of {format_size(entry.size)}, "
            f"{entry.sha256[:12]}…), so it was deleted; download it again, and if this "
            "repeats the catalogue or its mirror is out of date."
        )
    try:
        return store.adopt(
            part.path, name=entry.name, sha256=digest, activate=activate, source=entry.url
        )
    except ModelError as exc:
        part.path.unlink()
        raise DownloadIntegrityError(
            f"{entry.name} matches the catalogue's sha256 but is not a usable model ({exc}); "
            "report the broken catalogue entry to whoever maintains it."
        ) from exc


# ------------------------------------------------------------------------------ local copy
async def _copy_local(
    entry: CatalogueEntry, part: _PartFile, offset: int, cancel: asyncio.Event | None
) -> None:
    source = local_path(entry.url)
    try:
        handle = open(source, "rb")  # noqa: SIM115 - closed by the with below
    except OSError as exc:
        raise DownloadSourceError(
            f"The bundle file {source} for {entry.name} cannot be read ({exc.strerror}); "
            "check that the offline bundle was copied completely."
        ) from exc
    with handle:
        _check_local_size(source, entry)
        handle.seek(offset)
        with part.open_at(offset) as out:
            while chunk := await _read_local(handle, source, entry):
                _raise_if_cancelled(cancel, part)
                part.write(out, chunk)


def _check_local_size(source: Path, entry: CatalogueEntry) -> None:
    size = source.stat().st_size
    if size != entry.size:
        raise DownloadSourceError(
            f"The bundle file {source} is {format_size(size)} but the catalogue says "
            f"{format_size(entry.size)}; copy the bundle again or fix its catalogue.json."
        )


async def _read_local(handle: BinaryIO, source: Path, entry: CatalogueEntry) -> bytes:
    try:
        return await asyncio.to_thread(handle.read, CHUNK)
    except OSError as exc:
        raise DownloadTransferError(
            f"Reading {source} failed ({exc.strerror}); reconnect the drive and copy "
            f"{entry.name} again to resume."
        ) from exc


# ---------------------------------------------------------------------------------- HTTP
async def _fetch_http(
    entry: CatalogueEntry,
    part: _PartFile,
    offset: int,
    cancel: asyncio.Event | None,
    http: httpx.AsyncClient | None,
) -> None:
    import httpx

    client = http or httpx.AsyncClient(
        timeout=httpx.Timeout(30.0, connect=10.0), follow_redirects=True
    )
    try:
        if not await _stream_into(client, entry, part, offset, cancel):
            await _stream_into(client, entry, part, 0, cancel)
    except httpx.TransportError as exc:
        raise DownloadTransferError(
            f"The connection to {httpx.URL(entry.url).host} failed after "
            f"{format_size(part.meter.done)} of {format_size(entry.size)} of {entry.name} "
            f"({type(exc).__name__}); check the network and download again to resume."
        ) from exc
    finally:
        if http is None:
            await client.aclose()


async def _stream_into(
    client: httpx.AsyncClient,
    entry: CatalogueEntry,
    part: _PartFile,
    offset: int,
    cancel: asyncio.Event | None,
) -> bool:
    """Stream the body into the .part file; False when a resume must start from zero."""
    headers = {"Range": f"bytes={offset}-"} if offset else {}
    async with client.stream("GET", entry.url, headers=headers) as response:
        start = _served_offset(response, entry, offset)
        if start is None:
            return False
        with part.open_at(start) as out:
            async for chunk in response.aiter_bytes():
                _raise_if_cancelled(cancel, part)
                part.write(out, chunk)
    return True


def _served_offset(response: httpx.Response, entry: CatalogueEntry, asked: int) -> int | None:
    """Where the response body starts in the file; None when it cannot be used to resume."""
    status = response.status_code
    if asked and status == 416:
        return None
    if status >= 400:
        raise DownloadSourceError(_status_sentence(response, entry))
    if status == 206:
        match = _CONTENT_RANGE.match(response.headers.get("content-range", ""))
        if match is None or int(match.group(1)) != asked:
            return None
        _check_remote_size(match.group(3), entry)
        return asked
    _check_remote_size(response.headers.get("content-length", "*"), entry)
    return 0


def _check_remote_size(total: str, entry: CatalogueEntry) -> None:
    if total.isdigit() and int(total) != entry.size:
        raise DownloadSourceError(
            f"The server's copy of {entry.name} is {format_size(int(total))} but the catalogue "
            f"says {format_size(entry.size)}; the catalogue or its mirror is out of date."
        )


def _status_sentence(response: httpx.Response, entry: CatalogueEntry) -> str:
    status, url = response.status_code, entry.url
    if status == 404:
        return (
            f"{url} was not found on the server (404); the catalogue entry for {entry.name} is "
            "out of date or its URL is wrong."
        )
    if status in (401, 403):
        return f"The server refused {url} ({status}); check that you may download from it."
    if status >= 500:
        return (
            f"The server failed to send {entry.name} ({status} {response.reason_phrase}); "
            "try again later."
        )
    return f"The server answered {status} {response.reason_phrase} for {url}; check the URL."
