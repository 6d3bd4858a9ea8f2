"""``bbj/nextEdit`` end to end: pytest-lsp → ``python -m lsp`` → a daemon.

With the real daemon on the tiny model the answer is random, so that test asserts what every
answer must satisfy; the stand-in daemon answers on cue to check what the LSP sends (the
recorded edit history) and how it converts the answer (UTF-16 columns, ghost text).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pytest_lsp import LanguageClient

from tests.lsp.conftest import (
    VSCODE,
    capabilities,
    inline_params,
    lsp_env,
    lsp_session,
    open_document,
    replace_text,
    standin_options,
)
from tests.lsp.standin import StandInDaemon

pytestmark = pytest.mark.asyncio(loop_scope="module")

NEXT_EDIT = "bbj/nextEdit"
BEFORE = 'x = 1\nprint x\nprint "done"\n'
AFTER = 'count = 1\nprint x\nprint "done"\n'
REASONS = {"no_change", "undo", "check_failed", "incomplete", "superseded"}


async def next_edit(client: LanguageClient, uri: str, line: int, character: int) -> Any:
    params = {"textDocument": {"uri": uri}, "position": {"line": line, "character": character}}
    return await client.protocol.send_request_async(NEXT_EDIT, params)


async def test_edits_then_next_edit_on_the_real_daemon(
    real_client: LanguageClient, tmp_path: Path
) -> None:
    uri = open_document(real_client, tmp_path / "rename.bbj", BEFORE)
    replace_text(real_client, uri, AFTER, version=2)
    result = await next_edit(real_client, uri, 1, 7)
    assert result.hunks == 1  # the rename, recorded from didChange
    if result.edits:
        assert result.reason is None
        for edit in result.edits:
            assert edit.textDocument.uri == uri and edit.textDocument.version == 2
            assert edit.range.start.line >= 0 and isinstance(edit.text, str)
    else:
        assert result.reason in REASONS


async def test_the_history_goes_to_the_daemon_and_edits_come_back_in_utf16(
    standin: StandInDaemon, tmp_path: Path
) -> None:
    # "é" is one code point and one UTF-16 unit, "𝄞" one code point but two UTF-16 units.
    text = "a𝄞 = 1\nprint a\n"
    standin.next_edits = [
        {
            "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 2}},
            "new_text": "b𝄞",
        },
        {
            "range": {"start": {"line": 1, "character": 6}, "end": {"line": 1, "character": 7}},
            "new_text": "b𝄞",
        },
    ]
    async with lsp_session(
        lsp_env(tmp_path), capabilities(VSCODE), initialization_options=standin_options(standin)
    ) as client:
        uri = open_document(client, tmp_path / "u.bbj", "a = 1\nprint a\n")
        replace_text(client, uri, text, version=2)
        result = await next_edit(client, uri, 1, 0)
    sent = standin.last_next_edit
    assert sent is not None
    assert sent["edits"] == [
        {"path": "u.bbj", "start_line": 0, "original": "a = 1\n", "updated": "a𝄞 = 1\n"}
    ]
    assert sent["cursor"] == {"line": 1, "character": 0} and sent["text"] == text
    first, second = result.edits
    assert (first.range.start.character, first.range.end.character) == (0, 3)  # UTF-16 units
    assert (second.range.start.character, second.range.end.character) == (6, 7)
    assert first.text == "b𝄞"


async def test_an_edit_on_the_cursor_line_is_offered_as_ghost_text(
    standin: StandInDaemon, tmp_path: Path
) -> None:
    standin.fim_completion = ""  # nothing to insert at the cursor
    standin.next_edits = [
        {
            "range": {"start": {"line": 1, "character": 6}, "end": {"line": 1, "character": 7}},
            "new_text": "count",
        }
    ]
    async with lsp_session(
        lsp_env(tmp_path), capabilities(VSCODE), initialization_options=standin_options(standin)
    ) as client:
        uri = open_document(client, tmp_path / "g.bbj", BEFORE)
        replace_text(client, uri, AFTER, version=2)
        items = await client.text_document_inline_completion_async(inline_params(uri, 1, 6))
    assert isinstance(items, list) and len(items) == 1
    item = items[0]
    assert item.insert_text == "print count"
    assert item.range == types.Range(
        start=types.Position(line=1, character=0), end=types.Position(line=1, character=7)
    )


@pytest.mark.parametrize("status", [404, 409])
async def test_next_edit_off_or_unsupported_is_not_asked_again_on_every_pause(
    standin: StandInDaemon, tmp_path: Path, status: int
) -> None:
    standin.fim_completion = ""
    standin.next_edit_status = status
    async with lsp_session(
        lsp_env(tmp_path), capabilities(VSCODE), initialization_options=standin_options(standin)
    ) as client:
        uri = open_document(client, tmp_path / "o.bbj", BEFORE)
        for _ in range(3):
            assert (
                await client.text_document_inline_completion_async(inline_params(uri, 1, 6)) == []
            )
    assert standin.fim_requests == 3
    assert standin.next_edit_requests == 1


async def test_a_superseded_completion_does_not_fall_back_to_next_edit(
    standin: StandInDaemon, tmp_path: Path
) -> None:
    standin.fim_completion = ""
    standin.fim_superseded = True
    async with lsp_session(
        lsp_env(tmp_path), capabilities(VSCODE), initialization_options=standin_options(standin)
    ) as client:
        uri = open_document(client, tmp_path / "s.bbj", BEFORE)
        assert await client.text_document_inline_completion_async(inline_params(uri, 1, 6)) == []
    assert standin.fim_requests == 1
    assert standin.next_edit_requests == 0


async def test_bad_params_are_an_invalid_params_error(
    standin: StandInDaemon, tmp_path: Path
) -> None:
    async with lsp_session(
        lsp_env(tmp_path), capabilities(VSCODE), initialization_options=standin_options(standin)
    ) as client:
        with pytest.raises(JsonRpcInvalidParams, match="textDocument"):
            await client.protocol.send_request_async(NEXT_EDIT, {"position": {"line": 0}})
