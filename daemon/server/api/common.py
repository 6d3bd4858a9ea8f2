"""Helpers every route uses: body parsing, model checks, error mapping, disconnect watching."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import ClientDisconnect, Request

from daemon.backends.base import Generation, GenerationStats
from daemon.errors import BackendError, BackendUnavailableError, PromptTooLongError
from daemon.server.api.errors import ApiError, describe_validation_error
from daemon.server.runtime import Runtime
from daemon.services.fim import FimRequest
from fim import ContextFile
from fim.templated import parse_templated_prompt, split_snippet_header

ModelT = TypeVar("ModelT", bound=BaseModel)
T = TypeVar("T")
MAX_BODY_BYTES = 16 * 1024 * 1024
# json.loads pairs valid surrogate escapes into one character; a lone one stays a surrogate,
# which no UTF-8 encoder (the response, the tokenizer, a temp file) accepts.
_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def runtime_of(request: Request) -> Runtime:
    """The runtime as this request sees it: bound to the model slot pinned when it arrived."""
    runtime: Runtime = request.app.state.runtime
    slot = request.scope.get("bbj.slot")
    return runtime if slot is None else runtime.bound(slot)


def shared_runtime_of(request: Request) -> Runtime:
    """The runtime itself, for the few routes that change it (reload)."""
    runtime: Runtime = request.app.state.runtime
    return runtime


async def read_json(request: Request, model: type[ModelT]) -> ModelT:
    """Parse and validate the body, answering 400 with a sentence for every kind of bad input."""
    try:
        body = await _read_limited(request)
    except ClientDisconnect as exc:
        raise ApiError(499, "The client closed the connection while sending the body.") from exc
    if not body.strip():
        raise ApiError(400, "The request body is empty; send a JSON object.")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiError(400, f"The request body is not valid UTF-8 (byte {exc.start}).") from exc
    try:
        data = json.loads(text)
    except RecursionError as exc:
        raise ApiError(400, "The request body is nested too deeply to be a real request.") from exc
    except json.JSONDecodeError as exc:
        raise ApiError(
            400,
            f"The request body is not valid JSON: {exc.msg} at line {exc.lineno}, "
            f"column {exc.colno}.",
        ) from exc
    if not isinstance(data, dict):
        raise ApiError(400, "The request body must be a JSON object.")
    if _ESCAPED_SURROGATE.search(text):
        where = _lone_surrogate(data, "")
        if where is not None:
            raise ApiError(
                400,
                f"'{where or 'body'}' holds a lone UTF-16 surrogate (a \\uD800-\\uDFFF escape "
                "without its pair), which is not text; send valid Unicode.",
            )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ApiError(400, describe_validation_error(exc)) from exc


async def _read_limited(request: Request) -> bytes:
    """The body, refused with 413 as soon as it grows past the limit (never held whole)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise ApiError(413, f"The request body is {declared} bytes; the limit is {MAX_BODY_BYTES}.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise ApiError(
                413, f"The request body is over {MAX_BODY_BYTES} bytes, the limit; send less."
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _lone_surrogate(value: Any, where: str) -> str | None:
    """The dotted location of the first string holding a lone surrogate, or None."""
    if isinstance(value, str):
        return where if _SURROGATE.search(value) else None
    if isinstance(value, dict):
        items: Iterable[tuple[Any, Any]] = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        label = f"{where}.{key}" if where else str(key)
        if isinstance(key, str) and _SURROGATE.search(key):
            return label
        found = _lone_surrogate(item, label)
        if found is not None:
            return found
    return None


def require_model(runtime: Runtime, name: str) -> None:
    if not runtime.knows_model(name):
        available = ", ".join(runtime.model_names())
        raise ApiError(
            404,
            f"Model {name!r} not found; this daemon serves: {available}.",
            code="model_not_found",
        )


def clamped_max_tokens(
    runtime: Runtime, requested: int | None, stats: GenerationStats
) -> int | None:
    """The number of tokens the answer was really allowed when ``requested`` did not fit in the
    room the prompt left (None when it fit). Clients such as Continue send ``max_tokens: 4096``
    for any model; like Ollama, the backend clamps instead of refusing, and this says so."""
    try:
        info = runtime.backend_info()
    except BackendError:
        return None
    if requested is None or info is None:
        return None
    room = max(info.context_length - stats.prompt_tokens, 0)
    return room if requested > room else None


def record_generation(runtime: Runtime, gen: Generation) -> None:
    stats = gen.stats
    runtime.metrics.observe_generation(
        stats.prompt_tokens, stats.cached_tokens, stats.completion_tokens
    )


@contextmanager
def backend_errors() -> Iterator[None]:
    """Map backend failures to HTTP: no model → 503 with the reason; prompt too long → 400."""
    try:
        yield
    except PromptTooLongError as exc:
        raise ApiError(400, str(exc), code="context_length_exceeded") from exc
    except BackendUnavailableError as exc:
        raise ApiError(503, str(exc), code="backend_unavailable") from exc
    except BackendError as exc:
        raise ApiError(500, str(exc)) from exc


def client_key(request: Request, explicit: str | None = None) -> str:
    if explicit:
        return explicit
    header = request.headers.get("x-bbj-client")
    if header:
        return header
    host = request.client.host if request.client else "?"
    return f"{host}|{request.headers.get('user-agent', '')}"


def fim_request_from_prompt(
    prompt: str, suffix: str | None, *, client: str, **sampling: Any
) -> FimRequest | None:
    """A FIM request when ``suffix`` is given or ``prompt`` is a templated FIM prompt, else None."""
    path: str | None = None
    context: tuple[ContextFile, ...] = ()
    if suffix is None:
        templated = parse_templated_prompt(prompt)
        if templated is None:
            return None
        prompt, suffix = templated.prefix, templated.suffix
        path, context = templated.path, templated.context
    else:  # a templated prompt's snippet header was already split off by its parser
        split = split_snippet_header(prompt)
        prompt, context, path = split.prefix, split.context, split.path
    return FimRequest(
        prefix=prompt,
        suffix=suffix,
        path=path,
        context=context,
        client=client,
        **sampling,
    )


async def until_disconnected(
    request: Request, work: Awaitable[T], on_disconnect: Callable[[], None]
) -> T:
    """Await ``work``; if the client goes away first, call ``on_disconnect`` and answer 499."""
    task = asyncio.ensure_future(work)
    watcher = asyncio.ensure_future(_wait_disconnect(request))
    try:
        done, _ = await asyncio.wait({task, watcher}, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            return task.result()
        on_disconnect()
        task.cancel()
        raise ApiError(499, "The client closed the connection.")
    finally:
        watcher.cancel()


async def _wait_disconnect(request: Request) -> None:
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            return


async def guarded(
    stream: Generation, chunks: AsyncIterator[T], runtime: Runtime | None = None
) -> AsyncIterator[T]:
    """Pass chunks through; whatever ends the iteration (disconnect included) cancels generation
    and, given ``runtime``, counts the tokens generated so far in the metrics."""
    try:
        async for chunk in chunks:
            yield chunk
    finally:
        stream.cancel()
        if runtime is not None:
            record_generation(runtime, stream)


async def collect_text(gen: Generation) -> str:
    return "".join([chunk async for chunk in gen])
