"""The model store: hash-checked atomic import, manifest, resolution."""

from __future__ import annotations

import json

import pytest

from daemon.errors import ModelLoadError, ModelNotFoundError, StoreError
from daemon.files import sha256_file
from daemon.models.gguf_info import read_gguf_info
from daemon.models.store import ModelStore


def test_import_records_metadata_and_activates(tiny_model, tmp_path) -> None:
    store = ModelStore(tmp_path)
    entry = store.import_file(tiny_model.gguf_path, name="Tiny Model")
    assert entry.name == "tiny-model"
    assert entry.sha256 == sha256_file(tiny_model.gguf_path)
    assert entry.fim_format == "qwen2.5-coder"
    assert entry.context_length == read_gguf_info(tiny_model.gguf_path).context_length
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["active"] == "tiny-model"
    assert store.resolve("") == ("tiny-model", tmp_path / "tiny-model.gguf")
    assert store.verify(entry)


def test_wrong_sha_leaves_nothing_behind(tiny_model, tmp_path) -> None:
    store = ModelStore(tmp_path)
    with pytest.raises(StoreError, match="expected"):
        store.import_file(tiny_model.gguf_path, expected_sha256="ab" * 32)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_corrupt_file_is_refused_before_copying(tiny_model, tmp_path) -> None:
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(tiny_model.gguf_path.read_bytes()[:100])
    store = ModelStore(tmp_path / "models")
    with pytest.raises(ModelLoadError, match="corrupt or truncated"):
        store.import_file(bad)
    assert not (tmp_path / "models" / "manifest.json").exists()


def test_second_import_without_activate_keeps_the_active_model(tiny_model, tmp_path) -> None:
    store = ModelStore(tmp_path)
    store.import_file(tiny_model.gguf_path, name="first")
    store.import_file(tiny_model.gguf_path, name="second", activate=False)
    assert store.load().active == "first"
    store.activate("second")
    assert store.load().active == "second"


def test_resolution_errors_say_what_to_do(tmp_path) -> None:
    store = ModelStore(tmp_path)
    with pytest.raises(ModelNotFoundError, match="model import"):
        store.resolve("")
    with pytest.raises(ModelNotFoundError, match="installed: none"):
        store.resolve("nothing")
    with pytest.raises(ModelNotFoundError, match="does not exist"):
        store.resolve(str(tmp_path / "x.gguf"))
