"""Turns "N more bytes" callbacks (store import, sha256) into throttled Transfer reports."""

from __future__ import annotations

import time
from collections.abc import Callable

from tui.messages import Transfer

REPORT_INTERVAL_S = 0.1


class ByteMeter:
    def __init__(self, label: str, total: int, report: Callable[[Transfer], None]) -> None:
        self.label = label
        self.total = total
        self.done = 0
        self._report = report
        self._started = time.monotonic()
        self._last = 0.0

    def advance(self, count: int) -> None:
        self.done += count
        now = time.monotonic()
        if now - self._last >= REPORT_INTERVAL_S or self.done >= self.total:
            self._last = now
            self._report(self.current(now))

    def current(self, now: float | None = None) -> Transfer:
        elapsed = (now or time.monotonic()) - self._started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        eta = (self.total - self.done) / rate if rate > 0 else None
        return Transfer(self.label, self.done, self.total, rate, eta)
