"""Build the configured backend: one kind, or ``auto``'s chain llama.cpp → Ollama → upstream."""

from __future__ import annotations

import os
from pathlib import Path

from daemon.backends.base import Backend
from daemon.backends.fallback import Candidate, FallbackBackend
from daemon.config import BackendSettings, Config
from daemon.errors import (
    BackendUnavailableError,
    BbjCoderError,
    ConfigError,
    ModelLoadError,
    ModelNotFoundError,
)
from fim import FimFormat, format_by_name


class UnusableBackend:
    """Stands in for a backend that cannot even be built; ``start`` says why."""

    def __init__(self, name: str, reason: str, error: type[Exception] = BackendUnavailableError):
        self.name = name
        self.reason = reason
        self.error = error

    async def start(self) -> None:
        raise self.error(self.reason)

    async def close(self) -> None:
        return None


def _fim_format(config: Config, path: Path | None) -> FimFormat | None:
    if config.model.fim_format != "auto":
        return format_by_name(config.model.fim_format)
    if path is None:
        return format_by_name("qwen2.5-coder")
    from daemon.models.gguf_info import read_gguf_info

    try:
        return read_gguf_info(path).fim_format
    except ModelLoadError:
        return None


def _read_secret(file_setting: str, env_setting: str, what: str) -> str | None:
    if file_setting:
        try:
            return Path(file_setting).expanduser().read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(
                f"Cannot read the {what} file {file_setting}: {exc.strerror}."
            ) from exc
    if env_setting:
        value = os.environ.get(env_setting)
        if not value:
            raise ConfigError(f"The {what} environment variable {env_setting} is not set.")
        return value
    return None


def llama_backend(config: Config, name: str, path: Path | None) -> Backend:
    if path is None:
        return UnusableBackend(
            "llama",
            "no local model is installed (`bbj-coder model import FILE.gguf`)",
            ModelNotFoundError,
        )
    from daemon.backends.llama import LlamaBackend, LlamaOptions

    forced = None if config.model.fim_format == "auto" else format_by_name(config.model.fim_format)
    return LlamaBackend(
        LlamaOptions(
            model_path=path,
            n_ctx=config.model.n_ctx,
            n_threads=config.model.n_threads,
            n_gpu_layers=config.model.n_gpu_layers,
            fim_format=forced,
            model_name=name,
        )
    )


def ollama_backend(config: Config, name: str, path: Path | None) -> Backend:
    from daemon.backends.ollama import OllamaBackend, OllamaOptions

    settings: BackendSettings = config.backend
    return OllamaBackend(
        OllamaOptions(
            url=settings.ollama_url,
            model=settings.ollama_model or name,
            keep_alive=settings.ollama_keep_alive,
            fim_format=_fim_format(config, path),
            gguf_path=path,
            push=settings.ollama_push,
            context_length=config.model.n_ctx,
        )
    )


def upstream_backend(config: Config, name: str, path: Path | None) -> Backend:
    settings = config.backend
    if not settings.upstream_url:
        return UnusableBackend("openai", "no team server is configured (backend.upstream_url)")
    from daemon.backends.openai_upstream import OpenAIOptions, OpenAIUpstreamBackend

    key = _read_secret(
        settings.upstream_api_key_file, settings.upstream_api_key_env, "upstream API key"
    )
    ca_bundle = (
        Path(settings.upstream_ca_bundle).expanduser() if settings.upstream_ca_bundle else None
    )
    return OpenAIUpstreamBackend(
        OpenAIOptions(
            base_url=settings.upstream_url,
            model=settings.upstream_model,
            api_key=key,
            ca_bundle=ca_bundle,
            fim_format=_fim_format(config, path),
            context_length=config.model.n_ctx,
            gguf_path=path,
            read_timeout_s=settings.upstream_read_timeout_s,
        )
    )


BUILDERS = {"llama": llama_backend, "ollama": ollama_backend, "openai": upstream_backend}


def _guarded(kind: str, config: Config, name: str, path: Path | None) -> Backend:
    try:
        return BUILDERS[kind](config, name, path)
    except ImportError as exc:
        return UnusableBackend(kind, f"its Python package is not installed ({exc.name})")
    except BbjCoderError as exc:  # a bad setting: ConfigError, UnknownFimFormatError
        return UnusableBackend(kind, str(exc))


def build_backend(config: Config, name: str, path: Path | None) -> Backend:
    """The backend for ``backend.kind``; ``auto`` gives a :class:`FallbackBackend` chain."""
    kind = config.backend.kind
    if kind != "auto":
        return _guarded(kind, config, name, path)
    candidates = [
        Candidate(k, lambda k=k: _guarded(k, config, name, path))  # type: ignore[misc]
        for k in ("llama", "ollama", "openai")
    ]
    return FallbackBackend(candidates, backoff_s=config.backend.retry_backoff_s)
