"""``bbj-coder continue install|uninstall``: point Continue.dev at the daemon, or stop doing so.

The user's ``~/.continue/config.yaml`` (``$CONTINUE_GLOBAL_DIR``, or ``--config``) is edited in
place: bbj-coder's two entries are added or refreshed (token, port, provider) and everything
else is left byte-for-byte. A change is backed up first (``config.yaml.bak-<timestamp>``, 0600,
with any bearer token in it replaced by a placeholder, so no stale copy of the token is left)
and written atomically with the file's mode kept; running the command twice changes nothing.
A legacy ``config.json`` is used when it is the only config Continue has.

The daemon's address is, in order: ``--url``, ``--port`` (with the configured host), the
running daemon's (its state file), the effective config. A dry run masks the token.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

from daemon.errors import BbjCoderError, ConfigError, os_error_as
from daemon.files import write_atomic
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


def daemon_endpoint(
    provider: str,
    daemon_config: Path | None = None,
    *,
    port: int | None = None,
    url: str | None = None,
) -> Endpoint:
    """Where the daemon listens and its token (created if missing): ``url``, else ``port``,
    else the running daemon's address, else the effective config's."""
    from daemon.config import load_config
    from daemon.instance import read_state
    from daemon.paths import app_paths
    from daemon.server.security import load_or_create_token

    paths = app_paths()
    config = load_config(daemon_config or paths.config_file).config
    host, chosen = config.server.host, config.server.port
    running = read_state(paths.state_file)
    if url is not None:
        host, chosen = _host_port(url)
    elif port is not None:
        chosen = port
    elif running is not None:
        host, chosen = running.host, running.port
    host = "127.0.0.1" if host in WILDCARD_HOSTS else host
    token = load_or_create_token(paths.token_file)
    return Endpoint(provider=provider, host=host, port=chosen, token=token)


def _host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url.strip())
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme != "http" or not parts.hostname or port is None or parts.path.strip("/"):
        raise ConfigError(
            f"--url {url!r} is not the daemon's address; give it as http://HOST:PORT "
            "(for example http://127.0.0.1:11435), without /v1."
        )
    return parts.hostname, port


def _our_tokens(text: str, is_json: bool) -> set[str]:
    """The tokens in bbj-coder's own entries of a Continue config (other models' keys are the
    user's business and stay as they are)."""
    from daemon.setup.continuedev.entries import MANAGED_NAMES

    try:
        if is_json:
            import json

            data = json.loads(text)
        else:
            import yaml

            data = yaml.safe_load(text)
    except Exception:  # an unparsable config was refused before any backup is made
        return set()
    models = data.get("models") if isinstance(data, dict) else None
    found: set[str] = set()
    for model in models if isinstance(models, list) else []:
        if not isinstance(model, dict) or model.get("name") not in MANAGED_NAMES:
            continue
        found.update(config_files.SECRET_PATTERN.findall(f"apiKey: {model.get('apiKey', '')}"))
        headers = (model.get("requestOptions") or {}).get("headers") or {}
        if isinstance(headers, dict):
            found.update(config_files.SECRET_PATTERN.findall(str(headers.get("Authorization", ""))))
    return {token for _, token in found if token}


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
    """Back up (old bbj-coder tokens masked) and write; the backup, None without a file."""
    old = _our_tokens(edit.before or "", edit.path.suffix == ".json")
    return config_files.apply(edit, ContinueConfigError, old)


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
        shown = config_files.diff(edit)
        tokens = [endpoint.token] if endpoint else []
        print(config_files.masked(shown, tokens, every_key=True), end="")
        print(f"(dry run: {edit.path} was not changed)")
        return 0
    backup = _apply(edit)
    saved = f"; the previous version is in {backup}" if backup else ""
    warning = config_files.readable_warning(edit.path) if endpoint is not None else ""
    print(f"{done} {edit.path}{saved}.{warning}")
    return 0


def continue_install_command(
    provider: str,
    dry_run: bool,
    config_path: Path | None,
    *,
    daemon_config: Path | None = None,
    port: int | None = None,
    url: str | None = None,
) -> int:
    """``bbj-coder continue install``: exit 0 when done or already current, 2 when refused."""
    if provider not in PROVIDERS:
        print(f"bbj-coder: --provider must be one of {', '.join(PROVIDERS)}.", file=sys.stderr)
        return 2
    try:
        endpoint = daemon_endpoint(provider, daemon_config, port=port, url=url)
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
    dry_run: bool,
    config_path: Path | None,
    *,
    daemon_config: Path | None = None,
    remove_skeleton: bool = False,
) -> int:
    """``bbj-coder continue uninstall``: remove exactly the entries ``install`` added.

    Backups beside the config get bbj-coder's token masked (older versions copied it there).
    ``remove_skeleton`` (``uninstall.sh --purge``) deletes a config left holding nothing but
    what ``install`` wrote when there was none.
    """
    del daemon_config  # accepted for symmetry with install; removal needs no token or port
    try:
        code = _run(config_path, None, dry_run, "Removed the bbj-coder entries from")
        if not dry_run:
            with os_error_as(ContinueConfigError):
                path = target_file(config_path)
                _mask_backups(path)
                if remove_skeleton and _is_skeleton(path):
                    path.unlink()
                    print(f"Removed {path}: it held nothing but bbj-coder's entries.")
        return code
    except BbjCoderError as exc:
        print(f"bbj-coder: {exc}", file=sys.stderr)
        return 2


def _mask_backups(path: Path) -> None:
    for backup in sorted(path.parent.glob(f"{path.name}.bak-*")):
        text = _read(backup) or ""
        masked = config_files.masked(text, _our_tokens(text, path.suffix == ".json"))
        if masked != text:
            write_atomic(backup, masked, mode=0o600)


def _is_skeleton(path: Path) -> bool:
    from daemon.setup.continuedev.entries import Endpoint, render_new_config

    if not path.is_file() or path.suffix == ".json":
        return False
    skeleton = uninstall_yaml(render_new_config(Endpoint("ollama", "127.0.0.1", 1, "x")), str(path))
    return _lines(_read(path) or "") == _lines(skeleton)


def _lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines() if line.strip()]
