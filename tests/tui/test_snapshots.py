"""How each screen looks, as SVG snapshots (``--snapshot-update`` rewrites them).

Everything rendered is fixed: fake check results, a hand-written manifest and catalogue, and
paths relative to a temporary working directory, so no clock, pid or temp path shows.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot

from daemon.paths import AppPaths, app_paths
from tests.tui.tui_support import make_app, settle
from tui.messages import Transfer, TransferUpdated

SnapCompare = Callable[..., bool]
BIG, SMALL = 4_683_073_536, 1_117_320_736


@pytest.fixture
def relative_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AppPaths:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BBJ_CODER_HOME", "home")
    paths = app_paths()
    paths.ensure()
    return paths


def _catalogue_entry(name: str, size: int, sha: str, description: str, ram: int) -> dict:
    return {
        "name": name,
        "description": description,
        "size": size,
        "quant": "Q4_K_M",
        "sha256": sha * 64,
        "url": f"{name}.gguf",
        "roles": ["chat", "autocomplete"],
        "min_ram_gb": ram,
    }


def _installed_entry(name: str, size: int, sha: str) -> dict:
    return {
        "name": name,
        "file": f"{name}.gguf",
        "size": size,
        "sha256": sha * 64,
        "quant": "Q4_K_M",
        "context_length": 32768,
        "fim_format": "qwen2.5-coder",
        "roles": ["chat", "autocomplete"],
        "source": "bundle",
        "imported_at": 1.0,
    }


@pytest.fixture
def model_world(relative_home: AppPaths) -> AppPaths:
    """A bundle of three models: one active, one installed, one half downloaded."""
    bundle = Path("bundle")
    bundle.mkdir()
    models = [
        _catalogue_entry("bbj-coder-7b", BIG, "a", "Qwen2.5-Coder 7B tuned for BBj", 8),
        _catalogue_entry("bbj-coder-1.5b", SMALL, "b", "Small and fast, for laptops", 4),
        _catalogue_entry("bbj-coder-3b", 1_930_000_000, "c", "The middle ground", 6),
    ]
    (bundle / "catalogue.json").write_text(json.dumps({"models": models}))
    manifest = {
        "active": "bbj-coder-1.5b",
        "models": [
            _installed_entry("bbj-coder-1.5b", SMALL, "b"),
            _installed_entry("bbj-coder-3b", 1_930_000_000, "c"),
        ],
    }
    (relative_home.models_dir / "manifest.json").write_text(json.dumps(manifest))
    with open(relative_home.models_dir / f"bbj-coder-7b-{'a' * 12}.gguf.part", "wb") as part:
        part.truncate(BIG * 45 // 100)  # sparse: only the size matters
    return relative_home


async def _settled(pilot: Pilot[int]) -> None:
    await settle(pilot)


def test_health_screen_dark(snap_compare: SnapCompare, relative_home: AppPaths) -> None:
    assert snap_compare(make_app(relative_home), terminal_size=(80, 24), run_before=_settled)


def test_health_screen_light(snap_compare: SnapCompare, relative_home: AppPaths) -> None:
    app = make_app(relative_home)
    assert snap_compare(app, press=["t"], terminal_size=(80, 24), run_before=_settled)


def test_models_screen_with_a_download_running(
    snap_compare: SnapCompare, model_world: AppPaths
) -> None:
    async def downloading(pilot: Pilot[int]) -> None:
        await settle(pilot)
        transfer = Transfer("Downloading bbj-coder-7b", BIG * 45 // 100, BIG, 35e6, 74.0)
        pilot.app.screen.post_message(TransferUpdated(transfer))
        await pilot.pause()

    app = make_app(model_world, screen="models", catalogue="bundle")
    assert snap_compare(app, terminal_size=(100, 30), run_before=downloading)


def test_models_screen_at_80_columns(snap_compare: SnapCompare, model_world: AppPaths) -> None:
    app = make_app(model_world, screen="models", catalogue="bundle")
    assert snap_compare(app, terminal_size=(80, 24), run_before=_settled)


def test_delete_confirmation_for_the_active_model(
    snap_compare: SnapCompare, model_world: AppPaths
) -> None:
    app = make_app(model_world, screen="models", catalogue="bundle")
    assert snap_compare(app, press=["tab", "x"], terminal_size=(80, 24), run_before=_settled)


def test_logs_screen(snap_compare: SnapCompare, relative_home: AppPaths) -> None:
    relative_home.log_file.write_text(
        "2025-01-01 10:00:00,001 INFO bbj_coder: serving bbj-coder-1.5b (Q4_K_M)\n"
        "2025-01-01 10:00:00,002 INFO bbj_coder: listening on http://127.0.0.1:11435\n"
        "2025-01-01 10:05:12,345 WARNING bbj_coder: FIM time budget reached\n"
        "2025-01-01 10:07:00,000 ERROR bbj_coder: model x could not be loaded\n"
    )
    app = make_app(relative_home, screen="logs")
    assert snap_compare(app, terminal_size=(80, 24), run_before=_settled)
