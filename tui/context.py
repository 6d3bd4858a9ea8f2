"""Everything the screens need from the outside world, injected so tests can replace it."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from daemon.launcher import LaunchResult
from daemon.models.catalogue import CATALOGUE_ENV
from daemon.paths import AppPaths, app_paths
from daemon.setup.doctor import CheckOutcome, HashCache, OutcomeCallback, run_doctor
from tui.daemon_link import start_daemon

DoctorRunner = Callable[[OutcomeCallback], Awaitable[list[CheckOutcome]]]
DaemonStarter = Callable[[AppPaths], Awaitable[LaunchResult]]


@dataclass(frozen=True)
class TuiContext:
    paths: AppPaths
    run_checks: DoctorRunner
    start_daemon: DaemonStarter = start_daemon
    catalogue: str | None = None
    """A catalogue URL or bundle folder; None shows how to configure one."""
    log_poll_s: float = 0.5


def doctor_runner(paths: AppPaths) -> DoctorRunner:
    """All checks, with one sha256 cache for the session so re-runs are instant."""
    hashes = HashCache(paths.cache_dir / "sha256-cache.json")

    async def run(on_outcome: OutcomeCallback) -> list[CheckOutcome]:
        return await run_doctor(paths, hashes=hashes, on_outcome=on_outcome)

    return run


def default_context(catalogue: str | None = None) -> TuiContext:
    paths = app_paths()
    location = catalogue or os.environ.get(CATALOGUE_ENV, "").strip() or None
    return TuiContext(paths=paths, run_checks=doctor_runner(paths), catalogue=location)
