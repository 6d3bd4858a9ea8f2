"""Fixtures for the TUI, doctor, catalogue and download tests: an isolated home and servers."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from daemon.models.tinymodel import TinyModel
from daemon.paths import AppPaths, app_paths
from tests.conftest import free_port
from tests.tui.http_fixtures import FileServer


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No real settings, Continue config, Ollama or BBj install leaks into a test."""
    for name in list(os.environ):
        if name.startswith(("BBJ_CODER_", "FAKE_BBJCPL_")) or name in ("BBJ_HOME", "OLLAMA_HOST"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("CONTINUE_GLOBAL_DIR", str(tmp_path / "continue"))
    monkeypatch.setenv("OLLAMA_HOST", f"127.0.0.1:{free_port()}")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AppPaths:
    """An empty bbj-coder home (``BBJ_CODER_HOME``) with every folder created."""
    monkeypatch.setenv("BBJ_CODER_HOME", str(tmp_path / "home"))
    paths = app_paths()
    paths.ensure()
    return paths


@pytest.fixture(scope="session")
def tiny_bytes(tiny_model: TinyModel) -> bytes:
    return tiny_model.gguf_path.read_bytes()


@pytest.fixture
def file_server() -> Iterator[FileServer]:
    server = FileServer().start()
    yield server
    server.stop()


def catalogue_model(name: str, data: bytes, url: str, **overrides: Any) -> dict[str, Any]:
    """One catalogue entry describing ``data`` served at ``url``."""
    return {
        "name": name,
        "description": f"{name} for the tests",
        "size": len(data),
        "quant": "F16",
        "sha256": hashlib.sha256(data).hexdigest(),
        "url": url,
        "roles": ["chat", "autocomplete"],
        "min_ram_gb": 1,
        **overrides,
    }


def write_catalogue(folder: Path, models: list[dict[str, Any]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "catalogue.json").write_text(json.dumps({"models": models}), encoding="utf-8")
    return folder
