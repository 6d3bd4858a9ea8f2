"""Extra FIM context: chunks of the BBj files the user opens, edits and saves.

The ring's snapshot (what completions send) is republished only when the user pauses (no edit
for the debounce time), on open and on save, so the start of the prompt stays the same while
the user types and the daemon's KV cache keeps working.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from lsp.documents import display_path
from lsp.events import DocumentChange, DocumentEvent

if TYPE_CHECKING:
    from lsp.server import BbjLanguageServer


class ContextFeeder:
    """Feeds the server's context ring from document events."""

    def __init__(self, server: BbjLanguageServer) -> None:
        self._server = server
        self._pause_timer: asyncio.TimerHandle | None = None

    def on_document(self, event: DocumentEvent) -> None:
        if event.change is DocumentChange.CLOSED:
            return
        document = self._server.bbj_document(event.uri)
        if document is None:
            return
        path = display_path(document, self._server.workspace.root_path)
        self._server.context.add(path, document.source, cursor_line=event.line)
        if event.change is DocumentChange.CHANGED:
            self._reshuffle_after_pause()
        else:
            self._server.context.reshuffle()

    def _reshuffle_after_pause(self) -> None:
        if self._pause_timer is not None:
            self._pause_timer.cancel()
        delay_s = self._server.settings.debounce_ms / 1000
        self._pause_timer = asyncio.get_running_loop().call_later(
            delay_s, self._server.context.reshuffle
        )


def setup(server: BbjLanguageServer) -> None:
    server.documents.subscribe(ContextFeeder(server).on_document)
