"""Follow a growing log file like ``tail -F``: new complete lines, rotation handled."""

from __future__ import annotations

from pathlib import Path

TAIL_BYTES = 256 * 1024
HEAD_BYTES = 64


class LogFollower:
    """Each :meth:`poll` returns the complete lines appended since the last one.

    The first poll starts from the last ``TAIL_BYTES`` of the file. When the file is replaced
    (rotated) or rewritten from the start (truncated), reading starts again from its beginning;
    a rewrite is noticed by the file's first bytes changing.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._offset: int | None = None
        self._inode: int | None = None
        self._head = b""
        self._pending = b""
        self._skip_partial_first_line = False

    def poll(self) -> list[str]:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            self._offset = None
            return []
        if self._offset is None:
            self._start(stat.st_ino, max(0, stat.st_size - TAIL_BYTES))
        elif stat.st_ino != self._inode or stat.st_size < self._offset or self._rewritten():
            self._start(stat.st_ino, 0)
        return self._read_new(stat.st_size)

    def _start(self, inode: int, offset: int) -> None:
        self._offset, self._inode, self._pending = offset, inode, b""
        self._skip_partial_first_line = offset > 0
        self._head = self._read_head()

    def _read_head(self) -> bytes:
        try:
            with open(self.path, "rb") as handle:
                return handle.read(HEAD_BYTES)
        except OSError:
            return b""

    def _rewritten(self) -> bool:
        head = self._read_head()
        known = min(len(head), len(self._head))
        return head[:known] != self._head[:known]

    def _read_new(self, size: int) -> list[str]:
        assert self._offset is not None
        if size <= self._offset:
            return []
        with open(self.path, "rb") as handle:
            handle.seek(self._offset)
            data = handle.read(size - self._offset)
        self._offset += len(data)
        if len(self._head) < HEAD_BYTES:
            self._head = self._read_head()
        *complete, self._pending = (self._pending + data).split(b"\n")
        if self._skip_partial_first_line and complete:
            complete = complete[1:]
            self._skip_partial_first_line = False
        return [line.decode("utf-8", errors="replace").rstrip("\r") for line in complete]
