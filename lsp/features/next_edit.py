"""Next-edit suggestions: ``bbj/nextEdit`` (a custom request) and, for an edit on the cursor's
line, an inline completion.

Every BBj document's recent edits are recorded from ``didChange`` (coalesced into hunks by
:class:`fim.next_edit.EditHistory`) and sent with each request. LSP 3.18 inline completion can
only show text at the cursor, so a multi-line edit elsewhere needs a request of its own; its
answer has the shape of Copilot's ``textDocument/copilotInlineEdit``::

    bbj/nextEdit {textDocument: {uri}, position: {line, character}}
      → {edits: [{textDocument: {uri, version}, range, text}], reason, hunks}

``edits`` is empty when there is nothing to suggest (``reason`` says why); ranges are in the
editor's position units. The editor applies the edits as a ``WorkspaceEdit`` would.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pygls.workspace import TextDocument

from daemon.client import DaemonClient, DaemonHTTPError, NextEditSuggestion
from daemon.config import NextEditSettings
from fim.next_edit import EditHistory, Hunk, bounded
from lsp.documents import cursor_at, display_path
from lsp.events import DocumentChange, DocumentEvent
from lsp.log import logger

if TYPE_CHECKING:
    from lsp.server import BbjLanguageServer

NEXT_EDIT = "bbj/nextEdit"


@dataclass(frozen=True)
class Suggestion:
    uri: str
    version: int | None
    edits: tuple[types.TextEdit, ...]
    reason: str | None
    hunks: int

    def to_json(self) -> dict[str, Any]:
        return {
            "edits": [
                {
                    "textDocument": {"uri": self.uri, "version": self.version},
                    "range": _range_json(edit.range),
                    "text": edit.new_text,
                }
                for edit in self.edits
            ],
            "reason": self.reason,
            "hunks": self.hunks,
        }


def _range_json(value: types.Range) -> dict[str, Any]:
    return {
        "start": {"line": value.start.line, "character": value.start.character},
        "end": {"line": value.end.line, "character": value.end.character},
    }


class EditRecorder:
    """Feeds the server's edit history from document events (paths as the daemon sees them)."""

    def __init__(self, server: BbjLanguageServer) -> None:
        self._server = server

    def on_document(self, event: DocumentEvent) -> None:
        document = self._server.bbj_document(event.uri)
        if document is None:
            return
        history = self._server.edit_history
        path = display_path(document, self._server.workspace.root_path)
        if event.change is DocumentChange.CLOSED:
            history.forget(path)
        elif event.change is DocumentChange.OPENED:
            history.open(path, document.source)
        elif event.change is DocumentChange.CHANGED:
            history.update(path, document.source)


def wire_hunks(history: EditHistory) -> list[dict[str, Any]]:
    """The newest hunks within what the daemon accepts by default (larger histories get 400)."""
    limits = NextEditSettings()
    recent = bounded(history.hunks(), limits.max_history_hunks, limits.max_history_chars)
    return [
        {
            "path": h.path,
            "start_line": h.start_line,
            "original": Hunk.block(h.original),
            "updated": Hunk.block(h.updated),
        }
        for h in recent
    ]


def _to_client(document: TextDocument, edit: dict[str, Any]) -> types.TextEdit:
    """A daemon edit (code-point columns) in the editor's units."""
    lines = document.source.split("\n")
    start, end = edit["range"]["start"], edit["range"]["end"]
    code_points = types.Range(
        start=types.Position(line=start["line"], character=start["character"]),
        end=types.Position(line=end["line"], character=end["character"]),
    )
    client_range = document.position_codec.range_to_client_units(lines, code_points)
    return types.TextEdit(range=client_range, new_text=edit["new_text"])


