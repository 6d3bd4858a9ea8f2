"""OpenAI-compatible routes under ``/v1`` (Continue's ``provider: openai``)."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from daemon.backends.base import ChatMessage, Generation, GenerationStats, SamplingParams
from daemon.backends.stops import StoppedStream
from daemon.server.api.common import (
    backend_errors,
    clamped_max_tokens,
    client_key,
    collect_text,
    fim_request_from_prompt,
    guarded,
    read_json,
    record_generation,
    require_model,
    runtime_of,
    until_disconnected,
)
from daemon.server.api.errors import ApiError, error_body
from daemon.server.api.fim_headers import fim_headers
from daemon.server.api.schemas import ChatCompletionRequest, CompletionRequest
from daemon.server.api.structured import (
    completion_logprobs,
    require_embedded,
    response_format_grammar,
)
from daemon.server.runtime import Runtime
from daemon.services.fim import FimResult

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
CLAMP_HEADER = "X-Bbj-Max-Tokens-Clamped"
log = logging.getLogger("bbj_coder.api")


def _sse(payload: dict[str, Any] | str) -> bytes:
    data = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    return f"data: {data}\n\n".encode()


def _usage(stats: GenerationStats, clamped: int | None = None) -> dict[str, Any]:
    usage: dict[str, Any] = {
        "prompt_tokens": stats.prompt_tokens,
        "completion_tokens": stats.completion_tokens,
        "total_tokens": stats.prompt_tokens + stats.completion_tokens,
        "prompt_tokens_details": {"cached_tokens": stats.cached_tokens},
    }
    if clamped is not None:
        usage["max_tokens_clamped_to"] = clamped
    return usage


def _clamp_headers(clamped: int | None) -> dict[str, str]:
    return {} if clamped is None else {CLAMP_HEADER: str(clamped)}


def _refuse_unsupported(problem: str | None) -> None:
    if problem is not None:
        raise ApiError(400, problem, code="unsupported_option")


def _finish_reason(stats: GenerationStats) -> str:
    return "length" if stats.finish_reason == "length" else "stop"


async def list_models(request: Request) -> Response:
    runtime = runtime_of(request)
    created = int(runtime.started_at)
    data = [
        {"id": name, "object": "model", "created": created, "owned_by": "bbj-coder"}
        for name in runtime.model_names()
    ]
    return JSONResponse({"object": "list", "data": data})


async def retrieve_model(request: Request) -> Response:
    """``GET /v1/models/{id}``: the openai SDK's ``models.retrieve``."""
    runtime = runtime_of(request)
    name = request.path_params["model_id"]
    require_model(runtime, name)
    return JSONResponse(
        {
            "id": name,
            "object": "model",
            "created": int(runtime.started_at),
            "owned_by": "bbj-coder",
        }
    )


# chat ---------------------------------------------------------------------------------------
def _chat_params(runtime: Runtime, body: ChatCompletionRequest) -> SamplingParams:
    settings = runtime.config.chat
    max_tokens = body.max_completion_tokens or body.max_tokens or settings.max_tokens
    temperature = settings.temperature if body.temperature is None else body.temperature
    return SamplingParams(
        max_tokens=max_tokens,
        temperature=temperature,
        top_p=body.top_p or 0.95,
        seed=body.seed,
        logit_bias=body.bias(),
    )


async def chat_completions(request: Request) -> Response:
    runtime = runtime_of(request)
    body = await read_json(request, ChatCompletionRequest)
    require_model(runtime, body.model)
    _refuse_unsupported(body.unsupported())
    grammar = await response_format_grammar(runtime, body.response_format)
    requested = body.max_completion_tokens or body.max_tokens
    messages = [
        ChatMessage(m.role if m.role != "developer" else "system", m.text()) for m in body.messages
    ]
    with backend_errors():
        params = replace(_chat_params(runtime, body), grammar=grammar)
        gen = await runtime.chat_service().start(messages, params, body.stops())
    meta = {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "created": int(time.time()),
        "model": body.model,
    }
    if body.stream:
        include_usage = bool(body.stream_options and body.stream_options.include_usage)
        chunks = _chat_sse(
            gen, meta, include_usage, lambda: clamped_max_tokens(runtime, requested, gen.stats)
        )
        return StreamingResponse(
            guarded(gen, chunks, runtime), media_type="text/event-stream", headers=SSE_HEADERS
        )
    with backend_errors():
        text = await until_disconnected(request, collect_text(gen), gen.cancel)
    stats = gen.stats
    record_generation(runtime, gen)
    clamped = clamped_max_tokens(runtime, requested, stats)
    return JSONResponse(
        {
            **meta,
            "object": "chat.completion",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": _finish_reason(stats),
                    "logprobs": None,
                }
            ],
            "usage": _usage(stats, clamped),
        },
        headers=_clamp_headers(clamped),
    )


async def _chat_sse(
    gen: Generation,
    meta: dict[str, Any],
    include_usage: bool,
    clamped: Callable[[], int | None],
) -> AsyncIterator[bytes]:
    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}
        payload = {**meta, "object": "chat.completion.chunk", "choices": [choice]}
        if include_usage:
            payload["usage"] = None
        return _sse(payload)

    yield chunk({"role": "assistant", "content": ""})
    try:
        async for text in gen:
            yield chunk({"content": text})
    except Exception as exc:
        log.exception("a streamed chat answer failed")
        yield _sse(error_body("/v1", 500, f"Generation failed: {exc}"))
        yield _sse("[DONE]")
        return
    yield chunk({}, _finish_reason(gen.stats))
    if include_usage:
        yield _sse(
            {
                **meta,
                "object": "chat.completion.chunk",
                "choices": [],
                "usage": _usage(gen.stats, clamped()),
            }
        )
    yield _sse("[DONE]")


