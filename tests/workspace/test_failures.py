"""A failing index file never breaks completion or chat: lookups give no context, the workspace
routes answer 503 with a sentence, and a build that dies says why in the status."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from starlette.applications import Starlette

from daemon.config import WorkspaceSettings
from daemon.server.api import workspace_routes
from daemon.server.api.errors import ApiError, render_api_error
from daemon.server.lifecycle import _run_workspace
from daemon.workspace import Workspace, WorkspaceUnavailableError, open_workspace

from .conftest import MAIN, Tree


def closed_workspace(tree: Tree, tmp_path: Path) -> Workspace:
    settings = WorkspaceSettings(roots=(str(tree.root),), prefix=(str(tree.prefix),))
    workspace = open_workspace(settings, tmp_path / "cache")
    assert workspace is not None
    workspace.index.build()
    workspace.ready.set()
    workspace.close()
    return workspace


def test_a_closed_index_gives_no_context_instead_of_an_error(
    tree: Tree, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    workspace = closed_workspace(tree, tmp_path)
    with pytest.raises(WorkspaceUnavailableError, match="failed"):
        workspace.index.search("order", 5)
    with caplog.at_level(logging.WARNING, logger="bbj_coder.workspace"):
        assert workspace.pinned(str(tree.main), MAIN, "", len) == ()
        assert workspace.chat_note("How does Customer.getName work?", len) == ""
        assert workspace.pinned(str(tree.main), MAIN, "", len) == ()
    warnings = [r for r in caplog.records if "left out of prompts" in r.getMessage()]
    assert len(warnings) == 1


def test_routes_answer_503_with_a_sentence_when_the_index_fails(tree: Tree, tmp_path: Path) -> None:
    workspace = closed_workspace(tree, tmp_path)
    app = Starlette(routes=workspace_routes.ROUTES, exception_handlers={ApiError: render_api_error})
    app.state.runtime = SimpleNamespace(workspace=workspace)

    async def go() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
            return [
                await http.get("/v1/bbj/workspace/symbols", params={"query": "order"}),
                await http.get("/v1/bbj/workspace"),
                await http.post(
                    "/v1/bbj/workspace/files", json={"path": str(tree.main), "text": MAIN}
                ),
            ]

    for response in asyncio.run(go()):
        assert response.status_code == 503, response.text
        assert "workspace index cannot answer" in response.json()["error"]["message"]


def test_a_build_that_dies_unexpectedly_is_logged_and_shown_in_the_status(
    tree: Tree, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    settings = WorkspaceSettings(roots=(str(tree.root),), watch=False)
    workspace = open_workspace(settings, tmp_path / "cache")
    assert workspace is not None

    def broken() -> None:
        raise RuntimeError("parser blew up")

    monkeypatch.setattr(workspace.index, "build", broken)
    try:
        with caplog.at_level(logging.ERROR, logger="bbj_coder"):
            asyncio.run(_run_workspace(workspace))
        status = asyncio.run(workspace.status())
    finally:
        workspace.close()
    assert any(r.exc_info for r in caplog.records)
    assert status["ready"] is False
    assert "RuntimeError: parser blew up" in status["error"]
