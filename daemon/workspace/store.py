"""The index's SQLite file: one row per file, its symbols, ``use``s, ``CALL``s and ``ENTER``s.

Every change of one file is one transaction (its old rows go, its new rows come), so a reader
never sees half a file and a crash leaves the previous state. A schema change (``user_version``)
empties the tables and the next build fills them again. One connection, guarded by a lock:
callers run in worker threads, never on the event loop.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from daemon.check import Outline
from daemon.workspace.paths import WorkspaceError, WorkspaceUnavailableError

log = logging.getLogger("bbj_coder.workspace")

SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY, display TEXT NOT NULL, mtime_ns INTEGER NOT NULL, size INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS symbols (
    path TEXT NOT NULL, name TEXT NOT NULL, folded TEXT NOT NULL, kind TEXT NOT NULL,
    line INTEGER NOT NULL, signature TEXT NOT NULL, container TEXT, doc TEXT NOT NULL,
    type_name TEXT NOT NULL, seq INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS symbols_folded ON symbols (folded);
CREATE INDEX IF NOT EXISTS symbols_path ON symbols (path);
CREATE TABLE IF NOT EXISTS uses (
    path TEXT NOT NULL, name TEXT NOT NULL, target TEXT, line INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS uses_path ON uses (path);
CREATE TABLE IF NOT EXISTS enters (
    path TEXT NOT NULL, label TEXT, params TEXT NOT NULL, line INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS enters_path ON enters (path);
"""
_TABLES = ("files", "symbols", "uses", "enters")


@dataclass(frozen=True)
class SymbolRow:
    """A symbol as stored; ``path`` is absolute, ``display`` relative to its root."""

    name: str
    kind: str
    path: str
    display: str
    line: int
    signature: str
    container: str | None
    doc: str
    type_name: str

    def to_dict(self) -> dict[str, object]:
        """The wire form agreed for ``GET /v1/bbj/workspace/symbols``."""
        return {
            "name": self.name,
            "kind": self.kind,
            "path": self.path,
            "line": self.line,
            "signature": self.signature,
            "container": self.container,
            "doc": self.doc,
        }


_SYMBOL_COLUMNS = (
    "s.name, s.kind, s.path, f.display, s.line, s.signature, s.container, s.doc, s.type_name"
)


