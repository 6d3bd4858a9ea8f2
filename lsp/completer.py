"""One AI completion at a cursor, shared by inline completion and the completion fallback.

It answers None rather than something wrong: when the daemon fails, when the daemon says a
newer request superseded this one, and when the document changed while the model was writing
(the completion would belong to text that is no longer there).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from lsprotocol import types

from daemon.client import DaemonClient, FimCompletion
from lsp.documents import cursor_at, display_path, fim_window
from lsp.log import logger

if TYPE_CHECKING:
    from lsp.server import BbjLanguageServer


@dataclass(frozen=True)
class CursorCompletion:
    """Text to insert at ``position`` (the clamped cursor)."""

    text: str
    position: types.Position


async def complete_at(
    server: BbjLanguageServer, uri: str, position: types.Position
) -> CursorCompletion | None:
    """Ask the daemon to fill in at ``position`` of the open BBj document ``uri``."""
    found, _superseded = await fill_at(server, uri, position)
    return found


async def fill_at(
    server: BbjLanguageServer, uri: str, position: types.Position
) -> tuple[CursorCompletion | None, bool]:
    """:func:`complete_at`, also saying whether a newer request superseded this one."""
    link = await server.daemon_ready()
    document = server.bbj_document(uri)
    if document is None or not server.settings.inline_completion:
        return None, False
    version = document.version
    cursor = cursor_at(document, position)
    prefix, suffix = fim_window(document.source, cursor.offset)
    path = display_path(document, server.workspace.root_path)
    extra = [(chunk.path, chunk.text) for chunk in server.context.snapshot() if chunk.path != path]
    max_tokens = server.settings.max_completion_tokens

    async def fim(client: DaemonClient) -> FimCompletion:
        return await client.fim(
            prefix, suffix, path=path, extra=extra, max_tokens=max_tokens, client=server.client_id
        )

    result = await link.request(fim, "Completion")
    current = server.bbj_document(uri)
    if result is None or current is None or current.version != version:
        return None, current is not None and current.version != version
    if result.superseded or not result.completion:
        logger.debug("No completion (superseded=%s)", result.superseded)
        return None, result.superseded
    return CursorCompletion(text=result.completion, position=cursor.position), False
