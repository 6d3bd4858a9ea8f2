"""Downloads against a real loopback HTTP server serving the tiny model's real bytes."""

from __future__ import annotations

import asyncio
import errno
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any, BinaryIO

import pytest

import daemon.models.download as download
from daemon.models.catalogue import CatalogueEntry, parse_catalogue
from daemon.models.download import (
    DownloadCancelledError,
    DownloadIntegrityError,
    DownloadProgress,
    DownloadSourceError,
    DownloadTransferError,
    InsufficientSpaceError,
    download_model,
    part_path,
    partial_bytes,
)
from daemon.models.store import ModelStore
from tests.tui.conftest import catalogue_model
from tests.tui.http_fixtures import Behaviour, FileServer

pytestmark = pytest.mark.asyncio
MiB = 1 << 20


def _entry(name: str, data: bytes, url: str, **overrides: Any) -> CatalogueEntry:
    document = {"models": [catalogue_model(name, data, url, **overrides)]}
    return parse_catalogue(json.dumps(document), base="/unused").entries[0]


def _served(server: FileServer, data: bytes, **behaviour: Any) -> CatalogueEntry:
    server.files["/m.gguf"] = data
    if behaviour:
        server.behaviour["/m.gguf"] = Behaviour(**behaviour)
    return _entry("tiny", data, server.url("/m.gguf"))


def _leftovers(store: ModelStore) -> list[str]:
    if not store.models_dir.exists():
        return []
    kept = ("manifest.json", ".manifest.lock")
    return sorted(p.name for p in store.models_dir.iterdir() if p.name not in kept)


async def test_full_download_reports_progress_and_registers_the_model(
    file_server: FileServer, tiny_bytes: bytes, tmp_path: Path
) -> None:
    entry = _served(file_server, tiny_bytes)
    store = ModelStore(tmp_path / "models")
    seen: list[DownloadProgress] = []
    installed = await download_model(entry, store, progress=seen.append)
    assert installed.name == "tiny" and installed.sha256 == entry.sha256
    assert installed.size == len(tiny_bytes) and installed.fim_format == "qwen2.5-coder"
    assert (store.models_dir / "tiny.gguf").read_bytes() == tiny_bytes
    assert _leftovers(store) == ["tiny.gguf"]
    assert store.load().find("tiny") == installed
    assert [p.done for p in seen] == sorted(p.done for p in seen)
    assert seen[-1].done == seen[-1].total == len(tiny_bytes) and seen[-1].fraction == 1.0
    assert all(p.rate >= 0 for p in seen)
    assert [r.range for r in file_server.requests] == [None]


async def test_dropped_connection_keeps_the_part_and_the_next_run_resumes_with_range(
    file_server: FileServer, tiny_bytes: bytes, tmp_path: Path
) -> None:
    entry = _served(file_server, tiny_bytes, drop_after=int(1.5 * MiB))
    store = ModelStore(tmp_path / "models")
    with pytest.raises(DownloadTransferError, match=r"failed after .* download again to resume"):
        await download_model(entry, store)
    kept = partial_bytes(store.models_dir, entry)
    assert 0 < kept <= int(1.5 * MiB)
    assert store.load().models == ()
    installed = await download_model(entry, store)
    assert file_server.requests[-1].range == f"bytes={kept}-"
    assert installed.sha256 == hashlib.sha256(tiny_bytes).hexdigest()
    assert (store.models_dir / "tiny.gguf").read_bytes() == tiny_bytes
    assert _leftovers(store) == ["tiny.gguf"]


async def test_a_server_ignoring_range_makes_the_download_start_again(
    file_server: FileServer, tiny_bytes: bytes, tmp_path: Path
) -> None:
    entry = _served(file_server, tiny_bytes, drop_after=MiB)
    store = ModelStore(tmp_path / "models")
    with pytest.raises(DownloadTransferError):
        await download_model(entry, store)
    file_server.behaviour["/m.gguf"] = Behaviour(ignore_range=True)
    installed = await download_model(entry, store)
    assert file_server.requests[-1].range is not None
    assert installed.sha256 == entry.sha256
    assert (store.models_dir / "tiny.gguf").read_bytes() == tiny_bytes


