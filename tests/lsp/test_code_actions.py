""" "Fix with bbj-coder": an edit only when the fix passes the check.

The stand-in daemon's chat answers what the test says (a correct fix or a broken one) and its
check is the real built-in checker, so both outcomes can be forced.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from daemon.check import BuiltinChecker
from tests.lsp.conftest import (
    VSCODE,
    capabilities,
    lsp_env,
    lsp_session,
    open_document,
    standin_options,
    wait_until,
    without_edit_resolve,
)
from tests.lsp.standin import StandInDaemon

pytestmark = pytest.mark.asyncio

BROKEN = 'rem fix me\nfor i = 1 to 3\n  print i\nprint "done"\n'
FIXED = 'rem fix me\nfor i = 1 to 3\n  print i\nnext i\nprint "done"'
GOOD_ANSWER = f"The `for` needs a `next`:\n\n```bbj\n{FIXED}\n```\n"
BAD_ANSWER = '```bbj\nrem fix me\nfor i = 1 to 3\n  print "i\n```\n'
FIX_TITLE = "Fix with bbj-coder"


def apply_edit(text: str, uri: str, edit: types.WorkspaceEdit) -> str:
    """``text`` with the one text edit of ``edit`` applied (ASCII text: UTF-16 == str index)."""
    if edit.document_changes is not None:
        (change,) = edit.document_changes
        assert isinstance(change, types.TextDocumentEdit) and change.text_document.uri == uri
        (text_edit,) = change.edits
    else:
        assert edit.changes is not None
        (text_edit,) = edit.changes[uri]
    lines = text.split("\n")

    def offset(position: types.Position) -> int:
        return sum(len(line) + 1 for line in lines[: position.line]) + position.character

    start, end = offset(text_edit.range.start), offset(text_edit.range.end)
    return text[:start] + text_edit.new_text + text[end:]


async def request_actions(
    client: LanguageClient, uri: str, diagnostics: list[types.Diagnostic]
) -> list[types.CodeAction]:
    params = types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        range=diagnostics[0].range,
        context=types.CodeActionContext(diagnostics=diagnostics),
    )
    result = await client.text_document_code_action_async(params)
    return [action for action in result or [] if isinstance(action, types.CodeAction)]


async def broken_document(client: LanguageClient, path: Path) -> tuple[str, list[types.Diagnostic]]:
    uri = open_document(client, path, BROKEN)
    diagnostics = await wait_until(lambda: client.diagnostics.get(uri))
    return uri, list(diagnostics)


async def test_resolved_fix_has_an_edit_only_when_it_passes(
    standin: StandInDaemon, tmp_path: Path
) -> None:
    options = standin_options(standin)
    async with lsp_session(
        lsp_env(tmp_path), capabilities(VSCODE), initialization_options=options
    ) as client:
        uri, diagnostics = await broken_document(client, tmp_path / "resolve.bbj")
        (action,) = await request_actions(client, uri, diagnostics)
        assert action.title == FIX_TITLE
        assert action.kind == types.CodeActionKind.QuickFix
        assert action.edit is None  # computed on resolve

        standin.chat_answer = GOOD_ANSWER
        resolved = await client.code_action_resolve_async(action)
        assert resolved.edit is not None
        fixed = apply_edit(BROKEN, uri, resolved.edit)
        assert fixed == FIXED + "\n"
        assert BuiltinChecker().check_text(fixed).ok

        standin.chat_answer = BAD_ANSWER
        unresolved = await client.code_action_resolve_async(action)
        assert unresolved.edit is None
        assert any("nothing was changed" in m.message for m in client.messages)


async def test_without_resolve_only_a_passing_fix_is_offered(
    standin: StandInDaemon, tmp_path: Path
) -> None:
    options = standin_options(standin)
    caps = without_edit_resolve(capabilities(VSCODE))
    async with lsp_session(lsp_env(tmp_path), caps, initialization_options=options) as client:
        uri, diagnostics = await broken_document(client, tmp_path / "eager.bbj")

        standin.chat_answer = BAD_ANSWER
        assert await request_actions(client, uri, diagnostics) == []

        standin.chat_answer = "no code block at all"
        assert await request_actions(client, uri, diagnostics) == []

        standin.chat_answer = GOOD_ANSWER
        (action,) = await request_actions(client, uri, diagnostics)
        assert action.edit is not None
        assert apply_edit(BROKEN, uri, action.edit) == FIXED + "\n"


async def test_no_fix_for_other_diagnostics_or_kinds(
    standin: StandInDaemon, tmp_path: Path
) -> None:
    standin.chat_answer = GOOD_ANSWER
    options = standin_options(standin)
    async with lsp_session(
        lsp_env(tmp_path), capabilities(VSCODE), initialization_options=options
    ) as client:
        uri, diagnostics = await broken_document(client, tmp_path / "others.bbj")
        foreign = [
            types.Diagnostic(range=diagnostics[0].range, message="style", source="some-linter")
        ]
        assert await request_actions(client, uri, foreign) == []
        params = types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=diagnostics[0].range,
            context=types.CodeActionContext(
                diagnostics=diagnostics, only=[types.CodeActionKind.Refactor]
            ),
        )
        assert not await client.text_document_code_action_async(params)
        unknown = (tmp_path / "never-opened.bbj").as_uri()
        assert await request_actions(client, unknown, diagnostics) == []
