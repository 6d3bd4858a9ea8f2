"""``textDocument/completion`` fallback for editors without inline completion.

The same FIM completion is offered as one multi-line item.  Editors that announce inline
completion get nothing here, so the suggestion is not shown twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

from lsp.completer import CursorCompletion, complete_at

if TYPE_CHECKING:
    from lsp.server import BbjLanguageServer

LABEL_CHARS = 60
DETAIL = "bbj-coder (AI completion)"


def completion_item(found: CursorCompletion) -> types.CompletionItem:
    """One item inserting the whole completion at the cursor, as plain text (not a snippet:
    ``$`` is common in BBj)."""
    first_line = next((line.strip() for line in found.text.splitlines() if line.strip()), "")
    label = first_line[:LABEL_CHARS] or found.text.strip()[:LABEL_CHARS]
    at_cursor = types.Range(start=found.position, end=found.position)
    return types.CompletionItem(
        label=label,
        kind=types.CompletionItemKind.Snippet,
        detail=DETAIL,
        documentation=types.MarkupContent(
            kind=types.MarkupKind.Markdown, value=f"```bbj\n{found.text}\n```"
        ),
        insert_text=found.text,
        insert_text_format=types.InsertTextFormat.PlainText,
        text_edit=types.TextEdit(range=at_cursor, new_text=found.text),
        filter_text=label,
        sort_text="0",
        preselect=True,
    )


def client_has_inline_completion(server: BbjLanguageServer) -> bool:
    text_document = server.client_capabilities.text_document
    return bool(text_document and text_document.inline_completion is not None)


def setup(server: BbjLanguageServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions())
    async def completion(params: types.CompletionParams) -> types.CompletionList:
        nothing = types.CompletionList(is_incomplete=True, items=[])
        if client_has_inline_completion(server):
            return nothing
        found = await complete_at(server, params.text_document.uri, params.position)
        if found is None or not found.text.strip():
            return nothing
        return types.CompletionList(is_incomplete=True, items=[completion_item(found)])
