"""Checks that ask the running daemon: is it up, which backend, how fast a completion is."""

from __future__ import annotations

import secrets
import time

from daemon.client import DaemonClient, DaemonClientError
from daemon.progress import format_duration
from daemon.setup.doctor._base import (
    START_ADVICE,
    CheckOutcome,
    DoctorContext,
    DoctorSettings,
)


def check_daemon(ctx: DoctorContext) -> CheckOutcome:
    if ctx.state is None:
        return CheckOutcome("Daemon", "fail", "bbj-coder is not running", START_ADVICE)
    where = f"{ctx.state.url} (pid {ctx.state.pid})"
    if ctx.health is None:
        return CheckOutcome(
            "Daemon",
            "fail",
            f"bbj-coder at {where} does not answer: {ctx.health_error}",
            "Restart it with `bbj-coder stop` then `bbj-coder serve`; the Logs screen shows "
            "what it was doing.",
        )
    health = ctx.health
    summary = (
        f"running at {where}, version {health.get('version', '?')}, "
        f"up {format_duration(float(health.get('uptime_s', 0)))}"
    )
    if health.get("status") == "ok":
        return CheckOutcome("Daemon", "ok", summary)
    return CheckOutcome(
        "Daemon",
        "warn",
        f"{summary}, but degraded",
        "See the Backend and Model checks for what is wrong.",
    )


def check_backend(ctx: DoctorContext) -> CheckOutcome:
    if ctx.health is None:
        return CheckOutcome("Backend", "skip", "needs the daemon running", START_ADVICE)
    backend = ctx.health.get("backend") or {}
    name, reason = backend.get("name"), backend.get("reason") or ""
    if not name:
        problem = ctx.health.get("model_error") or reason or "no model is loaded"
        return CheckOutcome(
            "Backend",
            "fail",
            f"no backend is serving: {problem}",
            "Fix the problem shown under Model, then activate the model again or restart the "
            "daemon.",
        )
    return CheckOutcome("Backend", "ok", f"{name}: {reason}" if reason else str(name))


PROBE_SUFFIX = "\nnext i\nend\n"


def _probe_prefix() -> str:
    # A fresh comment each time, so the daemon's typed-ahead cache cannot answer instantly.
    return f"rem bbj-coder doctor probe {secrets.token_hex(4)}\nfor i = 1 to 10\n  print "


async def check_latency(ctx: DoctorContext, settings: DoctorSettings) -> CheckOutcome:
    health = ctx.health
    if health is None:
        return CheckOutcome("Latency", "skip", "needs the daemon running", START_ADVICE)
    if health.get("model_error") or not (health.get("backend") or {}).get("name"):
        return CheckOutcome("Latency", "skip", "needs a working model", "Fix the Model check.")
    if not (health.get("fim") or {}).get("available"):
        return CheckOutcome(
            "Latency",
            "warn",
            "the model has no fill-in-the-middle tokens, so there is no completion to time",
            "Use a code model with FIM tokens such as Qwen2.5-Coder, or set model.fim_format.",
        )
    started = time.perf_counter()
    try:
        async with DaemonClient(ctx.url, ctx.token, timeout=settings.probe_timeout_s) as client:
            result = await client.fim(
                _probe_prefix(), PROBE_SUFFIX, max_tokens=16, client="bbj-coder-doctor"
            )
    except DaemonClientError as exc:
        return CheckOutcome(
            "Latency",
            "fail",
            f"a probe completion failed: {exc}",
            "Look at the Logs screen (or the daemon log) for the error, then restart the daemon.",
        )
    return _latency_outcome(result.timings, time.perf_counter() - started, settings)


def _latency_outcome(
    timings: dict[str, float], total_s: float, settings: DoctorSettings
) -> CheckOutcome:
    tokens = int(timings.get("completion_tokens", 0))
    first = timings.get("first_token_ms")
    parts = [f"first token {first:.0f} ms"] if first is not None else []
    parts += [f"total {total_s * 1000:.0f} ms", f"{tokens} tokens at {tokens / total_s:.0f}/s"]
    if total_s * 1000 <= settings.slow_after_ms:
        return CheckOutcome("Latency", "ok", "healthy: " + ", ".join(parts))
    return CheckOutcome(
        "Latency",
        "warn",
        "slow: " + ", ".join(parts),
        "Use a smaller or more quantised model, offload to a GPU (model.n_gpu_layers = -1), or "
        "give the daemon more CPU threads (model.n_threads).",
    )
