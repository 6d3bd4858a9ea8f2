"""Resolve, load and hot-swap the served model.

A :class:`ModelSlot` is everything tied to one loaded model; the runtime swaps slots with a single
assignment, so a request sees either the old model or the new one, never a mix. The old slot's
backend is closed in the background once its queued generations have finished.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from daemon.backends.base import Backend
from daemon.backends.llama import LlamaBackend, LlamaOptions
from daemon.config import Config
from daemon.errors import BackendError, ModelError
from daemon.fim_service import FimService
from daemon.paths import AppPaths
from daemon.store import ModelStore
from fim import format_by_name

log = logging.getLogger("bbj_coder")
DEMO_MODEL_NAME = "bbj-coder-demo"
EMBEDDED_REASON = "embedded llama.cpp (llama-cpp-python) is the default backend"


@dataclass(frozen=True)
class ModelSlot:
    name: str
    path: Path | None
    backend: Backend | None = None
    fim: FimService | None = None
    error: str | None = None
    reason: str = ""


def resolve_model(config: Config, paths: AppPaths, demo: bool) -> tuple[str, Path]:
    """(name, GGUF path) to serve; ModelNotFoundError says how to get one when there is none."""
    if demo:
        from daemon.tinymodel import build_tiny_model

        log.warning(
            "DEMO MODE: serving a tiny randomly initialised model. Its output is "
            "meaningless; it only shows the whole path working."
        )
        return DEMO_MODEL_NAME, build_tiny_model(paths.demo_dir).gguf_path
    return ModelStore(paths.models_dir).resolve(config.model.path)


async def load_slot(config: Config, name: str, path: Path) -> ModelSlot:
    """Load ``path``; a model that fails to load gives a slot that says why (no exception)."""
    forced = None if config.model.fim_format == "auto" else format_by_name(config.model.fim_format)
    backend = LlamaBackend(
        LlamaOptions(
            model_path=path,
            n_ctx=config.model.n_ctx,
            n_threads=config.model.n_threads,
            n_gpu_layers=config.model.n_gpu_layers,
            fim_format=forced,
            model_name=name,
        )
    )
    try:
        await backend.start()
    except (ModelError, BackendError) as exc:
        log.error("model %s could not be loaded: %s", path, exc)
        await backend.close()
        return ModelSlot(name=name, path=path, error=str(exc), reason=EMBEDDED_REASON)
    fim = None
    if backend.fim_format is not None:
        fim = FimService(backend, backend.fim_format, config.fim, backend.n_ctx)
    else:
        log.warning("%s has no FIM tokens; tab completion is disabled", path)
    log.info("serving %s (%s) from %s", name, backend.info().quant, path)
    return ModelSlot(name=name, path=path, backend=backend, fim=fim, reason=EMBEDDED_REASON)
