"""Human-readable sizes, rates and durations for the screens."""

from __future__ import annotations

from daemon.models.download import format_size
from daemon.setup.doctor import format_duration

__all__ = ["format_duration", "format_eta", "format_rate", "format_size", "format_transfer"]


def format_rate(bytes_per_s: float) -> str:
    return f"{format_size(bytes_per_s)}/s"


def format_eta(seconds: float | None) -> str:
    return "estimating…" if seconds is None else f"{format_duration(seconds)} left"


def format_transfer(done: int, total: int, rate: float, eta_s: float | None) -> str:
    """``1.2 GB of 4.1 GB · 35.0 MB/s · 1 min left``."""
    parts = [f"{format_size(done)} of {format_size(total)}"]
    if rate > 0:
        parts.append(format_rate(rate))
    if done < total:
        parts.append(format_eta(eta_s))
    return " · ".join(parts)
