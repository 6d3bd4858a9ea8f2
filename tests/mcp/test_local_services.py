"""The in-daemon services behind ``/mcp``: workspace search straight from the index, and an
endpoint whose session manager fails to start answering 503 and starting on a later call."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from mcp import Client
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

from daemon.config import WorkspaceSettings
from daemon.mcp_server import build_server
from daemon.mcp_server.local import LocalServices, McpEndpoint
from daemon.workspace import MAX_QUERY_CHARS, open_workspace

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_workspace_search_reads_the_index_and_refuses_an_overlong_query(
    tmp_path: Path,
) -> None:
    root = tmp_path / "src"
    root.mkdir()
    (root / "Order.bbj").write_text(
        "class public Order\n  method public void post()\n  methodend\nclassend\n"
    )
    workspace = open_workspace(WorkspaceSettings(roots=(str(root),)), tmp_path / "cache")
    assert workspace is not None
    await workspace.build()
    services = LocalServices(SimpleNamespace(workspace=workspace))  # type: ignore[arg-type]
    try:
        async with Client(build_server(services)) as client:
            found = await client.call_tool("search_bbj_workspace", {"query": "order"})
            long = await client.call_tool(
                "search_bbj_workspace", {"query": "o" * (MAX_QUERY_CHARS + 100)}
            )
        off = LocalServices(SimpleNamespace(workspace=None))  # type: ignore[arg-type]
        async with Client(build_server(off)) as client:
            disabled = await client.call_tool("search_bbj_workspace", {"query": "order"})
    finally:
        workspace.close()
    assert found.structured_content is not None
    assert [s["name"] for s in found.structured_content["symbols"]] == ["Order"]
    assert long.is_error and f"the limit is {MAX_QUERY_CHARS}" in long.content[0].text
    assert "Traceback" not in long.content[0].text
    assert disabled.is_error and "not enabled" in disabled.content[0].text


async def test_a_session_manager_that_fails_to_start_is_retried(monkeypatch) -> None:
    real_run = StreamableHTTPSessionManager.run
    calls: list[int] = []

    def flaky_run(self: StreamableHTTPSessionManager) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("task group could not start")
        return real_run(self)

    monkeypatch.setattr(StreamableHTTPSessionManager, "run", flaky_run)
    endpoint = McpEndpoint(SimpleNamespace())  # type: ignore[arg-type]
    headers = {"Accept": "application/json, text/event-stream"}
    ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    transport = httpx.ASGITransport(app=endpoint)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
        first = await http.post("/mcp", json=ping, headers=headers)
        second = await http.post("/mcp", json=ping, headers=headers)
    assert first.status_code == 503
    assert "could not start" in first.json()["error"]["message"]
    assert second.status_code == 200 and len(calls) == 2
    await asyncio.sleep(0)


class _FimRecorder:
    """Stands in for the runtime's FIM service: answers once both parallel calls arrived."""

    def __init__(self) -> None:
        self.clients: list[str] = []
        self.both = asyncio.Event()

    async def complete(self, request: Any, gate: Any) -> Any:
        from daemon.services.fim import FimResult

        self.clients.append(request.client)
        if len(self.clients) == 2:
            self.both.set()
        await self.both.wait()
        superseded = request.prefix == "stale"
        return FimResult(text="" if superseded else "print 1", raw_text="", superseded=superseded)


class _RuntimeWithFim:
    def __init__(self, fim: _FimRecorder) -> None:
        self.fim = fim
        self.recorded: list[Any] = []

    def lease(self) -> Any:
        import contextlib

        return contextlib.nullcontext(None)

    def bound(self, slot: Any) -> _RuntimeWithFim:
        return self

    def require_fim(self) -> _FimRecorder:
        return self.fim

    def compile_gate(self) -> None:
        return None

    def record_fim(self, result: Any) -> None:
        self.recorded.append(result)


async def test_parallel_mcp_completions_do_not_share_a_supersession_key() -> None:
    fim = _FimRecorder()
    services = LocalServices(_RuntimeWithFim(fim))  # type: ignore[arg-type]
    async with Client(build_server(services)) as client:
        fresh, stale = await asyncio.gather(
            client.call_tool("complete_bbj_code", {"prefix": "fresh"}),
            client.call_tool("complete_bbj_code", {"prefix": "stale"}),
        )
    assert len(set(fim.clients)) == 2
    assert fresh.structured_content is not None and stale.structured_content is not None
    assert fresh.structured_content["completion"] == "print 1"
    assert fresh.structured_content["superseded"] is False
    assert stale.structured_content["superseded"] is True
