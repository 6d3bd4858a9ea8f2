"""The Ollama fallback: FIM through ``/api/generate`` (``raw``, our own prompt), chat through
``/api/chat``, both streamed as NDJSON.

At start it registers the local GGUF with Ollama when Ollama lacks the model
(:mod:`daemon.backends.ollama_push`), so nobody writes a Modelfile.
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from daemon.backends._http import (
    HttpBackend,
    Relayed,
    TextOf,
    error_message,
    json_body,
    make_client,
    ndjson_lines,
    raise_for_error_event,
    raise_for_status,
)
from daemon.backends.base import (
    BackendInfo,
    ChatMessage,
    GenerationStats,
    SamplingParams,
    TextStream,
)
from daemon.backends.chatml import CHATML_STOPS
from daemon.backends.ollama_push import gguf_format, register, unreachable
from daemon.errors import BackendUnavailableError, ModelLoadError, ModelNotFoundError
from fim import FORMATS, FimFormat

log = logging.getLogger("bbj_coder")

DEFAULT_URL = "http://127.0.0.1:11434"
# The first token may wait for Ollama to load the model from disk; readers cancel earlier.
GENERATION_READ_TIMEOUT_S = 300.0
_NUM_CTX = re.compile(r"^\s*num_ctx\s+(\d+)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class OllamaOptions:
    url: str = DEFAULT_URL
    model: str = "bbj-coder"
    keep_alive: str = "30m"
    token: str | None = None  # sent as Bearer: for an Ollama behind an authenticating proxy
    timeout_s: float = 30.0
    fim_format: FimFormat | None = None
    gguf_path: Path | None = None  # the local model: exact token counts, and pushed if allowed
    context_length: int = 4096
    push: bool = True  # register gguf_path with Ollama when it lacks the model


class OllamaBackend(HttpBackend):
    """An Ollama serving the model by name; at start it registers ours when it lacks it."""

    name = "ollama"
    label = "Ollama"
    who = "Ollama at {url}"
    lost = (
        "Generation through Ollama at {url} failed: {reason}; check that Ollama is still "
        "running (`ollama ps`)."
    )
    context_where = "the model's context in Ollama"
    read_events = staticmethod(ndjson_lines)

    def __init__(self, options: OllamaOptions) -> None:
        super().__init__(options.url, options.gguf_path, options.context_length)
        self.options = options
        self._generation_timeout = httpx.Timeout(options.timeout_s, read=GENERATION_READ_TIMEOUT_S)
        self.fim_format = options.fim_format
        self._details: dict[str, str] = {}
        self._quant = "unknown"

    # life cycle -----------------------------------------------------------------------------
    async def start(self) -> None:
        options = self.options
        self._client = make_client(options.url, token=options.token, timeout_s=options.timeout_s)
        version = (await self._json("GET", "/api/version")).get("version", "unknown")
        self._details = {"url": self.url, "ollama_version": str(version)}
        names = await self._model_names()
        if not _has_model(names, options.model):
            await self._register_or_explain(names)
        await self._read_show()
        await self._load_vocabulary()

    def info(self) -> BackendInfo:
        path = self.options.gguf_path
        return BackendInfo(
            name=self.name,
            model_name=self.options.model,
            model_path=str(path) if path else f"{self.url} ({self.options.model})",
            context_length=self.context_length,
            fim_format=self.fim_format.name if self.fim_format else None,
            quant=self._quant,
            details=dict(self._details),
        )

    # start-up steps -------------------------------------------------------------------------
    async def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        client = self._started_client()
        try:
            response = await client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise BackendUnavailableError(unreachable(self.url, exc)) from exc
        if response.status_code in (401, 403):
            raise BackendUnavailableError(
                f"{self._who} refused our credentials (HTTP {response.status_code}: "
                f"{error_message(response)}); set the token its authenticating proxy expects."
            )
        await raise_for_status(response, self._who, f"{method} {path}")
        return response

    async def _json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        body = json_body(await self._call(method, path, **kwargs))
        if not isinstance(body, dict):
            raise BackendUnavailableError(
                f"{self._who} did not answer {method} {path} like Ollama does; check "
                "backend.ollama_url."
            )
        return body

    async def _model_names(self) -> list[str]:
        models = (await self._json("GET", "/api/tags")).get("models") or []
        return [str(m.get("name") or m.get("model")) for m in models if isinstance(m, dict)]

    async def _register_or_explain(self, names: Sequence[str]) -> None:
        options = self.options
        if options.gguf_path is None or not options.push:
            have = ", ".join(names) or "no models"
            raise ModelNotFoundError(
                f"{self._who} has no model {options.model!r} (it has {have}); run "
                f"`bbj-coder model push-ollama {options.model}` to register ours, or set "
                "backend.ollama_model to one it has."
            )
        log.info("registering %s with %s as %r", options.gguf_path, self._who, options.model)
        await register(
            self._started_client(),
            self.url,
            options.gguf_path,
            options.model,
            fim_format=self.fim_format,
            num_ctx=self.context_length,
        )

    async def _read_show(self) -> None:
        show = await self._json("POST", "/api/show", json={"model": self.options.model})
        match = _NUM_CTX.search(str(show.get("parameters") or ""))
        if match:
            self.context_length = int(match.group(1))
        details = show.get("details") or {}
        self._quant = str(details.get("quantization_level") or "unknown")
        if details.get("family"):
            self._details["architecture"] = str(details["family"])
        self.fim_format = self.fim_format or _format_in(str(show.get("template") or ""))
        if self.fim_format is None and self.options.gguf_path is not None:
            with contextlib.suppress(ModelLoadError):  # only a hint; Ollama serves regardless
                self.fim_format = gguf_format(self.options.gguf_path)

    # generation -----------------------------------------------------------------------------
    def fim(self, prompt: str, params: SamplingParams) -> TextStream:
        self._check_fits([prompt])
        stops = self.fim_format.stop_tokens if self.fim_format else CHATML_STOPS
        body = {
            "model": self.options.model,
            "prompt": prompt,
            "raw": True,
            "stream": True,
            "options": {**self._options(params), "stop": list(stops)},
            "keep_alive": _keep_alive(self.options.keep_alive),
        }
        return self._stream("fim", "/api/generate", body, stops, _generated_text)

    def chat(self, messages: Sequence[ChatMessage], params: SamplingParams) -> TextStream:
        self._check_fits(m.content for m in messages)
        body = {
            "model": self.options.model,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "stream": True,
            "options": self._options(params),
            "keep_alive": _keep_alive(self.options.keep_alive),
        }
        return self._stream("chat", "/api/chat", body, CHATML_STOPS, _message_text)

    def _options(self, params: SamplingParams) -> dict[str, Any]:
        # Ollama has no logit_bias: params.logit_bias cannot be honoured here.
        options: dict[str, Any] = {
            "num_predict": params.max_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "top_k": params.top_k,
            "repeat_penalty": params.repeat_penalty,
            "num_ctx": self.context_length,
        }
        if params.seed is not None:
            options["seed"] = params.seed
        return options

    # the dialect: NDJSON lines up to one that says "done" ----------------------------------
    def _text(self, stats: GenerationStats, line: dict[str, Any], text_of: TextOf) -> str:
        raise_for_error_event(line, "Ollama")
        return str(text_of(line) or "")

    def _is_last(self, line: dict[str, Any]) -> bool:
        return bool(line.get("done"))

    def _settle(self, stats: GenerationStats, seen: Relayed) -> None:
        if seen.last is not None:
            _fill_stats(stats, seen.last)
            return
        stats.completion_tokens = seen.chunks  # a stop string, or no done line: count ourselves
        if not seen.stopped:
            stats.eval_s = time.perf_counter() - seen.started


def _generated_text(line: dict[str, Any]) -> Any:
    return line.get("response")


def _message_text(line: dict[str, Any]) -> Any:
    message = line.get("message")
    return message.get("content") if isinstance(message, dict) else None


def _fill_stats(stats: GenerationStats, line: dict[str, Any]) -> None:
    stats.prompt_tokens = int(line.get("prompt_eval_count") or 0)
    stats.completion_tokens = int(line.get("eval_count") or 0)
    stats.prompt_eval_s = int(line.get("prompt_eval_duration") or 0) / 1e9
    stats.eval_s = int(line.get("eval_duration") or 0) / 1e9
    stats.finish_reason = "length" if line.get("done_reason") == "length" else "stop"


def _has_model(names: Iterable[str], model: str) -> bool:
    wanted = {model} if ":" in model else {model, f"{model}:latest"}
    return any(name in wanted for name in names)


def _keep_alive(value: str) -> str | int:
    """Ollama reads a bare number as seconds but rejects a unit-less string such as "-1"."""
    return int(value) if value.lstrip("-").isdigit() else value


def _format_in(template: str) -> FimFormat | None:
    """The FIM format whose tokens an Ollama template uses (a FIM-capable model's template)."""
    for fmt in FORMATS:
        if all(t in template for t in (fmt.prefix_token, fmt.suffix_token, fmt.middle_token)):
            return fmt
    return None
