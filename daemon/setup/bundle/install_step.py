"""The installers' Python step, run from the new venv: token, config file and models.

``install.sh``/``install.ps1`` call ``python -m daemon bundle setup BUNDLE_DIR``. Every step is
idempotent: an existing token and config are kept, a model already in the store with the
same sha256 is not copied again, and the user's choice of active model survives an upgrade
unless the bundle brings a new default model.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from daemon.errors import os_error_as
from daemon.models.store import ModelStore
from daemon.paths import AppPaths, app_paths
from daemon.server.security import load_or_create_token
from daemon.setup.bundle.wheels import BundleError

CONFIG_TEXT = """\
# bbj-coder settings. `bbj-coder config show` lists every key with its value and origin; each
# can also be set with an environment variable BBJ_CODER_<SECTION>_<KEY>. Examples:
#
# [server]
# port = 11435          # Continue's apiBase must match: rerun `bbj-coder continue install`
#
# [model]
# n_threads = 0         # 0 = all cores
# n_gpu_layers = 0      # -1 = offload every layer to a GPU
"""


def _token(paths: AppPaths) -> str:
    existed = paths.token_file.exists()
    load_or_create_token(paths.token_file)
    verb = "kept" if existed else "created"
    return f"token {verb}: {paths.token_file} (mode 0600)"


def _config(paths: AppPaths) -> str:
    if paths.config_file.exists():
        return f"config kept: {paths.config_file}"
    paths.config_file.write_text(CONFIG_TEXT, encoding="utf-8")
    return f"config written: {paths.config_file}"


def _bundle_manifest(bundle: Path) -> dict[str, Any]:
    file = bundle / "models" / "manifest.json"
    if not file.exists():
        return {"default": None, "models": []}
    try:
        manifest = json.loads(file.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise BundleError(
            f"The bundle's model list {file} is not valid JSON ({exc}); copy the bundle again."
        ) from exc
    models = manifest.get("models") if isinstance(manifest, dict) else None
    if not isinstance(models, list) or not all(_is_model(model) for model in models):
        raise BundleError(
            f"The bundle's model list {file} lacks a model's name, file or sha256; copy the "
            "bundle again."
        )
    return manifest


def _is_model(value: Any) -> bool:
    return isinstance(value, dict) and all(
        isinstance(value.get(key), str) for key in ("name", "file", "sha256")
    )


def _import_one(store: ModelStore, bundle: Path, model: dict[str, Any]) -> bool:
    """Import one bundled model unless the store has it already; True when imported."""
    entry = store.load().find(model["name"])
    if entry is not None and entry.sha256 == model["sha256"] and store.path_of(entry).is_file():
        return False
    store.import_file(
        bundle / "models" / model["file"],
        name=model["name"],
        activate=False,
        expected_sha256=model["sha256"],
        replace=True,  # a newer bundle updates the model it shipped under that name
    )
    return True


def _models(paths: AppPaths, bundle: Path) -> list[str]:
    manifest = _bundle_manifest(bundle)
    store = ModelStore(paths.models_dir)
    lines, imported = [], set()
    for model in manifest["models"]:
        if _import_one(store, bundle, model):
            imported.add(model["name"])
            lines.append(f"model imported: {model['name']} (sha256 {model['sha256'][:12]}…)")
        else:
            lines.append(f"model already installed: {model['name']}")
    default = manifest.get("default")
    if default and (default in imported or store.load().active is None):
        store.activate(default)
        lines.append(f"active model: {default}")
    elif store.load().active:
        lines.append(f"active model kept: {store.load().active}")
    return lines


def setup_from_bundle(bundle: Path) -> list[str]:
    """Token, config file and models; returns one line per thing done or kept.

    Every failure is a :class:`daemon.errors.BbjCoderError`; a file that cannot be read or
    written is a :class:`BundleError` with the system's sentence.
    """
    paths = app_paths()
    with os_error_as(BundleError):
        paths.ensure()
        return [_token(paths), _config(paths), *_models(paths, bundle)]
