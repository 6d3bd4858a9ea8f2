"""Hot reload: watch the config file, the model store and the served model file.

A change to any of them triggers the same reload as ``POST /v1/admin/reload``; temp files
written during an import or download are ignored, so a half-copied model is never loaded.
"""

from __future__ import annotations

import logging
from pathlib import Path

from daemon.server.reload import reload_runtime
from daemon.server.runtime import Runtime

log = logging.getLogger("bbj_coder")
TEMP_MARKERS = (".part", ".tmp", ".import-", ".manifest-", ".download-")


def watched_paths(runtime: Runtime) -> list[Path]:
    """Directories to watch (watching a directory survives files being replaced by rename)."""
    dirs = {runtime.paths.models_dir}
    if runtime.config_path is not None:
        dirs.add(runtime.config_path.parent)
    if runtime.slot.path is not None:
        dirs.add(runtime.slot.path.parent)
    return sorted({d.resolve() for d in dirs if d.is_dir()})


def is_relevant(runtime: Runtime, changed: Path) -> bool:
    if any(marker in changed.name for marker in TEMP_MARKERS):
        return False
    changed = changed.resolve()
    interesting = [
        runtime.paths.models_dir / "manifest.json",
        runtime.config_path,
        runtime.slot.path,
    ]
    return any(path is not None and changed == path.resolve() for path in interesting)


async def watch_and_reload(runtime: Runtime, debounce_ms: int = 400) -> None:
    """Run until cancelled; each batch of relevant changes causes one reload."""
    from watchfiles import awatch

    paths = watched_paths(runtime)
    if not paths:
        return
    log.info("watching %s for changes", ", ".join(map(str, paths)))
    async for changes in awatch(*paths, debounce=debounce_ms, recursive=False):
        if not any(is_relevant(runtime, Path(path)) for _, path in changes):
            continue
        try:
            result = await reload_runtime(runtime)
        except Exception:  # the watcher must outlive any one bad change
            log.exception("hot reload failed; still serving %s", runtime.model_name)
            continue
        if result.changed:
            log.info("hot reload: now serving %s", runtime.model_name)
