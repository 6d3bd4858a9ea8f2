"""AI completions end to end: pytest-lsp → ``python -m lsp`` → the real daemon on the tiny model.

The tiny model writes random text (sometimes nothing after post-processing), so these tests
try a few programs and assert what every answer must satisfy, not what it says.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcRequestCancelled
from pytest_lsp import LanguageClient

from tests.lsp.conftest import (
    NEOVIM,
    VSCODE,
    completion_params,
    inline_params,
    open_document,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

PROGRAM_TEXTS = (
    'rem greet\nfor i = 1 to 3\n  print "hello "',
    "class public Greeter\n  method public void hello()\n    x = ",
    'name$ = "BBj"\nprint name$, " is "',
    "rem totals\ntotal = 0\nwhile total < 10\n  total = total + ",
    "declare BBjSysGui sysgui!\nsysgui! = BBjAPI().",
    "dim a$(10)\nfor j = 1 to 10\n  a$(j) = ",
)
PROGRAMS: tuple[tuple[str, int, int], ...] = tuple(
    (text, text.count("\n"), len(text.rsplit("\n", 1)[-1])) for text in PROGRAM_TEXTS
)
"""(text, cursor line, cursor character): cursors at the end of the last line."""


def at(line: int, character: int) -> types.Range:
    position = types.Position(line=line, character=character)
    return types.Range(start=position, end=position)


async def inline_items(
    client: LanguageClient, uri: str, line: int, character: int
) -> list[types.InlineCompletionItem]:
    result = await client.text_document_inline_completion_async(inline_params(uri, line, character))
    assert isinstance(result, list), f"expected a list of items, got {result!r}"
    return result


async def test_inline_completion_from_the_real_daemon(
    real_client: LanguageClient, tmp_path: Path
) -> None:
    completed = 0
    for index, (text, line, character) in enumerate(PROGRAMS):
        uri = open_document(real_client, tmp_path / f"inline{index}.bbj", text)
        items = await inline_items(real_client, uri, line, character)
        assert len(items) <= 1
        for item in items:
            assert isinstance(item.insert_text, str) and item.insert_text
            assert item.range == at(line, character)
        completed += len(items)
    assert completed > 0, "no program got a completion"


async def test_completion_fallback_is_one_multiline_item(
    real_client: LanguageClient, tmp_path: Path
) -> None:
    if real_client.profile != NEOVIM:  # type: ignore[attr-defined]
        pytest.skip("the fallback is for editors without inline completion")
    items: list[types.CompletionItem] = []
    for index, (text, line, character) in enumerate(PROGRAMS):
        uri = open_document(real_client, tmp_path / f"fallback{index}.bbj", text)
        result = await real_client.text_document_completion_async(
            completion_params(uri, line, character)
        )
        assert isinstance(result, types.CompletionList)
        items = list(result.items)
        if items:
            break
    assert len(items) == 1, "no program got a completion item"
    item = items[0]
    assert isinstance(item.text_edit, types.TextEdit)
    assert item.text_edit.range == at(line, character)
    assert item.insert_text == item.text_edit.new_text
    first_line = next(part.strip() for part in item.insert_text.splitlines() if part.strip())
    assert item.label == first_line[:60]
    assert item.kind in (types.CompletionItemKind.Snippet, types.CompletionItemKind.Text)
    assert item.insert_text_format == types.InsertTextFormat.PlainText
    assert item.detail and "AI" in item.detail


async def test_editors_with_inline_completion_get_no_duplicate_items(
    real_client: LanguageClient, tmp_path: Path
) -> None:
    if real_client.profile != VSCODE:  # type: ignore[attr-defined]
        pytest.skip("only editors announcing inline completion")
    for index, (text, line, character) in enumerate(PROGRAMS):
        uri = open_document(real_client, tmp_path / f"dup{index}.bbj", text)
        if await inline_items(real_client, uri, line, character):
            result = await real_client.text_document_completion_async(
                completion_params(uri, line, character)
            )
            assert isinstance(result, types.CompletionList)
            assert len(result.items) == 0
            return
    pytest.fail("no program got an inline completion")


async def test_cancelled_request_answers_promptly_and_the_server_goes_on(
    real_client: LanguageClient, tmp_path: Path
) -> None:
    text, line, character = PROGRAMS[0]
    uri = open_document(real_client, tmp_path / "cancel.bbj", text + " ")
    msg_id = f"cancel-{real_client.profile}"  # type: ignore[attr-defined]
    started = time.monotonic()
    future = real_client.protocol.send_request(
        types.TEXT_DOCUMENT_INLINE_COMPLETION,
        inline_params(uri, line, character + 1),
        msg_id=msg_id,
    )
    real_client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=msg_id))
    try:
        result = await asyncio.wait_for(asyncio.wrap_future(future), 5)
    except JsonRpcRequestCancelled:
        result = None  # cancelled before the daemon answered
    assert time.monotonic() - started < 3
    assert result is None or isinstance(result, list)
    assert isinstance(await inline_items(real_client, uri, line, character + 1), list)
