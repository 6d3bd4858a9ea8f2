"""The Models screen: catalogue, download with progress, cancel/resume, import, activate, delete."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from textual.widgets import Input, ProgressBar

from daemon.models.catalogue import CatalogueEntry
from daemon.models.download import partial_bytes
from daemon.models.store import ModelStore
from daemon.models.tinymodel import TinyModel
from daemon.paths import AppPaths
from tests.conftest import start_daemon
from tests.tui.conftest import catalogue_model, write_catalogue
from tests.tui.http_fixtures import Behaviour, FileServer
from tests.tui.tui_support import make_app, settle, text_of
from tui.app import BbjCoderApp
from tui.messages import Transfer
from tui.models_service import NO_CATALOGUE
from tui.screens.confirm import ConfirmScreen
from tui.widgets.model_tables import CatalogueTable, InstalledTable
from tui.widgets.status_line import StatusLine
from tui.widgets.transfer_panel import TransferPanel

pytestmark = pytest.mark.asyncio


def _models_app(home: AppPaths, catalogue: str | None = None) -> BbjCoderApp:
    return make_app(home, screen="models", catalogue=catalogue)


def _status(app: BbjCoderApp) -> StatusLine:
    return app.screen.query_one("#models-status", StatusLine)


def _cells(table: CatalogueTable | InstalledTable) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


def _install(home: AppPaths, tiny_model: TinyModel, *names: str) -> ModelStore:
    store = ModelStore(home.models_dir)
    for name in names:
        store.import_file(tiny_model.gguf_path, name=name, activate=False)
    return store


@pytest.fixture
def served_catalogue(file_server: FileServer, tiny_bytes: bytes) -> str:
    file_server.files["/files/tiny.gguf"] = tiny_bytes
    file_server.json_routes["/catalogue.json"] = {
        "models": [catalogue_model("tiny", tiny_bytes, "files/tiny.gguf")]
    }
    return file_server.url("/catalogue.json")


async def test_catalogue_and_installed_models_are_listed(
    home: AppPaths, tiny_model: TinyModel, tiny_bytes: bytes, tmp_path: Path
) -> None:
    _install(home, tiny_model, "tiny")
    bundle = write_catalogue(
        tmp_path / "bundle",
        [
            catalogue_model("tiny", tiny_bytes, "tiny.gguf"),
            catalogue_model("bigger", b"x" * 2_000_000, "bigger.gguf", min_ram_gb=8),
        ],
    )
    app = _models_app(home, str(bundle))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        source = text_of(app.screen.query_one("#catalogue-source", StatusLine))
        assert source == f"Catalogue {bundle}: 2 models."
        assert _cells(app.screen.query_one(CatalogueTable)) == [
            ["tiny", "3.8 MB", "F16", "1 GB", "active"],
            ["bigger", "2.0 MB", "F16", "8 GB", "available"],
        ]
        installed = _cells(app.screen.query_one(InstalledTable))
        assert installed[0][:6] == ["●", "tiny", "3.8 MB", "F16", "8192", "qwen2.5-coder"]
        detail = text_of(app.screen.query_one("#catalogue-detail"))
        assert detail == "tiny for the tests (chat, autocomplete)"
        await pilot.press("down")
        assert text_of(app.screen.query_one("#catalogue-detail")).startswith("bigger for")


async def test_download_shows_real_progress_and_installs(
    home: AppPaths,
    served_catalogue: str,
    file_server: FileServer,
    tiny_bytes: bytes,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    file_server.behaviour["/files/tiny.gguf"] = Behaviour(piece_delay_s=0.005)
    shown: list[Transfer] = []
    real_show = TransferPanel.show

    def recording_show(panel: TransferPanel, transfer: Transfer) -> None:
        shown.append(transfer)
        real_show(panel, transfer)

    monkeypatch.setattr(TransferPanel, "show", recording_show)
    app = _models_app(home, served_catalogue)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        assert text_of(_status(app)) == (
            "Downloaded tiny and checked its sha256; it is the active model."
        )
        bar = app.screen.query_one(ProgressBar)
        assert bar.progress == bar.total == len(tiny_bytes)
        assert len(shown) >= 2 and [t.done for t in shown] == sorted(t.done for t in shown)
        assert shown[-1].done == shown[-1].total == len(tiny_bytes)
        assert not app.screen.query_one(TransferPanel).display
        assert _cells(app.screen.query_one(CatalogueTable))[0][-1] == "active"
        assert _cells(app.screen.query_one(InstalledTable))[0][1] == "tiny"
    assert ModelStore(home.models_dir).load().find("tiny") is not None


async def test_cancel_keeps_the_part_and_d_resumes(
    home: AppPaths, served_catalogue: str, file_server: FileServer, tiny_bytes: bytes
) -> None:
    file_server.behaviour["/files/tiny.gguf"] = Behaviour(piece_delay_s=0.05)
    app = _models_app(home, served_catalogue)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        entry: CatalogueEntry = screen.service.catalogue.entries[0]  # type: ignore[attr-defined]
        await pilot.press("d")
        for _ in range(500):  # bounded: a download that fails at once must not hang the test
            if partial_bytes(home.models_dir, entry) > 0:
                break
            await pilot.pause(0.02)
        else:
            raise AssertionError(f"the download never started: {text_of(_status(app))}")
        assert screen.query_one(TransferPanel).display
        await pilot.press("c")
        await settle(pilot)
        assert "cancelled at" in text_of(_status(app)) and "again to resume" in text_of(
            _status(app)
        )
        assert not _status(app).has_class("-failed")
        kept = partial_bytes(home.models_dir, entry)
        assert 0 < kept < len(tiny_bytes)
        state = _cells(screen.query_one(CatalogueTable))[0][-1]
        assert state == f"{100 * kept // len(tiny_bytes)} % downloaded"
        file_server.behaviour.clear()
        await pilot.press("d")
        await settle(pilot)
        assert file_server.requests[-1].range == f"bytes={kept}-"
        assert text_of(_status(app)).startswith("Downloaded tiny")
    assert (home.models_dir / "tiny.gguf").read_bytes() == tiny_bytes


async def test_a_failed_download_is_a_sentence(
    home: AppPaths, served_catalogue: str, file_server: FileServer
) -> None:
    file_server.behaviour["/files/tiny.gguf"] = Behaviour(status=404)
    app = _models_app(home, served_catalogue)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        assert "was not found on the server (404)" in text_of(_status(app))
        assert _status(app).has_class("-failed")
        assert _cells(app.screen.query_one(InstalledTable)) == []


async def test_activate_reloads_the_running_daemon(home: AppPaths, tiny_model: TinyModel) -> None:
    store = _install(home, tiny_model, "first", "second")
    running = start_daemon(home.models_dir.parent)
    try:
        app = _models_app(home)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            await pilot.press("tab", "down", "a")
            await settle(pilot)
            assert text_of(_status(app)) == "second is active. The daemon now serves second."
            assert _cells(app.screen.query_one(InstalledTable))[1][:2] == ["●", "second"]
        health = httpx.get(f"{running.url}/health", timeout=10).json()
        assert health["model"]["name"] == "second"
        assert store.load().active == "second"
    finally:
        running.stop()


async def test_activate_without_a_daemon(home: AppPaths, tiny_model: TinyModel) -> None:
    _install(home, tiny_model, "first", "second")
    app = _models_app(home)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("tab", "down", "a")
        await settle(pilot)
        assert text_of(_status(app)) == (
            "second is active. The daemon is not running; it will serve second when it starts."
        )


async def test_delete_asks_first_and_n_keeps_the_model(
    home: AppPaths, tiny_model: TinyModel
) -> None:
    store = _install(home, tiny_model, "first", "second")
    app = _models_app(home)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("tab", "down", "x")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert "ACTIVE" not in app.screen.question
        await pilot.press("n")
        await settle(pilot)
        assert text_of(_status(app)) == "Kept second."
        await pilot.press("x")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert text_of(_status(app)) == "Deleted second."
        assert [r[1] for r in _cells(app.screen.query_one(InstalledTable))] == ["first"]
    assert not (home.models_dir / "second.gguf").exists()
    assert [m.name for m in store.load().models] == ["first"]


async def test_deleting_the_active_model_needs_confirmation(
    home: AppPaths, tiny_model: TinyModel
) -> None:
    store = _install(home, tiny_model, "first", "second")
    app = _models_app(home)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("tab", "x")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert app.screen.question.startswith("first is the ACTIVE model")
        await pilot.click("#confirm-yes")
        await settle(pilot)
        assert text_of(_status(app)).startswith("Deleted first; second is active now.")
    assert store.load().active == "second"


async def test_import_from_a_path(home: AppPaths, tiny_model: TinyModel, tmp_path: Path) -> None:
    not_a_model = tmp_path / "notes.gguf"
    not_a_model.write_text("hello")
    app = _models_app(home)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        field = app.screen.query_one("#import-path", Input)

        async def submit(text: str) -> str:
            await pilot.press("i")
            field.value = text
            await pilot.press("enter")
            await settle(pilot)
            return text_of(_status(app))

        missing = await submit(str(tmp_path / "nope.gguf"))
        assert (
            missing
            == f"There is no file at {tmp_path / 'nope.gguf'}; check the path and try again."
        )
        assert "is not a GGUF model file" in await submit(str(not_a_model))
        assert _status(app).has_class("-failed")
        imported = await submit(f"'{tiny_model.gguf_path}'")
        assert imported == "Imported bbj-coder-tiny (3.8 MB); it is the active model now."
        assert field.value == ""
        assert _cells(app.screen.query_one(InstalledTable))[0][1] == "bbj-coder-tiny"


async def test_verify_rehashes_the_file(home: AppPaths, tiny_model: TinyModel) -> None:
    store = _install(home, tiny_model, "tiny")
    app = _models_app(home)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        assert text_of(_status(app)) == "tiny verified: its sha256 matches the manifest."
        path = store.models_dir / "tiny.gguf"
        data = bytearray(path.read_bytes())
        data[-1] ^= 0xFF
        path.write_bytes(bytes(data))
        await pilot.press("v")
        await settle(pilot)
        assert text_of(_status(app)).startswith("tiny has changed since it was installed")
        assert _status(app).has_class("-failed")


async def test_without_a_catalogue_the_screen_says_how_to_get_one(home: AppPaths) -> None:
    app = _models_app(home)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert text_of(app.screen.query_one("#catalogue-source", StatusLine)) == NO_CATALOGUE
        await pilot.press("d")
        assert text_of(_status(app)).startswith("The catalogue is empty")
        await pilot.press("a")
        assert text_of(_status(app)).startswith("No model is installed yet")


async def test_a_broken_catalogue_names_the_field(home: AppPaths, tmp_path: Path) -> None:
    bundle = write_catalogue(tmp_path / "b", [{"name": "m", "size": 3}])
    app = _models_app(home, str(bundle))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        source = app.screen.query_one("#catalogue-source", StatusLine)
        assert "models[0] ('m'): field \"sha256\" is missing; fix that entry" in text_of(source)
        assert source.has_class("-failed")


async def test_g_picks_up_changes_made_elsewhere(home: AppPaths, tiny_model: TinyModel) -> None:
    app = _models_app(home)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert _cells(app.screen.query_one(InstalledTable)) == []
        _install(home, tiny_model, "from-the-cli")
        await pilot.press("g")
        await settle(pilot)
        assert _cells(app.screen.query_one(InstalledTable))[0][1] == "from-the-cli"
