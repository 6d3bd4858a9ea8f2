"""The model store: GGUF files plus ``manifest.json`` in the models directory.

Every import is hashed while it is copied to a private temp file, checked, and only then
renamed into place; the manifest is rewritten atomically. Every read-modify-write of the
manifest (CLI import, TUI, bundle setup, downloads) goes through :meth:`ModelStore._update`,
under one file lock, so concurrent writers never lose each other's changes. The active model is
never deleted or half-replaced: a replacement goes to a new file name and the old file is
removed only once the manifest names the new one. Store paths are confined: a manifest entry
whose ``file`` is not a plain file name in the models folder is refused, never followed.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from dataclasses import replace as dataclass_replace
from pathlib import Path

from daemon.errors import ModelExistsError, ModelNotFoundError, StoreError
from daemon.files import (
    BytesCallback,
    copy_hashed,
    file_lock,
    private_temp_beside,
    replace_synced,
    sha256_file,
    write_atomic,
)
from daemon.models.gguf_info import read_gguf_info
from daemon.progress import format_size

MANIFEST = "manifest.json"
LOCK_FILE = ".manifest.lock"
MODEL_FILE_MODE = 0o600
"""Imported and downloaded model files alike: the store is private to its user."""
STALE_TEMP_S = 15 * 60
"""A temp file untouched this long belongs to an import or write that was killed."""
SPACE_MARGIN = 1 << 20
"""Room kept free beyond the model itself, for the manifest rewrite."""
_TEMP_PREFIXES = (".import-", f".{MANIFEST}.", ".manifest-")
"""Temp files of imports and manifest writes (``.manifest-`` and ``.import-*.part``: older
versions' names); download ``.part`` files are named after the model and never match."""


@dataclass(frozen=True)
class ModelEntry:
    name: str
    file: str
    size: int
    sha256: str
    quant: str = "unknown"
    context_length: int = 0
    fim_format: str | None = None
    roles: tuple[str, ...] = ("chat", "autocomplete")
    source: str = ""
    imported_at: float = field(default_factory=time.time)


@dataclass(frozen=True)
class Manifest:
    models: tuple[ModelEntry, ...] = ()
    active: str | None = None

    def find(self, name: str) -> ModelEntry | None:
        return next((m for m in self.models if m.name == name), None)


def sanitize_name(text: str) -> str:
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", text.strip()).strip("-.").lower()
    return name or "model"


def model_name(text: str) -> str:
    """``text`` as a store name; refuses text with nothing usable in it (``.``, ``..``)."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", text.strip()).strip("-.").lower()
    if not name:
        raise StoreError(
            f"{text!r} is not a usable model name; give a name with letters or digits "
            "(and '.', '_' or '-')."
        )
    return name


def plain_file_name(file: str) -> bool:
    """True for a bare file name: no folder part, not ``.``/``..``, on any platform."""
    return bool(file) and file not in (".", "..") and not any(c in file for c in "/\\:\0")


class ModelStore:
    def __init__(self, models_dir: Path) -> None:
        self.models_dir = models_dir

    @property
    def manifest_path(self) -> Path:
        return self.models_dir / MANIFEST

    def load(self) -> Manifest:
        try:
            data = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return Manifest()
        except (OSError, ValueError) as exc:
            raise StoreError(
                f"The model manifest {self.manifest_path} is unreadable: {exc}."
            ) from exc
        if not isinstance(data, dict) or not isinstance(data.get("models", []), list):
            raise StoreError(f"The model manifest {self.manifest_path} is not a manifest object.")
        try:
            models = tuple(
                ModelEntry(**{**m, "roles": tuple(m.get("roles", ()))})
                for m in data.get("models", [])
            )
        except TypeError as exc:
            raise StoreError(
                f"The model manifest {self.manifest_path} has a bad entry: {exc}."
            ) from exc
        return Manifest(models=models, active=data.get("active"))

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.models_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            with file_lock(self.models_dir / LOCK_FILE):
                yield
        except TimeoutError as exc:
            raise StoreError(f"The model store is busy: {exc}; try again.") from exc

    def _update(self, change: Callable[[Manifest], Manifest]) -> Manifest:
        """The one writer: load, ``change`` and save the manifest under the store's lock."""
        with self._locked():
            manifest = change(self.load())
            self._save(manifest)
        return manifest

    def _save(self, manifest: Manifest) -> None:
        payload = {
            "active": manifest.active,
            "models": [{**asdict(m), "roles": list(m.roles)} for m in manifest.models],
        }
        try:
            write_atomic(self.manifest_path, json.dumps(payload, indent=2), mode=0o600)
        except OSError as exc:
            raise StoreError(
                f"Could not write the model manifest {self.manifest_path} ({exc.strerror or exc}); "
                "nothing was changed. Free up space or fix the folder's permissions and try again."
            ) from exc

    def path_of(self, entry: ModelEntry) -> Path:
        """The file of ``entry``, which must be a plain file name inside the models folder."""
        if not plain_file_name(entry.file):
            raise StoreError(
                f"The manifest entry {entry.name!r} names the file {entry.file!r}, which is not "
                f"a file in {self.models_dir}; it was not touched. Remove that entry from "
                f"{self.manifest_path}."
            )
        return self.models_dir / entry.file

    def resolve(self, name_or_path: str) -> tuple[str, Path]:
        """(model name, file) for a store name, a path to a .gguf, or "" for the active model."""
        manifest = self.load()
        if name_or_path:
            candidate = Path(name_or_path).expanduser()
            if candidate.suffix == ".gguf" or os.sep in name_or_path:
                if not candidate.is_file():
                    raise ModelNotFoundError(f"The model file {candidate} does not exist.")
                return sanitize_name(candidate.stem), candidate
            entry = manifest.find(name_or_path)
            if entry is None:
                known = ", ".join(m.name for m in manifest.models) or "none"
                raise ModelNotFoundError(
                    f"No model named {name_or_path!r} in {self.models_dir} (installed: {known})."
                )
            return entry.name, self.path_of(entry)
        if manifest.active and (entry := manifest.find(manifest.active)):
            return entry.name, self.path_of(entry)
        raise ModelNotFoundError(
            "No model is installed. Import one with `bbj-coder model import FILE.gguf`, or run "
            "`bbj-coder serve --demo` to try the whole path with a tiny demo model."
        )

    def import_file(
        self,
        source: Path,
        *,
        name: str | None = None,
        activate: bool = True,
        expected_sha256: str | None = None,
        progress: BytesCallback | None = None,
        replace: bool = False,
    ) -> ModelEntry:
        """Copy ``source`` into the store (hash-checked, atomic) and record it in the manifest.

        A name already installed is refused with :class:`ModelExistsError` unless ``replace``.
        """
        info = read_gguf_info(source)
        entry_name = model_name(name or info.name or source.stem)
        self._refuse_existing(self.load(), entry_name, replace)
        self.models_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.sweep_stale()
        try:
            needed = source.stat().st_size
        except OSError as exc:
            raise StoreError(f"Cannot read {source}: {exc.strerror or exc}.") from exc
        self.check_space(needed, f"Importing {source.name}")
        tmp, digest, size = self._copy_in(source, expected_sha256, progress)
        entry = ModelEntry(
            name=entry_name,
            file="",
            size=size,
            sha256=digest,
            quant=info.quant,
            context_length=info.context_length,
            fim_format=info.fim_format.name if info.fim_format else None,
            source=str(source),
        )
        return self._install(tmp, entry, activate=activate, replace=replace)

    def adopt(
        self,
        file: Path,
        *,
        name: str,
        sha256: str,
        activate: bool = False,
        source: str = "",
        replace: bool = True,
    ) -> ModelEntry:
        """Register ``file``, already in the models dir and hashed by the caller, without a copy.

        Meant for finished downloads: the downloader hashes every byte as it writes it, so the
        file is not read twice. The file is renamed into place only once it reads as a GGUF.
        A download of a catalogue model replaces an installed model of that name by default.
        """
        if file.resolve().parent != self.models_dir.resolve():
            raise StoreError(
                f"{file} is not in the models folder {self.models_dir}; import it instead."
            )
        info = read_gguf_info(file)
        entry = ModelEntry(
            name=model_name(name),
            file="",
            size=file.stat().st_size,
            sha256=sha256.lower(),
            quant=info.quant,
            context_length=info.context_length,
            fim_format=info.fim_format.name if info.fim_format else None,
            source=source,
        )
        return self._install(file, entry, activate=activate, replace=replace)

    def _refuse_existing(self, manifest: Manifest, name: str, replace: bool) -> ModelEntry | None:
        old = manifest.find(name)
        if old is not None and not replace:
            active = " (the active model)" if manifest.active == name else ""
            raise ModelExistsError(
                f"A model named {name!r} is already installed{active}; import with --replace "
                "to replace it, or choose another name with --name."
            )
        return old

    def _install(
        self, ready: Path, entry: ModelEntry, *, activate: bool, replace: bool
    ) -> ModelEntry:
        """Rename the checked file ``ready`` into place and record ``entry``, under the lock.

        The file gets a name no other entry uses, so replacing a model (even the active one)
        never overwrites the file being served; the old file goes once the manifest is saved.
        """
        try:
            with self._locked():
                manifest = self.load()
                old = self._refuse_existing(manifest, entry.name, replace)
                target = self._free_target(manifest, entry)
                os.chmod(ready, MODEL_FILE_MODE)
                replace_synced(ready, target)
                entry = dataclass_replace(entry, file=target.name)
                models = (*(m for m in manifest.models if m.name != entry.name), entry)
                active = entry.name if activate or manifest.active is None else manifest.active
                try:
                    self._save(Manifest(models=models, active=active))
                except StoreError:
                    target.unlink(missing_ok=True)
                    raise
        except OSError as exc:
            raise StoreError(
                f"Could not move {entry.name} into {self.models_dir}: {exc.strerror or exc}."
            ) from exc
        finally:
            ready.unlink(missing_ok=True)
        if (
            old is not None
            and old.file != entry.file
            and not any(m.file == old.file for m in models)
        ):
            self._remove_file(old)
        return entry

    def _free_target(self, manifest: Manifest, entry: ModelEntry) -> Path:
        used = {m.file for m in manifest.models}
        for file in (f"{entry.name}.gguf", f"{entry.name}-{entry.sha256[:12]}.gguf"):
            if file not in used and not (self.models_dir / file).exists():
                return self.models_dir / file
        return self.models_dir / f"{entry.name}-{entry.sha256[:12]}-{int(time.time())}.gguf"

    def _remove_file(self, entry: ModelEntry) -> None:
        # A model still mapped by a running daemon cannot be deleted on Windows: the manifest
        # no longer names it, so the next sweep by hand (or reinstall) is harmless.
        with contextlib.suppress(OSError, StoreError):
            self.path_of(entry).unlink()

    def check_space(self, needed: int, what: str) -> None:
        """Refuse, in a sentence naming both amounts, when the models folder lacks ``needed``."""
        free = shutil.disk_usage(self.models_dir).free
        if free < needed + SPACE_MARGIN:
            from daemon.models.download import InsufficientSpaceError

            raise InsufficientSpaceError(
                f"{what} needs {format_size(needed)} of free space in {self.models_dir}, but "
                f"only {format_size(free)} is free; free up space or choose a smaller model."
            )

    def sweep_stale(self, *, older_than_s: float = STALE_TEMP_S) -> list[Path]:
        """Remove temp files left by killed imports and manifest writes; returns them.

        Download ``.part`` files are kept: they resume. A temp file still being written is
        younger than ``older_than_s`` and is left alone.
        """
        removed: list[Path] = []
        cutoff = time.time() - older_than_s
        try:
            candidates = list(self.models_dir.iterdir())
        except OSError:
            return removed
        for path in candidates:
            if not path.name.startswith(_TEMP_PREFIXES):
                continue
            with contextlib.suppress(OSError):
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed.append(path)
        return removed

    def _copy_in(
        self,
        source: Path,
        expected_sha256: str | None,
        progress: BytesCallback | None,
    ) -> tuple[Path, str, int]:
        """Copy ``source`` to a private temp file, hash-checked; (temp file, sha256, size)."""
        tmp = private_temp_beside(self.manifest_path, prefix=".import-")
        try:
            digest = copy_hashed(source, tmp, progress)
            if expected_sha256 and digest != expected_sha256.lower():
                raise StoreError(
                    f"{source} has sha256 {digest}, expected {expected_sha256}; not imported."
                )
            size = tmp.stat().st_size
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise StoreError(
                f"Could not copy {source} into {self.models_dir}: {exc.strerror or exc}; "
                "nothing was imported."
            ) from exc
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return tmp, digest, size

    def activate(self, name: str) -> ModelEntry:
        def change(manifest: Manifest) -> Manifest:
            if manifest.find(name) is None:
                raise ModelNotFoundError(f"No model named {name!r} is installed.")
            return dataclass_replace(manifest, active=name)

        entry = self._update(change).find(name)
        assert entry is not None
        return entry

    def verify(self, entry: ModelEntry) -> bool:
        path = self.path_of(entry)
        return (
            path.is_file()
            and path.stat().st_size == entry.size
            and sha256_file(path) == entry.sha256
        )

    def delete(self, name: str, *, allow_active: bool = False) -> Manifest:
        """Remove a model's entry, then its file; returns the manifest left behind.

        The active model is refused unless ``allow_active`` (the user confirmed): then the most
        recently imported remaining model becomes active, or none when it was the last one.
        The manifest is rewritten first, so it never names a file that is gone.
        """
        removed: list[ModelEntry] = []

        def change(manifest: Manifest) -> Manifest:
            entry = manifest.find(name)
            if entry is None:
                raise ModelNotFoundError(f"No model named {name!r} is installed.")
            self.path_of(entry)  # refuse an entry pointing outside the store before any change
            is_active = manifest.active == name
            if is_active and not allow_active:
                raise StoreError(
                    f"{name} is the active model; activate another model before deleting it."
                )
            remaining = tuple(m for m in manifest.models if m.name != name)
            removed.append(entry)
            active = manifest.active if not is_active else _newest_name(remaining)
            return Manifest(models=remaining, active=active)

        left = self._update(change)
        entry = removed[0]
        if not any(m.file == entry.file for m in left.models):
            with contextlib.suppress(FileNotFoundError):
                self.path_of(entry).unlink()
        return left


def _newest_name(models: tuple[ModelEntry, ...]) -> str | None:
    if not models:
        return None
    return max(models, key=lambda m: m.imported_at).name
