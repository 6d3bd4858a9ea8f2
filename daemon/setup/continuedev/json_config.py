"""bbj-coder's entries in Continue's deprecated config.json (for users who never moved to YAML).

Chat goes into ``models``, completion into ``tabAutocompleteModel`` (first when the user already
has one, so theirs stays selectable); both are found again by their ``title``.
"""

from __future__ import annotations

import json
from typing import Any

from daemon.setup.continuedev.entries import MANAGED_NAMES, Endpoint, legacy_entries
from daemon.setup.continuedev.yaml_config import ContinueConfigError


def _is_ours(item: Any) -> bool:
    return isinstance(item, dict) and item.get("title") in MANAGED_NAMES


def _load(text: str, where: str) -> dict[str, Any]:
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ContinueConfigError(
            f"{where} is not plain JSON ({exc}); it may contain comments, which bbj-coder "
            "cannot keep. Add the entries from bbj-coder's continue-config/config.json by hand, "
            "or move to config.yaml. The file was left as it is."
        ) from exc
    if not isinstance(data, dict):
        raise ContinueConfigError(f"{where} is not a Continue config (not a JSON object).")
    return data


def _theirs(value: Any) -> list[Any]:
    items = value if isinstance(value, list) else [] if value is None else [value]
    return [item for item in items if not _is_ours(item)]


def _set_tab(data: dict[str, Any], ours: dict[str, Any] | None) -> None:
    theirs = _theirs(data.get("tabAutocompleteModel"))
    items = ([ours] if ours else []) + theirs
    if not items:
        data.pop("tabAutocompleteModel", None)
    else:
        data["tabAutocompleteModel"] = items[0] if len(items) == 1 else items


def _edited(data: dict[str, Any], endpoint: Endpoint | None) -> dict[str, Any]:
    result = dict(data)
    models = [m for m in result.get("models") or [] if not _is_ours(m)]
    if endpoint is None:
        _set_tab(result, None)
        if "models" in result:
            result["models"] = models
        return result
    chat, tab = legacy_entries(endpoint)
    result["models"] = [chat, *models]
    _set_tab(result, tab)
    return result


def _dump(old_text: str, old: dict[str, Any], new: dict[str, Any]) -> str:
    return old_text if new == old else json.dumps(new, indent=2) + "\n"


def install_json(text: str, endpoint: Endpoint, where: str) -> str:
    data = _load(text, where)
    return _dump(text, data, _edited(data, endpoint))


def uninstall_json(text: str, where: str) -> str:
    data = _load(text, where)
    return _dump(text, data, _edited(data, None))
