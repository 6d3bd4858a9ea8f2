"""``bbj-coder continue install|uninstall``: point Continue.dev at the daemon, or stop doing so.

The user's ``~/.continue/config.yaml`` (``$CONTINUE_GLOBAL_DIR``, or ``--config``) is edited in
place: bbj-coder's two entries are added or refreshed (token, port, provider) and everything
else is left byte-for-byte. A change is backed up first (``config.yaml.bak-<timestamp>``) and
written atomically with the file's mode kept; running the command twice changes nothing.
A legacy ``config.json`` is used when it is the only config Continue has.
"""

from __future__ import annotations

import difflib
import os
import shutil
import stat
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from daemon.errors import BbjCoderError, os_error_as
from daemon.files import write_atomic
from daemon.setup.continuedev.entries import PROVIDERS, Endpoint
from daemon.setup.continuedev.json_config import install_json, uninstall_json
from daemon.setup.continuedev.yaml_config import ContinueConfigError, install_yaml, uninstall_yaml

WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::"})


@dataclass(frozen=True)
class Edit:
    path: Path
    before: str | None
    """None when the file does not exist yet."""
    after: str

    @property
    def changed(self) -> bool:
        return self.before != self.after


def continue_dir() -> Path:
    override = os.environ.get("CONTINUE_GLOBAL_DIR", "").strip()
    return Path(override).expanduser() if override else Path.home() / ".continue"


def target_file(config_path: Path | None) -> Path:
    """The file to edit: the given one, else config.yaml, else a lone legacy config.json."""
    if config_path is not None:
        return config_path.expanduser()
    folder = continue_dir()
    yaml_file, json_file = folder / "config.yaml", folder / "config.json"
    # Continue prefers config.yaml: creating one next to a config.json would hide the user's.
    return json_file if json_file.exists() and not yaml_file.exists() else yaml_file


def daemon_endpoint(provider: str, daemon_config: Path | None = None) -> Endpoint:
    """Where the daemon listens (effective config) and its token (created if missing)."""
    from daemon.config import load_config
    from daemon.paths import app_paths
    from daemon.server.security import load_or_create_token

    paths = app_paths()
    config = load_config(daemon_config or paths.config_file).config
    host = "127.0.0.1" if config.server.host in WILDCARD_HOSTS else config.server.host
    token = load_or_create_token(paths.token_file)
    return Endpoint(provider=provider, host=host, port=config.server.port, token=token)


def _read(path: Path) -> str | None:
    try:
        return path.read_bytes().decode("utf-8")  # as is: CRLF line ends stay CRLF
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ContinueConfigError(
            f"Cannot read {path}: {exc}; the file was left as it is."
        ) from exc


def _check_writable(path: Path) -> None:
    if path.exists():
        mode = path.stat().st_mode
        # Root may write anyway: a file without the owner's write bit was made read-only on
        # purpose, and is respected as such.
        if not mode & stat.S_IWUSR or not os.access(path, os.W_OK):
            raise ContinueConfigError(
                f"{path} is read-only, so bbj-coder left it as it is. Make it writable "
                f"(`chmod u+w {path}`) and run the command again."
            )
    folder = next(p for p in (path.parent, *path.parent.parents) if p.exists())
    if not os.access(folder, os.W_OK):
        raise ContinueConfigError(
            f"Cannot write in {folder}; run the command as the user who owns it."
        )


def _plan(path: Path, endpoint: Endpoint | None) -> Edit:
    """The edit for ``path``: install when ``endpoint`` is given, else uninstall."""
    real = path.resolve()  # a symlinked config is edited where it lives; the link stays
    before = _read(real)
    text, where, is_json = before or "", str(path), real.suffix == ".json"
    if endpoint is None:
        after = uninstall_json(text, where) if is_json else uninstall_yaml(text, where)
    elif is_json:
        after = install_json(text, endpoint, where)
    else:
        after = install_yaml(text, endpoint, where)
    return Edit(real, before, after)