async def suggest(
    server: BbjLanguageServer, uri: str, position: types.Position
) -> Suggestion | None:
    """The daemon's next edit for the open BBj document ``uri``; None when it cannot say."""
    link = await server.daemon_ready()
    document = server.bbj_document(uri)
    if document is None:
        return None
    version = document.version
    cursor = cursor_at(document, position)
    before = document.source[: cursor.offset]
    line = before.count("\n")
    character = len(before) - (before.rfind("\n") + 1)
    path = display_path(document, server.workspace.root_path)
    hunks = wire_hunks(server.edit_history)
    context = [(c.path, c.text) for c in server.context.snapshot() if c.path != path]
    text = document.source

    async def call(client: DaemonClient) -> NextEditSuggestion | None:
        try:
            return await client.next_edit(
                path, text, (line, character), edits=hunks, context=context, client=server.client_id
            )
        except DaemonHTTPError as error:
            if error.status not in (404, 409):
                raise
            if not server.next_edit_off:
                logger.info("Next-edit suggestions are unavailable: %s", error)
            server.next_edit_off = True
            return None

    result = await link.request(call, "Next edit")
    if result is not None:
        server.next_edit_off = False
    current = server.bbj_document(uri)
    if result is None or current is None or current.version != version:
        return None
    edits = tuple(_to_client(current, edit) for edit in result.edits)
    logger.debug("Next edit for %s: %d edit(s), reason %s", path, len(edits), result.reason)
    return Suggestion(uri, version, edits, result.reason, len(hunks))


def on_cursor_line(suggestion: Suggestion, line: int) -> types.TextEdit | None:
    """The suggestion's only edit when it lies within the cursor's line."""
    if len(suggestion.edits) != 1:
        return None
    edit = suggestion.edits[0]
    if edit.range.start.line != line or edit.range.end.line != line or "\n" in edit.new_text:
        return None
    return edit


async def inline_item(
    server: BbjLanguageServer, uri: str, position: types.Position
) -> types.InlineCompletionItem | None:
    """The next edit as ghost text, when it only changes the cursor's line: the item replaces
    the line from its start, so it must begin with what is already typed before the cursor."""
    found = await suggest(server, uri, position)
    if found is None:
        return None
    edit = on_cursor_line(found, position.line)
    document = server.bbj_document(uri)
    if edit is None or document is None or position.line >= len(document.lines):
        return None
    line_text = document.lines[position.line].rstrip("\r\n")
    codec = document.position_codec
    start, end = edit.range.start.character, edit.range.end.character
    units = codec.client_num_units(line_text)
    lines = [line_text]
    begin = codec.position_from_client_units(lines, types.Position(0, start)).character
    stop = codec.position_from_client_units(lines, types.Position(0, end)).character
    new_line = line_text[:begin] + edit.new_text + line_text[stop:]
    column = codec.position_from_client_units(
        lines, types.Position(0, position.character)
    ).character
    if not new_line.startswith(line_text[:column]) or new_line == line_text:
        return None
    whole_line = types.Range(
        start=types.Position(line=position.line, character=0),
        end=types.Position(line=position.line, character=units),
    )
    return types.InlineCompletionItem(insert_text=new_line, range=whole_line)


def setup(server: BbjLanguageServer) -> None:
    server.documents.subscribe(EditRecorder(server).on_document)

    @server.feature(NEXT_EDIT)
    async def next_edit(params: Any) -> dict[str, Any]:
        try:
            uri = str(params.textDocument.uri)
            position = types.Position(
                line=int(params.position.line), character=int(params.position.character)
            )
        except (AttributeError, TypeError, ValueError) as exc:
            raise JsonRpcInvalidParams(
                f"{NEXT_EDIT} needs {{textDocument: {{uri}}, position: {{line, character}}}}."
            ) from exc
        if not server.settings.next_edit:
            return Suggestion(uri, None, (), "disabled", 0).to_json()
        found = await suggest(server, uri, position)
        if found is None:
            return Suggestion(uri, None, (), "unavailable", 0).to_json()
        return found.to_json()
