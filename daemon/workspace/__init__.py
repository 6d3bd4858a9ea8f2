"""Workspace knowledge: an index of the workspace's BBj code and the context drawn from it.

:class:`WorkspaceIndex` keeps an outline of every BBj file under the configured roots and the
BBj PREFIX folders (classes, fields, methods with signatures and doc comments, labels,
``DEF FN`` functions, ``use`` statements, ``ENTER`` lists) in a SQLite file in the cache dir,
updated file by file from the watcher and the editor. :class:`WorkspaceContext` turns it into
pinned FIM context and chat notes; :func:`open_workspace` builds both from ``[workspace]``.
"""

from daemon.workspace.context import WorkspaceContext
from daemon.workspace.index import BuildReport, WorkspaceIndex, db_path_for
from daemon.workspace.paths import (
    OutsideWorkspaceError,
    Roots,
    WorkspaceError,
    WorkspaceUnavailableError,
    is_source,
)
from daemon.workspace.service import MAX_QUERY_CHARS, Workspace, open_workspace
from daemon.workspace.store import SymbolRow

__all__ = [
    "MAX_QUERY_CHARS",
    "BuildReport",
    "OutsideWorkspaceError",
    "Roots",
    "SymbolRow",
    "Workspace",
    "WorkspaceContext",
    "WorkspaceError",
    "WorkspaceIndex",
    "WorkspaceUnavailableError",
    "db_path_for",
    "is_source",
    "open_workspace",
]