def _backup(path: Path) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    backup = path.with_name(f"{path.name}.bak-{stamp}")
    counter = 2
    while backup.exists():
        backup = path.with_name(f"{path.name}.bak-{stamp}-{counter}")
        counter += 1
    shutil.copy2(path, backup)
    return backup


def _write_atomically(path: Path, text: str) -> None:
    mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else 0o600
    write_atomic(path, text, mode=mode)


def _diff(edit: Edit) -> str:
    before = (edit.before or "").splitlines(keepends=True)
    lines = difflib.unified_diff(
        before,
        edit.after.splitlines(keepends=True),
        fromfile=str(edit.path) if edit.before is not None else "/dev/null",
        tofile=f"{edit.path} (after)",
    )
    return "".join(lines)


def _apply(edit: Edit) -> Path | None:
    """Back up and write; returns the backup (None when there was no file before)."""
    _check_writable(edit.path)
    backup = _backup(edit.path) if edit.before is not None else None
    _write_atomically(edit.path, edit.after)
    return backup


def _readable_warning(path: Path) -> str:
    if os.name == "posix" and stat.S_IMODE(path.stat().st_mode) & 0o077:
        return (
            f"\nNote: {path} is readable by other users and holds the bbj-coder token; "
            f"`chmod 600 {path}` keeps it private."
        )
    return ""


def _run(config_path: Path | None, endpoint: Endpoint | None, dry_run: bool, done: str) -> int:
    """Install (``endpoint`` given) or uninstall; exit status 0. A file that cannot be read or
    written raises :class:`ContinueConfigError` with the system's sentence."""
    with os_error_as(ContinueConfigError):
        path = target_file(config_path)
        if endpoint is None and not path.exists():
            print(f"{path} does not exist; nothing to remove.")
            return 0
        return _apply_or_show(path, endpoint, dry_run, done)


def _apply_or_show(path: Path, endpoint: Endpoint | None, dry_run: bool, done: str) -> int:
    """Plan, then print the diff (dry run) or back up and write; exit status 0."""
    edit = _plan(path, endpoint)
    if not edit.changed:
        state = "already up to date" if endpoint else "has no bbj-coder entries"
        print(f"{edit.path} {state}; nothing changed.")
        return 0
    if dry_run:
        print(_diff(edit), end="")
        print(f"(dry run: {edit.path} was not changed)")
        return 0
    backup = _apply(edit)
    saved = f"; the previous version is in {backup}" if backup else ""
    warning = _readable_warning(edit.path) if endpoint is not None else ""
    print(f"{done} {edit.path}{saved}.{warning}")
    return 0


def continue_install_command(
    provider: str, dry_run: bool, config_path: Path | None, *, daemon_config: Path | None = None
) -> int:
    """``bbj-coder continue install``: exit 0 when done or already current, 2 when refused."""
    if provider not in PROVIDERS:
        print(f"bbj-coder: --provider must be one of {', '.join(PROVIDERS)}.", file=sys.stderr)
        return 2
    try:
        endpoint = daemon_endpoint(provider, daemon_config)
        return _run(
            config_path,
            endpoint,
            dry_run,
            f"Continue now uses bbj-coder ({provider}, {endpoint.api_base}) through",
        )
    except BbjCoderError as exc:
        print(f"bbj-coder: {exc}", file=sys.stderr)
        return 2


def continue_uninstall_command(
    dry_run: bool, config_path: Path | None, *, daemon_config: Path | None = None
) -> int:
    """``bbj-coder continue uninstall``: remove exactly the entries ``install`` added."""
    del daemon_config  # accepted for symmetry with install; removal needs no token or port
    try:
        return _run(config_path, None, dry_run, "Removed the bbj-coder entries from")
    except BbjCoderError as exc:
        print(f"bbj-coder: {exc}", file=sys.stderr)
        return 2
