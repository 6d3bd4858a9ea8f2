"""Untrusted input from the editor: positions past the end, huge documents, unknown URIs,
files that are not BBj, and settings that make no sense."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from lsprotocol import types
from pytest_lsp import LanguageClient

from lsp.documents import MAX_PREFIX_LINES, MAX_SUFFIX_LINES
from tests.lsp.conftest import (
    VSCODE,
    capabilities,
    completion_params,
    inline_params,
    lsp_env,
    lsp_session,
    open_document,
    standin_options,
    wait_until,
)
from tests.lsp.standin import FIXED_COMPLETION, StandInDaemon

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def client(standin: StandInDaemon, tmp_path: Path) -> AsyncIterator[LanguageClient]:
    async with lsp_session(
        lsp_env(tmp_path), capabilities(VSCODE), initialization_options=standin_options(standin)
    ) as session:
        yield session


def at(line: int, character: int) -> types.Range:
    position = types.Position(line=line, character=character)
    return types.Range(start=position, end=position)


async def inline_at(
    client: LanguageClient, uri: str, line: int, character: int
) -> list[types.InlineCompletionItem]:
    result = await client.text_document_inline_completion_async(inline_params(uri, line, character))
    assert isinstance(result, list)
    return result


async def completes(client: LanguageClient, uri: str) -> list[types.InlineCompletionItem]:
    """Inline completions at the end of line 0, retried while new settings take effect."""
    for _attempt in range(100):
        items = await inline_at(client, uri, 0, 5)
        if items:
            return items
        await asyncio.sleep(0.05)
    return []


async def test_positions_past_the_end_are_clamped(
    client: LanguageClient, standin: StandInDaemon, tmp_path: Path
) -> None:
    uri = open_document(client, tmp_path / "short.bbj", "print 1\nprint 22\n")
    (item,) = await inline_at(client, uri, 1, 500)
    assert item.range == at(1, len("print 22"))
    assert standin.last_fim is not None
    assert standin.last_fim["prefix"] == "print 1\nprint 22"
    assert standin.last_fim["suffix"] == "\n"

    (item,) = await inline_at(client, uri, 99, 99)
    assert item.range == at(2, 0)  # the empty line after the final newline
    assert standin.last_fim["suffix"] == ""


async def test_huge_documents_send_only_lines_near_the_cursor(
    client: LanguageClient, standin: StandInDaemon, tmp_path: Path
) -> None:
    lines = [f"x{n} = {n}" for n in range(20_000)]
    uri = open_document(client, tmp_path / "huge.bbj", "\n".join(lines) + "\n")
    cursor_line = 10_000
    (item,) = await inline_at(client, uri, cursor_line, 3)
    assert item.insert_text == FIXED_COMPLETION
    sent = standin.last_fim
    assert sent is not None
    prefix_lines = sent["prefix"].split("\n")
    assert len(prefix_lines) <= MAX_PREFIX_LINES
    assert prefix_lines[-1] == lines[cursor_line][:3]
    assert prefix_lines[-2] == lines[cursor_line - 1]
    suffix_lines = sent["suffix"].split("\n")
    assert len(suffix_lines) <= MAX_SUFFIX_LINES
    assert suffix_lines[0] == lines[cursor_line][3:]


async def test_a_huge_single_line_is_capped(
    client: LanguageClient, standin: StandInDaemon, tmp_path: Path
) -> None:
    line = 'a$ = "' + "x" * 200_000
    uri = open_document(client, tmp_path / "oneline.bbj", line + "\nprint a$\n")
    assert await inline_at(client, uri, 0, len(line))
    assert standin.last_fim is not None
    assert 0 < len(standin.last_fim["prefix"]) < 100_000


async def test_unknown_uris_and_other_languages_get_nothing(
    client: LanguageClient, standin: StandInDaemon, tmp_path: Path
) -> None:
    unknown = (tmp_path / "never-opened.bbj").as_uri()
    assert await inline_at(client, unknown, 0, 0) == []
    completion = await client.text_document_completion_async(completion_params(unknown, 0, 0))
    assert completion is None or len(completion.items) == 0
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=unknown, version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text="print 1\n")],
        )
    )
    python = open_document(client, tmp_path / "tool.py", "print(1)\n", "python")
    assert await inline_at(client, python, 0, 8) == []
    assert standin.fim_requests == 0

    # The server is still fine: a BBj file gets its completion and diagnostics.
    bbj = open_document(client, tmp_path / "after.bbj", 'print "open\n')
    assert [item.insert_text for item in await inline_at(client, bbj, 0, 5)] == [FIXED_COMPLETION]
    assert await wait_until(lambda: client.diagnostics.get(bbj))
    assert python not in client.diagnostics


async def test_settings_from_workspace_configuration(
    standin: StandInDaemon, tmp_path: Path
) -> None:
    configuration = {"bbjCoder": {"inlineCompletion": False, "debounceMs": "soon", "bogus": 1}}
    async with lsp_session(
        lsp_env(tmp_path),
        capabilities(VSCODE),
        initialization_options={"bbjCoder": standin_options(standin, diagnostics=False)},
        configuration=configuration,
    ) as client:
        uri = open_document(client, tmp_path / "configured.bbj", 'print "open\n')
        assert await inline_at(client, uri, 0, 5) == []
        assert standin.fim_requests == 0
        assert standin.check_requests == 0
        logged = [m.message for m in client.log_messages]
        assert any("debounceMs" in m for m in logged)
        assert any("bogus" in m for m in logged)

        client.set_configuration({"bbjCoder": {"inlineCompletion": True, "diagnostics": True}})
        client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
        assert [item.insert_text for item in await completes(client, uri)] == [FIXED_COMPLETION]
        # diagnostics=false from the initialization options was overridden too
        client.text_document_did_save(
            types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )
        assert await wait_until(lambda: client.diagnostics.get(uri))
