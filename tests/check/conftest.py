"""Fixtures for the compiler-check tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.check.helpers import install_fake_bbjcpl


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No real BBj install and no fake settings leak into a test."""
    for name in list(os.environ):
        if name.startswith("FAKE_BBJCPL_") or name == "BBJ_HOME":
            monkeypatch.delenv(name)
    empty_bin = tmp_path / "empty-path"
    empty_bin.mkdir()
    monkeypatch.setenv("PATH", str(empty_bin))


@pytest.fixture
def fake_bbjcpl(tmp_path: Path) -> Path:
    """An executable fake bbjcpl at ``<tmp>/bbj/bin/bbjcpl``."""
    return install_fake_bbjcpl(tmp_path / "bbj" / "bin")
