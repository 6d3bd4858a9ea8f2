"""Turning a TOML, environment or flag value into a setting's type, or saying why it cannot be.

TOML and flag values arrive typed; a string is still accepted where it spells the type
(``port = "11435"``). Environment values are always text: ``"yes"`` is true and a list is
written ``"a, b"``. Paths are relative to the file that names them, else to the working
directory.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from daemon.config.origin import Origin
from daemon.errors import ConfigError

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


@dataclass(frozen=True)
class Wording:
    """How error sentences name a key and a whole number.

    ``dotted`` names a key by its full path (``'server.port'``); otherwise by its name and
    table (``key 'seed'``, ``key 'lr' in [train.sft]``).
    """

    dotted: bool = False
    integer: str = "an integer"

    def key(self, path: tuple[str, ...]) -> str:
        """``path`` is the key's full path in its document."""
        if self.dotted:
            return "'" + ".".join(path) + "'"
        table = f" in [{'.'.join(path[:-1])}]" if len(path) > 1 else ""
        return f"'{path[-1]}'{table}"

    def subject(self, path: tuple[str, ...]) -> str:
        return self.key(path) if self.dotted else f"key {self.key(path)}"


_MISMATCH = object()  # what a converter returns for a value that is not of the kind asked


def coerce(value: Any, kind: Any, origin: Origin, path: tuple[str, ...], wording: Wording) -> Any:
    """``value`` as ``kind``; a ConfigError naming the key and the origin when it is not one."""
    converted = _convert(value, kind, origin)
    if converted is _MISMATCH:
        wanted = describe_type(kind, wording)
        sentence = f"{wording.subject(path)} must be {wanted}, got {value!r}"
        raise ConfigError(origin.blame(sentence) + ".")
    return converted


def describe_type(kind: Any, wording: Wording) -> str:
    kind = _without_none(kind)
    if typing.get_origin(kind) is tuple:
        item = typing.get_args(kind)[0]
        plural = {str: "strings", Path: "paths"}.get(item, "values")
        return f"{describe_type(item, wording)} or a list of {plural}"
    names = {bool: "true or false", int: wording.integer, float: "a number", str: "a string"}
    return names.get(kind, "a path")


def _without_none(kind: Any) -> Any:
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        (inner,) = (arg for arg in typing.get_args(kind) if arg is not type(None))
        return inner
    return kind


def _convert(value: Any, kind: Any, origin: Origin) -> Any:
    kind = _without_none(kind)
    if typing.get_origin(kind) is not tuple:
        return _scalar(value, kind, origin)
    item = typing.get_args(kind)[0]
    if isinstance(value, str) and origin.is_text:
        parts: list[Any] = [part.strip() for part in value.split(",") if part.strip()]
    elif isinstance(value, (str, Path)):
        parts = [value]
    elif isinstance(value, (list, tuple)):
        parts = list(value)
    else:
        return _MISMATCH
    items = tuple(_scalar(part, item, origin) for part in parts)
    return _MISMATCH if any(i is _MISMATCH for i in items) else items


def _scalar(value: Any, kind: Any, origin: Origin) -> Any:
    text = value.strip().lower() if isinstance(value, str) else None
    if kind is bool:
        if isinstance(value, bool):
            return value
        if text in _TRUE or text in _FALSE:
            return text in _TRUE
    elif kind is int or kind is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if kind is float:
                return float(value)
            if isinstance(value, int):
                return value
        elif text is not None:
            try:
                return kind(value)
            except ValueError:
                pass
    elif kind is str:
        if isinstance(value, str):
            return value
    elif kind is Path:
        if isinstance(value, Path) or (isinstance(value, str) and value):
            path = Path(value).expanduser()
            return path if path.is_absolute() else (origin.base or Path.cwd()) / path
    else:
        raise TypeError(f"settings of type {kind!r} are not supported")
    return _MISMATCH
