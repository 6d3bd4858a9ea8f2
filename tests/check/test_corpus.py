"""The valid corpus: realistic programs of every BBj generation must all pass (no false alarms)."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest

from daemon.check import BuiltinChecker, CheckResult
from tests.check.helpers import corpus_files

GENERATIONS = ("char", "vpro5", "gui", "dwc")


def test_corpus_is_large_and_covers_every_generation() -> None:
    files = corpus_files()
    assert len(files) >= 60
    per_generation = Counter(f.name.split("_", 1)[0] for f in files)
    assert set(per_generation) == set(GENERATIONS)
    assert min(per_generation.values()) >= 12


@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: p.name)
def test_corpus_file_is_realistic_in_size(path: Path) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    assert 20 <= len(lines) <= 150


@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: p.name)
def test_valid_program_passes(path: Path) -> None:
    result = BuiltinChecker().check_text(path.read_text(encoding="utf-8"))
    assert result.diagnostics == ()
    assert result.ok
    assert result.tool_error is None


def test_async_check_agrees_with_check_text() -> None:
    checker = BuiltinChecker()
    code = corpus_files()[0].read_text(encoding="utf-8") + "\nwend\n"

    async def both() -> tuple[CheckResult, CheckResult]:
        return await checker.check(code, filename="x.bbj"), checker.check_text(code)

    via_async, via_sync = asyncio.run(both())
    assert via_async.diagnostics == via_sync.diagnostics
    assert not via_sync.ok
