"""The HTTP API: ``create_app(runtime)`` builds the Starlette app with security in front."""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from daemon.server.api import (
    bbj_routes,
    generate_routes,
    ollama_routes,
    openai_routes,
    workspace_routes,
)
from daemon.server.api.errors import ApiError, error_body, render_api_error
from daemon.server.api.mcp_route import MCP_PATH, LazyMcpEndpoint
from daemon.server.runtime import Runtime
from daemon.server.security import SecurityMiddleware

log = logging.getLogger("bbj_coder.api")


class TimingMiddleware:
    """Stamp the start time, pin the served model for the request's whole life (a reload never
    closes a model under a running request), and count requests per route and status."""

    def __init__(self, app: Any, runtime: Runtime, known_paths: set[str]) -> None:
        self.app = app
        self.runtime = runtime
        self.known_paths = known_paths

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope["bbj.started"] = time.perf_counter()
        status = 500

        async def send_wrapper(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            with self.runtime.lease() as slot:
                scope["bbj.slot"] = slot
                await self.app(scope, receive, send_wrapper)
        finally:
            # Label by known route only: arbitrary paths must not grow the metrics without bound.
            route = scope["path"] if scope["path"] in self.known_paths else "other"
            self.runtime.metrics.observe_request(route, status)
            # The whole route names the kind: "/v1/chat/completions" is not "completions".
            self.runtime.metrics.observe_latency(route, time.perf_counter() - scope["bbj.started"])


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    message = {
        404: f"No route {request.url.path}.",
        405: f"{request.method} is not allowed on {request.url.path}.",
    }.get(exc.status_code, str(exc.detail))
    return JSONResponse(
        error_body(request.url.path, exc.status_code, message), status_code=exc.status_code
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    """Last resort: a bug answers the dialect's JSON error and leaves its traceback in the log,
    never Starlette's plain-text ``Internal Server Error``."""
    log.error("unexpected error answering %s %s", request.method, request.url.path, exc_info=exc)
    message = (
        f"bbj-coder failed unexpectedly while answering {request.url.path} "
        f"({type(exc).__name__}); the daemon log has the details."
    )
    return JSONResponse(error_body(request.url.path, 500, message), status_code=500)


def create_app(runtime: Runtime) -> Starlette:
    routes = [*bbj_routes.ROUTES, *openai_routes.ROUTES, *ollama_routes.ROUTES]
    routes += [*generate_routes.ROUTES, Route(MCP_PATH, LazyMcpEndpoint(runtime))]
    routes += workspace_routes.ROUTES
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(TimingMiddleware, runtime=runtime, known_paths={r.path for r in routes}),
            Middleware(
                SecurityMiddleware, token=runtime.token, settings=lambda: runtime.config.server
            ),
        ],
        exception_handlers={
            ApiError: render_api_error,
            HTTPException: _http_error,
            Exception: _unexpected,
        },
    )
    app.state.runtime = runtime
    return app


__all__ = ["ApiError", "create_app"]
