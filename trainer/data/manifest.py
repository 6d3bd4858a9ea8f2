"""``manifest.json``: the sha256 of every input and output, and the settings, of one build.

It holds no times or machine names, so two builds of the same inputs write the same manifest.
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

from daemon.files import sha256_file
from trainer.data.config import DataConfig

MANIFEST_NAME = "manifest.json"
NOT_CONTENT = ("out", "progress")
"""Settings that do not change what a build writes, left out of the manifest."""


def config_document(config: DataConfig) -> dict[str, object]:
    document: dict[str, object] = {}
    for item in fields(config):
        if item.name in NOT_CONTENT:
            continue
        value = getattr(config, item.name)
        if isinstance(value, tuple):
            value = [str(v) for v in value]
        elif isinstance(value, Path):
            value = str(value)
        document[item.name] = value
    return document


def build_manifest(
    config: DataConfig, inputs: list[Path], output_dir: Path, tokenizer: str, version: str
) -> dict[str, object]:
    unique_inputs = sorted({str(p): p for p in inputs}.items())
    outputs = sorted(p for p in output_dir.iterdir() if p.name != MANIFEST_NAME)
    return {
        "format": 1,
        "generator": f"bbj-coder {version} train data",
        "config": config_document(config),
        "tokenizer": tokenizer,
        "inputs": [_entry(name, path) for name, path in unique_inputs],
        "outputs": [_entry(path.name, path) for path in outputs],
    }


def _entry(name: str, path: Path) -> dict[str, object]:
    return {"path": name, "bytes": path.stat().st_size, "sha256": sha256_file(path)}
