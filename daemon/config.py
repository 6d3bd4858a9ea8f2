"""Settings: defaults, then ``config.toml``, then ``BBJ_CODER_<SECTION>_<KEY>``, then CLI flags.

Every section is a frozen dataclass whose fields carry their help text; :func:`load_config`
returns the effective :class:`Config` plus where each value came from, which is what
``bbj-coder config show`` prints.
"""

from __future__ import annotations

import dataclasses
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints

from daemon.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ENV_PREFIX = "BBJ_CODER_"


def _opt(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class ServerSettings:
    host: str = _opt("127.0.0.1", "Address to bind. Keep it on loopback unless you know why not.")
    port: int = _opt(11435, "TCP port (11434 is Ollama's, 8080 llama-server's).")
    allowed_origins: tuple[str, ...] = _opt(
        (), "Browser origins allowed to call the API (none by default: no CORS)."
    )
    allowed_hosts: tuple[str, ...] = _opt(
        (), "Extra Host header names accepted besides loopback names (DNS-rebinding defence)."
    )
    log_level: str = _opt("info", "Log level: debug, info, warning or error.")
    watch: bool = _opt(True, "Reload when the config file, the model store or the model changes.")


@dataclass(frozen=True)
class ModelSettings:
    path: str = _opt("", "Model to serve: a name from the model store or a path to a .gguf file.")
    n_ctx: int = _opt(4096, "Context window in tokens (capped at the model's training context).")
    n_threads: int = _opt(0, "CPU threads for generation; 0 uses all cores but one.")
    n_gpu_layers: int = _opt(0, "Layers to offload to a GPU; -1 offloads all, 0 runs on the CPU.")
    fim_format: str = _opt(
        "auto", "FIM format: auto (detected from the vocabulary), qwen2.5-coder, starcoder2, …"
    )


@dataclass(frozen=True)
class FimSettings:
    max_tokens: int = _opt(96, "Most tokens one completion may generate.")
    temperature: float = _opt(0.0, "Sampling temperature for completions (0 = greedy).")
    prefix_share: float = _opt(
        0.75, "Share of the prompt budget given to the text before the cursor."
    )
    max_prompt_tokens: int = _opt(
        0, "Prompt budget in tokens; 0 means the context window minus max_tokens."
    )
    time_budget_ms: int = _opt(
        1500, "Stop generating after this long and return what is complete at a line boundary."
    )
    cache_size: int = _opt(256, "Recent completions kept to answer typed-ahead requests.")


@dataclass(frozen=True)
class ChatSettings:
    max_tokens: int = _opt(1024, "Default most tokens for a chat answer.")
    temperature: float = _opt(0.2, "Default sampling temperature for chat.")


@dataclass(frozen=True)
class CheckSettings:
    checker: str = _opt("auto", "Compiler check: auto (bbjcpl if found), bbjcpl or builtin.")
    bbjcpl: str = _opt("", "Path to bbjcpl; empty searches $BBJ_HOME/bin, then PATH.")
    timeout_s: float = _opt(10.0, "Seconds before a bbjcpl run is killed.")
    chat: str = _opt("fix", "Chat code check: fix (generate→check→fix), annotate or off.")
    max_fix_attempts: int = _opt(2, "Most fix rounds in the chat generate→check→fix loop.")
    fim: bool = _opt(True, "Check every completion; one that adds compile errors is not shown.")
    fim_candidates: int = _opt(2, "Completions tried (within the time budget) before giving up.")


@dataclass(frozen=True)
class BackendSettings:
    kind: str = _opt(
        "auto", "auto (embedded llama.cpp, then Ollama, then the upstream), llama, ollama, openai."
    )
    ollama_url: str = _opt("http://127.0.0.1:11434", "Where Ollama listens.")
    ollama_model: str = _opt("", "Model name in Ollama; empty uses the served model's name.")
    ollama_keep_alive: str = _opt("30m", "How long Ollama keeps the model loaded after a request.")
    ollama_push: bool = _opt(True, "Register the local GGUF with Ollama when it lacks the model.")
    upstream_url: str = _opt("", "A team's OpenAI-compatible server, including /v1.")
    upstream_model: str = _opt("bbj-coder", "The model's name on the upstream server.")
    upstream_api_key_file: str = _opt("", "File holding the upstream's API key.")
    upstream_api_key_env: str = _opt("", "Environment variable holding the upstream's API key.")
    upstream_ca_bundle: str = _opt("", "Extra CA certificates (PEM) to trust for the upstream.")
    retry_backoff_s: float = _opt(30.0, "Seconds before a failed backend is tried again.")


@dataclass(frozen=True)
class Config:
    server: ServerSettings = field(default_factory=ServerSettings)
    model: ModelSettings = field(default_factory=ModelSettings)
    backend: BackendSettings = field(default_factory=BackendSettings)
    fim: FimSettings = field(default_factory=FimSettings)
    chat: ChatSettings = field(default_factory=ChatSettings)
    check: CheckSettings = field(default_factory=CheckSettings)


SECTIONS: dict[str, type] = dict(get_type_hints(Config))


@dataclass(frozen=True)
class LoadedConfig:
    config: Config
    sources: dict[str, str]
    """``"section.key"`` → where the value came from (default, file:line, env var, flag)."""


def _coerce(value: Any, kind: Any, where: str) -> Any:
    """Check a TOML value, or convert an env/flag string, to the field's type."""
    is_text = isinstance(value, str)
    try:
        if kind is bool:
            if isinstance(value, bool):
                return value
            if is_text and value.lower() in ("1", "true", "yes", "on", "0", "false", "no", "off"):
                return value.lower() in ("1", "true", "yes", "on")
        elif kind is int:
            if isinstance(value, int) and not isinstance(value, bool):
                return value
            if is_text:
                return int(value)
        elif kind is float:
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return float(value)
            if is_text:
                return float(value)
        elif kind is str:
            if is_text:
                return value
        elif getattr(kind, "__origin__", None) is tuple:
            if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
                return tuple(value)
            if is_text:
                return tuple(part.strip() for part in value.split(",") if part.strip())
    except ValueError:
        pass
    type_name = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}
    expected = type_name.get(kind, "a list of strings")
    raise ConfigError(f"{where} must be {expected}, got {value!r}.")


