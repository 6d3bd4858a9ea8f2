"""Continue.dev's config: present, pointing at this daemon, carrying the current token."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from daemon.backends._http import is_loopback
from daemon.setup.continuedev.yaml_config import ContinueConfigError
from daemon.setup.doctor._base import CheckOutcome, DoctorContext, display_path


def continue_dir(configured: Path | None = None) -> Path:
    if configured is not None:
        return configured
    override = os.environ.get("CONTINUE_GLOBAL_DIR", "").strip()
    return Path(override).expanduser() if override else Path.home() / ".continue"


def _read_continue_config(file: Path) -> dict[str, Any]:
    """The config's mapping; a file that cannot be read or parsed raises
    :class:`ContinueConfigError` saying why in a few words."""
    try:
        text = file.read_text(encoding="utf-8")
        data = json.loads(text) if file.suffix == ".json" else _load_yaml(text)
    except (OSError, ValueError, ImportError) as exc:
        problem = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ContinueConfigError(problem) from exc
    return data if isinstance(data, dict) else {}


def _load_yaml(text: str) -> Any:
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ContinueConfigError(_yaml_problem(exc)) from exc


def _yaml_problem(exc: Exception) -> str:
    problem, mark = getattr(exc, "problem", None), getattr(exc, "problem_mark", None)
    if problem and mark is not None:
        return f"{problem} (line {mark.line + 1})"
    return str(exc).splitlines()[0]


def _continue_models(config: dict[str, Any]) -> list[dict[str, Any]]:
    models = config.get("models") if isinstance(config.get("models"), list) else []
    tab = config.get("tabAutocompleteModel")
    extra = tab if isinstance(tab, list) else [tab]
    return [m for m in [*models, *extra] if isinstance(m, dict)]


def _points_at(model: dict[str, Any], daemon_url: str) -> bool:
    base = model.get("apiBase")
    if not isinstance(base, str):
        return False
    wanted, parsed = urlparse(daemon_url), urlparse(base.strip())
    return is_loopback(base.strip()) and parsed.port == wanted.port


def _carries_token(model: dict[str, Any], token: str) -> bool:
    if model.get("apiKey") == token:
        return True
    options = model.get("requestOptions")
    headers = options.get("headers") if isinstance(options, dict) else None
    if not isinstance(headers, dict):
        return False
    auth = next((v for k, v in headers.items() if str(k).lower() == "authorization"), None)
    return auth == f"Bearer {token}"


def check_continue(ctx: DoctorContext, folder: Path) -> CheckOutcome:
    install = "Run `bbj-coder continue install` to point Continue at bbj-coder."
    file = next((f for f in (folder / "config.yaml", folder / "config.json") if f.is_file()), None)
    if file is None:
        return CheckOutcome("Continue.dev", "warn", "no Continue config found", install)
    try:
        models = _continue_models(_read_continue_config(file))
    except ContinueConfigError as exc:
        return CheckOutcome(
            "Continue.dev", "fail", f"{display_path(file)} cannot be read: {exc}", install
        )
    ours = [m for m in models if _points_at(m, ctx.url)]
    where = display_path(file)
    if not ours:
        return CheckOutcome("Continue.dev", "warn", f"{where} has no model at {ctx.url}", install)
    if ctx.token and not any(_carries_token(m, ctx.token) for m in ours):
        return CheckOutcome(
            "Continue.dev",
            "fail",
            f"{where} points at bbj-coder with a wrong or missing token (requests get 401)",
            install,
        )
    providers = ", ".join(sorted({str(m.get("provider", "?")) for m in ours}))
    count = "1 model points" if len(ours) == 1 else f"{len(ours)} models point"
    summary = f"{where}: {count} at bbj-coder ({providers})"
    return CheckOutcome("Continue.dev", "ok", summary)
