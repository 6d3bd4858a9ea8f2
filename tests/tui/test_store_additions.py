"""ModelStore.adopt (register a verified download without a copy) and delete."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from daemon.errors import ModelLoadError, ModelNotFoundError, StoreError
from daemon.files import sha256_file
from daemon.models.store import ModelStore
from daemon.models.tinymodel import TinyModel


def _store_with(tiny_model: TinyModel, tmp_path: Path, *names: str) -> ModelStore:
    store = ModelStore(tmp_path / "models")
    for name in names:
        store.import_file(tiny_model.gguf_path, name=name, activate=False)
        time.sleep(0.01)  # distinct import times decide the successor of a deleted active model
    return store


def test_adopt_renames_the_file_into_place_and_records_it(
    tiny_model: TinyModel, tmp_path: Path
) -> None:
    store = ModelStore(tmp_path / "models")
    store.models_dir.mkdir(parents=True)
    part = store.models_dir / "x.gguf.part"
    part.write_bytes(tiny_model.gguf_path.read_bytes())
    digest = sha256_file(part)
    entry = store.adopt(part, name="Fresh One", sha256=digest.upper(), source="https://x/y")
    assert not part.exists()
    assert entry.name == "fresh-one" and entry.sha256 == digest and entry.source == "https://x/y"
    assert entry.fim_format == "qwen2.5-coder" and entry.quant == "F16"
    assert store.verify(entry)
    assert store.load().active == "fresh-one", "the first model becomes active"


def test_adopt_refuses_files_outside_the_store_and_non_models(
    tiny_model: TinyModel, tmp_path: Path
) -> None:
    store = ModelStore(tmp_path / "models")
    store.models_dir.mkdir(parents=True)
    with pytest.raises(StoreError, match=r"is not in the models folder .* import it instead"):
        store.adopt(tiny_model.gguf_path, name="x", sha256="0" * 64)
    junk = store.models_dir / "junk.part"
    junk.write_bytes(b"junk" * 10)
    with pytest.raises(ModelLoadError):
        store.adopt(junk, name="x", sha256="0" * 64)
    assert junk.exists() and store.load().models == ()


def test_delete_removes_entry_then_file(tiny_model: TinyModel, tmp_path: Path) -> None:
    store = _store_with(tiny_model, tmp_path, "keep", "drop")
    left = store.delete("drop")
    assert [m.name for m in left.models] == ["keep"] and left.active == "keep"
    assert store.load() == left
    assert not (store.models_dir / "drop.gguf").exists()
    assert (store.models_dir / "keep.gguf").exists()


def test_delete_refuses_the_active_model_unless_allowed(
    tiny_model: TinyModel, tmp_path: Path
) -> None:
    store = _store_with(tiny_model, tmp_path, "first", "second", "third")
    assert store.load().active == "first"
    with pytest.raises(StoreError, match="is the active model; activate another model"):
        store.delete("first")
    assert (store.models_dir / "first.gguf").exists()
    left = store.delete("first", allow_active=True)
    assert left.active == "third", "the newest remaining model takes over"
    assert not (store.models_dir / "first.gguf").exists()


def test_deleting_the_last_model_leaves_none_active(tiny_model: TinyModel, tmp_path: Path) -> None:
    store = _store_with(tiny_model, tmp_path, "only")
    left = store.delete("only", allow_active=True)
    assert left.models == () and left.active is None
    assert sorted(p.name for p in store.models_dir.iterdir()) == [".manifest.lock", "manifest.json"]
    with pytest.raises(ModelNotFoundError, match="No model named 'only'"):
        store.delete("only")
