"""bbj-coder as an MCP server: BBj validation, compiler-checked generation, completion,
diagnostic explanation and workspace search as tools for any agent.

``bbj-coder mcp`` serves them on stdio through the running daemon (:class:`RemoteServices`);
the daemon serves the same tools in-process at ``/mcp`` (:mod:`daemon.mcp_server.local`).
"""

from daemon.mcp_server.remote import RemoteServices
from daemon.mcp_server.services import (
    WORKSPACE_DISABLED,
    BbjServices,
    Completion,
    WorkspaceDisabledError,
)
from daemon.mcp_server.tools import MAX_CODE_CHARS, BbjMcpServer, build_server

__all__ = [
    "MAX_CODE_CHARS",
    "WORKSPACE_DISABLED",
    "BbjMcpServer",
    "BbjServices",
    "Completion",
    "RemoteServices",
    "WorkspaceDisabledError",
    "build_server",
]
