"""Writing an export all-or-nothing: files go to a hidden staging folder, renamed at the end.

An export that fails or is interrupted removes its staging folder, so no half-written GGUF
ever carries a final name (a killed process leaves at most ``OUT/.export-*``).
"""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path
from types import TracebackType

from daemon.files import replace_synced
from trainer.train.errors import TrainError


class Staging:
    def __init__(self, out: Path) -> None:
        self.out = out
        self.dir = out / f".export-{os.getpid()}"

    def __enter__(self) -> Staging:
        self.out.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir.mkdir()
        return self

    def path(self, name: str) -> Path:
        return self.dir / name

    def publish(self) -> list[Path]:
        """Rename every staged file into ``out``, flushed to disk first (each rename is atomic)."""
        published = []
        for staged in sorted(self.dir.iterdir()):
            target = self.out / staged.name
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            if staged.is_dir():
                os.replace(staged, target)
            else:
                replace_synced(staged, target)
            published.append(target)
        self.dir.rmdir()
        return published

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)
        if isinstance(error, OSError) and error.errno == errno.ENOSPC:
            raise TrainError(
                f"The disk holding {self.out} is full ({error}); free some space and run the "
                "export again. Nothing was left behind.",
                exit_code=1,
            ) from error