# completions --------------------------------------------------------------------------------
async def completions(request: Request) -> Response:
    runtime = runtime_of(request)
    body = await read_json(request, CompletionRequest)
    require_model(runtime, body.model)
    _refuse_unsupported(body.unsupported())
    meta = {"id": f"cmpl-{uuid.uuid4().hex[:24]}", "created": int(time.time()), "model": body.model}
    fim_request = fim_request_from_prompt(
        body.prompt_text(),
        body.suffix,
        client=client_key(request),
        max_tokens=body.max_tokens,
        temperature=body.temperature,
        top_p=body.top_p or 0.95,
        seed=body.seed,
        stop=body.stops(),
        logit_bias=body.bias(),
    )
    if fim_request is not None and body.logprobs is not None:
        raise ApiError(400, "'logprobs' is not supported for fill-in-the-middle completions.")
    if fim_request is None:
        if not body.prompt_text():
            raise ApiError(400, "'prompt' is empty; send the text the model should continue.")
        return await _plain_completion(request, runtime, body, meta)
    with backend_errors():
        service = runtime.require_fim()
        result = await until_disconnected(
            request, service.complete(fim_request, runtime.compile_gate()), lambda: None
        )
    runtime.record_fim(result)
    headers = fim_headers(result)
    if body.stream:
        return StreamingResponse(
            _fim_sse(result, meta, body),
            media_type="text/event-stream",
            headers={**SSE_HEADERS, **headers},
        )
    return JSONResponse(_completion_body(meta, result.text, result.stats), headers=headers)


def _completion_body(meta: dict[str, Any], text: str, stats: GenerationStats) -> dict[str, Any]:
    return {
        **meta,
        "object": "text_completion",
        "choices": [
            {"index": 0, "text": text, "finish_reason": _finish_reason(stats), "logprobs": None}
        ],
        "usage": _usage(stats),
    }


def _text_chunk(meta: dict[str, Any], text: str, finish: str | None) -> bytes:
    return _sse(
        {
            **meta,
            "object": "text_completion",
            "choices": [{"index": 0, "text": text, "finish_reason": finish, "logprobs": None}],
        }
    )


async def _fim_sse(
    result: FimResult, meta: dict[str, Any], body: CompletionRequest
) -> AsyncIterator[bytes]:
    if result.text:
        yield _text_chunk(meta, result.text, None)
    yield _text_chunk(meta, "", _finish_reason(result.stats))
    if body.stream_options and body.stream_options.include_usage:
        yield _sse(
            {**meta, "object": "text_completion", "choices": [], "usage": _usage(result.stats)}
        )
    yield _sse("[DONE]")


async def _plain_completion(
    request: Request, runtime: Runtime, body: CompletionRequest, meta: dict[str, Any]
) -> Response:
    params = SamplingParams(
        max_tokens=body.max_tokens or 16,
        temperature=1.0 if body.temperature is None else body.temperature,
        top_p=body.top_p or 1.0,
        seed=body.seed,
        logit_bias=body.bias(),
        logprobs=body.logprobs,
    )
    if body.logprobs is not None:
        require_embedded(runtime, "logprobs")
    with backend_errors():
        gen = StoppedStream(runtime.require_backend().fim(body.prompt_text(), params), body.stops())
    if body.stream:
        include_usage = bool(body.stream_options and body.stream_options.include_usage)
        return StreamingResponse(
            guarded(gen, _plain_sse(gen, meta, include_usage), runtime),
            media_type="text/event-stream",
            headers=SSE_HEADERS,
        )
    with backend_errors():
        text = await until_disconnected(request, collect_text(gen), gen.cancel)
    record_generation(runtime, gen)
    prefix = body.prompt_text() if body.echo else ""
    clamped = clamped_max_tokens(runtime, body.max_tokens, gen.stats)
    response = _completion_body(meta, prefix + text, gen.stats)
    response["usage"] = _usage(gen.stats, clamped)
    if body.logprobs is not None:
        logprobs = completion_logprobs(gen.stats.logprobs or [], text)
        response["choices"][0]["logprobs"] = logprobs
    return JSONResponse(response, headers=_clamp_headers(clamped))


async def _plain_sse(
    gen: Generation, meta: dict[str, Any], include_usage: bool
) -> AsyncIterator[bytes]:
    try:
        async for text in gen:
            yield _text_chunk(meta, text, None)
    except Exception as exc:
        log.exception("a streamed completion failed")
        yield _sse(error_body("/v1", 500, f"Generation failed: {exc}"))
        yield _sse("[DONE]")
        return
    yield _text_chunk(meta, "", _finish_reason(gen.stats))
    if include_usage:
        yield _sse({**meta, "object": "text_completion", "choices": [], "usage": _usage(gen.stats)})
    yield _sse("[DONE]")


ROUTES = [
    Route("/v1/models", list_models, methods=["GET"]),
    Route("/v1/models/{model_id:path}", retrieve_model, methods=["GET"]),
    Route("/v1/chat/completions", chat_completions, methods=["POST"]),
    Route("/v1/completions", completions, methods=["POST"]),
]
