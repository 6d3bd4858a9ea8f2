"""Editing a tool's config file safely: the one helper `continue install` and `mcp install`
share.

A planned :class:`Edit` (before/after text) is shown as a diff on a dry run; otherwise the
file is backed up (``<name>.bak-<timestamp>``, 0600, bbj-coder's token masked: a backup never
keeps it) and written atomically with its mode kept. A
read-only file or an unwritable folder is refused with a sentence; nothing is half-written.
"""

from __future__ import annotations

import difflib
import os
import re
import stat
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from daemon.errors import BbjCoderError
from daemon.files import write_atomic

ErrorType = Callable[[str], BbjCoderError]
TOKEN_MASK = "<bbj-coder token hidden>"


@dataclass(frozen=True)
class Edit:
    path: Path
    before: str | None
    """None when the file does not exist yet."""
    after: str

    @property
    def changed(self) -> bool:
        return self.before != self.after


def read_text(path: Path, error: ErrorType) -> str | None:
    """The file as is (CRLF line ends stay CRLF), None when it does not exist."""
    try:
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"Cannot read {path}: {exc}; the file was left as it is.") from exc


def check_writable(path: Path, error: ErrorType) -> None:
    if path.exists():
        mode = path.stat().st_mode
        # Root may write anyway: a file without the owner's write bit was made read-only on
        # purpose, and is respected as such.
        if not mode & stat.S_IWUSR or not os.access(path, os.W_OK):
            raise error(
                f"{path} is read-only, so bbj-coder left it as it is. Make it writable "
                f"(`chmod u+w {path}`) and run the command again."
            )
    folder = next(p for p in (path.parent, *path.parent.parents) if p.exists())
    if not os.access(folder, os.W_OK):
        raise error(f"Cannot write in {folder}; run the command as the user who owns it.")


def current_token() -> str | None:
    """This install's bearer token, None when there is none yet."""
    from daemon.paths import app_paths

    try:
        return app_paths().token_file.read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


SECRET_PATTERN = re.compile(r"""(Bearer\s+|apiKey["']?\s*:\s*["']?)([^\s"',}]+)""")
"""A bearer token or an ``apiKey`` value in a config's text (group 2 is the secret)."""


def masked(text: str, secrets: Iterable[str] = (), *, every_key: bool = False) -> str:
    """``text`` with the current token and ``secrets`` replaced by a placeholder; with
    ``every_key`` (for showing, never for a backup) every bearer token and API key too."""
    for secret in {current_token(), *secrets} - {None, ""}:
        text = text.replace(secret, TOKEN_MASK)  # type: ignore[arg-type]
    if every_key:
        text = SECRET_PATTERN.sub(lambda m: m.group(1) + TOKEN_MASK, text)
    return text


def backup(path: Path, before: str, secrets: Iterable[str] = ()) -> Path:
    """A private copy of ``before`` beside ``path``, with bbj-coder's tokens masked."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.bak-{stamp}")
    counter = 2
    while target.exists():
        target = path.with_name(f"{path.name}.bak-{stamp}-{counter}")
        counter += 1
    write_atomic(target, masked(before, secrets), mode=0o600)
    return target


def write_keeping_mode(path: Path, text: str) -> None:
    mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else 0o600
    write_atomic(path, text, mode=mode)


def diff(edit: Edit) -> str:
    before = (edit.before or "").splitlines(keepends=True)
    lines = difflib.unified_diff(
        before,
        edit.after.splitlines(keepends=True),
        fromfile=str(edit.path) if edit.before is not None else "/dev/null",
        tofile=f"{edit.path} (after)",
    )
    return "".join(lines)


def apply(edit: Edit, error: ErrorType, secrets: Iterable[str] = ()) -> Path | None:
    """Back up and write; returns the backup (None when there was no file before).
    ``secrets`` (old tokens found in the file) are masked in the backup too."""
    check_writable(edit.path, error)
    saved = backup(edit.path, edit.before, secrets) if edit.before is not None else None
    write_keeping_mode(edit.path, edit.after)
    return saved


def readable_warning(path: Path) -> str:
    if os.name == "posix" and stat.S_IMODE(path.stat().st_mode) & 0o077:
        return (
            f"\nNote: {path} is readable by other users and holds the bbj-coder token; "
            f"`chmod 600 {path}` keeps it private."
        )
    return ""
