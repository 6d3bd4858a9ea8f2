"""Where built-in checks run: never on the event loop.

Small programs are parsed in a worker thread. A large one would hold the GIL for tens of
milliseconds, and every event-loop step waits for the GIL meanwhile, so programs from
``LARGE_PROGRAM_CHARS`` up go to one spawned worker process (spawned, not forked: the daemon
has threads and a loaded model). Starting the process, pickling and waiting all happen in the
worker thread too. If the process cannot be started or dies, the check runs in the thread.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

logger = logging.getLogger("bbj_coder.check")

LARGE_PROGRAM_CHARS = 8_000
"""From about 250 lines (2-3 ms of parsing) a program is checked in the worker process."""

T = TypeVar("T")


class ProcessPool:
    """One lazily spawned worker process shared by every check of this daemon."""

    def __init__(self) -> None:
        self._executor: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def run(self, function: Callable[[str], T], argument: str) -> T:
        """Run ``function(argument)`` in the worker process (blocking: call from a thread)."""
        with self._lock:
            if self._executor is None:
                context = multiprocessing.get_context("spawn")
                self._executor = ProcessPoolExecutor(max_workers=1, mp_context=context)
            executor = self._executor
        return executor.submit(function, argument).result()

    def reset(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)


POOL = ProcessPool()


def run_elsewhere(function: Callable[[str], T], code: str, fallback: Callable[[str], T]) -> T:
    """``function(code)`` in the worker process for a large program, else ``fallback(code)``
    here (this is already a worker thread)."""
    if len(code) < LARGE_PROGRAM_CHARS:
        return fallback(code)
    try:
        return POOL.run(function, code)
    except (BrokenProcessPool, OSError, RuntimeError) as error:
        logger.warning("the checker process failed (%s); checking in a thread instead", error)
        POOL.reset()
        return fallback(code)
