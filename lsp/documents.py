"""Text helpers over pygls documents: which are BBj, where a cursor is, what to send the daemon.

Positions from the editor are untrusted: a line or column past the end is clamped to the end.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath
from urllib.parse import unquote

from lsprotocol import types
from pygls.workspace import TextDocument, Workspace

from fim.language import SOURCE_EXTENSIONS
from fim.window import (  # noqa: F401 (re-exported: the LSP's face)
    MAX_PREFIX_CHARS,
    MAX_PREFIX_LINES,
    MAX_SUFFIX_CHARS,
    MAX_SUFFIX_LINES,
    fim_window,
)

BBJ_LANGUAGE_ID = "bbj"


def find_document(workspace: Workspace, uri: str) -> TextDocument | None:
    """The open document at ``uri``; None for a URI the editor never opened (never read disk)."""
    return workspace.text_documents.get(unquote(uri))


def is_bbj(document: TextDocument) -> bool:
    """BBj by language id, or by file extension when the editor does not know the language."""
    if document.language_id == BBJ_LANGUAGE_ID:
        return True
    return PurePath(unquote(document.uri)).suffix.lower() in SOURCE_EXTENSIONS


def display_path(document: TextDocument, root_path: str | None) -> str:
    """The document's path relative to the workspace root where possible, else its file name."""
    path = PurePath(document.path)
    if root_path:
        try:
            return path.relative_to(root_path).as_posix()
        except ValueError:
            pass
    return path.name


def physical_lines(source: str) -> list[str]:
    """The document's lines without their line breaks (a final newline starts an empty line)."""
    return [line.removesuffix("\r") for line in source.split("\n")]


@dataclass(frozen=True)
class Cursor:
    """A clamped cursor: where it is in the text and where the editor should be told it is."""

    offset: int
    """Index into the document's source (code points)."""

    position: types.Position
    """The clamped position in the editor's units (UTF-16 unless negotiated otherwise)."""


def cursor_at(document: TextDocument, position: types.Position) -> Cursor:
    """Clamp ``position`` into ``document`` and locate it."""
    raw_lines = document.source.split("\n")
    line = min(max(position.line, 0), len(raw_lines) - 1)
    text = raw_lines[line].removesuffix("\r")
    codec = document.position_codec
    character = min(max(position.character, 0), codec.client_num_units(text))
    column = codec.position_from_client_units([text], types.Position(0, character)).character
    offset = sum(len(raw) + 1 for raw in raw_lines[:line]) + column
    return Cursor(offset=offset, position=types.Position(line=line, character=character))


def line_range(document: TextDocument, line: int) -> types.Range:
    """The range of ``line``'s text from its first non-blank character, in the editor's units."""
    lines = physical_lines(document.source)
    line = min(max(line, 0), len(lines) - 1)
    text = lines[line]
    codec = document.position_codec
    start = codec.client_num_units(text[: len(text) - len(text.lstrip())])
    end = codec.client_num_units(text)
    if start == end:
        start = 0
    return types.Range(
        start=types.Position(line=line, character=start),
        end=types.Position(line=line, character=end),
    )