def _key_line(text: str, section: str, key: str | None) -> int | None:
    current = ""
    for number, line in enumerate(text.splitlines(), start=1):
        header = re.match(r"\s*\[\s*([^\]]+?)\s*\]", line)
        if header:
            current = header.group(1)
            if key is None and current == section:
                return number
            continue
        if key and current == section and re.match(rf"\s*{re.escape(key)}\s*=", line):
            return number
    return None


def _read_file(path: Path) -> tuple[dict[str, Any], str]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path} is not valid UTF-8 text ({exc.reason}).") from exc
    except OSError as exc:
        raise ConfigError(f"Cannot read the config file {path}: {exc.strerror}.") from exc
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}.") from exc


def _file_layer(path: Path) -> dict[tuple[str, str], tuple[Any, str]]:
    data, text = _read_file(path)
    layer: dict[tuple[str, str], tuple[Any, str]] = {}
    for section, values in data.items():
        if section not in SECTIONS:
            line = _key_line(text, section, None)
            known = ", ".join(f"[{s}]" for s in SECTIONS)
            raise ConfigError(
                f"{path}, line {line}: unknown section [{section}]; known sections: {known}."
            )
        if not isinstance(values, dict):
            raise ConfigError(f"{path}: '{section}' must be a [{section}] table.")
        fields = {f.name for f in dataclasses.fields(SECTIONS[section])}
        for key, value in values.items():
            line = _key_line(text, section, key)
            if key not in fields:
                raise ConfigError(
                    f"{path}, line {line}: unknown key '{section}.{key}'; "
                    f"keys in [{section}]: {', '.join(sorted(fields))}."
                )
            layer[(section, key)] = (value, f"{path}, line {line}")
    return layer


