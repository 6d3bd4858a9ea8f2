"""A team's OpenAI-compatible server (vLLM, llama-server, TGI, another bbj-coder) as backend.

FIM goes to ``/completions`` as our own rendered FIM prompt (no ``suffix``: not every server
supports it, and the prompt is the one the model was trained on); chat to
``/chat/completions``. Both stream SSE. TLS uses the OS trust store plus an optional CA bundle;
proxies come from the environment except for a loopback upstream.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
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
    raise_for_error_event,
    raise_for_status,
    sse_events,
    transport_reason,
)
from daemon.backends.base import (
    BackendInfo,
    ChatMessage,
    GenerationStats,
    SamplingParams,
    TextStream,
)
from daemon.backends.chatml import CHATML_STOPS
from daemon.errors import BackendUnavailableError, ModelNotFoundError
from fim import FimFormat

# TGI (and OpenAI itself) accept at most four stop strings; the rest are applied here.
MAX_UPSTREAM_STOPS = 4


@dataclass(frozen=True)
class OpenAIOptions:
    base_url: str  # includes /v1, e.g. https://gpu.example.com/v1
    model: str = "bbj-coder"  # the model's name on the upstream
    api_key: str | None = None
    ca_bundle: Path | None = None
    timeout_s: float = 60.0
    read_timeout_s: float = 20.0  # silence allowed mid-answer (backend.upstream_read_timeout_s)
    fim_format: FimFormat | None = None
    context_length: int = 4096
    gguf_path: Path | None = None  # a local copy of the model, for exact token counts


class OpenAIUpstreamBackend(HttpBackend):
    """A team's server that speaks OpenAI's API, found at its base URL (including ``/v1``)."""

    name = "openai"
    label = "upstream"
    who = "The team server at {url}"
    lost = (
        "Generation on the team server at {url} failed: {reason}; check that it is still "
        "running and reachable."
    )
    context_where = "the team server's context window"
    read_events = staticmethod(sse_events)

    def __init__(self, options: OpenAIOptions) -> None:
        super().__init__(options.base_url, options.gguf_path, options.context_length)
        self.options = options
        self.base_url = options.base_url.rstrip("/")
        self._generation_timeout = httpx.Timeout(options.timeout_s, read=options.read_timeout_s)

    # life cycle -----------------------------------------------------------------------------
    async def start(self) -> None:
        options = self.options
        self._client = make_client(
            self.base_url,
            token=options.api_key,
            timeout_s=options.timeout_s,
            ca_bundle=options.ca_bundle,
        )
        models = await self._models()
        entry = next((m for m in models if m.get("id") == options.model), None)
        if entry is None:
            have = ", ".join(str(m.get("id")) for m in models) or "no models"
            raise ModelNotFoundError(
                f"{self._who} has no model {options.model!r}; it serves: {have}. Set "
                "backend.upstream_model to one of them."
            )
        if isinstance(entry.get("max_model_len"), int):  # vLLM says how long a prompt may be
            self.context_length = entry["max_model_len"]
        await self._load_vocabulary()

    def info(self) -> BackendInfo:
        fmt = self.options.fim_format
        return BackendInfo(
            name=self.name,
            model_name=self.options.model,
            model_path=f"{self.url} ({self.options.model})",
            context_length=self.context_length,
            fim_format=fmt.name if fmt else None,
            quant="unknown",
            details={"url": self.url},
        )

    async def _models(self) -> list[dict[str, Any]]:
        client = self._started_client()
        try:
            response = await client.get("/models")
        except httpx.HTTPError as exc:
            raise BackendUnavailableError(
                f"{self._who} is not reachable: {transport_reason(exc)}. Check "
                "backend.upstream_url, the network and the proxy settings (HTTPS_PROXY, "
                "NO_PROXY), or backend.upstream_ca_bundle for a private CA."
            ) from exc
        self._explain_refusal(response)
        await raise_for_status(response, self._who, "GET /models")
        body = json_body(response)
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list):
            raise BackendUnavailableError(
                f"{self._who} did not answer GET /models like an OpenAI-compatible server; "
                "check backend.upstream_url."
            )
        return [m for m in data if isinstance(m, dict)]

    def _explain_refusal(self, response: httpx.Response) -> None:
        status = response.status_code
        if status in (401, 403):
            hint = (
                "check the key in backend.upstream_api_key_file or backend.upstream_api_key_env"
                if self.options.api_key
                else "it needs an API key: set backend.upstream_api_key_file or "
                "backend.upstream_api_key_env"
            )
            raise BackendUnavailableError(
                f"{self._who} rejected the API key (HTTP {status}: {error_message(response)}); "
                f"{hint}."
            )
        if status == 404:
            raise BackendUnavailableError(
                f"{self._who} has no {self.url}/models; backend.upstream_url must be the "
                "server's OpenAI base URL including /v1 (e.g. https://gpu.example.com/v1)."
            )

    # generation -----------------------------------------------------------------------------
    def fim(self, prompt: str, params: SamplingParams) -> TextStream:
        self._check_fits([prompt])
        fmt = self.options.fim_format
        stops = fmt.stop_tokens if fmt else ()
        body = {**self._sampling(params), "prompt": prompt}
        if stops:
            body["stop"] = list(stops[:MAX_UPSTREAM_STOPS])
        return self._stream("fim", "/completions", body, stops, _completion_text)

    def chat(self, messages: Sequence[ChatMessage], params: SamplingParams) -> TextStream:
        self._check_fits(m.content for m in messages)
        body = {
            **self._sampling(params),
            "messages": [{"role": m.role, "content": m.content} for m in messages],
        }
        return self._stream("chat", "/chat/completions", body, CHATML_STOPS, _delta_text)

    def _sampling(self, params: SamplingParams) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.options.model,
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if params.seed is not None:
            body["seed"] = params.seed
        if params.logit_bias:
            body["logit_bias"] = {str(token): bias for token, bias in params.logit_bias}
        return body

    # the dialect: SSE events up to ``[DONE]`` --------------------------------------------------
    def _text(self, stats: GenerationStats, event: dict[str, Any], text_of: TextOf) -> str:
        raise_for_error_event(event, self._who)
        _read_usage(stats, event)
        choice = (event.get("choices") or [{}])[0]
        if choice.get("finish_reason"):  # a stop string found in this event overrides it
            stats.finish_reason = "length" if choice["finish_reason"] == "length" else "stop"
        return str(text_of(choice) or "")

    def _settle(self, stats: GenerationStats, seen: Relayed) -> None:
        stats.completion_tokens = stats.completion_tokens or seen.chunks
        done = time.perf_counter()
        first_at = seen.first_text_at or done
        stats.prompt_eval_s = first_at - seen.started
        stats.eval_s = done - first_at


def _completion_text(choice: dict[str, Any]) -> str:
    return str(choice.get("text") or "")


def _delta_text(choice: dict[str, Any]) -> str:
    delta = choice.get("delta")
    return str(delta.get("content") or "") if isinstance(delta, dict) else ""


def _read_usage(stats: GenerationStats, event: dict[str, Any]) -> None:
    usage = event.get("usage")
    if not isinstance(usage, dict):
        return
    stats.prompt_tokens = int(usage.get("prompt_tokens") or 0)
    stats.completion_tokens = int(usage.get("completion_tokens") or 0)
    details = usage.get("prompt_tokens_details")
    if isinstance(details, dict):
        stats.cached_tokens = int(details.get("cached_tokens") or 0)
