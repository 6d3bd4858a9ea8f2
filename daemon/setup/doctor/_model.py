"""The active model: present, the size and sha256 it was imported with, and being served."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from daemon.errors import StoreError
from daemon.files import sha256_file, write_atomic
from daemon.models.store import ModelEntry, ModelStore
from daemon.progress import format_size
from daemon.setup.doctor._base import CheckOutcome, DoctorContext, display_path

REIMPORT_ADVICE = (
    "Download or import the model again (TUI Models screen, or `bbj-coder model import "
    "FILE.gguf`), or activate another installed model."
)


class HashCache:
    """sha256 of model files, keyed by (path, size, mtime): multi-GB files are hashed once.

    Hashing runs in a thread; results persist in ``file`` (when given) across runs.
    """

    def __init__(self, file: Path | None = None) -> None:
        self.file = file
        self._known: dict[str, dict[str, Any]] = self._read()

    def _read(self) -> dict[str, dict[str, Any]]:
        if self.file is None:
            return {}
        try:
            data = json.loads(self.file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    async def sha256(self, path: Path) -> str:
        stat = path.stat()
        key, stamp = str(path.resolve()), {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
        known = self._known.get(key)
        if isinstance(known, dict) and {k: known.get(k) for k in stamp} == stamp:
            return str(known["sha256"])
        digest = await asyncio.to_thread(sha256_file, path)
        self._known[key] = {**stamp, "sha256": digest}
        self._write()
        return digest

    def _write(self) -> None:
        if self.file is None:
            return
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            write_atomic(self.file, json.dumps(self._known))
        except OSError:
            pass  # a cache that cannot be written only costs time on the next run


async def verify_entry(store: ModelStore, entry: ModelEntry, hashes: HashCache) -> str | None:
    """None when the file is the one that was imported, else a sentence saying what differs."""
    try:
        path = store.path_of(entry)
    except StoreError as exc:  # a manifest entry pointing outside the store
        return str(exc)
    if not path.is_file():
        return f"the file of {entry.name} ({display_path(path)}) is missing"
    size = path.stat().st_size
    if size != entry.size:
        return (
            f"the file of {entry.name} is {format_size(size)} but was {format_size(entry.size)} "
            "when imported (truncated or replaced)"
        )
    if await hashes.sha256(path) != entry.sha256:
        return f"the file of {entry.name} has changed since it was imported (sha256 differs)"
    return None


def _describe_entry(entry: ModelEntry) -> str:
    return (
        f"{entry.name} ({entry.quant}, {format_size(entry.size)}, context "
        f"{entry.context_length}), sha256 verified"
    )


def _served_elsewhere(served: dict[str, Any]) -> CheckOutcome:
    return CheckOutcome(
        "Model",
        "ok",
        f"serving {served.get('name')} ({served.get('quant')}, context "
        f"{served.get('context_length')}) from a file outside the model store; sha256 not "
        "checked",
    )


async def check_model(ctx: DoctorContext, hashes: HashCache) -> CheckOutcome:
    store = ModelStore(ctx.paths.models_dir)
    try:
        manifest = store.load()
    except StoreError as exc:
        return CheckOutcome(
            "Model",
            "fail",
            str(exc),
            "Move manifest.json out of the models folder and import the models again.",
        )
    health = ctx.health or {}
    if health.get("model_error"):
        summary = f"the daemon cannot use its model: {health['model_error']}"
        return CheckOutcome("Model", "fail", summary, REIMPORT_ADVICE)
    served = health.get("model")
    entry = manifest.find(manifest.active) if manifest.active else None
    if health.get("demo"):
        return _demo_outcome(entry)
    if entry is None:
        if served:
            return _served_elsewhere(served)
        return CheckOutcome(
            "Model",
            "fail",
            "no model is installed",
            "Download one on the TUI's Models screen or run `bbj-coder model import FILE.gguf`.",
        )
    problem = await verify_entry(store, entry, hashes)
    if problem is not None:
        return CheckOutcome("Model", "fail", problem, REIMPORT_ADVICE)
    return _compare_with_served(entry, health)


def _demo_outcome(entry: ModelEntry | None) -> CheckOutcome:
    """Demo mode is pinned: the store's active model is not served, whatever it is."""
    summary = (
        "demo mode (serve --demo): the daemon serves the tiny demo model, whose output is "
        "meaningless, and ignores the model store"
    )
    if entry is None:
        return CheckOutcome(
            "Model",
            "warn",
            summary,
            "Import a model (`bbj-coder model import FILE.gguf`), then restart the daemon "
            "without --demo.",
        )
    return CheckOutcome(
        "Model",
        "warn",
        f"{summary} (installed and active: {entry.name})",
        "Restart the daemon without --demo to serve the installed model.",
    )


def _compare_with_served(entry: ModelEntry, health: dict[str, Any]) -> CheckOutcome:
    summary = _describe_entry(entry)
    served = health.get("model")
    if served and served.get("name") != entry.name:
        return CheckOutcome(
            "Model",
            "warn",
            f"{summary}, but the daemon still serves {served.get('name')}",
            "Activate the model again on the Models screen (that reloads the daemon), or "
            "restart the daemon.",
        )
    if health.get("reload_error"):
        return CheckOutcome("Model", "warn", str(health["reload_error"]), REIMPORT_ADVICE)
    return CheckOutcome("Model", "ok", summary)
