"""The tools' services over HTTP to this user's running daemon (``bbj-coder mcp`` on stdio).

Like the language server, it finds the daemon from its state and token files and starts it
(detached, via :mod:`daemon.launcher`) when nothing answers; a daemon that goes away mid-session
is looked for (and started) again on the next call.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from daemon.client import (
    CheckReport,
    DaemonClient,
    DaemonHTTPError,
    DaemonUnreachableError,
    local_daemon,
)
from daemon.launcher import DaemonLauncher
from daemon.mcp_server.services import (
    WORKSPACE_DISABLED,
    Completion,
    WorkspaceDisabledError,
    call_client_key,
)
from daemon.paths import AppPaths
from daemon.services.generate import GenerateRequest, GenerateResult, Progress

T = TypeVar("T")

REQUEST_TIMEOUT_S = 600.0
"""Per HTTP request: a generation with several fix rounds on a CPU can take minutes."""
START_TIMEOUT_S = 120.0
LAUNCH_LOG = "daemon-started-by-mcp.log"


class RemoteServices:
    def __init__(
        self,
        paths: AppPaths,
        *,
        start: bool = True,
        start_timeout_s: float = START_TIMEOUT_S,
        client: DaemonClient | None = None,
    ) -> None:
        """``client``: talk to that daemon instead of the one the state file names."""
        self._paths = paths
        self._start = start
        self._start_timeout_s = start_timeout_s
        self._launcher = DaemonLauncher(paths, LAUNCH_LOG)
        self._client = client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _connect(self) -> DaemonClient:
        if self._client is not None:
            return self._client
        client = self._new_client()
        try:
            await client.health()
        except DaemonUnreachableError:
            await client.aclose()
            if not self._start:
                raise
            launched = await self._launcher.launch(self._start_timeout_s)
            if not launched.started:
                raise DaemonUnreachableError(launched.sentence) from None
            client = self._new_client()
        self._client = client
        return client

    def _new_client(self) -> DaemonClient:
        url, token = local_daemon(self._paths)
        return DaemonClient(url, token, timeout=REQUEST_TIMEOUT_S)

    async def _call(self, call: Callable[[DaemonClient], Awaitable[T]]) -> T:
        """``call`` on a connected client; once more on a fresh one if the daemon went away."""
        client = await self._connect()
        try:
            return await call(client)
        except DaemonUnreachableError:
            await self.aclose()
        return await call(await self._connect())

    async def check(self, code: str, filename: str | None) -> CheckReport:
        return await self._call(lambda c: c.check(code, filename))

    async def generate(self, request: GenerateRequest, progress: Progress | None) -> GenerateResult:
        data = await self._call(
            lambda c: c.generate(
                request.task,
                context_code=request.context_code,
                generation=request.generation,
                max_attempts=request.max_attempts,
                on_progress=progress,
            )
        )
        return GenerateResult(
            code=data["code"],
            passed=data["passed"],
            checker=data["checker"],
            attempts=data["attempts"],
            generation=data["generation"],
            errors=tuple(data["errors"]),
            explanation=data.get("explanation", ""),
            tool_error=data.get("tool_error"),
            notes=tuple(data.get("notes", ())),
        )

    async def complete(self, prefix: str, suffix: str, path: str | None) -> Completion:
        key = call_client_key()
        done = await self._call(lambda c: c.fim(prefix, suffix, path=path, client=key))
        check = done.check or {}
        return Completion(
            text=done.completion,
            finish_reason=done.finish_reason,
            checker=check.get("checker"),
            passed=check.get("passed"),
            new_errors=tuple(check.get("new_errors", ())),
            superseded=done.superseded,
        )

    async def workspace_symbols(self, query: str, limit: int) -> list[dict[str, Any]]:
        try:
            return await self._call(lambda c: c.workspace_symbols(query, limit=limit))
        except DaemonHTTPError as exc:
            if exc.status != 404:
                raise
            raise WorkspaceDisabledError(f"{WORKSPACE_DISABLED} ({exc.message})") from exc


async def serve_stdio(paths: AppPaths, *, start: bool = True) -> None:
    """Serve the tools on stdin/stdout until the client closes them (``bbj-coder mcp``)."""
    from daemon.mcp_server.tools import build_server

    services = RemoteServices(paths, start=start)
    try:
        await build_server(services).run_stdio_async()
    finally:
        await services.aclose()
