"""The workspace index over HTTP: symbol search (LSP ``workspace/symbol``, MCP), editor updates.

``GET /v1/bbj/workspace/symbols?query=<q>&limit=<n>`` →
``{"symbols": [{"name", "kind", "path", "line", "signature", "container", "doc"}]}``;
``POST /v1/bbj/workspace/files`` ``{path, text?, deleted?}`` re-indexes one file from the
editor's buffer (or drops it); ``GET /v1/bbj/workspace`` says what is indexed. Every route
answers 404 with a sentence when the index is off.
"""

from __future__ import annotations

from pydantic import Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from daemon.server.api.common import read_json, runtime_of
from daemon.server.api.errors import ApiError
from daemon.server.api.schemas import _Lenient
from daemon.workspace import (
    MAX_QUERY_CHARS,
    Workspace,
    WorkspaceError,
    WorkspaceUnavailableError,
)

MAX_LIMIT = 1000


class WorkspaceFileUpdate(_Lenient):
    path: str = Field(min_length=1, max_length=4096)
    text: str | None = None
    deleted: bool = False


def _workspace(request: Request) -> Workspace:
    workspace = runtime_of(request).workspace
    if workspace is None:
        raise ApiError(
            404,
            "The workspace index is off: set workspace.roots (and workspace.enabled = true) in "
            "the daemon's config to the folders of your BBj code.",
            code="workspace_disabled",
        )
    return workspace


def _unavailable(exc: WorkspaceUnavailableError) -> ApiError:
    return ApiError(
        503,
        f"The workspace index cannot answer right now ({exc}); restarting the daemon rebuilds it.",
        code="workspace_unavailable",
    )


def _limit(raw: str | None) -> int:
    if raw is None:
        return 50
    try:
        limit = int(raw)
    except ValueError:
        raise ApiError(400, f"limit must be a whole number, got {raw[:40]!r}.") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise ApiError(400, f"limit must be between 1 and {MAX_LIMIT}, got {limit}.")
    return limit


async def symbols(request: Request) -> Response:
    workspace = _workspace(request)
    query = request.query_params.get("query", "")
    if len(query) > MAX_QUERY_CHARS:
        raise ApiError(400, f"query is longer than {MAX_QUERY_CHARS} characters.")
    limit = _limit(request.query_params.get("limit"))
    try:
        rows = await workspace.search(query, limit)
    except WorkspaceUnavailableError as exc:
        raise _unavailable(exc) from exc
    return JSONResponse({"symbols": [row.to_dict() for row in rows]})


async def update_file(request: Request) -> Response:
    workspace = _workspace(request)
    body = await read_json(request, WorkspaceFileUpdate)
    try:
        if body.deleted:
            await workspace.remove(body.path)
            count = 0
        else:
            count = await workspace.update(body.path, body.text)
    except WorkspaceUnavailableError as exc:
        raise _unavailable(exc) from exc
    except WorkspaceError as exc:
        raise ApiError(400, str(exc), code="workspace_path") from exc
    return JSONResponse({"path": body.path, "symbols": count})


async def status(request: Request) -> Response:
    workspace = _workspace(request)
    try:
        return JSONResponse(await workspace.status())
    except WorkspaceUnavailableError as exc:
        raise _unavailable(exc) from exc


ROUTES = [
    Route("/v1/bbj/workspace", status, methods=["GET"]),
    Route("/v1/bbj/workspace/symbols", symbols, methods=["GET"]),
    Route("/v1/bbj/workspace/files", update_file, methods=["POST"]),
]