async def test_a_stale_part_longer_than_the_model_is_discarded(
    file_server: FileServer, tiny_bytes: bytes, tmp_path: Path
) -> None:
    entry = _served(file_server, tiny_bytes)
    store = ModelStore(tmp_path / "models")
    store.models_dir.mkdir(parents=True)
    part_path(store.models_dir, entry).write_bytes(tiny_bytes + b"junk")
    await download_model(entry, store)
    assert file_server.requests[-1].range is None
    assert (store.models_dir / "tiny.gguf").read_bytes() == tiny_bytes


async def test_wrong_sha256_is_rejected_and_nothing_is_left(
    file_server: FileServer, tiny_bytes: bytes, tmp_path: Path
) -> None:
    file_server.files["/m.gguf"] = tiny_bytes
    entry = _entry("tiny", tiny_bytes, file_server.url("/m.gguf"), sha256="0" * 64)
    store = ModelStore(tmp_path / "models")
    with pytest.raises(DownloadIntegrityError, match=r"does not match the catalogue .* deleted"):
        await download_model(entry, store, activate=True)
    assert store.load().models == () and store.load().active is None
    assert _leftovers(store) == []


async def test_a_file_that_is_not_a_model_is_rejected(
    file_server: FileServer, tmp_path: Path
) -> None:
    entry = _served(file_server, b"not a model at all" * 100)
    store = ModelStore(tmp_path / "models")
    with pytest.raises(DownloadIntegrityError, match=r"not a usable model .* report the broken"):
        await download_model(entry, store)
    assert _leftovers(store) == [] and store.load().models == ()


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (404, "was not found on the server .* out of date or its URL is wrong"),
        (500, "The server failed to send tiny .* try again later"),
        (403, "The server refused .* check that you may download"),
    ],
)
async def test_http_errors_are_sentences_and_leave_no_part(
    file_server: FileServer, tiny_bytes: bytes, tmp_path: Path, status: int, message: str
) -> None:
    entry = _served(file_server, tiny_bytes, status=status)
    store = ModelStore(tmp_path / "models")
    with pytest.raises(DownloadSourceError, match=message):
        await download_model(entry, store)
    assert _leftovers(store) == []


async def test_a_server_copy_of_another_size_is_refused(
    file_server: FileServer, tiny_bytes: bytes, tmp_path: Path
) -> None:
    file_server.files["/m.gguf"] = tiny_bytes + b"extra"
    entry = _entry("tiny", tiny_bytes, file_server.url("/m.gguf"))
    with pytest.raises(DownloadSourceError, match="catalogue or its mirror is out of date"):
        await download_model(entry, ModelStore(tmp_path / "models"))


async def test_unreachable_server_is_a_transfer_error(tiny_bytes: bytes, tmp_path: Path) -> None:
    from tests.conftest import free_port

    entry = _entry("tiny", tiny_bytes, f"http://127.0.0.1:{free_port()}/m.gguf")
    with pytest.raises(DownloadTransferError, match="check the network"):
        await download_model(entry, ModelStore(tmp_path / "models"))


async def test_not_enough_free_space_is_refused_before_any_request(
    file_server: FileServer, tiny_bytes: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = _served(file_server, tiny_bytes)
    usage = shutil.disk_usage(tmp_path)._replace(free=1_000_000)
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage)
    with pytest.raises(
        InsufficientSpaceError, match=r"needs 3\.\d MB of free space .* only 1\.0 MB is free"
    ):
        await download_model(entry, ModelStore(tmp_path / "models"))
    assert file_server.requests == []


