"""``POST /v1/bbj/generate``: compiler-checked generation (the MCP tools' endpoint).

Body ``{task, context_code?, generation?, max_attempts?, stream?}``. Without ``stream`` the
answer is the result object; with it, NDJSON lines ``{"progress": {done, total, message}}``
(``done`` counts attempts judged out of ``total``, in fractions while one generates; it only
increases), then one ``{"result": {...}}`` (or ``{"error": {...}}``).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator

from pydantic import Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from daemon.errors import BbjCoderError
from daemon.server.api.common import backend_errors, read_json, runtime_of, until_disconnected
from daemon.server.api.schemas import _Lenient
from daemon.server.runtime import Runtime
from daemon.services.generate import (
    MAX_ATTEMPTS,
    GenerateRequest,
    GenerateResult,
    GenerateService,
    RequestableGeneration,
)

MAX_TASK_CHARS = 20_000
MAX_CONTEXT_CHARS = 200_000
NDJSON = "application/x-ndjson"


log = logging.getLogger("bbj_coder.api")


class BbjGenerateRequest(_Lenient):
    task: str = Field(min_length=1, max_length=MAX_TASK_CHARS)
    context_code: str = Field(default="", max_length=MAX_CONTEXT_CHARS)
    generation: RequestableGeneration | None = None
    max_attempts: int = Field(default=3, ge=1, le=MAX_ATTEMPTS)
    stream: bool = False


def generate_service(runtime: Runtime) -> GenerateService:
    """The service for this runtime's model; raises the backend's 503 reason when none."""
    return runtime.generate_service()


async def bbj_generate(request: Request) -> Response:
    runtime = runtime_of(request)
    body = await read_json(request, BbjGenerateRequest)
    wanted = GenerateRequest(body.task, body.context_code, body.generation, body.max_attempts)
    with backend_errors():
        service = generate_service(runtime)
        if not body.stream:
            # A client that hangs up stops the generation (the loop's stream is cancelled).
            result = await until_disconnected(request, service.run(wanted), lambda: None)
            return JSONResponse(result.to_dict())
    return StreamingResponse(_stream(service, wanted), media_type=NDJSON)


async def _stream(service: GenerateService, wanted: GenerateRequest) -> AsyncIterator[bytes]:
    events: asyncio.Queue[bytes | None] = asyncio.Queue()

    async def progress(done: float, total: int, message: str) -> None:
        line = {"progress": {"done": round(done, 3), "total": total, "message": message}}
        await events.put(_line(line))

    async def work() -> GenerateResult:
        try:
            return await service.run(wanted, progress)
        finally:
            await events.put(None)

    task = asyncio.ensure_future(work())
    try:
        while (event := await events.get()) is not None:
            yield event
        try:
            yield _line({"result": task.result().to_dict()})
        except BbjCoderError as exc:
            yield _line({"error": {"message": str(exc), "type": type(exc).__name__}})
        except Exception as exc:
            log.exception("/v1/bbj/generate failed while streaming")
            message = (
                f"bbj-coder failed unexpectedly while generating ({type(exc).__name__}: {exc}); "
                "the daemon log has the details."
            )
            yield _line({"error": {"message": message, "type": type(exc).__name__}})
    finally:
        task.cancel()


def _line(payload: object) -> bytes:
    return (json.dumps(payload) + "\n").encode()


ROUTES = [Route("/v1/bbj/generate", bbj_generate, methods=["POST"])]
