"""The tools' services in-process, and the daemon's ``/mcp`` Streamable HTTP endpoint.

``/mcp`` sits behind the same security middleware as every route (token, Host, Origin). It is
stateless and POST-only: each POST carries one JSON-RPC message and gets its answer (with
progress notifications before it) as an SSE stream, so no session outlives a request.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from daemon.check import CheckResult
from daemon.client import CheckDiagnostic, CheckReport
from daemon.mcp_server.services import (
    WORKSPACE_DISABLED,
    Completion,
    WorkspaceDisabledError,
    call_client_key,
)
from daemon.mcp_server.tools import build_server
from daemon.server.api.errors import error_body
from daemon.server.api.mcp_route import MCP_PATH
from daemon.server.runtime import Runtime
from daemon.services.fim import FimRequest
from daemon.services.generate import (
    GenerateRequest,
    GenerateResult,
    Progress,
)

log = logging.getLogger("bbj_coder")

MAX_BODY_BYTES = 4 * 1024 * 1024


def _report(result: CheckResult) -> CheckReport:
    return CheckReport(
        ok=result.ok,
        checker=result.checker,
        diagnostics=tuple(
            CheckDiagnostic(d.line, d.message, d.severity, d.col) for d in result.diagnostics
        ),
        tool_error=result.tool_error,
    )


class LocalServices:
    """Serves through ``runtime``; each call pins the model it started with, like a request."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    async def check(self, code: str, filename: str | None) -> CheckReport:
        assert self._runtime.checker is not None
        return _report(await self._runtime.checker.check(code, filename))

    async def generate(self, request: GenerateRequest, progress: Progress | None) -> GenerateResult:
        with self._runtime.lease() as slot:
            service = self._runtime.bound(slot).generate_service()
            return await service.run(request, progress)

    async def complete(self, prefix: str, suffix: str, path: str | None) -> Completion:
        with self._runtime.lease() as slot:
            runtime = self._runtime.bound(slot)
            fim = runtime.require_fim()
            wanted = FimRequest(prefix=prefix, suffix=suffix, path=path, client=call_client_key())
            result = await fim.complete(wanted, runtime.compile_gate())
            runtime.record_fim(result)
        check = result.check
        return Completion(
            text=result.text,
            finish_reason=result.stats.finish_reason,
            checker=check.checker if check else None,
            passed=check.passed if check else None,
            new_errors=check.new_errors if check else (),
            superseded=result.superseded,
        )

    async def workspace_symbols(self, query: str, limit: int) -> list[dict[str, Any]]:
        workspace = self._runtime.workspace
        if workspace is None:
            raise WorkspaceDisabledError(f"{WORKSPACE_DISABLED}.")
        return [row.to_dict() for row in await workspace.search(query, limit)]


class McpEndpoint:
    """ASGI app for ``/mcp``: starts the SDK's session manager on first use (the daemon runs
    uvicorn without a lifespan) and keeps it for the life of the event loop."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._manager: StreamableHTTPSessionManager | None = None
        self._ready: asyncio.Event | None = None
        self._host: asyncio.Task[None] | None = None
        self._running = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] != "POST":
            message = (
                f"{scope['method']} is not allowed on {MCP_PATH}: bbj-coder's MCP endpoint is "
                "stateless, so clients send every message as a POST."
            )
            body = error_body(MCP_PATH, 405, message)
            await JSONResponse(body, 405, headers={"Allow": "POST"})(scope, receive, send)
            return
        manager = await self._started()
        if manager is None:
            message = (
                "bbj-coder's MCP endpoint could not start; it tries again on the next request "
                "and the daemon log has the details."
            )
            body = error_body(MCP_PATH, 503, message)
            await JSONResponse(body, 503, headers={"Retry-After": "1"})(scope, receive, send)
            return
        await manager.handle_request(scope, receive, send)

    async def _started(self) -> StreamableHTTPSessionManager | None:
        """The running session manager, or None when it failed to start (the next call
        builds a fresh one: the SDK's manager runs only once)."""
        if self._ready is None:
            self._ready = asyncio.Event()
            server = build_server(LocalServices(self._runtime))
            server.streamable_http_app(
                streamable_http_path=MCP_PATH,
                stateless_http=True,
                # The daemon's own middleware has checked Host, Origin and the token already.
                transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
                max_request_body_size=MAX_BODY_BYTES,
            )
            self._manager = server.session_manager
            self._host = asyncio.get_running_loop().create_task(
                self._run(self._manager, self._ready)
            )
        ready = self._ready
        await ready.wait()
        if not self._running:
            if self._ready is ready:
                self._ready = None
            return None
        return self._manager

    async def _run(self, manager: StreamableHTTPSessionManager, ready: asyncio.Event) -> None:
        try:
            async with manager.run():
                self._running = True
                ready.set()
                await asyncio.Event().wait()  # until the daemon's event loop ends
        except Exception:
            log.exception("the MCP endpoint's session manager failed")
        finally:
            self._running = False
            ready.set()  # a manager that failed to start must not leave requests waiting
