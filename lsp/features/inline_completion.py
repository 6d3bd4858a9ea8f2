"""``textDocument/inlineCompletion`` (LSP 3.18): the daemon's FIM completion as ghost text.

Cancellation: pygls cancels the handler's task on ``$/cancelRequest``; the cancellation reaches
the awaited HTTP request, which is abandoned (the daemon then stops generating).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

from lsp.completer import fill_at
from lsp.features import next_edit

if TYPE_CHECKING:
    from lsp.server import BbjLanguageServer


def setup(server: BbjLanguageServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
    async def inline_completion(
        params: types.InlineCompletionParams,
    ) -> list[types.InlineCompletionItem]:
        found, superseded = await fill_at(server, params.text_document.uri, params.position)
        if found is None:
            # Nothing to insert: maybe the line wants changing. Not when a newer keystroke
            # took over, nor when the daemon said next-edit is off or unsupported.
            if server.settings.next_edit and not superseded and not server.next_edit_off:
                item = await next_edit.inline_item(
                    server, params.text_document.uri, params.position
                )
                return [] if item is None else [item]
            return []
        at_cursor = types.Range(start=found.position, end=found.position)
        return [types.InlineCompletionItem(insert_text=found.text, range=at_cursor)]
