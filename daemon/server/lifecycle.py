"""Start-up and shutdown of ``bbj-coder serve``: lock, token, model, backend, HTTP server."""

from __future__ import annotations

import asyncio
import logging
import logging.handlers
import os
import signal
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from daemon import __version__
from daemon.config import Config
from daemon.errors import ModelNotFoundError
from daemon.instance import DaemonState, InstanceLock, read_state
from daemon.paths import AppPaths
from daemon.server.loader import load_slot, resolve_model
from daemon.server.runtime import Runtime
from daemon.server.security import load_or_create_token
from daemon.server.watch import watch_and_reload
from daemon.workspace import Workspace, WorkspaceError, open_workspace

log = logging.getLogger("bbj_coder")


@dataclass(frozen=True)
class ServeOptions:
    config: Config
    paths: AppPaths
    demo: bool = False
    config_path: Path | None = None
    flags: Mapping[str, object] = field(default_factory=dict)


def setup_logging(paths: AppPaths, level: str) -> None:
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    stderr = logging.StreamHandler(sys.stderr)
    stderr.setFormatter(formatter)
    handlers: list[logging.Handler] = [stderr]
    paths.logs_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    file_handler = logging.handlers.RotatingFileHandler(
        paths.log_file, maxBytes=5_000_000, backupCount=3, encoding="utf-8"
    )
    file_handler.setFormatter(formatter)
    handlers.append(file_handler)
    root = logging.getLogger("bbj_coder")
    root.handlers[:] = handlers
    root.setLevel(level.upper())
    root.propagate = False


async def serve(options: ServeOptions) -> int:
    """Run until SIGINT/SIGTERM. Returns the process exit status."""
    import uvicorn

    from daemon.server.api import create_app

    paths, server_cfg = options.paths, options.config.server
    paths.ensure()
    lock = InstanceLock(paths.lock_file, paths.state_file)
    if not lock.acquire():
        state = read_state(paths.state_file)
        where = f"at {state.url} (pid {state.pid})" if state else "(its state file is unreadable)"
        print(f"bbj-coder is already running {where}.")
        return 0
    try:
        setup_logging(paths, server_cfg.log_level)
        _sweep_store(paths)
        try:
            name, path = resolve_model(options.config, paths, options.demo)
        except ModelNotFoundError as exc:
            print(f"bbj-coder: {exc}", file=sys.stderr)
            return 2
        runtime = Runtime(
            config=options.config,
            paths=paths,
            token=load_or_create_token(paths.token_file),
            slot=await load_slot(options.config, name, path, paths.models_dir),
            demo=options.demo,
            config_path=options.config_path,
            flags=dict(options.flags),
        )
        runtime.workspace = _open_workspace(options.config, paths)
        app = create_app(runtime)
        config = uvicorn.Config(
            app,
            host=server_cfg.host,
            port=server_cfg.port,
            log_level="warning",
            access_log=False,
            lifespan="off",
        )
        server = _server_class()(config)
        background = [
            asyncio.create_task(
                _publish_when_started(server, lock, server_cfg.host, server_cfg.port)
            )
        ]
        if server_cfg.watch:
            background.append(asyncio.create_task(watch_and_reload(runtime)))
        if runtime.workspace is not None:
            background.append(asyncio.create_task(_run_workspace(runtime.workspace)))
        try:
            await server.serve()
        finally:
            for task in background:
                task.cancel()
            await runtime.close()
            if runtime.workspace is not None:
                runtime.workspace.close()
        return 0 if server.started else 1
    finally:
        lock.release()


def _sweep_store(paths: AppPaths) -> None:
    """Temp files of imports and manifest writes that were killed never become anything."""
    from daemon.models.store import ModelStore

    for path in ModelStore(paths.models_dir).sweep_stale():
        log.info("removed %s, left by an interrupted import", path.name)


def _open_workspace(config: Config, paths: AppPaths) -> Workspace | None:
    """The workspace index, or None (a broken index file is logged, never fatal)."""
    try:
        return open_workspace(config.workspace, paths.cache_dir)
    except WorkspaceError as exc:
        log.warning("workspace index unavailable: %s", exc)
        return None


async def _run_workspace(workspace: Workspace) -> None:
    """Build the index in a worker thread, then follow file changes when asked to."""
    try:
        await workspace.build()
        if workspace.settings.watch:
            await workspace.watch()
    except (WorkspaceError, OSError) as exc:
        workspace.failure = str(exc)
        log.warning("workspace index stopped: %s", exc)
    except Exception as exc:
        workspace.failure = f"the index build failed unexpectedly ({type(exc).__name__}: {exc})"
        log.exception("workspace index stopped")


def _server_class() -> type:
    import uvicorn

    class DaemonServer(uvicorn.Server):
        """uvicorn re-raises SIGTERM after a graceful shutdown; we finish our own cleanup
        (model closed, lock and state file released) and exit 0 instead."""

        def handle_exit(self, sig: int, frame: object) -> None:
            super().handle_exit(sig, frame)  # type: ignore[arg-type]
            self._captured_signals.clear()

    return DaemonServer


async def _publish_when_started(server: object, lock: InstanceLock, host: str, port: int) -> None:
    while not getattr(server, "started", False):
        await asyncio.sleep(0.02)
    lock.publish(
        DaemonState(
            pid=os.getpid(), host=host, port=port, version=__version__, started_at=time.time()
        )
    )
    log.info("listening on http://%s:%d", host, port)


def stop_daemon(paths: AppPaths, timeout_s: float = 10.0) -> str:
    from daemon.instance import wait_for_exit

    state = read_state(paths.state_file)
    if state is None:
        return "bbj-coder is not running."
    os.kill(state.pid, signal.SIGTERM)
    if wait_for_exit(state.pid, timeout_s):
        return f"Stopped bbj-coder (pid {state.pid})."
    return f"bbj-coder (pid {state.pid}) did not stop within {timeout_s:.0f} s."
