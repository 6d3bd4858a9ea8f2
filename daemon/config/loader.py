"""The daemon's effective config: defaults, config.toml, ``BBJ_CODER_<SECTION>_<KEY>``, flags."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from daemon.config.coerce import Wording
from daemon.config.layers import env_layer, file_layer, flag_layer, resolve
from daemon.config.origin import DEFAULT, Origin
from daemon.config.sections import Config
from daemon.config.tomlfile import dumps, read_toml
from daemon.errors import ConfigError
from fim import FORMATS

ENV_PREFIX = "BBJ_CODER_"
LOG_LEVELS: tuple[str, ...] = ("debug", "info", "warning", "error")
BACKEND_KINDS: tuple[str, ...] = ("auto", "llama", "ollama", "openai")
CHAT_CHECKS: tuple[str, ...] = ("fix", "annotate", "off")
FIM_FORMAT_NAMES: tuple[str, ...] = ("auto", *(fmt.name for fmt in FORMATS))

_DOTTED = Wording(dotted=True)


@dataclass(frozen=True)
class LoadedConfig:
    config: Config
    origins: dict[str, Origin]
    """``"section.key"`` → where the value came from."""

    @property
    def sources(self) -> dict[str, str]:
        """``"section.key"`` → ``default``, ``PATH, line N``, ``env NAME`` or ``flag --name``."""
        return {key: str(origin) for key, origin in self.origins.items()}


def load_config(
    path: Path | None,
    *,
    environ: Mapping[str, str] | None = None,
    flags: Mapping[str, Any] | None = None,
) -> LoadedConfig:
    """Build the effective config; ``flags`` maps ``"section.key"`` to a CLI value or None.

    A missing file is no error: the defaults apply.
    """
    environ = os.environ if environ is None else environ
    layers = []
    if path is not None and path.exists():
        layers.append(file_layer(read_toml(path), Config, wording=_DOTTED))
    layers.append(env_layer(environ, ENV_PREFIX, Config, wording=_DOTTED))
    layers.append(flag_layer(flags or {}, Config, shown=_flag_name, wording=_DOTTED))
    resolved = resolve(Config(), *layers)
    validate(resolved.value, resolved.origins)
    return LoadedConfig(config=resolved.value, origins=resolved.origins)


def _flag_name(dotted: str) -> str:
    return "flag --" + dotted.rsplit(".", 1)[-1].replace("_", "-")


def validate(config: Config, origins: Mapping[str, Origin] | None = None) -> None:
    """Reject values that parse but make no sense, naming where each came from."""
    # Imported here: the checker's modules may themselves use the settings classes.
    from daemon.check import CHECKER_MODES

    problems: list[str] = []

    def check(ok: bool, key: str, problem: str) -> None:
        if not ok:
            origin = (origins or {}).get(key, DEFAULT)
            problems.append(origin.blame(f"{key} {problem}"))

    port, n_ctx, fmt = config.server.port, config.model.n_ctx, config.model.fim_format
    tokens, share = config.fim.max_tokens, config.fim.prefix_share
    checker, chat, level = config.check.checker, config.check.chat, config.server.log_level
    kind = config.backend.kind
    check(0 < port < 65536, "server.port", f"must be between 1 and 65535, got {port}")
    check(n_ctx >= 128, "model.n_ctx", f"must be at least 128, got {n_ctx}")
    check(tokens >= 1, "fim.max_tokens", f"must be positive, got {tokens}")
    check(0.1 <= share <= 0.95, "fim.prefix_share", f"must be between 0.1 and 0.95, got {share}")
    check(checker in CHECKER_MODES, "check.checker", _one_of(CHECKER_MODES, checker))
    check(level.lower() in LOG_LEVELS, "server.log_level", _one_of(LOG_LEVELS, level))
    check(fmt in FIM_FORMAT_NAMES, "model.fim_format", _one_of(FIM_FORMAT_NAMES, fmt))
    check(kind in BACKEND_KINDS, "backend.kind", _one_of(BACKEND_KINDS, kind))
    empty_upstream = kind == "openai" and not config.backend.upstream_url
    check(not empty_upstream, "backend.kind", "is openai but backend.upstream_url is empty")
    check(chat in CHAT_CHECKS, "check.chat", _one_of(CHAT_CHECKS, chat))
    edit = config.next_edit
    for key in ("lines_above", "lines_below"):
        value = getattr(edit, key)
        check(0 <= value <= 100, f"next_edit.{key}", f"must be between 0 and 100, got {value}")
    lookup = edit.prompt_lookup_tokens
    check(
        edit.max_tokens >= 16, "next_edit.max_tokens", f"must be at least 16, got {edit.max_tokens}"
    )
    check(0 <= lookup <= 64, "next_edit.prompt_lookup_tokens", f"must be 0 to 64, got {lookup}")
    ngram = edit.prompt_lookup_ngram
    check(ngram >= 1, "next_edit.prompt_lookup_ngram", f"must be at least 1, got {ngram}")
    for key in ("max_history_hunks", "max_history_chars"):
        value = getattr(edit, key)
        check(value >= 1, f"next_edit.{key}", f"must be at least 1, got {value}")
    budget_ms = edit.time_budget_ms
    check(budget_ms > 0, "next_edit.time_budget_ms", f"must be positive, got {budget_ms}")
    prompt = edit.max_prompt_tokens
    check(prompt >= 0, "next_edit.max_prompt_tokens", f"must not be negative, got {prompt}")
    read_s = config.backend.upstream_read_timeout_s
    check(read_s > 0, "backend.upstream_read_timeout_s", f"must be positive, got {read_s}")
    retry_s = config.check.bbjcpl_retry_s
    check(retry_s >= 0, "check.bbjcpl_retry_s", f"must not be negative, got {retry_s}")
    workspace = config.workspace
    check(workspace.budget_tokens >= 0, "workspace.budget_tokens", "must not be negative")
    check(workspace.max_files >= 1, "workspace.max_files", "must be at least 1")
    if problems:
        raise ConfigError("Invalid configuration: " + "; ".join(problems) + ".")


def _one_of(choices: tuple[str, ...], got: str) -> str:
    listed = ", ".join(choices[:-1]) + f" or {choices[-1]}"
    return f"must be {listed}, got {got!r}"


def describe(loaded: LoadedConfig) -> str:
    """The effective config as TOML, the source of each value as a trailing comment."""
    document = dataclasses.asdict(loaded.config)
    return dumps(document, loaded.sources)
