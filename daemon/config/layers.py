"""Layers of values (a TOML file, the environment, flags) over a settings class's defaults.

Each layer checks its keys against the class and converts its values when it is read, so an
error names the key and the exact place it came from. :func:`resolve` stacks the layers
(later ones win) and records the :class:`Origin` of every key.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from daemon.config.coerce import Wording, coerce
from daemon.config.origin import DEFAULT, Origin
from daemon.config.schema import field_types, is_table, key_types
from daemon.config.tomlfile import TomlFile
from daemon.errors import ConfigError

T = TypeVar("T")

_PLAIN = Wording()

Layer = dict[tuple[str, ...], tuple[Any, Origin]]
"""Key path (below the settings class) → (converted value, where it came from)."""


@dataclass(frozen=True)
class Resolved(Generic[T]):
    value: T
    origins: dict[str, Origin]
    """``"table.key"`` → where the value came from, for every key."""


def resolve(default: T, *layers: Layer) -> Resolved[T]:
    """``default`` with the layers' values applied in order (the last one wins)."""
    merged: Layer = {}
    for layer in layers:
        merged.update(layer)
    origins = {
        ".".join(path): merged[path][1] if path in merged else DEFAULT
        for path in key_types(type(default))
    }
    return Resolved(_apply(default, merged, ()), origins)


def _apply(default: Any, merged: Layer, prefix: tuple[str, ...]) -> Any:
    changes = {}
    for name, kind in field_types(type(default)).items():
        path = (*prefix, name)
        if is_table(kind):
            changes[name] = _apply(getattr(default, name), merged, path)
        elif path in merged:
            changes[name] = merged[path][0]
    return dataclasses.replace(default, **changes)


def file_layer(
    file: TomlFile, cls: type, *, table: tuple[str, ...] = (), wording: Wording = _PLAIN
) -> Layer:
    """The keys of ``[table]`` in ``file`` (the whole document for ``()``)."""
    layer: Layer = {}
    _read_table(layer, file, cls, file.table(table) or {}, table, (), wording)
    return layer


def _read_table(
    layer: Layer,
    file: TomlFile,
    cls: type,
    values: dict[str, Any],
    table: tuple[str, ...],
    below: tuple[str, ...],
    wording: Wording,
) -> None:
    types = field_types(cls)
    for key, value in values.items():
        full = (*table, *below, key)
        origin = file.origin(full[:-1], key)
        kind = types.get(key)
        if kind is None:
            raise ConfigError(unknown_key(origin, full, types, wording))
        if not is_table(kind):
            layer[(*below, key)] = (coerce(value, kind, origin, full, wording), origin)
        elif isinstance(value, dict):
            _read_table(layer, file, kind, value, table, (*below, key), wording)
        else:
            dotted = ".".join(full)
            raise ConfigError(origin.blame(f"'{dotted}' must be a table ([{dotted}])") + ".")


def env_layer(
    environ: Mapping[str, str], prefix: str, cls: type, *, wording: Wording = _PLAIN
) -> Layer:
    """Variables ``PREFIX<TABLE>_<KEY>`` (upper case); other variables are not looked at."""
    layer: Layer = {}
    for path, kind in key_types(cls).items():
        name = (prefix + "_".join(path)).upper()
        if name in environ:
            origin = Origin.env(name)
            layer[path] = (coerce(environ[name], kind, origin, path, wording), origin)
    return layer


def flag_layer(
    flags: Mapping[str, Any],
    cls: type,
    *,
    shown: Callable[[str], str],
    table: tuple[str, ...] = (),
    wording: Wording = _PLAIN,
) -> Layer:
    """``flags`` maps ``"table.key"`` to a value, None meaning not given; ``shown(key)`` is how
    the origin is named (``flag --port``, ``the command line``)."""
    keys = key_types(cls)
    layer: Layer = {}
    for dotted, value in flags.items():
        if value is None:
            continue
        path = tuple(dotted.split("."))
        full = (*table, *path)
        origin = Origin.flag(shown(dotted))
        if path not in keys:
            raise ConfigError(unknown_key(origin, full, _fields_at(cls, path[:-1]), wording))
        layer[path] = (coerce(value, keys[path], origin, full, wording), origin)
    return layer


def _fields_at(cls: type, table: tuple[str, ...]) -> dict[str, Any]:
    for name in table:
        kind = field_types(cls).get(name)
        if not is_table(kind):
            return {}
        cls = kind
    return field_types(cls)


def unknown_key(origin: Origin, full: tuple[str, ...], known: dict[str, Any], w: Wording) -> str:
    """The sentence for a key that ``known`` (the table's fields) does not have."""
    if known and all(is_table(kind) for kind in known.values()):
        sections = ", ".join(f"[{'.'.join((*full[:-1], name))}]" for name in known)
        problem = f"unknown section [{'.'.join(full)}]{origin.at}; known sections: {sections}"
    else:
        problem = f"unknown key {w.key(full)}{origin.at}; known keys: {', '.join(known)}"
    return f"{origin.where}: {problem}." if origin.where else f"{problem}."
