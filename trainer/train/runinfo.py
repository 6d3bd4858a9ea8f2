"""``run.json``: what a run was started with, how far it got, and whether it may resume."""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path
from typing import Any

from trainer.train.config import TrainConfig
from trainer.train.errors import TrainError

RUN_FILE = "run.json"
LIBRARIES: tuple[str, ...] = (
    "torch",
    "transformers",
    "trl",
    "peft",
    "accelerate",
    "datasets",
    "bitsandbytes",
    "unsloth",
)
RESUME_MAY_CHANGE: frozenset[str] = frozenset(
    {
        "progress",
        "tensorboard",
        "logging_steps",
        "cpt.epochs",
        "cpt.max_steps",
        "sft.epochs",
        "sft.max_steps",
    }
)
"""Settings that may differ when a run resumes; any other change would mix two runs."""


def read_run_info(out: Path) -> dict[str, Any] | None:
    try:
        return json.loads((out / RUN_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise TrainError(f"{out / RUN_FILE} cannot be read ({exc}).") from exc


def write_run_info(out: Path, info: dict[str, Any]) -> None:
    from trainer.train.stage import write_json

    write_json(out / RUN_FILE, info)


def library_versions() -> dict[str, str]:
    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def flatten(document: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in document.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def check_resumable(info: dict[str, Any], config: TrainConfig) -> None:
    """Refuse to resume with settings that would change what the finished steps meant."""
    from trainer.train.run import config_document

    before = flatten(info.get("config", {}))
    now = flatten(config_document(config))
    changed = sorted(
        key
        for key in before.keys() | now.keys()
        if before.get(key) != now.get(key) and key not in RESUME_MAY_CHANGE
    )
    if changed:
        shown = ", ".join(f"{key} ({before.get(key)!r} -> {now.get(key)!r})" for key in changed)
        raise TrainError(
            f"The run was started with other settings: {shown}. Resume with the original "
            "config, or start a new run in another directory."
        )
