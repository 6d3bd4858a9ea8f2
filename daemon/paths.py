"""Where bbj-coder keeps its files (platformdirs, app name ``bbj-coder``).

``BBJ_CODER_HOME`` puts every directory under one folder (tests, portable installs).
"""

from __future__ import annotations

import getpass
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "bbj-coder"
HOME_ENV = "BBJ_CODER_HOME"


@dataclass(frozen=True)
class AppPaths:
    config_dir: Path
    models_dir: Path
    logs_dir: Path
    cache_dir: Path
    state_dir: Path
    runtime_dir: Path

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.toml"

    @property
    def token_file(self) -> Path:
        return self.config_dir / "token"

    @property
    def state_file(self) -> Path:
        return self.state_dir / "daemon.json"

    @property
    def lock_file(self) -> Path:
        return self.runtime_dir / "daemon.lock"

    @property
    def log_file(self) -> Path:
        return self.logs_dir / "daemon.log"

    @property
    def demo_dir(self) -> Path:
        return self.cache_dir / "demo-model"

    def ensure(self) -> None:
        """Create every directory, private to the user."""
        for path in (
            self.config_dir,
            self.models_dir,
            self.logs_dir,
            self.cache_dir,
            self.state_dir,
            self.runtime_dir,
        ):
            path.mkdir(parents=True, exist_ok=True, mode=0o700)


def app_paths() -> AppPaths:
    home = os.environ.get(HOME_ENV)
    if home:
        root = Path(home).expanduser()
        return AppPaths(
            config_dir=root / "config",
            models_dir=root / "models",
            logs_dir=root / "logs",
            cache_dir=root / "cache",
            state_dir=root / "state",
            runtime_dir=root / "run",
        )
    import platformdirs

    dirs = platformdirs.PlatformDirs(APP_NAME, appauthor=False)
    runtime = _quiet_runtime_dir(dirs)
    # Some systems (containers, macOS) have no XDG runtime dir; fall back to a private temp one.
    runtime_path = (
        Path(runtime)
        if runtime
        else Path(tempfile.gettempdir()) / f"{APP_NAME}-{getpass.getuser()}"
    )
    return AppPaths(
        config_dir=Path(dirs.user_config_dir),
        models_dir=Path(dirs.user_data_dir) / "models",
        logs_dir=Path(dirs.user_log_dir),
        cache_dir=Path(dirs.user_cache_dir),
        state_dir=Path(dirs.user_state_dir),
        runtime_dir=runtime_path,
    )


def _quiet_runtime_dir(dirs: object) -> str:
    """platformdirs' runtime dir without its ``RuntimeDirWarning``.

    SSH sessions, containers and services without a systemd user session have no
    ``XDG_RUNTIME_DIR``; platformdirs then falls back to a private directory on its own and
    warns on every command. The fallback is fine for a lock file, so the warning is noise.
    """
    import warnings

    import platformdirs

    category = getattr(platformdirs, "RuntimeDirWarning", UserWarning)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category)
        return str(dirs.user_runtime_dir)  # type: ignore[attr-defined]
