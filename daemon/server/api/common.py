"""Helpers every route uses: body parsing, model checks, error mapping, disconnect watching."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import ClientDisconnect, Request

from daemon.backends.base import Generation
from daemon.errors import BackendError, BackendUnavailableError, PromptTooLongError
from daemon.server.api.errors import ApiError, describe_validation_error
from daemon.server.runtime import Runtime
from daemon.services.fim import FimRequest
from fim import ContextFile
from fim.templated import parse_templated_prompt, split_snippet_header

ModelT = TypeVar("ModelT", bound=BaseModel)
T = TypeVar("T")
MAX_BODY_BYTES = 16 * 1024 * 1024


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
        body = await request.body()
    except ClientDisconnect as exc:
        raise ApiError(499, "The client closed the connection while sending the body.") from exc
    if len(body) > MAX_BODY_BYTES:
        raise ApiError(
            413, f"The request body is {len(body)} bytes; the limit is {MAX_BODY_BYTES}."
        )
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
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ApiError(400, describe_validation_error(exc)) from exc


def require_model(runtime: Runtime, name: str) -> None:
    if not runtime.knows_model(name):
        available = ", ".join(runtime.model_names())
        raise ApiError(
            404,
            f"Model {name!r} not found; this daemon serves: {available}.",
            code="model_not_found",
        )


def check_max_tokens(runtime: Runtime, max_tokens: int | None) -> None:
    try:
        info = runtime.backend_info()
    except BackendError:
        return  # no backend: the generation route answers 503 with the reason
    if max_tokens is not None and info is not None and max_tokens > info.context_length:
        raise ApiError(
            400,
            f"max_tokens is {max_tokens} but the model's context window holds only "
            f"{info.context_length} tokens.",
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


async def guarded(stream: Generation, chunks: AsyncIterator[T]) -> AsyncIterator[T]:
    """Pass chunks through; whatever ends the iteration (disconnect included) cancels generation."""
    try:
        async for chunk in chunks:
            yield chunk
    finally:
        stream.cancel()


async def collect_text(gen: Generation) -> str:
    return "".join([chunk async for chunk in gen])
