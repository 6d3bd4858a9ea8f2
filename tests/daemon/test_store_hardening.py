"""Issue #17, items 11, 12, 13, 17, 19: the store refuses silent replacement, survives a full
disk, sweeps what killed imports left, serialises its writers and never leaves its folder."""

from __future__ import annotations

import errno
import json
import os
import shutil
import stat
import threading
import time
from pathlib import Path

import pytest

from daemon.errors import ModelExistsError, StoreError
from daemon.files import file_lock, sha256_file
from daemon.models import store as store_module
from daemon.models.download import InsufficientSpaceError
from daemon.models.store import ModelStore
from daemon.models.tinymodel import TinyModel


def _names(store: ModelStore) -> list[str]:
    return sorted(m.name for m in store.load().models)


def test_importing_an_existing_name_is_refused_unless_replace(
    tiny_model: TinyModel, tmp_path: Path
) -> None:
    store = ModelStore(tmp_path / "models")
    first = store.import_file(tiny_model.gguf_path, name="mine")
    before = store.manifest_path.read_text()
    with pytest.raises(ModelExistsError, match=r"'mine' is already installed \(the active"):
        store.import_file(tiny_model.gguf_path, name="mine", activate=False)
    assert store.manifest_path.read_text() == before
    assert sorted(p.name for p in store.models_dir.iterdir() if not p.name.startswith(".")) == [
        "manifest.json",
        "mine.gguf",
    ]
    second = store.import_file(tiny_model.gguf_path, name="mine", activate=False, replace=True)
    assert second.file != first.file, "the served file is never overwritten in place"
    assert not (store.models_dir / first.file).exists(), "the replaced file is removed"
    assert store.load().active == "mine" and store.verify(second)


@pytest.mark.parametrize("name", [".", "..", "--", " / "])
def test_names_without_letters_are_refused(tiny_model: TinyModel, tmp_path: Path, name) -> None:
    store = ModelStore(tmp_path / "models")
    with pytest.raises(StoreError, match="is not a usable model name"):
        store.import_file(tiny_model.gguf_path, name=name)
    assert store.load().models == ()


def test_a_full_disk_while_writing_the_manifest_leaves_nothing_behind(
    tiny_model: TinyModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = ModelStore(tmp_path / "models")
    real_write = store_module.write_atomic

    def full(path: Path, data, *, mode=None):
        with open(path.with_name(f".{path.name}.x.tmp"), "w"):
            pass  # what a failed atomic write could leave; it must be gone afterwards
        Path(path.with_name(f".{path.name}.x.tmp")).unlink()
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(store_module, "write_atomic", full)
    with pytest.raises(StoreError, match=r"Could not write the model manifest .*No space left"):
        store.import_file(tiny_model.gguf_path, name="mine")
    assert [p.name for p in store.models_dir.iterdir() if p.name != ".manifest.lock"] == []
    monkeypatch.setattr(store_module, "write_atomic", real_write)
    assert store.import_file(tiny_model.gguf_path, name="mine").name == "mine"


def test_import_checks_free_space_first(
    tiny_model: TinyModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    usage = shutil.disk_usage(tmp_path)._replace(free=1000)
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage)
    store = ModelStore(tmp_path / "models")
    with pytest.raises(InsufficientSpaceError, match=r"but only 1.0 KB is free"):
        store.import_file(tiny_model.gguf_path, name="mine")
    assert not any(p.name.startswith(".import-") for p in store.models_dir.iterdir())


def test_stale_temp_files_are_swept_and_fresh_ones_and_parts_kept(
    tiny_model: TinyModel, tmp_path: Path
) -> None:
    models = tmp_path / "models"
    models.mkdir()
    old = time.time() - 3600
    stale = [
        models / ".import-abc.tmp",
        models / ".manifest.json.abc.tmp",
        models / ".import-old.part",  # names earlier versions used
        models / ".manifest-old",
    ]
    for path in stale:
        path.write_bytes(b"x")
        os.utime(path, (old, old))
    fresh = models / ".import-new.tmp"
    fresh.write_bytes(b"x")
    part = models / "m-0123456789ab.gguf.part"
    part.write_bytes(b"x")
    os.utime(part, (old, old))
    ModelStore(models).import_file(tiny_model.gguf_path, name="mine")
    assert not any(p.exists() for p in stale)
    assert fresh.exists() and part.exists()
    assert (models / ".manifest.lock").exists(), "the lock file is not a temp file"


def test_concurrent_writers_lose_no_update(
    tiny_model: TinyModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = ModelStore(tmp_path / "models")
    real_load = ModelStore.load

    def slow_load(self: ModelStore):
        manifest = real_load(self)
        time.sleep(0.02)  # widens the read-modify-write window every writer has
        return manifest

    monkeypatch.setattr(ModelStore, "load", slow_load)
    errors: list[BaseException] = []

    def one(name: str) -> None:
        try:
            ModelStore(store.models_dir).import_file(tiny_model.gguf_path, name=name)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(f"m{i}",)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert _names(store) == [f"m{i}" for i in range(6)]


def test_file_lock_excludes_a_second_holder(tmp_path: Path) -> None:
    lock = tmp_path / "x.lock"
    with file_lock(lock), pytest.raises(TimeoutError, match="stayed locked"):  # noqa: SIM117
        with file_lock(lock, timeout_s=0.1):
            pass
    with file_lock(lock, timeout_s=0.1):
        pass


@pytest.mark.parametrize("file", ["../victim.txt", "/tmp/victim.txt", "..", "a/../../v"])
def test_a_manifest_entry_outside_the_store_is_never_touched(
    tiny_model: TinyModel, tmp_path: Path, file: str
) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    store = ModelStore(tmp_path / "models")
    store.import_file(tiny_model.gguf_path, name="good")
    data = json.loads(store.manifest_path.read_text())
    data["models"].append({**data["models"][0], "name": "evil", "file": file})
    store.manifest_path.write_text(json.dumps(data))
    with pytest.raises(StoreError, match=r"'evil' names the file .* not a file in"):
        store.delete("evil")
    with pytest.raises(StoreError, match="not a file in"):
        store.resolve("evil")
    assert victim.read_text() == "keep me"
    assert _names(store) == ["evil", "good"]


def test_downloaded_and_imported_models_get_the_same_mode(
    tiny_model: TinyModel, tmp_path: Path
) -> None:
    store = ModelStore(tmp_path / "models")
    imported = store.import_file(tiny_model.gguf_path, name="imported")
    part = store.models_dir / "d.gguf.part"
    part.write_bytes(tiny_model.gguf_path.read_bytes())
    os.chmod(part, 0o644)
    adopted = store.adopt(part, name="downloaded", sha256=sha256_file(part))
    modes = {stat.S_IMODE(store.path_of(e).stat().st_mode) for e in (imported, adopted)}
    assert modes == {0o600}
