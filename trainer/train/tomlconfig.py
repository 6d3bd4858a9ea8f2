"""Frozen dataclass configs read from a TOML table: help text per field, unknown keys refused.

Shared by ``train run``, ``train export`` and ``train eval``. A nested dataclass field is a
sub-table (``[train.sft]``); paths are relative to the TOML file.
"""

from __future__ import annotations

import dataclasses
import sys
import typing
from pathlib import Path
from typing import Any, TypeVar

from trainer.train.errors import TrainError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

T = TypeVar("T")


def doc(text: str) -> dict[str, str]:
    """Field metadata holding the field's help text (shown by ``--help`` and the README)."""
    return {"help": text}


def field_help(cls: type, name: str) -> str:
    return next(f.metadata.get("help", "") for f in dataclasses.fields(cls) if f.name == name)


def read_table(path: Path, table: str) -> dict[str, Any]:
    """The ``[table]`` of the TOML file at ``path`` (an empty dict when it has none)."""
    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
    except FileNotFoundError:
        raise TrainError(f"The config file {path} does not exist.") from None
    except tomllib.TOMLDecodeError as exc:
        raise TrainError(f"The config file {path} is not valid TOML ({exc}).") from None
    except OSError as exc:
        raise TrainError(f"The config file {path} cannot be read ({exc.strerror}).") from None
    section = document.get(table, {})
    if not isinstance(section, dict):
        raise TrainError(f"{path}: '{table}' must be a table ([{table}]).")
    return section


def build(default: T, values: dict[str, Any], where: str, path: Path) -> T:
    """``default`` with ``values`` applied; ``where`` names the table in error messages."""
    hints = typing.get_type_hints(type(default))
    changes: dict[str, Any] = {}
    for key, value in values.items():
        if key not in hints:
            known = ", ".join(hints)
            raise TrainError(f"{path}: unknown key '{key}' in [{where}] (known keys: {known}).")
        current = getattr(default, key)
        if dataclasses.is_dataclass(current):
            if not isinstance(value, dict):
                raise TrainError(f"{path}: '{key}' in [{where}] must be a table ([{where}.{key}]).")
            changes[key] = build(current, value, f"{where}.{key}", path)
        else:
            changes[key] = _coerce(hints[key], value, f"'{key}' in [{where}]", path)
    return dataclasses.replace(default, **changes)  # type: ignore[type-var]


_INVALID = object()


def _coerce(kind: Any, value: Any, what: str, path: Path) -> Any:
    expected, convert = _COERCERS.get(kind, ("a value", lambda v, _b: v))
    converted = convert(value, path.parent)
    if converted is _INVALID:
        raise TrainError(f"{path}: {what} must be {expected}, not {value!r}.")
    return converted


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _resolve(value: Any, base: Path) -> Any:
    if not isinstance(value, str) or not value:
        return _INVALID
    candidate = Path(value).expanduser()
    return candidate if candidate.is_absolute() else base / candidate


def _strings(value: Any, _base: Path) -> Any:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(value)
    return _INVALID


_COERCERS: dict[Any, tuple[str, Any]] = {
    bool: ("true or false", lambda v, _b: v if isinstance(v, bool) else _INVALID),
    int: ("a whole number", lambda v, _b: v if _number(v) and isinstance(v, int) else _INVALID),
    float: ("a number", lambda v, _b: float(v) if _number(v) else _INVALID),
    str: ("a string", lambda v, _b: v if isinstance(v, str) else _INVALID),
    Path: ("a path", _resolve),
    Path | None: ("a path", _resolve),
    tuple[str, ...]: ("a string or a list of strings", _strings),
}


def describe(default: Any, prefix: str = "") -> list[tuple[str, str, str]]:
    """(key, default, help) rows for every field, nested tables as ``table.key``."""
    rows: list[tuple[str, str, str]] = []
    for item in dataclasses.fields(default):
        value = getattr(default, item.name)
        if dataclasses.is_dataclass(value):
            rows += describe(value, f"{prefix}{item.name}.")
        else:
            rows.append((f"{prefix}{item.name}", repr(value), item.metadata.get("help", "")))
    return rows
