"""The workspace routes and pinned context on a real daemon serving the tiny model."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from daemon.client import DaemonClient, DaemonHTTPError
from tests.conftest import RunningDaemon

from .conftest import MAIN

pytestmark = pytest.mark.slow


def test_symbols_route_answers_the_agreed_shape(workspace_daemon) -> None:
    running, root = workspace_daemon
    with running.client() as http:
        response = http.get("/v1/bbj/workspace/symbols", params={"query": "getname", "limit": 5})
        assert response.status_code == 200
        (symbol,) = response.json()["symbols"]
        assert symbol == {
            "name": "getName",
            "kind": "method",
            "path": str((root / "app" / "lib" / "Customer.bbj").resolve()),
            "line": 6,
            "signature": "method public BBjString getName()",
            "container": "Customer",
            "doc": "The customer's display name.",
        }
        assert http.get("/v1/bbj/workspace/symbols", params={"limit": "x"}).status_code == 400
        bad = http.get("/v1/bbj/workspace/symbols", params={"limit": 0})
        assert bad.status_code == 400 and "limit must be between" in bad.json()["error"]["message"]
    assert httpx.get(f"{running.url}/v1/bbj/workspace/symbols").status_code == 401


def test_client_searches_and_updates_from_the_editor(workspace_daemon, tmp_path: Path) -> None:
    running, root = workspace_daemon

    async def go() -> None:
        async with DaemonClient(running.url, running.token) as client:
            found = await client.workspace_symbols("order", limit=10)
            assert [s["name"] for s in found][:1] == ["Order"]
            draft = "class public Invoice\n  method public void post()\n  methodend\nclassend\n"
            path = str(root / "app" / "Invoice.bbj")  # not saved yet: the editor's text
            assert await client.workspace_update(path, draft) == 2
            assert [s["name"] for s in await client.workspace_symbols("invoice")] == ["Invoice"]
            await client.workspace_update(path, deleted=True)
            assert await client.workspace_symbols("invoice") == []
            outside = tmp_path / "x.bbj"
            with pytest.raises(DaemonHTTPError) as refused:
                await client.workspace_update(str(outside), "class public X\nclassend\n")
            assert refused.value.status == 400 and "outside the workspace" in str(refused.value)

    asyncio.run(go())


def test_bad_paths_and_bodies_get_a_sentence_not_a_500(workspace_daemon) -> None:
    running, root = workspace_daemon
    with running.client() as http:
        for body in (
            {"path": str(root / "a\u0000.bbj"), "text": "x"},
            {"path": str(root / ("x" * 5000) / "a.bbj")},
            {"path": str(root / "notes.txt"), "text": "x"},
            {"path": ""},
            {"text": "no path"},
        ):
            response = http.post("/v1/bbj/workspace/files", json=body)
            assert response.status_code == 400, (body, response.text)
            assert response.json()["error"]["message"]
        broken = http.post("/v1/bbj/workspace/files", content=b"{not json")
        assert broken.status_code == 400
        long_query = http.get("/v1/bbj/workspace/symbols", params={"query": "q" * 300})
        assert long_query.status_code == 400
        nul = http.get("/v1/bbj/workspace/symbols", params={"query": "a\u0000b"})
        assert nul.status_code == 200 and nul.json() == {"symbols": []}


def test_fim_prompt_carries_the_used_class_signatures(workspace_daemon) -> None:
    running, _root = workspace_daemon

    def prompt_tokens(prefix: str) -> int:
        with running.client() as http:
            body = {"prefix": prefix, "suffix": "\n", "path": "app/main.bbj", "max_tokens": 1}
            response = http.post("/v1/bbj/fim", json=body)
            assert response.status_code == 200, response.text
            return int(response.json()["timings"]["prompt_tokens"])

    with_use = prompt_tokens(MAIN + "c!.")
    # The same length of text naming a class that exists nowhere (Customer → Nobody12).
    without = prompt_tokens(MAIN.replace("Customer", "Nobody12") + "c!.")
    # Customer's signature block (a few dozen tokens) is in the first prompt only.
    assert with_use - without > 20


def test_routes_say_404_when_the_index_is_off(daemon: RunningDaemon) -> None:
    with daemon.client() as http:
        response = http.get("/v1/bbj/workspace/symbols", params={"query": "x"})
        assert response.status_code == 404
        assert "workspace.roots" in response.json()["error"]["message"]
        assert http.post("/v1/bbj/workspace/files", json={"path": "a.bbj"}).status_code == 404


def test_chat_prompt_carries_the_definitions_the_question_names(workspace_daemon) -> None:
    running, _root = workspace_daemon

    def prompt_tokens(question: str) -> int:
        body = {
            "model": "bbj-coder",
            "messages": [{"role": "user", "content": question}],
            "max_tokens": 1,
        }
        with running.client() as http:
            response = http.post("/v1/chat/completions", json=body)
            assert response.status_code == 200, response.text
            return int(response.json()["usage"]["prompt_tokens"])

    named = prompt_tokens("How do I call addLine on an Order?")
    unknown = prompt_tokens("How do I call addLine on an Nobody12?")
    assert named - unknown > 20  # Order's signatures, with the file they live in
