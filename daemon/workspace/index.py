"""The workspace index: build, incremental updates and look-ups over :class:`IndexStore`.

A build walks the roots, re-reads only files whose size or modification time changed since the
SQLite file last saw them, and drops files that are gone, so a daemon restart costs a directory
walk. Single files are updated from the watcher and from the editor (the LSP sends the text it
holds, saved or not). Every method blocks: the daemon calls them from worker threads.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from daemon.check import Outline, declarations, decode_source, not_source_reason
from daemon.workspace.paths import Roots, WorkspaceError, is_source
from daemon.workspace.store import IndexStore, SymbolRow

log = logging.getLogger("bbj_coder.workspace")

MAX_FILE_BYTES = 4_000_000
"""Larger files are generated data, not code anyone calls into: they are skipped."""


@dataclass(frozen=True)
class BuildReport:
    files: int
    parsed: int
    removed: int
    truncated: bool
    seconds: float


def db_path_for(cache_dir: Path, roots: Roots) -> Path:
    """One SQLite file per set of roots, in the cache dir."""
    key = "\n".join(map(str, (*roots.roots, "|", *roots.prefix)))
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
    return cache_dir / "workspace" / f"index-{digest}.sqlite"


class WorkspaceIndex:
    """The index of one workspace (its roots plus the PREFIX folders)."""

    def __init__(self, roots: Roots, db_path: Path, *, max_files: int = 10_000) -> None:
        if not roots.roots:
            raise WorkspaceError(
                "The workspace index needs at least one folder in workspace.roots."
            )
        self.roots = roots
        self.max_files = max_files
        self.store = IndexStore(db_path)
        self.generation = 0
        """Goes up with every change, so caches of derived context know when to drop out."""
        self.last_build: BuildReport | None = None
        self._build_lock = threading.Lock()

    def close(self) -> None:
        self.store.close()

    # building and updating ------------------------------------------------------------------
    def build(self) -> BuildReport:
        """Bring the index in line with the files on disk."""
        started = time.perf_counter()
        with self._build_lock:
            files, truncated = self.roots.walk(self.max_files)
            known = self.store.stamps()
            entries = []
            present: set[str] = set()
            for path in files:
                key = str(path)
                present.add(key)
                stamp = _stamp(path)
                if stamp is None or known.get(key) == stamp:
                    continue
                entry = self._entry(path, stamp, None)
                if entry is not None:
                    entries.append(entry)
            removed = [p for p in known if p not in present]
            self.store.replace_files(entries, removed)
            self.generation += 1
        if truncated:
            log.warning(
                "workspace index: more than workspace.max_files = %d files; the rest is not "
                "indexed",
                self.max_files,
            )
        report = BuildReport(
            len(files), len(entries), len(removed), truncated, time.perf_counter() - started
        )
        self.last_build = report
        return report

    def update(self, path: str | Path, text: str | None = None) -> int:
        """Re-index one file (from ``text`` when given, e.g. the editor's unsaved buffer; else
        from disk; a file that no longer exists is dropped). Returns its symbol count."""
        resolved = self.roots.confine(path)
        stamp = _stamp(resolved)
        if not is_source(resolved):
            raise WorkspaceError(f"{path} is not a BBj source file (.bbj, .src, .bbl, …).")
        if stamp is None and text is None:
            self.remove(resolved)
            return 0
        # An editor's buffer may differ from the disk: a stamp no file has makes the next build
        # read the disk again.
        entry = self._entry(resolved, stamp if text is None else (0, -1), text)
        if entry is None:
            self.remove(resolved)
            return 0
        self.store.replace_files([entry])
        self.generation += 1
        return len(entry[4].symbols)

    def remove(self, path: str | Path) -> None:
        resolved = self.roots.confine(path)
        self.store.replace_files((), [str(resolved)])
        self.generation += 1

    def apply(self, changed: Iterable[Path], deleted: Iterable[Path]) -> None:
        """A batch from the watcher (a rename is a delete plus an add)."""
        for path in deleted:
            if self.roots.contains(path) and is_source(path):
                self.remove(path)
        for path in changed:
            if self.roots.contains(path) and is_source(path):
                self.update(path)

    def _entry(
        self, path: Path, stamp: tuple[int, int], text: str | None
    ) -> tuple[str, str, int, int, Outline] | None:
        if text is None:
            if stamp[1] > MAX_FILE_BYTES:
                return None
            try:
                text = decode_source(path.read_bytes())
            except OSError as exc:
                log.info("workspace index: cannot read %s: %s", path, exc)
                return None
        parsed = Outline() if not_source_reason(text) else declarations(text)
        return (str(path), self.roots.display(path), stamp[0], stamp[1], parsed)

    # looking up -----------------------------------------------------------------------------
    def search(self, query: str, limit: int = 50) -> list[SymbolRow]:
        return self.store.search(query, limit)

    def resolve(self, target: str, from_file: Path | None) -> str | None:
        """The indexed file a ``use``/``CALL`` path names, searched the way BBj does."""
        for candidate in self.roots.candidates(target, from_file):
            if self.store.has_file(str(candidate)):
                return str(candidate)
        return None

    def class_in(self, path: str, name: str) -> tuple[SymbolRow, list[SymbolRow]] | None:
        """Class or interface ``name`` in the file at ``path`` and its members."""
        symbols = self.store.in_file(path)
        folded = name.casefold()
        head = next(
            (
                s
                for s in symbols
                if s.kind in ("class", "interface") and s.name.casefold() == folded
            ),
            None,
        )
        if head is None:
            return None
        return head, [s for s in symbols if s.container == head.name]

    def class_named(
        self, name: str, near: Path | None = None
    ) -> tuple[SymbolRow, list[SymbolRow]] | None:
        """The class called ``name``; of several, the one whose folder is nearest ``near``
        (None when there is none, or no single nearest one)."""
        rows = self.store.named(name, ("class", "interface"))
        if len(rows) > 1 and near is not None:
            shared = [_shared_parts(Path(row.path), near) for row in rows]
            best = max(shared)
            rows = [row for row, score in zip(rows, shared, strict=True) if score == best]
        if len(rows) != 1:
            return None
        return self.class_in(rows[0].path, rows[0].name)

    def status(self) -> dict[str, object]:
        build = self.last_build
        return {
            "roots": [str(r) for r in self.roots.roots],
            "prefix": [str(p) for p in self.roots.prefix],
            "files": self.store.file_count(),
            "last_build_s": None if build is None else round(build.seconds, 3),
            "truncated": bool(build and build.truncated),
        }


def _shared_parts(a: Path, b: Path) -> int:
    count = 0
    for left, right in zip(a.parent.parts, b.parent.parts, strict=False):
        if left != right:
            break
        count += 1
    return count


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_mtime_ns, info.st_size
