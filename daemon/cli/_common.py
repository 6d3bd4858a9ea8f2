"""What several command groups share: the effective paths and config for this invocation."""

from __future__ import annotations

import argparse
from pathlib import Path


def load(args: argparse.Namespace, flags: dict[str, object] | None = None):
    """``(paths, loaded_config)`` honouring ``--config``; flags win over file and environment."""
    from daemon.config import load_config
    from daemon.paths import app_paths

    paths = app_paths()
    return paths, load_config(config_path(args, paths), flags=flags or {})


def config_path(args: argparse.Namespace, paths) -> Path:
    return Path(args.config) if getattr(args, "config", None) else paths.config_file
