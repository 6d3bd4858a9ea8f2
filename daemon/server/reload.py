"""Reload the config file and the active model without restarting or failing in-flight requests.

Anything invalid (a broken config, a missing or corrupt model) keeps what is being served and
is reported: in the reload's answer, the log and ``/health``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from daemon.check import select_checker
from daemon.config import Config, load_config
from daemon.errors import BbjCoderError
from daemon.server.loader import FileIdentity, ModelSlot, load_slot, resolve_model
from daemon.server.runtime import Runtime
from daemon.services.fim import FimService

log = logging.getLogger("bbj_coder")


@dataclass(frozen=True)
class ReloadResult:
    changed: bool
    error: str | None = None
    notes: tuple[str, ...] = ()
    """What the reload could not apply (``[workspace]`` is read once, at start)."""


WORKSPACE_NEEDS_RESTART = (
    "[workspace] changed; the workspace index keeps the settings it started with until the "
    "daemon restarts (bbj-coder stop, then bbj-coder serve)"
)


async def reload_runtime(runtime: Runtime) -> ReloadResult:
    """One reload at a time: the watcher and an explicit request may ask for the same change."""
    async with runtime.reload_lock:
        return await _reload(runtime)


async def _reload(runtime: Runtime) -> ReloadResult:
    try:
        config = load_config(runtime.config_path, flags=runtime.flags).config
        name, path = resolve_model(config, runtime.paths, runtime.demo)
    except BbjCoderError as exc:
        return _failed(runtime, f"Reload refused, still serving {runtime.model_name}: {exc}")
    same_file = path == runtime.slot.path and FileIdentity.of(path) == runtime.slot.identity
    if same_file and config == runtime.config and runtime.model_error is None:
        runtime.reload_error = None
        return ReloadResult(changed=False)
    same_model = (
        same_file
        and (config.model, config.backend) == (runtime.config.model, runtime.config.backend)
        and runtime.model_error is None
    )
    if same_model:
        slot = _with_new_settings(runtime.slot, config)  # no second copy of the weights
    else:
        slot = await load_slot(config, name, path, runtime.paths.models_dir)
    if slot.error is not None and runtime.backend is not None:
        return _failed(runtime, f"Reload refused, still serving {runtime.model_name}: {slot.error}")
    if config.check != runtime.config.check:
        check = config.check
        runtime.checker = select_checker(
            check.checker, check.bbjcpl or None, check.timeout_s, retry_s=check.bbjcpl_retry_s
        )
    notes: tuple[str, ...] = ()
    if config.workspace != runtime.config.workspace:
        notes = (WORKSPACE_NEEDS_RESTART,)
        log.warning("%s", WORKSPACE_NEEDS_RESTART)
    runtime.config = config
    runtime.swap(slot)
    runtime.reload_error = None
    log.info("reloaded: now serving %s from %s", name, path)
    return ReloadResult(changed=True, notes=notes)


def _with_new_settings(slot: ModelSlot, config: Config) -> ModelSlot:
    """The same loaded model with FIM settings from ``config`` (chat/check ones are read live)."""
    if slot.fim is None:
        return slot
    fim = FimService(slot.fim.backend, slot.fim.fmt, config.fim, slot.fim.n_ctx)
    return replace(slot, fim=fim)


def _failed(runtime: Runtime, message: str) -> ReloadResult:
    log.error("%s", message)
    runtime.reload_error = message
    return ReloadResult(changed=False, error=message)
