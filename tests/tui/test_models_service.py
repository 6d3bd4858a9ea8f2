"""The Models screen's operations without widgets: import, download and delete sentences."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from daemon.errors import StoreError
from daemon.models.download import InsufficientSpaceError
from daemon.models.tinymodel import TinyModel
from daemon.paths import AppPaths
from tests.tui.conftest import catalogue_model, write_catalogue
from tui.models_service import ModelsService

pytestmark = pytest.mark.asyncio


def _fresh_paths(root: Path) -> AppPaths:
    return AppPaths(
        *(root / name for name in ("config", "models", "logs", "cache", "state", "run"))
    )


async def test_import_into_a_fresh_install(tiny_model: TinyModel, tmp_path: Path) -> None:
    paths = _fresh_paths(tmp_path / "new")
    service = ModelsService(paths, None)
    seen: list[int] = []
    sentence = await asyncio.to_thread(service.import_file, str(tiny_model.gguf_path), seen.append)
    assert sentence == "Imported bbj-coder-tiny (3.8 MB); it is the active model now."
    assert sum(seen) == tiny_model.gguf_path.stat().st_size
    with pytest.raises(StoreError, match=r"'bbj-coder-tiny' is already installed .*delete it"):
        service.import_file(f"  {tiny_model.gguf_path}  ", lambda n: None)
    service.store.delete("bbj-coder-tiny", allow_active=True)
    service.store.import_file(tiny_model.gguf_path, name="other")
    second = service.import_file(f"  {tiny_model.gguf_path}  ", lambda n: None)
    assert second == "Imported bbj-coder-tiny (3.8 MB); press a to make it active."


async def test_import_refuses_when_the_disk_is_too_small(
    tiny_model: TinyModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    usage = shutil.disk_usage(tmp_path)._replace(free=10)
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage)
    service = ModelsService(_fresh_paths(tmp_path / "new"), None)
    with pytest.raises(InsufficientSpaceError, match=r"only 10 B is free; free up space"):
        service.import_file(str(tiny_model.gguf_path), lambda n: None)
    assert service.manifest().models == ()


async def test_downloading_an_installed_model_is_a_no_op(
    tiny_model: TinyModel, tiny_bytes: bytes, tmp_path: Path
) -> None:
    bundle = write_catalogue(tmp_path / "b", [catalogue_model("tiny", tiny_bytes, "t.gguf")])
    (bundle / "t.gguf").write_bytes(tiny_bytes)
    service = ModelsService(_fresh_paths(tmp_path / "home"), str(bundle))
    assert await service.load_catalogue() == f"Catalogue {bundle}: 1 model."
    done = await service.download("tiny", lambda p: None, asyncio.Event())
    # the first model of a fresh store becomes active: no "press a" for it (issue #17, 26)
    assert done == "Downloaded tiny and checked its sha256; it is the active model."
    again = await service.download("tiny", lambda p: None, asyncio.Event())
    assert again == "tiny is already installed; it is the active model."


async def test_deleting_the_last_model_says_what_next(
    tiny_model: TinyModel, tmp_path: Path
) -> None:
    service = ModelsService(_fresh_paths(tmp_path / "home"), None)
    service.import_file(str(tiny_model.gguf_path), lambda n: None)
    sentence = await service.delete("bbj-coder-tiny")
    assert sentence.startswith("Deleted bbj-coder-tiny; no model is active now")
    assert service.manifest().models == ()


async def test_a_bad_entry_does_not_hide_the_good_ones(tmp_path: Path) -> None:
    good = catalogue_model("good", b"x", "g.gguf")
    bad = {**catalogue_model("bad", b"x", "b.gguf"), "roles": ["poetry"]}
    bundle = write_catalogue(tmp_path / "b", [bad, good])
    service = ModelsService(_fresh_paths(tmp_path / "home"), str(bundle))
    sentence = await service.load_catalogue()
    assert sentence.startswith(f"Catalogue {bundle}: 1 model. 1 entry was skipped: ")
    assert 'field "roles" must be' in sentence
    assert [e.name for e in service.catalogue.entries] == ["good"]
