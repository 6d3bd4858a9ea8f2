"""Workspace knowledge: ``workspace/symbol`` from the daemon's index, and keeping it current.

The index lives in the daemon (``[workspace]`` in its config). This module answers the
editor's symbol search from ``GET /v1/bbj/workspace/symbols`` and sends the text of BBj files
as the user opens, edits (after a pause) and saves them, so completions see a class's new
method before the file is even saved; closing a file re-reads it from disk. When the daemon's
index is off (404) the module says so once in the log and stops sending.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from lsprotocol import types
from pygls.uris import to_fs_path

from daemon.client import DaemonClient, DaemonClientError, DaemonHTTPError
from lsp.events import DocumentChange, DocumentEvent
from lsp.log import logger

if TYPE_CHECKING:
    from lsp.server import BbjLanguageServer

SYMBOL_LIMIT = 200
CHANGE_PAUSE_S = 1.0
"""Edits are sent after this long without typing (at least the diagnostics debounce)."""

_KINDS = {
    "class": types.SymbolKind.Class,
    "interface": types.SymbolKind.Interface,
    "field": types.SymbolKind.Field,
    "method": types.SymbolKind.Method,
    "function": types.SymbolKind.Function,
    "label": types.SymbolKind.Key,
}


def to_symbol_information(symbol: dict[str, Any]) -> types.SymbolInformation:
    """One daemon symbol (1-based line) as an LSP ``SymbolInformation``."""
    line = max(int(symbol.get("line") or 1) - 1, 0)
    position = types.Position(line=line, character=0)
    return types.SymbolInformation(
        name=str(symbol["name"]),
        kind=_KINDS.get(str(symbol.get("kind")), types.SymbolKind.Variable),
        location=types.Location(
            uri=Path(str(symbol["path"])).as_uri(),
            range=types.Range(start=position, end=position),
        ),
        container_name=symbol.get("container") or None,
    )


def file_path(uri: str) -> str | None:
    """The local path of a ``file:`` URI (None for other schemes); a Windows drive URI gives
    ``c:\\...`` there, not ``/C:/...``."""
    if urlparse(uri).scheme != "file":
        return None
    return to_fs_path(uri)


class WorkspaceSync:
    """Sends BBj documents' text to the daemon's index; answers symbol searches."""

    def __init__(self, server: BbjLanguageServer) -> None:
        self._server = server
        self._pending: dict[str, asyncio.Task[None]] = {}
        self.index_off = False

    async def symbols(self, query: str) -> list[types.SymbolInformation]:
        link = await self._server.daemon_ready()

        async def search(client: DaemonClient) -> list[dict[str, Any]]:
            try:
                return await client.workspace_symbols(query, limit=SYMBOL_LIMIT)
            except DaemonHTTPError as error:
                if error.status != 404:
                    raise
                self._note_off(error)
                return []

        found = await link.request(search, "Workspace symbol search")
        if found:
            self.index_off = False  # the daemon was restarted with its index on
        return [to_symbol_information(s) for s in found or []]

    def on_document(self, event: DocumentEvent) -> None:
        if self.index_off or file_path(event.uri) is None:
            return
        if (
            event.change is not DocumentChange.CLOSED
            and self._server.bbj_document(event.uri) is None
        ):
            return
        pause = 0.0
        if event.change is DocumentChange.CHANGED:
            pause = max(CHANGE_PAUSE_S, self._server.settings.debounce_ms / 1000)
        previous = self._pending.pop(event.uri, None)
        if previous is not None:
            previous.cancel()
        task = asyncio.ensure_future(self._send_later(event, pause))
        self._pending[event.uri] = task
        task.add_done_callback(lambda done: self._forget(event.uri, done))

    def _forget(self, uri: str, task: asyncio.Task[None]) -> None:
        if self._pending.get(uri) is task:
            del self._pending[uri]

    async def _send_later(self, event: DocumentEvent, pause: float) -> None:
        if pause:
            await asyncio.sleep(pause)
        path = file_path(event.uri)
        document = self._server.bbj_document(event.uri)
        text = (
            None if event.change is DocumentChange.CLOSED or document is None else document.source
        )
        # Housekeeping: it neither warns the user nor clears warnings about real requests.
        client = await (await self._server.daemon_ready()).connected()
        if client is None:
            return
        try:
            await client.workspace_update(str(path), text)
        except DaemonHTTPError as error:
            if error.status == 404:
                self._note_off(error)
            else:
                logger.debug("Not indexed: %s", error)
        except DaemonClientError as error:
            logger.debug("Workspace index update failed: %s", error)

    def _note_off(self, error: DaemonHTTPError) -> None:
        if not self.index_off:
            logger.info("The daemon's workspace index is off: %s", error)
        self.index_off = True


def setup(server: BbjLanguageServer) -> None:
    sync = WorkspaceSync(server)
    server.documents.subscribe(sync.on_document)

    @server.feature(types.WORKSPACE_SYMBOL)
    async def workspace_symbol(
        params: types.WorkspaceSymbolParams,
    ) -> list[types.SymbolInformation]:
        return await sync.symbols(params.query)
