"""Reading a TOML file with the line of every key, and writing TOML that always reads back."""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w

from daemon.config.origin import Origin
from daemon.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

# A whole-line [table] or [[array]] header; an array value's continuation line is not one.
_HEADER = re.compile(r"\s*\[\[?\s*([\w.\-\s\"']+?)\s*\]\]?\s*(#.*)?$")


@dataclass(frozen=True)
class TomlFile:
    path: Path
    data: dict[str, Any]
    text: str

    def table(self, path: tuple[str, ...]) -> dict[str, Any] | None:
        """The table at ``path``, None when the file has none; refused when it is not a table."""
        value: Any = self.data
        for depth, name in enumerate(path, start=1):
            value = value.get(name)
            if value is None:
                return None
            if not isinstance(value, dict):
                dotted = ".".join(path[:depth])
                where = self.origin(path[: depth - 1], name)
                raise ConfigError(where.blame(f"'{dotted}' must be a table ([{dotted}])") + ".")
        return value

    def origin(self, table: tuple[str, ...], key: str) -> Origin:
        return Origin.file(self.path, self.line_of(table, key))

    def line_of(self, table: tuple[str, ...], key: str) -> int | None:
        """The line of ``key =`` in ``[table]``, or of the header ``[table.key]``."""
        current: tuple[str, ...] = ()
        assignment = re.compile(rf"\s*[\"']?{re.escape(key)}[\"']?\s*=")
        for number, line in enumerate(self.text.splitlines(), start=1):
            header = _HEADER.match(line)
            if header:
                current = tuple(p.strip().strip("\"'") for p in header.group(1).split("."))
                if current == (*table, key):
                    return number
            elif current == table and assignment.match(line):
                return number
        return None


def read_toml(path: Path) -> TomlFile:
    """Parse ``path``; every way it can fail is a ConfigError naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"The config file {path} does not exist.") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path} is not valid UTF-8 text ({exc.reason}).") from exc
    except OSError as exc:
        raise ConfigError(f"Cannot read the config file {path}: {exc.strerror}.") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}).") from exc
    return TomlFile(path, data, text)


def dumps(document: Mapping[str, Any], comments: Mapping[str, str] | None = None) -> str:
    """``document`` as TOML, nested mappings as tables; ``comments["a.b"]`` trails key ``b``
    of ``[a]``. Values are written by tomli-w, so any string (newlines, quotes, control
    characters) reads back unchanged; None values are left out (TOML has no null)."""
    blocks: list[list[str]] = []
    _write_table(blocks, (), document, comments or {})
    return "\n\n".join("\n".join(block) for block in blocks if block) + "\n"


def _write_table(
    blocks: list[list[str]],
    path: tuple[str, ...],
    table: Mapping[str, Any],
    comments: Mapping[str, str],
) -> None:
    block = [_header(path)] if path else []
    for key, value in table.items():
        if value is None or isinstance(value, Mapping):
            continue
        line = f"{_key(key)} = {_literal(value)}"
        comment = comments.get(".".join((*path, key)))
        block.append(f"{line}  # {_one_line(comment)}" if comment else line)
    blocks.append(block)
    for key, value in table.items():
        if isinstance(value, Mapping):
            _write_table(blocks, (*path, key), value, comments)


def _header(path: tuple[str, ...]) -> str:
    nested: dict[str, Any] = {}
    for name in reversed(path):
        nested = {name: nested}
    return tomli_w.dumps(nested).strip()


def _key(key: str) -> str:
    return tomli_w.dumps({key: 0})[: -len(" = 0\n")]


def _literal(value: Any) -> str:
    """One value on one line (tomli-w would break every array over several lines)."""
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_literal(item) for item in value) + "]"
    if isinstance(value, Path):
        value = str(value)
    return tomli_w.dumps({"v": value})[len("v = ") :].rstrip("\n")


def _one_line(text: str) -> str:
    """A comment cannot hold a line break or another control character: escape them."""
    return "".join(
        char if char == "\t" or (char >= " " and char != "\x7f") else repr(char)[1:-1]
        for char in text
    )
