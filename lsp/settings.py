"""The language server's settings: section ``bbjCoder`` of the editor's configuration.

They come from ``initializationOptions`` (either the section's fields directly or nested under
``bbjCoder``) and from ``workspace/configuration``, which wins.  Parsing never fails: a missing
value keeps its default, an invalid one is reported as a warning and keeps its default.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

SECTION = "bbjCoder"
"""The configuration section the server asks the editor for."""


@dataclass(frozen=True)
class LspSettings:
    """Everything a user can configure about ``bbj-coder lsp``."""

    daemon_url: str | None = None
    """Base URL of the daemon, e.g. ``http://127.0.0.1:11435``; None reads it from the state file
    the running daemon writes (the default port when there is none)."""

    token_file: Path | None = None
    """File holding the daemon's bearer token; None uses the daemon's own token file."""

    start_daemon: bool = True
    """Start ``bbj-coder serve`` in the background when no daemon answers."""

    daemon_start_timeout_s: float = 60.0
    """How long to wait for a daemon this server started to answer ``/health``."""

    inline_completion: bool = True
    """Offer AI completions (``textDocument/inlineCompletion`` and the completion fallback)."""

    next_edit: bool = True
    """Answer ``bbj/nextEdit`` and offer a next edit on the cursor's line as ghost text."""

    diagnostics: bool = True
    """Publish compiler diagnostics for BBj files."""

    debounce_ms: int = 400
    """Quiet time after the last edit before the document is checked again."""

    max_completion_tokens: int = 128
    """Upper bound on the tokens one completion may generate."""

    max_fix_tokens: int = 1024
    """Upper bound on the tokens the chat may generate for one "Fix with bbj-coder"."""


FieldParser = Callable[[Any], Any]

_KEYS: dict[str, str] = {
    "daemonUrl": "daemon_url",
    "tokenFile": "token_file",
    "startDaemon": "start_daemon",
    "daemonStartTimeoutS": "daemon_start_timeout_s",
    "inlineCompletion": "inline_completion",
    "nextEdit": "next_edit",
    "diagnostics": "diagnostics",
    "debounceMs": "debounce_ms",
    "maxCompletionTokens": "max_completion_tokens",
    "maxFixTokens": "max_fix_tokens",
}
"""Editor-facing (camelCase) key → dataclass field."""


def _url(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise ValueError("expected an http:// or https:// URL")
    return value.rstrip("/")


def _path(value: Any) -> Path | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError("expected a file path")
    return Path(value).expanduser()


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("expected true or false")
    return value


def _bounded_int(low: int, high: int) -> FieldParser:
    def parse(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
            raise ValueError("expected a whole number")
        if not low <= value <= high:
            raise ValueError(f"expected a number from {low} to {high}")
        return int(value)

    return parse


def _bounded_float(low: float, high: float) -> FieldParser:
    def parse(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError("expected a number")
        if not low <= value <= high:
            raise ValueError(f"expected a number from {low:g} to {high:g}")
        return float(value)

    return parse


_PARSERS: dict[str, FieldParser] = {
    "daemon_url": _url,
    "token_file": _path,
    "start_daemon": _bool,
    "daemon_start_timeout_s": _bounded_float(1, 600),
    "inline_completion": _bool,
    "next_edit": _bool,
    "diagnostics": _bool,
    "debounce_ms": _bounded_int(0, 60_000),
    "max_completion_tokens": _bounded_int(1, 4096),
    "max_fix_tokens": _bounded_int(16, 16_384),
}

assert set(_PARSERS) == {f.name for f in fields(LspSettings)} == set(_KEYS.values())


def section_of(options: Any) -> Mapping[str, Any]:
    """The ``bbjCoder`` section of initialization options, which may also be the section itself."""
    if not isinstance(options, Mapping):
        return {}
    nested = options.get(SECTION)
    return nested if isinstance(nested, Mapping) else options


def parse_settings(
    raw: Any, warn: Callable[[str], None], base: LspSettings | None = None
) -> LspSettings:
    """Settings from ``raw`` (a mapping of camelCase keys) on top of ``base``.

    Each problem is passed to ``warn`` as a sentence; the value concerned keeps its base value.
    """
    base = base or LspSettings()
    if raw is None:
        return base
    if not isinstance(raw, Mapping):
        warn(f"{SECTION} settings should be an object, not {type(raw).__name__}; ignoring them.")
        return base
    changes: dict[str, Any] = {}
    for key, value in raw.items():
        name = _KEYS.get(key)
        if name is None:
            warn(f"Unknown setting {SECTION}.{key}; ignoring it.")
            continue
        try:
            changes[name] = _PARSERS[name](value)
        except ValueError as error:
            kept = getattr(base, name)
            warn(f"Invalid setting {SECTION}.{key} = {value!r} ({error}); keeping {kept!r}.")
    return dataclasses.replace(base, **changes)
