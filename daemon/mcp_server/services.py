"""What the MCP tools need from bbj-coder, as a Protocol with two implementations: over HTTP
to the running daemon (:mod:`daemon.mcp_server.remote`, for ``bbj-coder mcp`` on stdio) and
in-process (:mod:`daemon.mcp_server.local`, for the daemon's own ``/mcp``).

Every method raises a :class:`daemon.errors.BbjCoderError` with a sentence when it cannot
serve; the tools turn that into an MCP tool error.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Protocol

from daemon.client import CheckReport
from daemon.errors import BbjCoderError
from daemon.services.generate import GenerateRequest, GenerateResult, Progress

WORKSPACE_DISABLED = "the workspace index is not enabled in this daemon"


class WorkspaceDisabledError(BbjCoderError):
    """The daemon has no workspace index (``GET /v1/bbj/workspace/symbols`` answered 404)."""


@dataclass(frozen=True)
class Completion:
    """A FIM completion as the editor would get it, with the compile gate's verdict."""

    text: str
    finish_reason: str
    checker: str | None = None
    """None when the compile gate is off in the daemon's config."""
    passed: bool | None = None
    new_errors: tuple[str, ...] = ()
    superseded: bool = False
    """A newer request with the same client key cancelled this one (text is then empty)."""


def call_client_key() -> str:
    """A supersession key of its own for one MCP completion: agents do not type ahead, so
    parallel calls must not cancel each other as an editor's keystrokes do."""
    return f"mcp-{uuid.uuid4().hex}"


class BbjServices(Protocol):
    async def check(self, code: str, filename: str | None) -> CheckReport: ...

    async def generate(
        self, request: GenerateRequest, progress: Progress | None
    ) -> GenerateResult: ...

    async def complete(self, prefix: str, suffix: str, path: str | None) -> Completion: ...

    async def workspace_symbols(self, query: str, limit: int) -> list[dict[str, Any]]: ...
