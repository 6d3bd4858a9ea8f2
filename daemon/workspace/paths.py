"""Which files belong to the workspace, and where a ``use`` or ``CALL`` path leads.

Every path the index reads or is told about must lie inside one of the configured roots
(after resolving ``..`` and symbolic links); anything else is refused, so a caller holding the
token cannot make the daemon read arbitrary files through the index.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path

from daemon.errors import BbjCoderError

SOURCE_SUFFIXES = frozenset({".bbj", ".src", ".bbjt", ".bbl", ".bbx"})
"""File name endings the index reads (BBj programs, their sources and class libraries)."""
_SKIPPED_DIRS = frozenset({"node_modules", "__pycache__", "target", "build", "dist"})


class WorkspaceError(BbjCoderError):
    """The workspace index cannot do what was asked (disabled, path outside the roots)."""


class OutsideWorkspaceError(WorkspaceError):
    """A path that lies outside every workspace root."""


class WorkspaceUnavailableError(WorkspaceError):
    """The index's SQLite file failed (closed, locked, damaged): the daemon's fault, not the
    request's."""


def is_source(path: str | Path) -> bool:
    return os.path.splitext(str(path))[1].lower() in SOURCE_SUFFIXES


def in_skipped_folder(relative: str | Path) -> bool:
    """Whether a path below a root lies in a folder :meth:`Roots.walk` skips (hidden or build
    output): the trainer indexes a project's files as the daemon would find them."""
    return any(_skipped(part) for part in Path(relative).parts[:-1])


def _skipped(folder: str) -> bool:
    return folder.startswith(".") or folder in _SKIPPED_DIRS


class Roots:
    """The workspace roots and the BBj PREFIX search path (absolute, resolved); files under
    either are part of the workspace."""

    def __init__(self, roots: Sequence[str | Path], prefix: Sequence[str | Path] = ()) -> None:
        self.prefix = tuple(_resolved(p) for p in prefix)
        resolved = [_resolved(r) for r in roots]
        # PREFIX folders hold the libraries programs use: they are indexed like the roots.
        self.roots = tuple(dict.fromkeys([*resolved, *self.prefix]))

    def confine(self, path: str | Path) -> Path:
        """``path`` resolved; raises :class:`OutsideWorkspaceError` unless inside a root."""
        try:
            resolved = _resolved(path)
        except (ValueError, OSError) as exc:  # an embedded NUL, a name too long
            raise OutsideWorkspaceError(
                f"{str(path)[:200]!r} is not a usable path: {exc}."
            ) from exc
        for root in self.roots:
            if resolved == root or resolved.is_relative_to(root):
                return resolved
        raise OutsideWorkspaceError(
            f"{path} is outside the workspace roots ({', '.join(map(str, self.roots)) or 'none'})."
        )

    def _inside(self, resolved: Path) -> bool:
        return any(resolved == root or resolved.is_relative_to(root) for root in self.roots)

    def contains(self, path: str | Path) -> bool:
        try:
            self.confine(path)
        except OutsideWorkspaceError:
            return False
        return True

    def display(self, path: Path) -> str:
        """``path`` relative to its root (forward slashes), the name prompts and clients see."""
        for root in self.roots:
            if path.is_relative_to(root):
                return path.relative_to(root).as_posix()
        return path.as_posix()

    def candidates(self, target: str, from_file: Path | None) -> Iterator[Path]:
        """Where BBj would look for ``target`` (a ``use`` or ``CALL`` path), in order:
        as given when absolute, then beside the using file, then each PREFIX entry, then each
        workspace root. Only candidates inside the workspace are yielded."""
        target = target.replace("\\", "/").strip()
        if not target:
            return
        if os.path.isabs(target):
            bases: list[Path | None] = [None]
        else:
            bases = [from_file.parent] if from_file is not None else []
            bases += [*self.prefix, *self.roots]
        seen: set[Path] = set()
        for base in bases:
            try:
                candidate = _resolved(target if base is None else base / target)
            except (ValueError, OSError):
                return
            if candidate not in seen and self.contains(candidate):
                seen.add(candidate)
                yield candidate

    def walk(self, max_files: int) -> tuple[list[Path], bool]:
        """Source files under the roots (hidden and build folders skipped), at most
        ``max_files``; the flag says whether the limit cut the list."""
        found: list[Path] = []
        seen: set[Path] = set()
        for root in self.roots:
            for directory, subdirs, files in os.walk(root):
                subdirs[:] = sorted(d for d in subdirs if not _skipped(d))
                for name in sorted(files):
                    if not is_source(name):
                        continue
                    # Resolved, as confine() and the store keep it: a link to a file already
                    # seen is the same file, and a link out of the workspace is not part of it.
                    path = _resolved(Path(directory, name))
                    if path in seen or not self._inside(path):
                        continue
                    if len(found) >= max_files:
                        return found, True
                    seen.add(path)
                    found.append(path)
        return found, False


def _resolved(path: str | Path) -> Path:
    return Path(os.path.realpath(os.path.expanduser(str(path))))
