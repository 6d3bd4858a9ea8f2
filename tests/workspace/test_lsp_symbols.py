"""``workspace/symbol`` and index updates through the language server (pytest-lsp client)."""

from __future__ import annotations

import asyncio

import pytest
from lsprotocol import types

from tests.lsp.conftest import (
    VSCODE,
    capabilities,
    lsp_env,
    lsp_session,
    open_document,
    replace_text,
)

pytestmark = [pytest.mark.slow, pytest.mark.asyncio]


async def symbols(client, query: str) -> list[types.SymbolInformation]:
    found = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query=query))
    return list(found or [])


async def test_workspace_symbol_and_live_updates(workspace_daemon) -> None:
    running, root = workspace_daemon
    options = {"debounceMs": 50}
    async with lsp_session(
        lsp_env(running.home), capabilities(VSCODE), initialization_options=options
    ) as client:
        (found,) = await symbols(client, "getName")
        assert found.kind == types.SymbolKind.Method and found.container_name == "Customer"
        assert found.location.uri == (root / "app" / "lib" / "Customer.bbj").resolve().as_uri()
        assert found.location.range.start == types.Position(line=5, character=0)

        # A class typed into an unsaved buffer is found after the edit pause.
        path = root / "app" / "Invoice.bbj"
        uri = open_document(client, path, "rem new\n")
        text = "class public Invoice\n  method public void post()\n  methodend\nclassend\n"
        replace_text(client, uri, text, version=2)
        deadline = asyncio.get_running_loop().time() + 15
        while not await symbols(client, "Invoice"):
            assert asyncio.get_running_loop().time() < deadline, "the edit never reached the index"
            await asyncio.sleep(0.1)
        assert [s.name for s in await symbols(client, "post")] == ["post"]
