"""``bbj-coder continue install|uninstall``: point Continue.dev at the daemon, or stop doing so.

The user's ``~/.continue/config.yaml`` (``$CONTINUE_GLOBAL_DIR``, or ``--config``) is edited in
place: bbj-coder's two entries are added or refreshed (token, port, provider) and everything
else is left byte-for-byte. A change is backed up first (``config.yaml.bak-<timestamp>``) and
written atomically with the file's mode kept; running the command twice changes nothing.
A legacy ``config.json`` is used when it is the only config Continue has.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from daemon.errors import BbjCoderError, os_error_as
from daemon.setup import config_files
from daemon.setup.config_files import Edit
from daemon.setup.continuedev.entries import PROVIDERS, Endpoint
from daemon.setup.continuedev.json_config import install_json, uninstall_json
from daemon.setup.continuedev.yaml_config import ContinueConfigError, install_yaml, uninstall_yaml

WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::"})


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
    return config_files.read_text(path, ContinueConfigError)


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


def _apply(edit: Edit) -> Path | None:
    """Back up and write; returns the backup (None when there was no file before)."""
    return config_files.apply(edit, ContinueConfigError)


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
        print(config_files.diff(edit), end="")
        print(f"(dry run: {edit.path} was not changed)")
        return 0
    backup = _apply(edit)
    saved = f"; the previous version is in {backup}" if backup else ""
    warning = config_files.readable_warning(edit.path) if endpoint is not None else ""
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
