"""Helpers shared by the compiler-check tests: the corpus and installing the fake bbjcpl."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
CORPUS_DIR = HERE / "corpus" / "valid"
FAKE_BBJCPL_SOURCE = HERE.parent / "support" / "fake_bbjcpl.py"

posix_only = pytest.mark.skipif(os.name != "posix", reason="the fake bbjcpl is a shebang script")


def corpus_files() -> list[Path]:
    return sorted(CORPUS_DIR.glob("*.bbj"))


def install_fake_bbjcpl(folder: Path, name: str = "bbjcpl") -> Path:
    """Copy the fake bbjcpl into ``folder`` as an executable running this Python."""
    folder.mkdir(parents=True, exist_ok=True)
    body = FAKE_BBJCPL_SOURCE.read_text(encoding="utf-8").split("\n", 1)[1]
    target = folder / name
    target.write_text(f"#!{sys.executable}\n{body}", encoding="utf-8")
    target.chmod(0o755)
    return target
