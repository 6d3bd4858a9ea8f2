"""The Models screen: catalogue, downloads, import, activate, verify and delete.

The model store is the single source of truth: every action goes through it and the tables are
redrawn from it afterwards (and whenever its manifest changes on disk).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static
from textual.worker import Worker

from daemon.errors import BbjCoderError
from daemon.models.download import DownloadCancelledError, DownloadProgress
from daemon.progress import RateMeter, format_size
from tui.context import TuiContext
from tui.messages import StoreChanged, Transfer, TransferEnded, TransferUpdated
from tui.model_rows import catalogue_rows, installed_rows
from tui.models_service import ModelsService
from tui.screens.confirm import ConfirmScreen
from tui.widgets.model_tables import CatalogueTable, InstalledTable
from tui.widgets.nav_bar import NavBar
from tui.widgets.status_line import StatusLine
from tui.widgets.transfer_panel import TransferPanel

MANIFEST_POLL_S = 2.0
CANCEL_GRACE_S = 2.0


class ModelsScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("d", "download", "Download"),
        Binding("c", "cancel", "Cancel"),
        Binding("a", "activate", "Activate"),
        Binding("x", "delete", "Delete"),
        Binding("v", "verify", "Verify"),
        Binding("i", "focus_import", "Import"),
        Binding("g", "refresh", "Refresh"),
        Binding("escape", "leave_input", "Back", show=False),
    ]

    def __init__(self, context: TuiContext) -> None:
        super().__init__(id="models")
        self.service = ModelsService(context.paths, context.catalogue)
        self._cancel = asyncio.Event()
        self._download_worker: Worker[None] | None = None
        self._manifest_stamp: int | None = None

    def compose(self) -> ComposeResult:
        yield NavBar("models")
        yield StatusLine("Reading the catalogue…", id="catalogue-source")
        yield CatalogueTable(id="catalogue")
        yield Static("", id="catalogue-detail")
        yield InstalledTable(id="installed")
        yield TransferPanel(id="transfer")
        yield Input(
            placeholder="Import: path to a .gguf file, then Enter (i)",
            id="import-path",
            compact=True,
        )
        yield StatusLine("", id="models-status")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one(CatalogueTable).focus()
        self.refresh_tables()
        self._load_catalogue()
        self.set_interval(MANIFEST_POLL_S, self._refresh_if_store_changed)

    # ------------------------------------------------------------------------- tables
    def refresh_tables(self) -> None:
        try:
            manifest = self.service.manifest()
        except BbjCoderError as exc:
            self._say(str(exc), failed=True)
            return
        self._manifest_stamp = self._store_stamp()
        models_dir = self.service.store.models_dir
        catalogue = self.service.catalogue
        self.query_one(CatalogueTable).show(catalogue_rows(catalogue, manifest, models_dir))
        self.query_one(InstalledTable).show(installed_rows(manifest))
        self._show_detail()

    def _store_stamp(self) -> int | None:
        try:
            return self.service.store.manifest_path.stat().st_mtime_ns
        except OSError:
            return None

    def _refresh_if_store_changed(self) -> None:
        if self._store_stamp() != self._manifest_stamp:
            self.refresh_tables()

    def _show_detail(self) -> None:
        name = self.query_one(CatalogueTable).selected_name()
        catalogue = self.service.catalogue
        entry = catalogue.find(name) if catalogue and name else None
        text = f"{entry.description} ({', '.join(entry.roles)})" if entry else ""
        self.query_one("#catalogue-detail", Static).update(text)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "catalogue":
            self._show_detail()

    @work(exclusive=True, group="catalogue")
    async def _load_catalogue(self) -> None:
        source = self.query_one("#catalogue-source", StatusLine)
        try:
            sentence = await self.service.load_catalogue()
            catalogue = self.service.catalogue
            source.say(sentence, failed=bool(catalogue and catalogue.problems))
        except BbjCoderError as exc:
            source.say(str(exc), failed=True)
        self.refresh_tables()

    def _say(self, sentence: str, *, failed: bool = False) -> None:
        self.query_one("#models-status", StatusLine).say(sentence, failed=failed)

    def on_store_changed(self, message: StoreChanged) -> None:
        if message.sentence:
            self._say(message.sentence, failed=message.failed)
        self.refresh_tables()

    # ---------------------------------------------------------------------- transfers
    def _transfer_running(self) -> bool:
        return any(w.is_running for w in self.workers if w.group == "transfer")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel":
            return self._download_worker is not None and self._download_worker.is_running
        return True

    def on_transfer_updated(self, message: TransferUpdated) -> None:
        self.query_one(TransferPanel).show(message.transfer)

    def on_transfer_ended(self, message: TransferEnded) -> None:
        self.query_one(TransferPanel).hide()
        self._download_worker = None
        self.refresh_bindings()
        self.post_message(StoreChanged(message.sentence, failed=message.failed))

    def _busy(self) -> bool:
        if self._transfer_running():
            self._say("Wait for the current transfer to finish, or cancel a download with c.")
            return True
        return False

    def action_download(self) -> None:
        name = self.query_one(CatalogueTable).selected_name()
        if name is None:
            self._say("The catalogue is empty; configure one, or import a .gguf file below.")
            return
        if self._busy():
            return
        self._cancel = asyncio.Event()
        self._say(f"Downloading {name}; press c to cancel (it resumes later).")
        self._download_worker = self._download(name)
        self.refresh_bindings()

    @work(exclusive=True, group="transfer")
    async def _download(self, name: str) -> None:
        def progress(p: DownloadProgress) -> None:
            transfer = Transfer(f"Downloading {name}", p.done, p.total, p.rate, p.eta_s)
            self.post_message(TransferUpdated(transfer))

        try:
            sentence = await self.service.download(name, progress, self._cancel)
        except BbjCoderError as exc:
            failed = not isinstance(exc, DownloadCancelledError)
            self.post_message(TransferEnded(str(exc), failed=failed))
            return
        except asyncio.CancelledError:
            self.post_message(TransferEnded(f"The download of {name} was stopped; d resumes it."))
            raise
        self.post_message(TransferEnded(sentence))

    def action_cancel(self) -> None:
        worker = self._download_worker
        if worker is None or not worker.is_running:
            return
        self._cancel.set()
        self._say("Cancelling the download…")
        # A stalled connection delivers no chunk that would notice the flag: stop it outright.
        self.set_timer(CANCEL_GRACE_S, lambda: worker.cancel() if worker.is_running else None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "import-path" or self._busy():
            return
        self._say("Importing…")
        self._import(event.value)

    @work(thread=True, exclusive=True, group="transfer")
    def _import(self, typed_path: str) -> None:
        path = Path(typed_path.strip().strip("'\"")).expanduser()
        total = path.stat().st_size if path.is_file() else 0
        meter = self._meter(f"Importing {path.name}", total)
        try:
            sentence = self.service.import_file(typed_path, meter.advance)
        except BbjCoderError as exc:
            self.post_message(TransferEnded(str(exc), failed=True))
            return
        self.app.call_from_thread(self._clear_import_path)
        self.post_message(TransferEnded(sentence))

    def _meter(self, label: str, total: int) -> RateMeter:
        """Counts the bytes of an import or hash check and posts them as a Transfer."""

        def report(meter: RateMeter) -> None:
            transfer = Transfer(label, int(meter.done), total, meter.rate, meter.eta_s)
            self.post_message(TransferUpdated(transfer))

        return RateMeter(total, report=report)

    def _clear_import_path(self) -> None:
        self.query_one("#import-path", Input).value = ""
        self.query_one(InstalledTable).focus()

    def action_verify(self) -> None:
        name = self._installed_selection()
        if name is None or self._busy():
            return
        entry = self.service.manifest().find(name)
        self._say(f"Checking the sha256 of {name}…")
        self._verify(name, entry.size if entry else 0)

    @work(thread=True, exclusive=True, group="transfer")
    def _verify(self, name: str, size: int) -> None:
        meter = self._meter(f"Verifying {name}", size)
        try:
            sentence = self.service.verify(name, meter.advance)
        except BbjCoderError as exc:
            self.post_message(TransferEnded(str(exc), failed=True))
            return
        self.post_message(TransferEnded(sentence))

    # ------------------------------------------------------------------ store actions
    def _installed_selection(self) -> str | None:
        name = self.query_one(InstalledTable).selected_name()
        if name is None:
            self._say("No model is installed yet; download one (d) or import a .gguf file (i).")
        return name

    def action_activate(self) -> None:
        name = self._installed_selection()
        if name is None:
            return
        self._say(f"Activating {name} and reloading the daemon…")
        self._activate(name)

    @work(exclusive=True, group="store")
    async def _activate(self, name: str) -> None:
        try:
            self.post_message(StoreChanged(await self.service.activate(name)))
        except BbjCoderError as exc:
            self.post_message(StoreChanged(str(exc), failed=True))

    def action_delete(self) -> None:
        name = self._installed_selection()
        if name is None:
            return
        manifest = self.service.manifest()
        entry = manifest.find(name)
        size = format_size(entry.size) if entry else "?"
        question = f"Delete {name} ({size})? Its file is removed from the models folder."
        if manifest.active == name:
            others = [m.name for m in manifest.models if m.name != name]
            after = "another installed model becomes active" if others else "no model is left"
            question = f"{name} is the ACTIVE model: after deleting it {after}. {question}"

        def answered(confirmed: bool | None) -> None:
            if confirmed:
                self._delete(name)
            else:
                self._say(f"Kept {name}.")

        self.app.push_screen(ConfirmScreen(question), answered)

    @work(exclusive=True, group="store")
    async def _delete(self, name: str) -> None:
        try:
            self.post_message(StoreChanged(await self.service.delete(name)))
        except BbjCoderError as exc:
            self.post_message(StoreChanged(str(exc), failed=True))

    # ------------------------------------------------------------------------- misc
    def action_focus_import(self) -> None:
        self.query_one("#import-path", Input).focus()

    def action_leave_input(self) -> None:
        self.query_one(CatalogueTable).focus()

    def action_refresh(self) -> None:
        self._load_catalogue()
