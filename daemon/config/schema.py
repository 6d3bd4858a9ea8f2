"""Declaring settings: frozen dataclasses whose fields carry their help text.

A field whose type is itself a dataclass is a table (``[server]``, ``[train.sft]``); every
other field is a key. The help text is what ``--help``, the READMEs and ``config show`` print.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any


def setting(default: Any, help: str) -> Any:
    """A dataclass field with its ``help`` sentence (the default must be immutable)."""
    return dataclasses.field(default=default, metadata={"help": help})


def field_help(cls: type, name: str) -> str:
    """The help sentence of field ``name`` of the settings class ``cls``."""
    for item in dataclasses.fields(cls):
        if item.name == name:
            return item.metadata.get("help", "")
    raise KeyError(f"{cls.__name__} has no setting {name!r}")


def is_table(kind: Any) -> bool:
    return isinstance(kind, type) and dataclasses.is_dataclass(kind)


def field_types(cls: type) -> dict[str, Any]:
    """Field name → resolved type, in declaration order."""
    hints = typing.get_type_hints(cls)
    return {item.name: hints[item.name] for item in dataclasses.fields(cls)}


def key_types(cls: type, prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], Any]:
    """Every key of ``cls`` and its nested tables: path → type."""
    keys: dict[tuple[str, ...], Any] = {}
    for name, kind in field_types(cls).items():
        if is_table(kind):
            keys.update(key_types(kind, (*prefix, name)))
        else:
            keys[(*prefix, name)] = kind
    return keys


def help_rows(default: Any, prefix: str = "") -> list[tuple[str, str, str]]:
    """``(key, default, help)`` for every key of ``default``; nested tables as ``table.key``."""
    rows: list[tuple[str, str, str]] = []
    for item in dataclasses.fields(default):
        value = getattr(default, item.name)
        if dataclasses.is_dataclass(value):
            rows += help_rows(value, f"{prefix}{item.name}.")
        else:
            rows.append((f"{prefix}{item.name}", repr(value), item.metadata.get("help", "")))
    return rows
