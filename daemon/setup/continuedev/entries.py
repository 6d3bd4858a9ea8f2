"""The Continue.dev model entries ``bbj-coder continue install`` writes, as data and as YAML text.

The same functions render the templates in ``continue-config/`` (with a placeholder token), so
the files a user copies by hand and the entries the command writes cannot drift apart.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from daemon.instance import http_url

PROVIDERS = ("ollama", "openai")
MODEL_ID = "bbj-coder"
CHAT_NAME = "bbj-coder chat"
AUTOCOMPLETE_NAME = "bbj-coder autocomplete"
MANAGED_NAMES = (CHAT_NAME, AUTOCOMPLETE_NAME)
MARKER = "# bbj-coder:"
PLACEHOLDER_TOKEN = "PASTE-THE-OUTPUT-OF-bbj-coder-config-token"

# Continue's defaults (debounce 350 ms, 1024 prompt tokens) suit a hosted model. The daemon
# trims the prompt itself by real tokens, keeps the stable part in the KV cache and stops at
# fim.time_budget_ms (1.5 s by default), so a shorter debounce, a larger prompt allowance and
# a timeout above that budget suit it better.
AUTOCOMPLETE_OPTIONS: dict[str, Any] = {
    "debounceDelay": 250,
    "modelTimeout": 3000,
    "maxPromptTokens": 2048,
}

_HEADER = """\
# Continue.dev configuration (config.yaml, schema v1) using bbj-coder, the local BBj assistant.
# Written by `bbj-coder continue install` or copied from bbj-coder's continue-config/ folder.
# Entries introduced by a "# bbj-coder:" comment are managed by that command: run it again after
# the token or port changes; `bbj-coder continue uninstall` removes exactly those entries.
# Add your own models, context providers and rules next to them.
"""

_COMMENTS: dict[tuple[str, str], str] = {
    ("ollama", CHAT_NAME): """\
# bbj-coder: chat, edit and apply (managed by `bbj-coder continue install`).
# The daemon speaks Ollama's API (/api/chat) on its own port, so it never clashes with a real
# Ollama on 11434. It wants its bearer token on every request: Continue's ollama provider sends
# it from requestOptions.headers.
""",
    ("ollama", AUTOCOMPLETE_NAME): """\
# bbj-coder: tab completion (managed by `bbj-coder continue install`).
# Continue asks /api/show once; the daemon's template contains {{ .Suffix }}, which is what
# makes Continue send the text before and after the cursor separately (real fill-in-the-middle)
# instead of a prompt it formatted itself. autocompleteOptions suit a local model: a short
# debounce, a timeout above the daemon's 1.5 s budget, room for context it trims by tokens.
""",
    ("openai", CHAT_NAME): """\
# bbj-coder: chat, edit and apply (managed by `bbj-coder continue install`).
# OpenAI-compatible API under /v1; Continue sends apiKey as the bearer token. The model name
# must not start with "gpt" or "o": Continue treats such names as chat-only and would send
# tab completions to /chat/completions instead of /completions.
""",
    ("openai", AUTOCOMPLETE_NAME): """\
# bbj-coder: tab completion (managed by `bbj-coder continue install`).
# Continue formats the fill-in-the-middle prompt itself (<fim_prefix>… for this model name) and
# posts it to /v1/completions; the daemon splits it back into prefix and suffix and turns the
# "// Path: file" snippets into repository context. autocompleteOptions suit a local model.
""",
}


@dataclass(frozen=True)
class Endpoint:
    """Where Continue reaches the daemon, and how it authenticates."""

    provider: str
    host: str
    port: int
    token: str

    @property
    def api_base(self) -> str:
        base = http_url(self.host, self.port)
        return f"{base}/v1" if self.provider == "openai" else base


def _auth(endpoint: Endpoint) -> dict[str, Any]:
    if endpoint.provider == "openai":
        return {"apiKey": endpoint.token}
    return {"requestOptions": {"headers": {"Authorization": f"Bearer {endpoint.token}"}}}


def model_entries(endpoint: Endpoint) -> list[dict[str, Any]]:
    """The two config.yaml ``models`` entries, in the order they are written."""
    common = {"provider": endpoint.provider, "model": MODEL_ID, "apiBase": endpoint.api_base}
    chat = {"name": CHAT_NAME, **common, "roles": ["chat", "edit", "apply"], **_auth(endpoint)}
    autocomplete = {
        "name": AUTOCOMPLETE_NAME,
        **common,
        "roles": ["autocomplete"],
        **_auth(endpoint),
        "autocompleteOptions": dict(AUTOCOMPLETE_OPTIONS),
    }
    return [chat, autocomplete]


def _legacy(entry: dict[str, Any]) -> dict[str, Any]:
    dropped = ("name", "roles", "autocompleteOptions")  # config.json has no such keys
    return {"title": entry["name"], **{k: v for k, v in entry.items() if k not in dropped}}


def legacy_entries(endpoint: Endpoint) -> tuple[dict[str, Any], dict[str, Any]]:
    """(chat model, tab-autocomplete model) in the deprecated config.json shape (``title``)."""
    chat, autocomplete = model_entries(endpoint)
    return _legacy(chat), _legacy(autocomplete)


_PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._/:@-]*")


def _is_plain(text: str) -> bool:
    """True when ``text`` can be written unquoted and still reads back as the same string."""
    import yaml

    if not _PLAIN.fullmatch(text) or ": " in text or text.endswith((":", " ")):
        return False
    return yaml.safe_load(text) == text


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    return text if _is_plain(text) else json.dumps(text)


def _yaml_lines(value: Any, indent: int) -> list[str]:
    """Block YAML for the small dict/list/scalar shapes of our entries."""
    pad = " " * indent
    lines: list[str] = []
    for key, item in value.items():
        if isinstance(item, dict):
            lines.append(f"{pad}{key}:")
            lines.extend(_yaml_lines(item, indent + 2))
        elif isinstance(item, list):
            lines.append(f"{pad}{key}: [{', '.join(_scalar(v) for v in item)}]")
        else:
            lines.append(f"{pad}{key}: {_scalar(item)}")
    return lines


def render_entry(entry: dict[str, Any], provider: str, dash_column: int) -> str:
    """One ``models`` item with its "# bbj-coder:" comment, the dash at ``dash_column``."""
    pad = " " * dash_column
    comment = "".join(
        f"{pad}{line}\n" for line in _COMMENTS[(provider, entry["name"])].splitlines()
    )
    body = _yaml_lines(entry, dash_column + 2)
    body[0] = f"{pad}- {body[0].lstrip()}"
    return comment + "\n".join(body) + "\n"


def render_entries(endpoint: Endpoint, dash_column: int) -> str:
    return "".join(
        render_entry(entry, endpoint.provider, dash_column) for entry in model_entries(endpoint)
    )


def render_new_config(endpoint: Endpoint) -> str:
    """A complete config.yaml holding only bbj-coder's entries (also the shipped templates)."""
    top = "name: Local config\nversion: 1.0.0\nschema: v1\nmodels:\n"
    return _HEADER + "\n" + top + render_entries(endpoint, 2)


def render_legacy_template(endpoint: Endpoint) -> str:
    """The deprecated config.json equivalent (JSON has no comments: see its README)."""
    chat, tab = legacy_entries(endpoint)
    options = {k: v for k, v in AUTOCOMPLETE_OPTIONS.items() if k != "modelTimeout"}
    data = {"models": [chat], "tabAutocompleteModel": tab, "tabAutocompleteOptions": options}
    return json.dumps(data, indent=2) + "\n"
