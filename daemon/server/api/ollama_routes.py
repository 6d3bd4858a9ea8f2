"""Ollama-compatible routes under ``/api``: Continue's ``provider: ollama``, ``ollama``."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from daemon import __version__
from daemon.backends.base import ChatMessage, Generation, GenerationStats, SamplingParams
from daemon.backends.stops import StoppedStream
from daemon.server.api.common import (
    backend_errors,
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
from daemon.server.api.errors import ApiError
from daemon.server.api.fim_headers import fim_headers
from daemon.server.api.schemas import GenerateRequest, OllamaChatRequest, OllamaOptions, ShowRequest
from daemon.server.api.structured import ollama_format_grammar
from daemon.server.runtime import Runtime

NDJSON = "application/x-ndjson"
log = logging.getLogger("bbj_coder.api")
FIM_TEMPLATE = (
    "{{- if .Suffix }}<|fim_prefix|>{{ .Prompt }}<|fim_suffix|>{{ .Suffix }}<|fim_middle|>"
    "{{- else }}{{ .Prompt }}{{- end }}"
)


def _created_at() -> str:
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


def _line(payload: dict[str, Any]) -> bytes:
    return (json.dumps(payload, ensure_ascii=False) + "\n").encode()


def _final_counts(stats: GenerationStats, total_s: float) -> dict[str, Any]:
    return {
        "done_reason": "length" if stats.finish_reason == "length" else "stop",
        "total_duration": int(total_s * 1e9),
        "load_duration": 0,
        "prompt_eval_count": stats.evaluated_prompt_tokens,
        "prompt_eval_duration": int(stats.prompt_eval_s * 1e9),
        "eval_count": stats.completion_tokens,
        "eval_duration": int(stats.eval_s * 1e9),
    }


def _params(runtime: Runtime, options: OllamaOptions, *, fim: bool) -> SamplingParams:
    default_tokens = runtime.config.fim.max_tokens if fim else runtime.config.chat.max_tokens
    predict = options.num_predict
    max_tokens = default_tokens if predict is None or predict < 0 else max(predict, 1)
    if predict in (-1, -2):
        info = runtime.backend_info()
        max_tokens = info.context_length if info else default_tokens
    default_temp = runtime.config.fim.temperature if fim else runtime.config.chat.temperature
    return SamplingParams(
        max_tokens=max_tokens,
        temperature=default_temp if options.temperature is None else options.temperature,
        top_p=options.top_p or 0.95,
        top_k=options.top_k or 40,
        seed=options.seed,
        repeat_penalty=options.repeat_penalty or 1.0,
    )


# metadata routes ----------------------------------------------------------------------------
async def version(request: Request) -> Response:
    return JSONResponse({"version": __version__})


def _details(runtime: Runtime) -> dict[str, Any]:
    info = runtime.backend_info()
    return {
        "parent_model": "",
        "format": "gguf",
        "family": info.details.get("architecture", "qwen2") if info else "qwen2",
        "families": [info.details.get("architecture", "qwen2") if info else "qwen2"],
        "parameter_size": "",
        "quantization_level": info.quant if info else "",
    }


def _model_entries(runtime: Runtime) -> list[dict[str, Any]]:
    modified = datetime.fromtimestamp(runtime.started_at, timezone.utc).isoformat()
    entries = []
    for name in runtime.model_names():
        entries.append(
            {
                "name": f"{name}:latest",
                "model": f"{name}:latest",
                "modified_at": modified,
                "size": 0,
                "digest": "",
                "details": _details(runtime),
            }
        )
    return entries


async def tags(request: Request) -> Response:
    return JSONResponse({"models": _model_entries(runtime_of(request))})


async def ps(request: Request) -> Response:
    runtime = runtime_of(request)
    models = _model_entries(runtime) if runtime.backend is not None else []
    for entry in models:
        entry.update({"expires_at": "0001-01-01T00:00:00Z", "size_vram": 0})
    return JSONResponse({"models": models})


async def show(request: Request) -> Response:
    runtime = runtime_of(request)
    body = await read_json(request, ShowRequest)
    name = body.model_name()
    if not name:
        raise ApiError(400, "Invalid request: 'model' is required.")
    require_model(runtime, name)
    info = runtime.backend_info()
    num_ctx = info.context_length if info else runtime.config.model.n_ctx
    arch = info.details.get("architecture", "qwen2") if info else "qwen2"
    return JSONResponse(
        {
            "modelfile": f"# bbj-coder serves this model itself\nFROM {name}\n",
            "parameters": f"num_ctx                        {num_ctx}\n"
            'stop                           "<|endoftext|>"',
            "template": FIM_TEMPLATE,
            "details": _details(runtime),
            "model_info": {
                "general.architecture": arch,
                f"{arch}.context_length": num_ctx,
                "general.basename": name,
            },
            "capabilities": ["completion", "insert"],
            "modified_at": datetime.fromtimestamp(runtime.started_at, timezone.utc).isoformat(),
        }
    )


# generation routes --------------------------------------------------------------------------
async def generate(request: Request) -> Response:
    runtime = runtime_of(request)
    body = await read_json(request, GenerateRequest)
    require_model(runtime, body.model)
    if body.images:
        raise ApiError(400, "This model does not accept images.")
    if not body.prompt and body.suffix is None:
        # Ollama answers an empty prompt with a done message (it is how clients preload a model).
        return _ndjson_or_json(
            body.stream,
            [
                {
                    "model": body.model,
                    "created_at": _created_at(),
                    "response": "",
                    "done": True,
                    "done_reason": "load",
                }
            ],
        )
    fim_request = None
    if body.suffix is not None or body.raw:
        fim_request = fim_request_from_prompt(
            body.prompt,
            body.suffix,
            client=client_key(request),
            max_tokens=_params(runtime, body.options, fim=True).max_tokens,
            temperature=body.options.temperature,
            seed=body.options.seed,
            stop=body.options.stops(),
        )
    grammar = await ollama_format_grammar(runtime, body.format)
    if fim_request is not None and grammar is not None:
        raise ApiError(400, "'format' is not supported for fill-in-the-middle (suffix) requests.")
    if fim_request is not None:
        with backend_errors():
            service = runtime.require_fim()
            result = await until_disconnected(
                request, service.complete(fim_request, runtime.compile_gate()), lambda: None
            )
        runtime.record_fim(result)
        lines = []
        if result.text:
            lines.append(
                {
                    "model": body.model,
                    "created_at": _created_at(),
                    "response": result.text,
                    "done": False,
                }
            )
        final = {
            "model": body.model,
            "created_at": _created_at(),
            "response": "",
            "done": True,
            **_final_counts(result.stats, result.elapsed_s),
            "context": [],
        }
        lines.append(final)
        if not body.stream:
            final = {**final, "response": result.text}
            return JSONResponse(final, headers=fim_headers(result))
        return _ndjson_or_json(True, lines, headers=fim_headers(result))
    params = replace(_params(runtime, body.options, fim=False), grammar=grammar)
    stops = body.options.stops()
    with backend_errors():
        if body.raw:
            gen: Generation = StoppedStream(
                runtime.require_backend().fim(body.prompt, params), stops
            )
        else:
            messages = [ChatMessage("system", body.system)] if body.system else []
            messages.append(ChatMessage("user", body.prompt))
            gen = await runtime.chat_service().start(messages, params, stops)
    return await _respond(
        request,
        runtime,
        body.stream,
        gen,
        lambda text: {"model": body.model, "created_at": _created_at(), "response": text},
    )


async def chat(request: Request) -> Response:
    runtime = runtime_of(request)
    body = await read_json(request, OllamaChatRequest)
    require_model(runtime, body.model)
    messages = [ChatMessage(m.role, m.content) for m in body.messages]
    grammar = await ollama_format_grammar(runtime, body.format)
    params = replace(_params(runtime, body.options, fim=False), grammar=grammar)
    with backend_errors():
        gen = await runtime.chat_service().start(messages, params, body.options.stops())
    return await _respond(
        request,
        runtime,
        body.stream,
        gen,
        lambda text: {
            "model": body.model,
            "created_at": _created_at(),
            "message": {"role": "assistant", "content": text},
        },
    )


async def _respond(
    request: Request, runtime: Runtime, streaming: bool, gen: Generation, shape: Any
) -> Response:
    started = request.scope.get("bbj.started", 0.0)
    if streaming:
        return StreamingResponse(
            guarded(gen, _ndjson(gen, shape, started), runtime), media_type=NDJSON
        )
    with backend_errors():
        text = await until_disconnected(request, collect_text(gen), gen.cancel)
    record_generation(runtime, gen)
    return JSONResponse(
        {**shape(text), "done": True, **_final_counts(gen.stats, _elapsed(started))}
    )


async def _ndjson(gen: Generation, shape: Any, started: float) -> AsyncIterator[bytes]:
    try:
        async for text in gen:
            yield _line({**shape(text), "done": False})
    except Exception as exc:
        log.exception("a streamed Ollama answer failed")
        yield _line({"error": f"Generation failed: {exc}"})
        return
    yield _line({**shape(""), "done": True, **_final_counts(gen.stats, _elapsed(started))})


def _elapsed(started: float) -> float:
    return time.perf_counter() - started if started else 0.0


def _ndjson_or_json(
    streaming: bool, lines: list[dict[str, Any]], headers: dict[str, str] | None = None
) -> Response:
    if not streaming:
        return JSONResponse(lines[-1], headers=headers)
    body = b"".join(_line(line) for line in lines)
    return Response(body, media_type=NDJSON, headers=headers)


ROUTES = [
    Route("/api/version", version, methods=["GET"]),
    Route("/api/tags", tags, methods=["GET", "HEAD"]),
    Route("/api/ps", ps, methods=["GET"]),
    Route("/api/show", show, methods=["POST"]),
    Route("/api/generate", generate, methods=["POST"]),
    Route("/api/chat", chat, methods=["POST"]),
]
