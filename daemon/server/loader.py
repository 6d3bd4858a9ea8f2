"""Resolve, load and hot-swap the served model.

A :class:`ModelSlot` is everything tied to one loaded model; the runtime swaps slots with a single
assignment, so a request sees either the old model or the new one, never a mix.
"""

from __future__ import annotations

import contextlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from daemon.backends.base import Backend
from daemon.backends.factory import build_backend
from daemon.backends.fallback import Attempt, FallbackBackend
from daemon.config import Config
from daemon.errors import BackendError, ModelError, ModelNotFoundError, StoreError
from daemon.models.store import ModelStore
from daemon.paths import AppPaths
from daemon.services.fim import FimService
from fim import format_by_name

log = logging.getLogger("bbj_coder")
DEMO_MODEL_NAME = "bbj-coder-demo"


@dataclass(frozen=True)
class FileIdentity:
    """Enough to notice that the file at a path was replaced."""

    inode: int
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path: Path | None) -> FileIdentity | None:
        try:
            stat = os.stat(path) if path is not None else None
        except OSError:
            return None
        return None if stat is None else cls(stat.st_ino, stat.st_size, stat.st_mtime_ns)


@dataclass(frozen=True)
class ModelSlot:
    name: str
    path: Path | None
    backend: Backend | None = None
    fim: FimService | None = None
    error: str | None = None
    reason: str = ""
    attempts: tuple[Attempt, ...] = ()
    identity: FileIdentity | None = None
    sha256: str | None = None


def needs_local_model(config: Config) -> bool:
    """Only the embedded backend (alone, or ``auto`` with no upstream) cannot do without one."""
    kind = config.backend.kind
    return kind == "llama" or (kind == "auto" and not config.backend.upstream_url)


def resolve_model(config: Config, paths: AppPaths, demo: bool) -> tuple[str, Path | None]:
    """(name, GGUF path) to serve; ModelNotFoundError says how to get one when there is none."""
    if demo:
        from daemon.models.tinymodel import build_tiny_model

        log.warning(
            "DEMO MODE: serving a tiny randomly initialised model. Its output is "
            "meaningless; it only shows the whole path working."
        )
        return DEMO_MODEL_NAME, build_tiny_model(paths.demo_dir).gguf_path
    try:
        return ModelStore(paths.models_dir).resolve(config.model.path)
    except ModelNotFoundError:
        if needs_local_model(config):
            raise
        return config.backend.upstream_model or "bbj-coder", None


def _reason(config: Config, backend: Backend) -> str:
    if isinstance(backend, FallbackBackend):
        return "; ".join(f"{a.backend}: {a.reason}" for a in backend.attempts())
    return f"backend.kind is {config.backend.kind}"


def _attempts(backend: Backend) -> tuple[Attempt, ...]:
    return tuple(backend.attempts()) if isinstance(backend, FallbackBackend) else ()


def recorded_sha256(models_dir: Path, path: Path | None) -> str | None:
    """The sha256 the model store recorded for ``path`` (None for files outside the store)."""
    if path is None or path.parent != models_dir:
        return None
    try:
        manifest = ModelStore(models_dir).load()
    except StoreError:
        return None
    entry = next((m for m in manifest.models if m.file == path.name), None)
    return entry.sha256 if entry else None


async def load_slot(
    config: Config, name: str, path: Path | None, models_dir: Path | None = None
) -> ModelSlot:
    """Load ``path`` on the configured backend; a failure gives a slot that says why."""
    backend = build_backend(config, name, path)
    identity = FileIdentity.of(path)
    sha256 = recorded_sha256(models_dir, path) if models_dir is not None else None
    try:
        await backend.start()
    except Exception as exc:
        if isinstance(exc, (ModelError, BackendError)):
            log.error("no backend could serve %s: %s", path or name, exc)
            error = str(exc)
        else:  # a library's own error: still the load-error path, never a crashed daemon
            log.error("loading %s failed", path or name, exc_info=exc)
            error = f"{path or name} could not be loaded: {type(exc).__name__}: {exc}"
        with contextlib.suppress(Exception):
            await backend.close()
        return ModelSlot(
            name=name,
            path=path,
            error=error,
            reason=_reason(config, backend),
            attempts=_attempts(backend),
            identity=identity,
            sha256=sha256,
        )
    info = backend.info()
    fim = None
    if info.fim_format is not None:
        fim = FimService(backend, format_by_name(info.fim_format), config.fim, info.context_length)
    else:
        log.warning("%s has no FIM tokens; tab completion is disabled", path or name)
    log.info("serving %s (%s) on %s", name, info.quant, info.name)
    return ModelSlot(
        name=name,
        path=path,
        backend=backend,
        fim=fim,
        reason=_reason(config, backend),
        attempts=_attempts(backend),
        identity=identity,
        sha256=sha256,
    )
