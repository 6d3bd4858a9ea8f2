"""Where a setting's value came from: its default, a file and line, a variable or a flag."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Origin:
    """``str(origin)`` is what ``config show`` prints: ``default``, ``PATH, line 4``,
    ``env BBJ_CODER_FIM_MAX_TOKENS``, ``flag --port`` or ``the command line``."""

    kind: str  # "default", "file", "env" or "flag"
    name: str = ""  # the file's path, the variable's name or how the flag is shown
    line: int | None = None

    @classmethod
    def file(cls, path: Path, line: int | None = None) -> Origin:
        return cls("file", str(path), line)

    @classmethod
    def env(cls, variable: str) -> Origin:
        return cls("env", variable)

    @classmethod
    def flag(cls, shown: str) -> Origin:
        return cls("flag", shown)

    def __str__(self) -> str:
        if self.kind == "file" and self.line is not None:
            return f"{self.name}, line {self.line}"
        return self.where or "default"

    @property
    def where(self) -> str:
        """The sentence prefix naming the source (empty for a default)."""
        return {"default": "", "env": f"env {self.name}"}.get(self.kind, self.name)

    @property
    def at(self) -> str:
        """`` (line N)`` for a file value whose line is known, else nothing."""
        return f" (line {self.line})" if self.kind == "file" and self.line is not None else ""

    @property
    def is_text(self) -> bool:
        """Environment values are text to parse (``"true"``, ``"a, b"``), not typed TOML."""
        return self.kind == "env"

    @property
    def base(self) -> Path | None:
        """What a relative path in this value is relative to (None: the working directory)."""
        return Path(self.name).parent if self.kind == "file" else None

    def blame(self, sentence: str) -> str:
        """``sentence`` with where the value came from: ``PATH: sentence (line N)``."""
        text = f"{self.where}: {sentence}" if self.where else sentence
        return f"{text}{self.at}"


DEFAULT = Origin("default")
