"""The shared helpers: all-or-nothing writes, file hashes, and the one rate/ETA meter."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest

from daemon.files import atomic_path, hash_file, sha256_file, staged_directory, write_atomic
from daemon.progress import RateMeter, format_duration, format_size


def test_write_atomic_replaces_the_file_and_leaves_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "state.json"
    write_atomic(target, "one")
    write_atomic(target, b"two\r\n")
    assert target.read_bytes() == b"two\r\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["state.json"]


def test_a_failed_write_keeps_the_old_file_and_removes_the_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "manifest.json"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half", encoding="utf-8")
        raise RuntimeError("interrupted")
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["manifest.json"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_a_given_mode_is_applied_exactly(tmp_path: Path) -> None:
    target = tmp_path / "config.yaml"
    write_atomic(target, "x", mode=0o640)
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    write_atomic(target, "y", mode=0o600)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_staged_directory_replaces_the_whole_directory_or_nothing(tmp_path: Path) -> None:
    target = tmp_path / "adapter"
    target.mkdir()
    (target / "old.bin").write_bytes(b"old")
    with pytest.raises(RuntimeError), staged_directory(target) as staging:
        staging.mkdir()
        (staging / "new.bin").write_bytes(b"half")
        raise RuntimeError("interrupted")
    assert [p.name for p in tmp_path.iterdir()] == ["adapter"]
    assert [p.name for p in target.iterdir()] == ["old.bin"]
    with staged_directory(target) as staging:
        staging.mkdir()
        (staging / "new.bin").write_bytes(b"new")
    assert [p.name for p in target.iterdir()] == ["new.bin"]
    assert [p.name for p in tmp_path.iterdir()] == ["adapter"]


def test_hashes_match_hashlib_and_report_every_byte(tmp_path: Path) -> None:
    data = os.urandom(3 * (1 << 20) + 5)
    path = tmp_path / "model.gguf"
    path.write_bytes(data)
    seen: list[int] = []
    assert sha256_file(path, seen.append) == hashlib.sha256(data).hexdigest()
    assert sum(seen) == len(data)
    prefix = hash_file(path, length=(1 << 20) + 7)
    assert prefix.hexdigest() == hashlib.sha256(data[: (1 << 20) + 7]).hexdigest()
    assert hash_file(path, length=0).hexdigest() == hashlib.sha256().hexdigest()


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_rate_and_time_left_since_the_start() -> None:
    clock = FakeClock()
    meter = RateMeter(1000, clock=clock)
    assert meter.rate == 0.0 and meter.eta_s is None
    clock.now += 2
    meter.advance(100)
    clock.now += 2
    meter.advance(100)
    assert meter.rate == pytest.approx(50.0)
    assert meter.eta_s == pytest.approx(16.0)


def test_a_window_measures_only_the_recent_rate() -> None:
    clock = FakeClock()
    meter = RateMeter(10_000, window_s=5.0, clock=clock)
    for _ in range(10):  # 10 units/s for 10 s ...
        clock.now += 1
        meter.advance(10)
    for _ in range(10):  # ... then 100 units/s
        clock.now += 1
        meter.advance(100)
    assert meter.rate == pytest.approx(100.0)


def test_reports_are_throttled_but_the_end_is_always_reported() -> None:
    clock = FakeClock()
    reports: list[float] = []
    meter = RateMeter(100, clock=clock, report=lambda m: reports.append(m.done))
    for _ in range(10):
        clock.now += 0.01
        meter.advance(5)
    assert reports == [5]
    clock.now += 0.01
    meter.advance(50)
    assert reports == [5, 100]
    meter.restart()
    assert meter.done == 0 and meter.rate == 0.0


def test_sizes_and_durations_read_the_same_everywhere() -> None:
    assert format_size(999) == "999 B"
    assert format_size(35e6) == "35.0 MB"
    assert format_duration(45) == "45 s"
    assert format_duration(74) == "1 min"
    assert format_duration(2 * 3600 + 5 * 60) == "2 h 5 min"
    assert format_duration(27 * 3600) == "1 d 3 h"
