"""Compiler diagnostics end to end through the real daemon's ``/v1/bbj/check``."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.lsp.conftest import open_document, replace_text, wait_until

pytestmark = pytest.mark.asyncio(loop_scope="module")

SOURCES = {"bbj-coder", "bbjcpl"}

FOR_WITHOUT_NEXT = 'rem count\nfor i = 1 to 3\n  print i\nprint "done"\n'
FOR_WITH_NEXT = 'rem count\nfor i = 1 to 3\n  print i\nnext i\nprint "done"\n'
UNTERMINATED = 'print "ok"\n    msg$ = "never closed\nprint msg$\n'
TERMINATED = 'print "ok"\n    msg$ = "closed"\nprint msg$\n'


def published(client: LanguageClient, uri: str) -> list[types.Diagnostic] | None:
    """The last diagnostics published for ``uri`` (None when none were published yet)."""
    found = client.diagnostics.get(uri)
    return None if found is None else list(found)


async def test_for_without_next_is_reported_on_its_line_and_cleared_when_fixed(
    real_client: LanguageClient, tmp_path: Path
) -> None:
    uri = open_document(real_client, tmp_path / "loop.bbj", FOR_WITHOUT_NEXT)
    found = await wait_until(lambda: published(real_client, uri))
    assert len(found) == 1
    diagnostic = found[0]
    assert diagnostic.range == types.Range(
        start=types.Position(line=1, character=0),
        end=types.Position(line=1, character=len("for i = 1 to 3")),
    )
    assert diagnostic.severity == types.DiagnosticSeverity.Error
    assert diagnostic.source in SOURCES
    assert diagnostic.message
    replace_text(real_client, uri, FOR_WITH_NEXT, version=2)
    await wait_until(lambda: published(real_client, uri) == [])


async def test_unterminated_string_is_reported_and_cleared_after_save(
    real_client: LanguageClient, tmp_path: Path
) -> None:
    uri = open_document(real_client, tmp_path / "string.src", UNTERMINATED, language_id="bbj")
    found = await wait_until(lambda: published(real_client, uri))
    broken = UNTERMINATED.splitlines()[1]
    assert [(d.range.start, d.range.end) for d in found] == [
        (types.Position(line=1, character=4), types.Position(line=1, character=len(broken)))
    ]
    replace_text(real_client, uri, TERMINATED, version=2)
    real_client.text_document_did_save(
        types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    await wait_until(lambda: published(real_client, uri) == [])


async def test_only_bbj_files_get_diagnostics(real_client: LanguageClient, tmp_path: Path) -> None:
    notes = open_document(real_client, tmp_path / "notes.txt", FOR_WITHOUT_NEXT, "plaintext")
    script = open_document(real_client, tmp_path / "script.py", FOR_WITHOUT_NEXT, "python")
    # A BBj extension is enough, whatever language the editor thinks it is.
    by_extension = open_document(
        real_client, tmp_path / "legacy.bbx", FOR_WITHOUT_NEXT, "plaintext"
    )
    await wait_until(lambda: published(real_client, by_extension))
    assert notes not in real_client.diagnostics
    assert script not in real_client.diagnostics


async def test_closing_a_document_clears_its_diagnostics(
    real_client: LanguageClient, tmp_path: Path
) -> None:
    uri = open_document(real_client, tmp_path / "closed.bbj", FOR_WITHOUT_NEXT)
    await wait_until(lambda: published(real_client, uri))
    real_client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    await wait_until(lambda: published(real_client, uri) == [])


async def test_a_huge_document_is_checked_whole(
    real_client: LanguageClient, tmp_path: Path
) -> None:
    lines = 30_000
    text = "".join(f"x{n} = {n}\n" for n in range(lines)) + 'print "unterminated\n'
    uri = open_document(real_client, tmp_path / "huge.bbj", text)
    found = await wait_until(lambda: published(real_client, uri), timeout=30)
    assert [d.range.start.line for d in found] == [lines]


async def test_a_fix_from_the_random_tiny_model_is_never_offered(
    real_client: LanguageClient, tmp_path: Path
) -> None:
    if real_client.profile != "neovim":  # type: ignore[attr-defined]
        pytest.skip("the chat of the tiny model is slow; once is enough")
    uri = open_document(real_client, tmp_path / "unfixable.bbj", FOR_WITHOUT_NEXT)
    found = await wait_until(lambda: published(real_client, uri))
    params = types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        range=found[0].range,
        context=types.CodeActionContext(diagnostics=found),
    )
    (action,) = await real_client.text_document_code_action_async(params) or []
    assert isinstance(action, types.CodeAction) and action.title == "Fix with bbj-coder"
    resolved = await real_client.code_action_resolve_async(action)
    assert resolved.edit is None
