"""What the Models screen does, without any widgets: the store is the single source of truth.

Every operation answers with a sentence for the status line; failures raise
:class:`~daemon.errors.BbjCoderError` subclasses whose text says what to do.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from daemon.errors import BbjCoderError, ModelExistsError, StoreError, os_error_as
from daemon.files import BytesCallback, sha256_file
from daemon.models.catalogue import CATALOGUE_ENV, Catalogue, CatalogueEntry, load_catalogue
from daemon.models.download import ProgressCallback, check_free_space, download_model
from daemon.models.store import Manifest, ModelStore
from daemon.paths import AppPaths
from daemon.progress import format_size
from tui.daemon_link import reload_daemon

NO_CATALOGUE = (
    f"No catalogue configured: start with `bbj-coder tui --catalogue URL|DIR` or set "
    f"{CATALOGUE_ENV}; you can still import a .gguf file below."
)


class ModelsService:
    def __init__(self, paths: AppPaths, catalogue_location: str | None) -> None:
        self.paths = paths
        self.store = ModelStore(paths.models_dir)
        self.catalogue_location = catalogue_location
        self.catalogue: Catalogue | None = None

    def manifest(self) -> Manifest:
        return self.store.load()

    async def load_catalogue(self) -> str:
        """Read the catalogue; a sentence naming where it came from."""
        if not self.catalogue_location:
            return NO_CATALOGUE
        self.catalogue = await load_catalogue(self.catalogue_location, lenient=True)
        count = len(self.catalogue.entries)
        sentence = f"Catalogue {self.catalogue_location}: {count} model{'s' * (count != 1)}."
        if problems := self.catalogue.problems:
            skipped = len(problems)
            sentence += (
                f" {skipped} entr{'ies were' if skipped != 1 else 'y was'} skipped: {problems[0]}"
            )
        return sentence

    def catalogue_entry(self, name: str) -> CatalogueEntry:
        entry = self.catalogue.find(name) if self.catalogue else None
        if entry is None:
            raise StoreError(f"{name} is not in the catalogue; refresh it with g.")
        return entry

    async def download(self, name: str, progress: ProgressCallback, cancel: asyncio.Event) -> str:
        entry = self.catalogue_entry(name)
        installed = self.manifest().find(name)
        if installed is not None and installed.sha256 == entry.sha256:
            return f"{name} is already installed; {self._next_step(name)}"
        await download_model(entry, self.store, progress=progress, cancel=cancel)
        return f"Downloaded {name} and checked its sha256; {self._next_step(name)}"

    def _next_step(self, name: str) -> str:
        if self.manifest().active == name:
            return "it is the active model."
        return "press a to make it active."

    async def activate(self, name: str) -> str:
        with os_error_as(StoreError):
            entry = await asyncio.to_thread(self.store.activate, name)
        return f"{entry.name} is active. {await reload_daemon(self.paths, entry.name)}"

    async def delete(self, name: str) -> str:
        was_active = self.manifest().active == name
        with os_error_as(StoreError):
            left = await asyncio.to_thread(self.store.delete, name, allow_active=True)
        if not was_active:
            return f"Deleted {name}."
        if left.active is None:
            return (
                f"Deleted {name}; no model is active now, so download or import one. The daemon "
                "keeps serving the old one until it restarts."
            )
        return f"Deleted {name}; {left.active} is active now. " + await reload_daemon(
            self.paths, left.active
        )

    def import_file(self, typed_path: str, progress: BytesCallback) -> str:
        """Copy a .gguf into the store (blocking: run it in a thread)."""
        source = _existing_gguf(typed_path)
        with os_error_as(StoreError):
            size = source.stat().st_size
            self.store.models_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            check_free_space(self.store.models_dir, size, f"Importing {source.name}")
            had_active = self.manifest().active is not None
            try:
                entry = self.store.import_file(source, activate=False, progress=progress)
            except ModelExistsError as exc:
                raise StoreError(
                    f"{str(exc).split(';')[0]}; delete it first to import this file again."
                ) from exc
        if had_active:
            return f"Imported {entry.name} ({format_size(size)}); press a to make it active."
        return f"Imported {entry.name} ({format_size(size)}); it is the active model now."

    def verify(self, name: str, progress: BytesCallback) -> str:
        """Hash an installed model's file again (blocking: run it in a thread)."""
        entry = self.manifest().find(name)
        if entry is None:
            raise StoreError(f"No model named {name} is installed; refresh the list with g.")
        path = self.store.path_of(entry)
        if not path.is_file():
            raise StoreError(f"The file of {name} is missing; download or import it again.")
        with os_error_as(StoreError):
            same_size = path.stat().st_size == entry.size
            intact = same_size and sha256_file(path, progress) == entry.sha256
        if not intact:
            raise StoreError(
                f"{name} has changed since it was installed (sha256 differs); download or "
                "import it again."
            )
        return f"{name} verified: its sha256 matches the manifest."


def _existing_gguf(typed_path: str) -> Path:
    text = typed_path.strip().strip("'\"")
    if not text:
        raise BbjCoderError("Type the path of a .gguf file, then press Enter.")
    path = Path(text).expanduser()
    if not path.is_file():
        raise BbjCoderError(f"There is no file at {path}; check the path and try again.")
    return path