class _FillingFile:
    """A .part file whose disk fills up after ``room`` bytes."""

    def __init__(self, real: BinaryIO, room: int) -> None:
        self.real, self.room = real, room

    def write(self, data: bytes) -> int:
        if len(data) > self.room:
            raise OSError(errno.ENOSPC, "No space left on device")
        self.room -= len(data)
        return self.real.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def __enter__(self) -> _FillingFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.real.close()


async def test_a_full_disk_mid_download_keeps_the_part_for_a_resume(
    file_server: FileServer, tiny_bytes: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = _served(file_server, tiny_bytes)
    store = ModelStore(tmp_path / "models")
    real_open = download._open_part
    monkeypatch.setattr(
        download, "_open_part", lambda path, offset: _FillingFile(real_open(path, offset), MiB)
    )
    with pytest.raises(InsufficientSpaceError, match=r"filled up after .* free up space"):
        await download_model(entry, store)
    kept = partial_bytes(store.models_dir, entry)
    assert 0 < kept <= MiB
    monkeypatch.setattr(download, "_open_part", real_open)
    await download_model(entry, store)
    assert file_server.requests[-1].range == f"bytes={kept}-"
    assert (store.models_dir / "tiny.gguf").read_bytes() == tiny_bytes


async def test_cancel_keeps_the_part_and_a_later_run_finishes(
    file_server: FileServer, tiny_bytes: bytes, tmp_path: Path
) -> None:
    entry = _served(file_server, tiny_bytes, piece_delay_s=0.01)
    store = ModelStore(tmp_path / "models")
    cancel = asyncio.Event()

    def cancel_once_started(progress: DownloadProgress) -> None:
        if progress.done > 0:
            cancel.set()

    with pytest.raises(DownloadCancelledError, match=r"cancelled at \d+ %; download it again"):
        await download_model(entry, store, progress=cancel_once_started, cancel=cancel)
    assert 0 < partial_bytes(store.models_dir, entry) < len(tiny_bytes)
    assert store.load().models == ()
    file_server.behaviour.clear()
    assert (await download_model(entry, store)).sha256 == entry.sha256


async def test_task_cancellation_also_keeps_the_part(
    file_server: FileServer, tiny_bytes: bytes, tmp_path: Path
) -> None:
    entry = _served(file_server, tiny_bytes, piece_delay_s=0.05)
    store = ModelStore(tmp_path / "models")
    task = asyncio.create_task(download_model(entry, store))
    for _ in range(500):  # bounded: a download that fails at once must not hang the test
        if partial_bytes(store.models_dir, entry) > 0 or task.done():
            break
        await asyncio.sleep(0.02)
    assert not task.done(), "the download ended before it could be cancelled"
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert partial_bytes(store.models_dir, entry) > 0
    assert store.load().models == ()


async def test_offline_bundle_files_are_copied_and_checked(
    tiny_bytes: bytes, tmp_path: Path
) -> None:
    source = tmp_path / "usb" / "tiny.gguf"
    source.parent.mkdir()
    source.write_bytes(tiny_bytes)
    store = ModelStore(tmp_path / "models")
    seen: list[DownloadProgress] = []
    installed = await download_model(
        _entry("tiny", tiny_bytes, str(source)), store, progress=seen.append, activate=True
    )
    assert store.load().active == installed.name == "tiny"
    assert seen[-1].done == len(tiny_bytes)
    assert source.read_bytes() == tiny_bytes, "the bundle itself is left alone"
    assert _leftovers(store) == ["tiny.gguf"]


async def test_offline_bundle_problems_are_sentences(tiny_bytes: bytes, tmp_path: Path) -> None:
    store = ModelStore(tmp_path / "models")
    missing = _entry("tiny", tiny_bytes, str(tmp_path / "usb" / "gone.gguf"))
    with pytest.raises(DownloadSourceError, match=r"cannot be read .* copied completely"):
        await download_model(missing, store)
    short = tmp_path / "short.gguf"
    short.write_bytes(tiny_bytes[:1000])
    with pytest.raises(DownloadSourceError, match="copy the bundle again or fix"):
        await download_model(_entry("tiny", tiny_bytes, str(short)), store)
