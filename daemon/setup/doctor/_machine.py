"""Checks of this machine: the compiler check, GPU offload and a fallback Ollama."""

from __future__ import annotations

import asyncio
import os
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from daemon.setup.doctor._base import CheckOutcome, DoctorContext

if TYPE_CHECKING:
    from daemon.check import CheckResult

OLLAMA_URL = "http://127.0.0.1:11434"

GOOD_PROBE = 'rem bbj-coder doctor probe\nlet greeting$ = "hello"\nprint greeting$\nend\n'

BROKEN_PROBE = 'rem bbj-coder doctor probe\nprint "unterminated\nend\n'


async def check_compiler(ctx: DoctorContext) -> CheckOutcome:
    from daemon.check import BbjcplChecker, CheckError, select_checker

    settings = ctx.config.check
    served = str((ctx.health or {}).get("checker") or "")
    if "unhealthy" in served:
        return CheckOutcome(
            "Compiler check",
            "warn",
            f"the daemon uses the {served}",
            "Check that bbjcpl finishes (try `bbjcpl -N file.bbj` by hand) or raise "
            "check.timeout_s; the daemon retries it on its own.",
        )
    try:
        checker = select_checker(settings.checker, settings.bbjcpl or None, settings.timeout_s)
    except CheckError as exc:
        return CheckOutcome("Compiler check", "fail", str(exc), "Set check.checker to auto.")
    good = await checker.check(GOOD_PROBE, "doctor-probe.bbj")
    broken = await checker.check(BROKEN_PROBE, "doctor-probe.bbj")
    if isinstance(checker, BbjcplChecker):
        return _bbjcpl_outcome(str(checker.executable), good, broken)
    if not (good.ok and not broken.ok):
        return CheckOutcome(
            "Compiler check",
            "fail",
            "the built-in checker gave wrong verdicts on the probe programs",
            "Reinstall bbj-coder; the built-in checker is damaged.",
        )
    if settings.checker == "builtin":
        return CheckOutcome("Compiler check", "ok", "built-in checker (chosen in the config)")
    return CheckOutcome(
        "Compiler check",
        "warn",
        "bbjcpl not found; the built-in checker is in use",
        "Install BBj on this machine, or set check.bbjcpl (or BBJ_HOME) to its bbjcpl, so code "
        "is checked by the real compiler.",
    )


def _bbjcpl_outcome(executable: str, good: CheckResult, broken: CheckResult) -> CheckOutcome:
    problem = good.tool_error or broken.tool_error
    if problem:
        return CheckOutcome(
            "Compiler check",
            "fail",
            problem,
            "Check the BBj installation (try `bbjcpl -N file.bbj` by hand) or point "
            "check.bbjcpl at a working bbjcpl.",
        )
    if good.ok and not broken.ok:
        return CheckOutcome(
            "Compiler check",
            "ok",
            f"bbjcpl at {executable}: the probe programs compiled as expected",
        )
    verdicts = (
        f"a correct program {'passed' if good.ok else 'failed'}, "
        f"a broken one {'passed' if broken.ok else 'failed'}"
    )
    return CheckOutcome(
        "Compiler check",
        "fail",
        f"bbjcpl at {executable} gave wrong verdicts ({verdicts})",
        "Check that check.bbjcpl points at BBj's compiler and not at another program.",
    )


def _gpu_offload_supported() -> bool | None:
    """Whether this llama-cpp-python build can offload to a GPU; None when it is missing."""
    try:
        import llama_cpp
    except ImportError:
        return None
    return bool(llama_cpp.llama_supports_gpu_offload())


async def check_gpu(ctx: DoctorContext) -> CheckOutcome:
    supported = await asyncio.to_thread(_gpu_offload_supported)
    layers = ctx.config.model.n_gpu_layers
    if supported is None:
        return CheckOutcome(
            "GPU",
            "warn",
            "llama-cpp-python is not installed, so the embedded backend cannot run",
            "Reinstall bbj-coder with its dependencies (the offline bundle includes them).",
        )
    if supported and layers == 0:
        return CheckOutcome(
            "GPU",
            "warn",
            "this llama.cpp build can use a GPU, but model.n_gpu_layers is 0 (CPU only)",
            "Set n_gpu_layers = -1 under [model] in config.toml and restart the daemon.",
        )
    if supported:
        amount = "all layers" if layers < 0 else f"{layers} layers"
        return CheckOutcome("GPU", "ok", f"GPU offload available; {amount} offloaded")
    if layers != 0:
        return CheckOutcome(
            "GPU",
            "warn",
            f"model.n_gpu_layers is {layers}, but this llama.cpp build has no GPU support",
            "Install a GPU build of llama-cpp-python, or set n_gpu_layers = 0.",
        )
    return CheckOutcome("GPU", "ok", "CPU only: this llama.cpp build has no GPU offload")


def ollama_url(configured: str | None = None) -> str:
    """Ollama's base URL: the argument, ``$OLLAMA_HOST`` (as Ollama reads it), or the default."""
    host = configured or os.environ.get("OLLAMA_HOST", "").strip()
    if not host:
        return OLLAMA_URL
    if "://" not in host:
        host = f"http://{host}"
    parsed = urlparse(host)
    if parsed.hostname in (None, "0.0.0.0"):
        host = f"{parsed.scheme}://127.0.0.1:{parsed.port or 11434}"
    elif parsed.port is None:
        host = f"{parsed.scheme}://{parsed.hostname}:11434"
    return host.rstrip("/")


async def check_ollama(url: str) -> CheckOutcome:
    import httpx

    try:
        async with httpx.AsyncClient(timeout=1.5, trust_env=False) as client:
            response = await client.get(f"{url}/api/version")
        version = response.json().get("version", "?") if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError, AttributeError):
        version = None
    if version is None:
        return CheckOutcome(
            "Ollama",
            "warn",
            f"Ollama does not answer at {url}",
            "Nothing needs Ollama while the embedded backend works; start it only if you want "
            "it as the fallback backend.",
        )
    return CheckOutcome("Ollama", "ok", f"Ollama {version} answers at {url} (fallback backend)")
