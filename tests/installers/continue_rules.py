"""The parts of Continue's config.yaml schema (v1) that decide whether Continue loads a file."""

from __future__ import annotations

from typing import Any

import yaml

PROVIDERS = {"ollama", "openai"}
ROLES = {"chat", "edit", "apply", "autocomplete", "embed", "rerank"}


def _model_problems(model: Any, index: int) -> list[str]:
    if not isinstance(model, dict):
        return [f"models[{index}] is not a mapping"]
    if "uses" in model:  # a hub block: Continue resolves it itself
        return []
    problems = [
        f"models[{index}] has no {key}"
        for key in ("name", "provider", "model")
        if not isinstance(model.get(key), str)
    ]
    roles = model.get("roles", [])
    if not isinstance(roles, list) or not set(roles) <= ROLES | {"summarize"}:
        problems.append(f"models[{index}] has roles {roles!r}")
    return problems


def continue_problems(text: str, *, ours_only: bool = False) -> list[str]:
    """What Continue would reject; ``ours_only`` also requires our providers and an apiBase."""
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        return ["the top level is not a mapping"]
    problems = [f"no top-level {key}" for key in ("name", "version", "schema") if key not in data]
    models = data.get("models", [])
    if not isinstance(models, list):
        return [*problems, f"models is {models!r}, not a list"]
    for index, model in enumerate(models):
        problems += _model_problems(model, index)
        if ours_only and isinstance(model, dict) and str(model.get("name")).startswith("bbj-coder"):
            if model.get("provider") not in PROVIDERS or not model.get("apiBase"):
                problems.append(f"models[{index}] is not an ollama/openai model with an apiBase")
            if not set(model.get("roles", [])) <= ROLES:
                problems.append(f"models[{index}] has roles outside {sorted(ROLES)}")
    return problems
