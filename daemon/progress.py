"""Progress of long jobs: how fast they go, how long they have left, and how to say so.

One :class:`RateMeter` measures every rate and time left that bbj-coder shows (downloads,
imports and hash checks in the TUI, tokens and steps while training); sizes and durations are
written the same way everywhere.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

REPORT_INTERVAL_S = 0.1


def format_size(size: float) -> str:
    """``1.5 GB`` style (powers of 1000, as disk vendors and file managers count)."""
    for unit in ("B", "KB", "MB", "GB"):
        if abs(size) < 1000:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} TB"


def format_duration(seconds: float) -> str:
    """``45 s``, ``3 min``, ``2 h 5 min``, ``1 d 3 h``."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if hours == 0:
        return f"{minutes} min"
    if days == 0:
        return f"{hours} h {minutes % 60} min"
    return f"{days} d {hours % 24} h"


class RateMeter:
    """How fast ``done`` grows towards ``total``, and how long it has left.

    The rate is measured over the last ``window_s`` seconds (since the start when None). When
    ``report`` is given it is called with the meter as ``done`` grows: at most every
    ``interval_s`` seconds, and once ``done`` reaches ``total``.
    """

    def __init__(
        self,
        total: float,
        done: float = 0,
        *,
        window_s: float | None = None,
        report: Callable[[RateMeter], None] | None = None,
        interval_s: float = REPORT_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total = total
        self._clock = clock
        self.window_s = window_s
        self.interval_s = interval_s
        self._report = report
        self._last_report = float("-inf")
        self.restart(done)

    def restart(self, done: float = 0) -> None:
        """Measure again from ``done`` (a transfer that starts over)."""
        self.done = done
        self._samples: deque[tuple[float, float]] = deque([(self._clock(), done)])

    def advance(self, count: float) -> None:
        self.update(self.done + count)

    def update(self, done: float) -> None:
        self.done = done
        now = self._clock()
        samples = self._samples
        samples.append((now, done))
        if self.window_s is None:
            if len(samples) > 2:
                del samples[1]
        else:
            while len(samples) > 2 and now - samples[0][0] > self.window_s:
                samples.popleft()
        if now - self._last_report >= self.interval_s or done >= self.total:
            self.report()

    def report(self) -> None:
        """Call ``report`` now."""
        if self._report is not None:
            self._last_report = self._clock()
            self._report(self)

    @property
    def rate(self) -> float:
        """Units per second (0 until there is something to measure)."""
        (t0, d0), (t1, d1) = self._samples[0], self._samples[-1]
        return (d1 - d0) / (t1 - t0) if t1 > t0 else 0.0

    @property
    def eta_s(self) -> float | None:
        """Seconds left at the current rate; None while the rate is unknown."""
        rate = self.rate
        return max(self.total - self.done, 0) / rate if rate > 0 else None