class IndexStore:
    """The SQLite file behind the workspace index."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        try:
            db_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            try:
                self._db = self._open()
            except sqlite3.DatabaseError as exc:
                # Only a cache of the files on disk: a damaged one is started afresh.
                log.warning("workspace index %s is damaged (%s); rebuilding it", db_path, exc)
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{db_path}{suffix}").unlink(missing_ok=True)
                self._db = self._open()
        except (OSError, sqlite3.Error) as exc:
            raise WorkspaceError(f"The workspace index {db_path} cannot be opened: {exc}") from exc
        self._lock = threading.Lock()

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.db_path, check_same_thread=False, isolation_level=None)
        try:
            # Outlines of the user's code: private (SQLite gives its -wal/-shm files this mode).
            os.chmod(self.db_path, 0o600)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            self._migrate(db)
        except BaseException:
            db.close()
            raise
        return db

    @staticmethod
    def _migrate(db: sqlite3.Connection) -> None:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version != SCHEMA_VERSION:
            for table in _TABLES:
                db.execute(f"DROP TABLE IF EXISTS {table}")
        db.executescript(_SCHEMA)
        db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    @contextmanager
    def _guard(self) -> Iterator[None]:
        """The connection to oneself, with SQLite's errors (a closed, locked or damaged file)
        told as :class:`WorkspaceError`."""
        with self._lock:
            try:
                yield
            except sqlite3.Error as exc:
                raise WorkspaceUnavailableError(
                    f"The workspace index {self.db_path} failed: {exc}"
                ) from exc

    def close(self) -> None:
        with self._guard():
            self._db.close()

    # writing ----------------------------------------------------------------------------------
    def stamps(self) -> dict[str, tuple[int, int]]:
        """Path → (mtime_ns, size) of every indexed file."""
        with self._guard():
            rows = self._db.execute("SELECT path, mtime_ns, size FROM files").fetchall()
        return {path: (mtime, size) for path, mtime, size in rows}

    def replace_files(
        self, entries: Iterable[tuple[str, str, int, int, Outline]], removed: Iterable[str] = ()
    ) -> None:
        """Put ``(path, display, mtime_ns, size, outline)`` entries and drop ``removed``
        paths, all in one transaction."""
        with self._guard():
            self._db.execute("BEGIN")
            try:
                for path in removed:
                    self._delete(path)
                for path, display, mtime_ns, size, outline in entries:
                    self._delete(path)
                    self._insert(path, display, mtime_ns, size, outline)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def _delete(self, path: str) -> None:
        for table in _TABLES:
            self._db.execute(f"DELETE FROM {table} WHERE path = ?", (path,))

    def _insert(self, path: str, display: str, mtime_ns: int, size: int, outline: Outline) -> None:
        db = self._db
        db.execute("INSERT INTO files VALUES (?, ?, ?, ?)", (path, display, mtime_ns, size))
        db.executemany(
            "INSERT INTO symbols VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    path,
                    s.name,
                    s.name.casefold(),
                    s.kind,
                    s.line,
                    s.signature,
                    s.container,
                    s.doc,
                    s.type_name,
                    seq,
                )
                for seq, s in enumerate(outline.symbols)
            ],
        )
        db.executemany(
            "INSERT INTO uses VALUES (?, ?, ?, ?)",
            [(path, u.name, u.path, u.line) for u in outline.uses],
        )
        db.executemany(
            "INSERT INTO enters VALUES (?, ?, ?, ?)",
            [(path, e.label, ", ".join(e.params), e.line) for e in outline.enters],
        )

    # reading ----------------------------------------------------------------------------------
    def file_count(self) -> int:
        with self._guard():
            return int(self._db.execute("SELECT COUNT(*) FROM files").fetchone()[0])

    def has_file(self, path: str) -> bool:
        with self._guard():
            row = self._db.execute("SELECT 1 FROM files WHERE path = ?", (path,)).fetchone()
        return row is not None

    def search(self, query: str, limit: int) -> list[SymbolRow]:
        """Symbols whose name contains ``query`` (any case): exact names first, then names
        starting with it, then the rest; classes before their members; stable order."""
        folded = query.casefold()
        pattern = "%" + folded.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        sql = (
            f"SELECT {_SYMBOL_COLUMNS} FROM symbols s JOIN files f ON f.path = s.path "
            "WHERE s.folded LIKE ? ESCAPE '\\' "
            "ORDER BY (s.folded = ?) DESC, (substr(s.folded, 1, ?) = ?) DESC, "
            "(s.kind IN ('class', 'interface')) DESC, s.folded, f.display, s.seq LIMIT ?"
        )
        with self._guard():
            rows = self._db.execute(sql, (pattern, folded, len(folded), folded, limit)).fetchall()
        return [SymbolRow(*row) for row in rows]

    def named(self, name: str, kinds: tuple[str, ...]) -> list[SymbolRow]:
        """Symbols called ``name`` (any case) of the given kinds, in a stable order."""
        marks = ", ".join("?" * len(kinds))
        sql = (
            f"SELECT {_SYMBOL_COLUMNS} FROM symbols s JOIN files f ON f.path = s.path "
            f"WHERE s.folded = ? AND s.kind IN ({marks}) ORDER BY f.display, s.seq"
        )
        with self._guard():
            rows = self._db.execute(sql, (name.casefold(), *kinds)).fetchall()
        return [SymbolRow(*row) for row in rows]

    def in_file(self, path: str) -> list[SymbolRow]:
        """Every symbol of the file at ``path``, in source order."""
        sql = (
            f"SELECT {_SYMBOL_COLUMNS} FROM symbols s JOIN files f ON f.path = s.path "
            "WHERE s.path = ? ORDER BY s.seq"
        )
        with self._guard():
            rows = self._db.execute(sql, (path,)).fetchall()
        return [SymbolRow(*row) for row in rows]

    def enters(self, path: str) -> list[tuple[str | None, str]]:
        """``(label, params)`` of every ``ENTER`` in the file at ``path``."""
        with self._guard():
            rows = self._db.execute(
                "SELECT label, params FROM enters WHERE path = ? ORDER BY line", (path,)
            ).fetchall()
        return [(label, params) for label, params in rows]

    def display_of(self, path: str) -> str | None:
        with self._guard():
            row = self._db.execute("SELECT display FROM files WHERE path = ?", (path,)).fetchone()
        return None if row is None else str(row[0])

    def named_any(self, names: list[str], per_name: int = 3) -> list[SymbolRow]:
        """Classes, interfaces, methods, functions and labels called any of ``names`` (any
        case), classes first; a name shared by more than ``per_name`` symbols is too common
        to say which one is meant and is left out. One query, in a stable order."""
        folded = list(dict.fromkeys(n.casefold() for n in names))
        if not folded:
            return []
        marks = ", ".join("?" * len(folded))
        sql = (
            f"SELECT {_SYMBOL_COLUMNS} FROM symbols s JOIN files f ON f.path = s.path "
            f"WHERE s.folded IN ({marks}) AND s.kind IN "
            "('class', 'interface', 'method', 'function', 'label') "
            "ORDER BY (s.kind IN ('class', 'interface')) DESC, f.display, s.seq"
        )
        with self._guard():
            rows = [SymbolRow(*row) for row in self._db.execute(sql, folded).fetchall()]
        counts: dict[str, int] = {}
        for row in rows:
            counts[row.name.casefold()] = counts.get(row.name.casefold(), 0) + 1
        return [r for r in rows if counts[r.name.casefold()] <= per_name]
