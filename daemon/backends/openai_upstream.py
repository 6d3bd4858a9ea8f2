"""A team's OpenAI-compatible server (vLLM, llama-server, TGI, another bbj-coder) as backend.

FIM goes to ``/completions`` as our own rendered FIM prompt (no ``suffix``: not every server
supports it, and the prompt is the one the model was trained on); chat to
``/chat/completions``. Both stream SSE. TLS uses the OS trust store plus an optional CA bundle;
proxies come from the environment except for a loopback upstream.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from daemon.backends._http import (
    LaneCounts,
    TokenCounter,
    check_fits,
    error_message,
    make_client,
    public_url,
    raise_for_status,
    run_stream,
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
from daemon.backends.stops import StopMatcher
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
    fim_format: FimFormat | None = None
    context_length: int = 4096
    gguf_path: Path | None = None  # a local copy of the model, for exact token counts


class OpenAIUpstreamBackend:
    name = "openai"

    def __init__(self, options: OpenAIOptions) -> None:
        self.options = options
        self.base_url = options.base_url.rstrip("/")
        self.display_url = public_url(self.base_url)
        self.context_length = options.context_length
        self._client: httpx.AsyncClient | None = None
        self._lanes = LaneCounts()
        self._tokens = TokenCounter(options.gguf_path)

    @property
    def _who(self) -> str:
        return f"The team server at {self.display_url}"

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
        await asyncio.to_thread(self._tokens.count, "")  # load the vocabulary off the loop

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        self._tokens.close()

    def info(self) -> BackendInfo:
        fmt = self.options.fim_format
        return BackendInfo(
            name=self.name,
            model_name=self.options.model,
            model_path=f"{self.display_url} ({self.options.model})",
            context_length=self.context_length,
            fim_format=fmt.name if fmt else None,
            quant="unknown",
            details={"url": self.display_url},
        )

    def in_flight(self) -> dict[str, int]:
        return self._lanes.snapshot()

    def generated_tokens(self) -> int:
        return self._lanes.generated

    def count_tokens(self, text: str) -> int:
        return self._tokens.count(text)

    async def _models(self) -> list[dict[str, Any]]:
        if self._client is None:
            raise BackendUnavailableError("The upstream backend is not started.")
        try:
            response = await self._client.get("/models")
        except httpx.HTTPError as exc:
            raise BackendUnavailableError(
                f"{self._who} is not reachable: {transport_reason(exc)}. Check "
                "backend.upstream_url, the network and the proxy settings (HTTPS_PROXY, "
                "NO_PROXY), or backend.upstream_ca_bundle for a private CA."
            ) from exc
        self._explain_refusal(response)
        await raise_for_status(response, self._who, "GET /models")
        try:
            data = response.json().get("data")
        except (ValueError, AttributeError):
            data = None
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
                f"{self._who} has no {self.display_url}/models; backend.upstream_url must be the "
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

    def _check_fits(self, texts: Iterable[str]) -> None:
        check_fits(self._tokens, texts, self.context_length, "the team server's context window")

    def _stream(
        self,
        lane: str,
        path: str,
        body: dict[str, Any],
        stops: Sequence[str],
        text_of: Callable[[dict[str, Any]], str],
    ) -> TextStream:
        async def produce(stream: TextStream) -> None:
            if self._client is None:
                raise BackendUnavailableError("The upstream backend is closed.")
            async with self._client.stream("POST", path, json=body) as response:
                await raise_for_status(response, self._who, f"POST {path}")
                await self._relay(response, stream, stops, text_of)

        def lost(exc: httpx.HTTPError) -> BackendUnavailableError:
            return BackendUnavailableError(
                f"Generation on the team server at {self.display_url} failed: "
                f"{transport_reason(exc)}; check that it is still running and reachable."
            )

        return run_stream(produce, lanes=self._lanes, lane=lane, on_transport_error=lost)

    async def _relay(
        self,
        response: httpx.Response,
        stream: TextStream,
        stops: Sequence[str],
        text_of: Callable[[dict[str, Any]], str],
    ) -> None:
        """Copy SSE events into ``stream`` up to a stop string or ``[DONE]``."""
        matcher = StopMatcher(stops)
        stats = stream.stats
        started = time.perf_counter()
        first_at: float | None = None
        chunks = 0
        async for event in sse_events(response, self._who):
            if "error" in event:
                raise BackendUnavailableError(
                    f"{self._who} reported an error while generating: {_event_error(event)}."
                )
            _read_usage(stats, event)
            choice = (event.get("choices") or [{}])[0]
            text = matcher.feed(text_of(choice) or "")
            if text:
                first_at = first_at or time.perf_counter()
                chunks += 1
                stream.put(text)
            if choice.get("finish_reason"):
                stats.finish_reason = "length" if choice["finish_reason"] == "length" else "stop"
            if matcher.stopped:
                stats.finish_reason = "stop"
                break  # leaving the response closes it, which stops the upstream generating
        tail = matcher.flush()
        if tail:
            stream.put(tail)
        stats.completion_tokens = stats.completion_tokens or chunks
        done = time.perf_counter()
        stats.prompt_eval_s = (first_at or done) - started
        stats.eval_s = done - (first_at or done)


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


def _event_error(event: dict[str, Any]) -> str:
    error = event["error"]
    return str(error.get("message") or error) if isinstance(error, dict) else str(error)
