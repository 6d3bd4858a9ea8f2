"""The workspace signatures the daemon pins in front of a FIM prompt, for training samples.

With ``[workspace]`` on, the daemon indexes the user's project and pins the signatures of the
classes a file ``use``s, of the object before the cursor and of the programs it ``CALL``s at
the front of every FIM prompt. A model trained without them would be served prompts it never
saw, so each project of a split is indexed with the daemon's own code
(:func:`daemon.workspace.open_workspace`, its SQLite file in a private temporary folder) and a
sample's pinned chunks come from :meth:`daemon.workspace.Workspace.pinned`, the function the
daemon's runtime gives its FimService. The files are fed from memory as the editor would hold
them: every other file of the project as it is, the file being completed without its middle
(the LSP sends the buffer the user is typing in, and the middle is not written yet).
"""

from __future__ import annotations

import shutil
import tempfile
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from fim import ContextFile
from trainer.data.records import SourceFile

if TYPE_CHECKING:
    from daemon.workspace import Workspace

TokenCount = Callable[[str], int]

OPEN_PROJECTS = 4
"""Project indexes kept open at once (a split's files come project by project)."""


@dataclass(frozen=True)
class PinSettings:
    """The daemon's ``[workspace]`` settings a training sample is rendered with."""

    budget_tokens: int
    """``[workspace] budget_tokens``; 0 means no workspace context at all."""
    prefix: tuple[str, ...] = ()
    """``[workspace] prefix``, as folders relative to each project's root."""


NO_WORKSPACE = PinSettings(budget_tokens=0)
"""Samples without workspace context (the daemon with ``[workspace]`` off)."""


@dataclass(frozen=True)
class Pinned:
    chunks: tuple[ContextFile, ...]
    files: tuple[str, ...]
    """Split keys of the files the chunks come from, one per chunk."""


class _Project:
    """One project indexed like the daemon's workspace rooted at the project's folder."""

    def __init__(self, files: list[SourceFile], folder: Path, settings: PinSettings) -> None:
        from daemon.config import WorkspaceSettings
        from daemon.workspace import open_workspace
        from daemon.workspace.paths import in_skipped_folder, is_source

        self.root = folder / "project"
        prefix = tuple(str(self.root / p) for p in settings.prefix)
        config = WorkspaceSettings(
            roots=(str(self.root),), prefix=prefix, budget_tokens=settings.budget_tokens
        )
        workspace = open_workspace(config, folder / "cache")
        assert workspace is not None  # enabled, with a root
        self.workspace: Workspace = workspace
        self.files = {
            f.key: f
            for f in files
            if is_source(f.project_path) and not in_skipped_folder(f.project_path)
        }
        self.keys = {f.project_path: f.key for f in self.files.values()}
        for file in self.files.values():
            self.workspace.index.update(self.root / file.project_path, file.text)

    def pinned(
        self, file: SourceFile, document: str, before: str, after: str, count: TokenCount
    ) -> Pinned:
        indexed = file.key in self.files
        if indexed:
            self.workspace.index.update(self.root / file.project_path, document)
        try:
            chunks = self.workspace.pinned(file.project_path, before, after, count)
        finally:
            if indexed:
                self.workspace.index.update(self.root / file.project_path, file.text)
        return Pinned(chunks, tuple(self.keys.get(c.path, c.path) for c in chunks))

    def close(self) -> None:
        self.workspace.close()


class ProjectWorkspaces:
    """The workspace index of every project of one split, opened as samples need them."""

    def __init__(
        self,
        by_project: dict[tuple[str, str], list[SourceFile]],
        settings: PinSettings,
        count: TokenCount,
    ) -> None:
        self.by_project = by_project
        self.settings = settings
        self.count = count
        self._folder: tempfile.TemporaryDirectory[str] | None = None
        self._numbers: dict[tuple[str, str], int] = {}
        self._open: OrderedDict[tuple[str, str], _Project] = OrderedDict()

    def pinned(self, file: SourceFile, document: str, before: str, after: str) -> Pinned:
        """What the daemon pins for a cursor at the end of ``before`` in ``file`` while the
        editor holds ``document``; ``before``/``after`` are the window the LSP sends."""
        if self.settings.budget_tokens <= 0:
            return Pinned((), ())
        project = self._project((file.root_name, file.project))
        return project.pinned(file, document, before, after, self.count)

    def _project(self, key: tuple[str, str]) -> _Project:
        found = self._open.get(key)
        if found is not None:
            self._open.move_to_end(key)
            return found
        if self._folder is None:
            self._folder = tempfile.TemporaryDirectory(prefix="bbj-coder-fim-workspace-")
        number = self._numbers.setdefault(key, len(self._numbers))
        folder = Path(self._folder.name, f"{number:06d}")
        # A project met again after it was closed is indexed afresh, the same way.
        shutil.rmtree(folder, ignore_errors=True)
        project = _Project(self.by_project[key], folder, self.settings)
        self._open[key] = project
        while len(self._open) > OPEN_PROJECTS:
            _key, oldest = self._open.popitem(last=False)
            oldest.close()
        return project

    def close(self) -> None:
        while self._open:
            _key, project = self._open.popitem()
            project.close()
        if self._folder is not None:
            self._folder.cleanup()
            self._folder = None
