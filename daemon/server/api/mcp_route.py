"""``/mcp``: the MCP endpoint (:mod:`daemon.mcp_server.local`), loaded on its first request.

The MCP SDK takes about a third of a second to import; a daemon whose users never connect an
agent should not start that much slower, so the endpoint is imported (in a worker thread, off
the event loop) when the first request for it arrives.
"""

from __future__ import annotations

import asyncio
import importlib
from typing import Any

from starlette.types import Receive, Scope, Send

MCP_PATH = "/mcp"


class LazyMcpEndpoint:
    """ASGI app that builds the real endpoint on first use and hands every request to it."""

    def __init__(self, runtime: Any) -> None:
        self._runtime = runtime
        self._endpoint: Any = None
        self._lock = asyncio.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._endpoint is None:
            async with self._lock:
                if self._endpoint is None:
                    local = await asyncio.to_thread(
                        importlib.import_module, "daemon.mcp_server.local"
                    )
                    self._endpoint = local.McpEndpoint(self._runtime)
        await self._endpoint(scope, receive, send)
