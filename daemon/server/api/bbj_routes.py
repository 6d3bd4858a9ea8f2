"""bbj-coder's own routes: liveness, health, metrics, the LSP's FIM endpoint, admin reload."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from daemon.server.api.common import (
    backend_errors,
    client_key,
    read_json,
    runtime_of,
    shared_runtime_of,
    until_disconnected,
)
from daemon.server.api.errors import ApiError
from daemon.server.api.fim_headers import fim_headers
from daemon.server.api.next_edit_route import bbj_next_edit
from daemon.server.api.schemas import BbjCheckRequest, BbjFimRequest
from daemon.server.metrics import LiveGauges
from daemon.server.reload import reload_runtime
from daemon.server.runtime import Runtime
from daemon.services.fim import FimRequest
from fim import ContextFile, detect_generation

GENERATION_WINDOW = 8000  # characters each side of the cursor looked at for generation signals


async def root(request: Request) -> Response:
    return PlainTextResponse("bbj-coder is running")


def health_payload(runtime: Runtime) -> dict[str, Any]:
    """Status and the reasons behind it, never a token, a file's content or a local path.

    ``sha256_recorded`` is the digest the model store recorded when the file was imported; it is
    not re-computed here (hashing gigabytes per probe), ``bbj-coder doctor`` verifies it.
    """
    info = runtime.backend_info()
    model = None
    if info is not None:
        model = {
            "name": runtime.model_name,
            "quant": info.quant,
            "context_length": info.context_length,
            "fim_format": info.fim_format,
            "sha256_recorded": runtime.slot.sha256,
            "size": runtime.slot.identity.size if runtime.slot.identity else None,
        }
    payload = {
        "status": runtime.status,
        "version": runtime.version,
        "uptime_s": round(time.time() - runtime.started_at, 1),
        "backend": {
            "name": info.name if info else None,
            "reason": runtime.backend_reason,
            "attempts": [
                {"backend": a.backend, "ok": a.ok, "reason": a.reason}
                for a in runtime.backend_attempts()
            ],
        },
        "model": model,
        "model_error": runtime.model_error,
        "reload_error": runtime.reload_error,
        "demo": runtime.demo,
        "fim": {"available": runtime.fim is not None},
        "checker": runtime.checker_description(),
    }
    return _without_model_folder(payload, runtime.slot.path)


def _without_model_folder(value: Any, path: Path | None) -> Any:
    """``value`` with the model's absolute path cut to its file name in every string (reasons
    and errors quote it), so the unauthenticated /health reveals no local folder."""
    if path is None:
        return value
    if isinstance(value, str):
        return value.replace(str(path), path.name)
    if isinstance(value, dict):
        return {key: _without_model_folder(item, path) for key, item in value.items()}
    if isinstance(value, list):
        return [_without_model_folder(item, path) for item in value]
    return value


async def health(request: Request) -> Response:
    return JSONResponse(health_payload(runtime_of(request)))


async def admin_reload(request: Request) -> Response:
    """Re-read the config file and the store's active model, swapping in whatever changed."""
    runtime = shared_runtime_of(request)
    result = await reload_runtime(runtime)
    if result.error is not None:
        raise ApiError(409, result.error, code="reload_failed")
    answer = {"changed": result.changed, "health": health_payload(runtime)}
    return JSONResponse({**answer, "notes": list(result.notes)})


async def metrics(request: Request) -> Response:
    runtime = runtime_of(request)
    backend = runtime.backend
    live = LiveGauges(
        fim_in_flight=len(runtime.fim.supersession) if runtime.fim is not None else 0,
        lanes=backend.in_flight() if backend is not None else {},
        backend_tokens=backend.generated_tokens() if backend is not None else 0,
    )
    return PlainTextResponse(runtime.metrics.render(live), media_type="text/plain; version=0.0.4")


async def bbj_fim(request: Request) -> Response:
    runtime = runtime_of(request)
    body = await read_json(request, BbjFimRequest)
    fim_request = FimRequest(
        prefix=body.prefix,
        suffix=body.suffix,
        path=body.path,
        context=tuple(ContextFile(c.path, c.text) for c in body.extra),
        max_tokens=body.max_tokens,
        temperature=body.temperature,
        client=client_key(request, body.client),
    )
    # A few ms of regexes: run them beside the generation, not on the completion's path.
    window = body.prefix[-GENERATION_WINDOW:] + body.suffix[:GENERATION_WINDOW]
    detecting = asyncio.ensure_future(asyncio.to_thread(detect_generation, window))
    try:
        with backend_errors():
            service = runtime.require_fim()
            result = await until_disconnected(
                request, service.complete(fim_request, runtime.compile_gate()), lambda: None
            )
    except BaseException:
        detecting.cancel()
        raise
    runtime.record_fim(result)
    generation = await detecting
    return JSONResponse(
        {
            "completion": result.text,
            "generation": {"name": generation.generation, "signals": list(generation.signals)},
            "cached": result.cached,
            "superseded": result.superseded,
            "finish_reason": result.stats.finish_reason,
            "prompt_truncated": result.prompt_truncated,
            "check": None
            if result.check is None
            else {
                "checker": result.check.checker,
                "passed": result.check.passed,
                "attempts": result.check.attempts,
                "new_errors": list(result.check.new_errors),
            },
            "timings": {
                "total_ms": round(result.elapsed_s * 1000, 1),
                "first_token_ms": round(result.stats.prompt_eval_s * 1000, 1),
                "prompt_tokens": result.stats.prompt_tokens,
                "cached_tokens": result.stats.cached_tokens,
                "completion_tokens": result.stats.completion_tokens,
            },
        },
        headers=fim_headers(result),
    )


async def bbj_check(request: Request) -> Response:
    """Compile-check a BBj program: ``{code, filename?}`` → ok, checker, diagnostics."""
    runtime = runtime_of(request)
    body = await read_json(request, BbjCheckRequest)
    assert runtime.checker is not None
    result = await runtime.checker.check(body.code, body.filename)
    return JSONResponse(result.to_dict())


ROUTES = [
    Route("/", root, methods=["GET", "HEAD"]),
    Route("/health", health, methods=["GET"]),
    Route("/metrics", metrics, methods=["GET"]),
    Route("/v1/bbj/fim", bbj_fim, methods=["POST"]),
    Route("/v1/bbj/check", bbj_check, methods=["POST"]),
    Route("/v1/admin/reload", admin_reload, methods=["POST"]),
    Route("/v1/bbj/next-edit", bbj_next_edit, methods=["POST"]),
]
