"""Running every check concurrently, and ``bbj-coder doctor``'s text and JSON reports."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from dataclasses import asdict

from daemon.paths import AppPaths, app_paths
from daemon.setup.doctor._base import CHECK_NAMES, CheckOutcome, DoctorSettings, gather_context
from daemon.setup.doctor._continue import check_continue, continue_dir
from daemon.setup.doctor._daemon import check_backend, check_daemon, check_latency
from daemon.setup.doctor._machine import check_compiler, check_gpu, check_ollama, ollama_url
from daemon.setup.doctor._model import HashCache, check_model

OutcomeCallback = Callable[[CheckOutcome], None]


async def _guarded(name: str, check: Awaitable[CheckOutcome]) -> CheckOutcome:
    try:
        return await check
    except Exception as exc:  # a crashing check must not hide the others
        return CheckOutcome(
            name,
            "fail",
            f"the check itself failed: {type(exc).__name__}: {exc}",
            "Report this with the output of `bbj-coder doctor --json`.",
        )


async def _now(check: Callable[..., CheckOutcome], *args: object) -> CheckOutcome:
    """A check that needs no waiting, run when awaited so ``_guarded`` catches its errors."""
    return check(*args)


async def run_doctor(
    paths: AppPaths | None = None,
    *,
    settings: DoctorSettings | None = None,
    hashes: HashCache | None = None,
    on_outcome: OutcomeCallback | None = None,
) -> list[CheckOutcome]:
    """Run every check (concurrently); ``on_outcome`` hears each one as it finishes."""
    paths = paths or app_paths()
    settings = settings or DoctorSettings()
    hashes = hashes or HashCache(paths.cache_dir / "sha256-cache.json")
    ctx = await gather_context(paths, settings)
    checks: list[Awaitable[CheckOutcome]] = [
        _now(lambda: ctx.config_outcome),
        _now(check_daemon, ctx),
        _now(check_backend, ctx),
        check_model(ctx, hashes),
        check_compiler(ctx),
        check_gpu(ctx),
        check_ollama(ollama_url(settings.ollama_url)),
        _now(check_continue, ctx, continue_dir(settings.continue_dir)),
        check_latency(ctx, settings),
    ]

    async def run_one(name: str, check: Awaitable[CheckOutcome]) -> CheckOutcome:
        outcome = await _guarded(name, check)
        if on_outcome is not None:
            on_outcome(outcome)
        return outcome

    return list(await asyncio.gather(*map(run_one, CHECK_NAMES, checks)))


_LABELS = {"ok": "OK", "warn": "WARN", "fail": "FAIL", "skip": "SKIP"}


def render_text(outcomes: list[CheckOutcome]) -> str:
    width = max(len(o.name) for o in outcomes)
    lines = []
    for outcome in outcomes:
        lines.append(f"{_LABELS[outcome.verdict]:<5} {outcome.name:<{width}}  {outcome.summary}")
        if outcome.verdict != "ok" and outcome.advice:
            lines.append(f"{'':<5} {'':<{width}}  → {outcome.advice}")
    failures = sum(o.verdict == "fail" for o in outcomes)
    warnings = sum(o.verdict == "warn" for o in outcomes)
    lines.append("")
    lines.append(f"{failures} failed, {warnings} warnings, {len(outcomes)} checks.")
    return "\n".join(lines)


def render_json(outcomes: list[CheckOutcome]) -> str:
    ok = not any(o.verdict == "fail" for o in outcomes)
    return json.dumps({"ok": ok, "checks": [asdict(o) for o in outcomes]}, indent=2)


def run_doctor_command(as_json: bool = False) -> int:
    """``bbj-coder doctor [--json]``: print every check; exit 1 when any check failed."""
    outcomes = asyncio.run(run_doctor())
    print(render_json(outcomes) if as_json else render_text(outcomes))
    sys.stdout.flush()
    return 1 if any(o.verdict == "fail" for o in outcomes) else 0
