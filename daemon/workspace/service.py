"""The daemon's workspace: the index, its context, the initial build and the file watcher.

Everything that touches the disk or SQLite runs in a worker thread; the coroutines here only
await those threads, so the event loop never waits on the index.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from daemon.config import WorkspaceSettings
from daemon.workspace.context import TokenCounter, WorkspaceContext
from daemon.workspace.index import BuildReport, WorkspaceIndex, db_path_for
from daemon.workspace.paths import Roots, WorkspaceError, is_source
from daemon.workspace.store import SymbolRow
from fim import ContextFile

log = logging.getLogger("bbj_coder.workspace")

MAX_QUERY_CHARS = 200
"""Longest symbol search query (the HTTP route and the MCP tool both refuse longer ones)."""


@dataclass
class Workspace:
    index: WorkspaceIndex
    context: WorkspaceContext
    settings: WorkspaceSettings
    ready: asyncio.Event
    failure: str | None = None
    """Why the build or the watcher stopped, for ``GET /v1/bbj/workspace`` (None while fine)."""
    _warned: bool = field(default=False, init=False, repr=False)

    async def build(self) -> BuildReport:
        report = await asyncio.to_thread(self.index.build)
        self.ready.set()
        log.info(
            "workspace index: %d files (%d parsed, %d removed) in %.2f s",
            report.files,
            report.parsed,
            report.removed,
            report.seconds,
        )
        return report

    async def search(self, query: str, limit: int) -> list[SymbolRow]:
        return await asyncio.to_thread(self.index.search, query, limit)

    async def update(self, path: str, text: str | None) -> int:
        return await asyncio.to_thread(self.index.update, path, text)

    async def remove(self, path: str) -> None:
        await asyncio.to_thread(self.index.remove, path)

    async def status(self) -> dict[str, Any]:
        status = await asyncio.to_thread(self.index.status)
        return {**status, "ready": self.ready.is_set(), "error": self.failure}

    def pinned(
        self, path: str | None, prefix: str, suffix: str, count_tokens: TokenCounter
    ) -> tuple[ContextFile, ...]:
        """Blocking: the FIM service calls it from its prompt-assembly thread. A failing index
        gives no context rather than a failed completion (logged once)."""
        try:
            return self.context.pinned(path, prefix, suffix, count_tokens)
        except WorkspaceError as exc:
            self._warn(exc)
            return ()

    def chat_note(self, text: str, count_tokens: TokenCounter | None = None) -> str:
        """Blocking: definitions of the workspace symbols ``text`` names, or "" when the index
        fails (logged once): the index is an extra, it never breaks an answer."""
        try:
            return self.context.chat_note(text, count_tokens)
        except WorkspaceError as exc:
            self._warn(exc)
            return ""

    def _warn(self, exc: WorkspaceError) -> None:
        if not self._warned:
            self._warned = True
            log.warning("workspace index left out of prompts: %s", exc)

    async def watch(self) -> None:
        """Re-index files as they change on disk, until cancelled."""
        from watchfiles import Change, awatch

        def wanted(change: Change, path: str) -> bool:
            return is_source(path)

        await self.ready.wait()
        folders = [root for root in self.index.roots.roots if root.is_dir()]
        if not folders:
            log.warning("workspace index: none of the roots exists; nothing to watch")
            return
        async for batch in awatch(*folders, watch_filter=wanted):
            changed = [Path(p) for kind, p in batch if kind != Change.deleted]
            deleted = [Path(p) for kind, p in batch if kind == Change.deleted]
            try:
                await asyncio.to_thread(self.index.apply, changed, deleted)
            except Exception:  # one bad batch must not end watching
                log.exception("workspace index: could not apply file changes")

    def close(self) -> None:
        self.index.close()


def open_workspace(settings: WorkspaceSettings, cache_dir: Path) -> Workspace | None:
    """The workspace for ``[workspace]``, or None when it is off or has no roots."""
    if not settings.enabled or not settings.roots:
        return None
    roots = Roots(settings.roots, settings.prefix)
    index = WorkspaceIndex(roots, db_path_for(cache_dir, roots), max_files=settings.max_files)
    return Workspace(
        index, WorkspaceContext(index, settings.budget_tokens), settings, asyncio.Event()
    )
