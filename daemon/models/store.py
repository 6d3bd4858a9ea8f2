"""The model store: GGUF files plus ``manifest.json`` in the models directory.

Every import is hashed while it is copied to a temp file, checked, and only then renamed into
place; the manifest is rewritten atomically. The active model is never deleted or half-replaced.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from daemon.errors import ModelNotFoundError, StoreError
from daemon.files import BytesCallback, atomic_path, copy_hashed, sha256_file, write_atomic
from daemon.models.gguf_info import read_gguf_info

MANIFEST = "manifest.json"


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

    def _save(self, manifest: Manifest) -> None:
        self.models_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        payload = {
            "active": manifest.active,
            "models": [{**asdict(m), "roles": list(m.roles)} for m in manifest.models],
        }
        write_atomic(self.manifest_path, json.dumps(payload, indent=2), mode=0o600)

    def path_of(self, entry: ModelEntry) -> Path:
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
    ) -> ModelEntry:
        """Copy ``source`` into the store (hash-checked, atomic) and record it in the manifest."""
        info = read_gguf_info(source)
        entry_name = sanitize_name(name or info.name or source.stem)
        target = self.models_dir / f"{entry_name}.gguf"
        self.models_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        digest, size = self._copy_in(source, target, expected_sha256, progress)
        entry = ModelEntry(
            name=entry_name,
            file=target.name,
            size=size,
            sha256=digest,
            quant=info.quant,
            context_length=info.context_length,
            fim_format=info.fim_format.name if info.fim_format else None,
            source=str(source),
        )
        self._register(entry, activate)
        return entry

    def adopt(
        self,
        file: Path,
        *,
        name: str,
        sha256: str,
        activate: bool = False,
        source: str = "",
    ) -> ModelEntry:
        """Register ``file``, already in the models dir and hashed by the caller, without a copy.

        Meant for finished downloads: the downloader hashes every byte as it writes it, so the
        file is not read twice. The file is renamed into place only once it reads as a GGUF.
        """
        if file.resolve().parent != self.models_dir.resolve():
            raise StoreError(
                f"{file} is not in the models folder {self.models_dir}; import it instead."
            )
        info = read_gguf_info(file)
        entry_name = sanitize_name(name)
        target = self.models_dir / f"{entry_name}.gguf"
        size = file.stat().st_size
        os.replace(file, target)
        entry = ModelEntry(
            name=entry_name,
            file=target.name,
            size=size,
            sha256=sha256.lower(),
            quant=info.quant,
            context_length=info.context_length,
            fim_format=info.fim_format.name if info.fim_format else None,
            source=source,
        )
        self._register(entry, activate)
        return entry

    def _register(self, entry: ModelEntry, activate: bool) -> None:
        manifest = self.load()
        models = (*(m for m in manifest.models if m.name != entry.name), entry)
        active = entry.name if activate or manifest.active is None else manifest.active
        self._save(Manifest(models=models, active=active))

    def _copy_in(
        self,
        source: Path,
        target: Path,
        expected_sha256: str | None,
        progress: BytesCallback | None,
    ) -> tuple[str, int]:
        """Copy ``source`` to ``target`` through a temp file, hash-checked; (sha256, size)."""
        try:
            with atomic_path(target, mode=0o600, prefix=".import-") as tmp:
                digest = copy_hashed(source, tmp, progress)
                if expected_sha256 and digest != expected_sha256.lower():
                    raise StoreError(
                        f"{source} has sha256 {digest}, expected {expected_sha256}; not imported."
                    )
                size = tmp.stat().st_size
        except OSError as exc:
            raise StoreError(f"Could not copy {source} into {self.models_dir}: {exc}.") from exc
        return digest, size

    def activate(self, name: str) -> ModelEntry:
        manifest = self.load()
        entry = manifest.find(name)
        if entry is None:
            raise ModelNotFoundError(f"No model named {name!r} is installed.")
        self._save(replace(manifest, active=name))
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
        manifest = self.load()
        entry = manifest.find(name)
        if entry is None:
            raise ModelNotFoundError(f"No model named {name!r} is installed.")
        is_active = manifest.active == name
        if is_active and not allow_active:
            raise StoreError(
                f"{name} is the active model; activate another model before deleting it."
            )
        remaining = tuple(m for m in manifest.models if m.name != name)
        active = manifest.active if not is_active else _newest_name(remaining)
        left = Manifest(models=remaining, active=active)
        self._save(left)
        if not any(m.file == entry.file for m in remaining):
            with contextlib.suppress(FileNotFoundError):
                self.path_of(entry).unlink()
        return left


def _newest_name(models: tuple[ModelEntry, ...]) -> str | None:
    if not models:
        return None
    return max(models, key=lambda m: m.imported_at).name
