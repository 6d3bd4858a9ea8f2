"""The text an editor sends around the cursor: whole lines near it, capped in lines and
characters. The LSP sends this window and the trainer cuts its FIM samples with it, so the
daemon sees the same prefix and suffix in both cases."""

from __future__ import annotations

MAX_PREFIX_LINES = 400
MAX_SUFFIX_LINES = 150
MAX_PREFIX_CHARS = 32_000
MAX_SUFFIX_CHARS = 8_000
"""What is sent around the cursor; the daemon trims to its token budget anyway."""


def fim_window(source: str, offset: int) -> tuple[str, str]:
    """(prefix, suffix) around ``offset``, capped to whole lines near the cursor."""
    prefix = source[:offset]
    suffix = source[offset:]
    prefix = "\n".join(prefix.split("\n")[-MAX_PREFIX_LINES:])
    suffix = "\n".join(suffix.split("\n")[:MAX_SUFFIX_LINES])
    if len(prefix) > MAX_PREFIX_CHARS:
        prefix = _from_line_start(prefix[-MAX_PREFIX_CHARS:])
    if len(suffix) > MAX_SUFFIX_CHARS:
        suffix = _to_line_end(suffix[:MAX_SUFFIX_CHARS])
    return prefix, suffix


def _from_line_start(text: str) -> str:
    """Drop a partial first line (keep everything when it is all one line)."""
    newline = text.find("\n")
    return text[newline + 1 :] if newline >= 0 else text


def _to_line_end(text: str) -> str:
    """Drop a partial last line (keep everything when it is all one line)."""
    newline = text.rfind("\n")
    return text[: newline + 1] if newline >= 0 else text
