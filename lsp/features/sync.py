"""Document synchronisation: pygls keeps the text; this fans the events out to the features."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

from lsp.events import DocumentChange, DocumentEvent

if TYPE_CHECKING:
    from lsp.server import BbjLanguageServer


def first_changed_line(params: types.DidChangeTextDocumentParams) -> int | None:
    """The first line any of the edits touched, when the edits carry ranges."""
    lines = [
        change.range.start.line
        for change in params.content_changes
        if isinstance(change, types.TextDocumentContentChangePartial)
    ]
    return min(lines) if lines else None


def setup(server: BbjLanguageServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(params: types.DidOpenTextDocumentParams) -> None:
        server.documents.emit(DocumentEvent(params.text_document.uri, DocumentChange.OPENED))

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(params: types.DidChangeTextDocumentParams) -> None:
        line = first_changed_line(params)
        uri = params.text_document.uri
        server.documents.emit(DocumentEvent(uri, DocumentChange.CHANGED, line))

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(params: types.DidSaveTextDocumentParams) -> None:
        server.documents.emit(DocumentEvent(params.text_document.uri, DocumentChange.SAVED))

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(params: types.DidCloseTextDocumentParams) -> None:
        server.documents.emit(DocumentEvent(params.text_document.uri, DocumentChange.CLOSED))