def _env_layer(environ: Mapping[str, str]) -> dict[tuple[str, str], tuple[Any, str]]:
    layer: dict[tuple[str, str], tuple[Any, str]] = {}
    for section, cls in SECTIONS.items():
        for f in dataclasses.fields(cls):
            name = f"{ENV_PREFIX}{section}_{f.name}".upper()
            if name in environ:
                layer[(section, f.name)] = (environ[name], f"env {name}")
    return layer


def load_config(
    path: Path | None,
    *,
    environ: Mapping[str, str] | None = None,
    flags: Mapping[str, Any] | None = None,
) -> LoadedConfig:
    """Build the effective config; ``flags`` maps ``"section.key"`` to a CLI value or None."""
    environ = os.environ if environ is None else environ
    layers: dict[tuple[str, str], tuple[Any, str]] = {}
    if path is not None and path.exists():
        layers.update(_file_layer(path))
    layers.update(_env_layer(environ))
    for dotted, value in (flags or {}).items():
        if value is not None:
            section, key = dotted.split(".", 1)
            layers[(section, key)] = (value, f"flag --{key.replace('_', '-')}")
    sections: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for section, cls in SECTIONS.items():
        hints = get_type_hints(cls)
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            dotted = f"{section}.{f.name}"
            if (section, f.name) in layers:
                raw, where = layers[(section, f.name)]
                values[f.name] = _coerce(raw, hints[f.name], f"{where}: '{dotted}'")
                sources[dotted] = where
            else:
                sources[dotted] = "default"
        sections[section] = cls(**values)
    config = Config(**sections)
    validate(config)
    return LoadedConfig(config=config, sources=sources)


def validate(config: Config) -> None:
    """Reject values that parse but make no sense."""
    problems = []
    if not 0 < config.server.port < 65536:
        problems.append(f"server.port must be between 1 and 65535, got {config.server.port}")
    if config.model.n_ctx < 128:
        problems.append(f"model.n_ctx must be at least 128, got {config.model.n_ctx}")
    if config.fim.max_tokens < 1:
        problems.append(f"fim.max_tokens must be positive, got {config.fim.max_tokens}")
    if not 0.1 <= config.fim.prefix_share <= 0.95:
        problems.append(
            f"fim.prefix_share must be between 0.1 and 0.95, got {config.fim.prefix_share}"
        )
    if config.check.checker not in ("auto", "bbjcpl", "builtin"):
        problems.append(
            f"check.checker must be auto, bbjcpl or builtin, got {config.check.checker!r}"
        )
    level = config.server.log_level
    if level.lower() not in ("debug", "info", "warning", "error"):
        problems.append(f"server.log_level must be debug, info, warning or error, got {level!r}")
    known_formats = ("auto", "qwen2.5-coder", "starcoder2", "codellama", "deepseek-coder")
    if config.model.fim_format not in known_formats:
        problems.append(
            f"model.fim_format must be one of {', '.join(known_formats)}, "
            f"got {config.model.fim_format!r}"
        )
    if config.backend.kind not in ("auto", "llama", "ollama", "openai"):
        problems.append(
            f"backend.kind must be auto, llama, ollama or openai, got {config.backend.kind!r}"
        )
    if config.backend.kind == "openai" and not config.backend.upstream_url:
        problems.append("backend.kind is openai but backend.upstream_url is empty")
    if config.check.chat not in ("fix", "annotate", "off"):
        problems.append(f"check.chat must be fix, annotate or off, got {config.check.chat!r}")
    if problems:
        raise ConfigError("Invalid configuration: " + "; ".join(problems) + ".")


def describe(loaded: LoadedConfig) -> str:
    """Render the effective config as TOML with the source of each value as a comment."""
    lines: list[str] = []
    for section in SECTIONS:
        lines.append(f"[{section}]")
        values = getattr(loaded.config, section)
        for f in dataclasses.fields(values):
            value = getattr(values, f.name)
            rendered = _toml_value(value)
            lines.append(f"{f.name} = {rendered}  # {loaded.sources[f'{section}.{f.name}']}")
        lines.append("")
    return "\n".join(lines)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
