"""What the HTTP backends (Ollama, an OpenAI-compatible upstream) share.

The client (TLS through the OS trust store, proxies, bearer auth), running one upstream
request as the producer of a :class:`TextStream`, the NDJSON and SSE line readers, relaying an
answer's text up to a stop string, error sentences, token counting for prompt budgets, and
:class:`HttpBackend`, the part of a backend that does not depend on the upstream's dialect.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import math
import ssl
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from daemon.backends.base import GenerationStats, TextStream
from daemon.backends.stops import StopMatcher
from daemon.errors import (
    BackendError,
    BackendUnavailableError,
    GenerationError,
    PromptTooLongError,
)

log = logging.getLogger("bbj_coder")

TextOf = Callable[[dict[str, Any]], Any]
"""Reads the text out of one event of a streamed answer (out of its choice, for OpenAI's)."""

LANES = ("fim", "chat")
# Qwen2.5's BPE averages 3-4 bytes per token on code; 2.5 leaves room for punctuation-dense
# and non-ASCII text, so an estimated budget does not overflow the upstream's context.
BYTES_PER_TOKEN_ESTIMATE = 2.5


# the client ---------------------------------------------------------------------------------
def ssl_context(ca_bundle: Path | None = None) -> ssl.SSLContext:
    """The OS trust store (through ``truststore`` when installed) plus ``ca_bundle``."""
    try:
        import truststore
    except ImportError:
        context = ssl.create_default_context()
    else:
        context = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if ca_bundle is not None:
        try:
            context.load_verify_locations(cafile=str(ca_bundle))
        except (OSError, ssl.SSLError) as exc:
            raise BackendUnavailableError(
                f"Cannot load the CA bundle {ca_bundle}: {exc}; point it at a readable PEM file "
                "of CA certificates."
            ) from exc
    return context


def is_loopback(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def public_url(url: str) -> str:
    """``url`` without credentials (``http://user:secret@host`` → ``http://host``), for display."""
    parts = urlsplit(url.rstrip("/"))
    if "@" not in parts.netloc:
        return url.rstrip("/")
    return parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]).geturl()


def make_client(
    base_url: str, *, token: str | None, timeout_s: float, ca_bundle: Path | None = None
) -> httpx.AsyncClient:
    """A client for ``base_url``; proxies from the environment apply unless it is loopback."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(
        base_url=base_url.rstrip("/"),
        headers=headers,
        timeout=httpx.Timeout(timeout_s),
        verify=ssl_context(ca_bundle),
        trust_env=not is_loopback(base_url),
    )


# error sentences ----------------------------------------------------------------------------
def transport_reason(exc: httpx.HTTPError) -> str:
    """Why a request failed, in words (the caller adds who failed and what to do)."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return f"its TLS certificate is not trusted ({cause.verify_message})"
        cause = cause.__cause__ or cause.__context__
    if isinstance(exc, httpx.ConnectTimeout):
        return "the connection timed out"
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect ({str(exc) or 'connection refused'})"
    if isinstance(exc, httpx.ReadTimeout):
        return "it stopped sending data (read timeout)"
    if isinstance(exc, httpx.TimeoutException):
        return "the request timed out"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "it closed the connection mid-answer"
    if isinstance(exc, httpx.ProxyError):
        return f"the proxy refused the request ({exc})"
    if isinstance(exc, httpx.ReadError):
        return f"the connection broke while reading its answer ({str(exc) or 'reset'})"
    if isinstance(exc, httpx.WriteError):
        return f"the connection broke while sending the request ({str(exc) or 'reset'})"
    return f"{type(exc).__name__}: {exc}"


def json_body(response: httpx.Response) -> Any:
    """The answer's JSON, or None when it is not JSON."""
    try:
        return response.json()
    except ValueError:
        return None


def error_message(response: httpx.Response) -> str:
    """The upstream's own error text: Ollama's ``{"error": "…"}`` or OpenAI's nested object."""
    body = json_body(response)
    if body is None:
        return response.text.strip()[:300] or response.reason_phrase
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return str(error.get("message") or error)
    return str(error or body)[:300]


def is_context_overflow(response: httpx.Response) -> bool:
    """Whether an error answer says the prompt does not fit (vLLM, llama-server, bbj-coder)."""
    if response.status_code != 400:
        return False
    body = json_body(response)
    error = body.get("error") if isinstance(body, dict) else None
    code = f"{error.get('code')} {error.get('type')}" if isinstance(error, dict) else ""
    text = error_message(response).lower()
    return any(k in code for k in ("context_length_exceeded", "exceed_context")) or any(
        k in text for k in ("context length", "context window")
    )


def with_cause(error: BackendError, cause: BaseException) -> BackendError:
    """``raise error from cause`` for an error that is handed over rather than raised."""
    error.__cause__ = cause
    return error


async def raise_for_status(response: httpx.Response, who: str, action: str) -> None:
    """Turn a non-2xx answer into a sentence; a prompt overflow becomes PromptTooLongError."""
    if response.is_success:
        return
    await response.aread()
    message = error_message(response)
    if is_context_overflow(response):
        raise PromptTooLongError(f"{who} says the prompt does not fit its context: {message}.")
    text = f"{who} answered {action} with HTTP {response.status_code}: {message}."
    if 400 <= response.status_code < 500 and response.status_code not in (401, 403, 404):
        raise GenerationError(text)  # this request was refused; the server itself is fine
    raise BackendUnavailableError(text)


# streaming ----------------------------------------------------------------------------------
class LaneCounts:
    """Generations running per lane and tokens generated, for ``in_flight``/``generated_tokens``."""

    def __init__(self) -> None:
        self._counts = dict.fromkeys(LANES, 0)
        self.generated = 0

    def enter(self, lane: str) -> None:
        self._counts[lane] += 1

    def leave(self, lane: str) -> None:
        self._counts[lane] -= 1

    def snapshot(self) -> dict[str, int]:
        return dict(self._counts)


def run_stream(
    produce: Callable[[TextStream], Awaitable[None]],
    *,
    lanes: LaneCounts,
    lane: str,
    on_transport_error: Callable[[httpx.HTTPError], BackendError],
) -> TextStream:
    """Run ``produce`` as the stream's producer task; the reader cancelling cancels the task,
    which closes the upstream response. Every way the task ends finishes the stream."""
    stream = TextStream()
    lanes.enter(lane)

    async def body() -> None:
        try:
            await produce(stream)
        except BackendError as exc:
            stream.finish(exc)
        except httpx.HTTPError as exc:
            stream.finish(with_cause(on_transport_error(exc), exc))
        except Exception as exc:  # an upstream answer we could not read must not hang the reader
            error = BackendUnavailableError(f"Reading the upstream's answer failed: {exc!r}.")
            stream.finish(with_cause(error, exc))
        else:
            stream.finish()

    def done(task: asyncio.Task[None]) -> None:
        lanes.leave(lane)
        lanes.generated += stream.stats.completion_tokens
        if task.cancelled():
            stream.stats.finish_reason = "cancelled"
            stream.finish()

    task = asyncio.get_running_loop().create_task(body())
    task.add_done_callback(done)
    stream.keepalive = task
    stream.add_cancel_callback(task.cancel)
    return stream


async def ndjson_lines(response: httpx.Response, who: str) -> AsyncIterator[dict[str, Any]]:
    """Ollama's streaming format: one JSON object per line."""
    async for line in response.aiter_lines():
        if line.strip():
            yield _json_object(line, who)


async def sse_events(response: httpx.Response, who: str) -> AsyncIterator[dict[str, Any]]:
    """OpenAI's streaming format: ``data: {…}`` events up to ``data: [DONE]``."""
    async for line in response.aiter_lines():
        if not line.startswith("data:"):
            continue  # blank separators, comments, ``event:``/``id:`` fields
        payload = line[5:].strip()
        if payload == "[DONE]":
            return
        yield _json_object(payload, who)


def raise_for_error_event(event: dict[str, Any], who: str) -> None:
    """An event that reports an error (Ollama's string, OpenAI's object) ends the answer."""
    if "error" not in event:
        return
    error = event["error"]
    message = str(error.get("message") or error) if isinstance(error, dict) else str(error)
    raise BackendUnavailableError(f"{who} reported an error while generating: {message}.")


def _json_object(text: str, who: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise BackendUnavailableError(
            f"{who} sent a line that is not JSON ({text[:80]!r}); is the URL right?"
        ) from exc
    if not isinstance(value, dict):
        raise BackendUnavailableError(f"{who} sent {text[:80]!r} where a JSON object belongs.")
    return value


@dataclass
class Relayed:
    """What :func:`relay` saw, for the statistics the upstream did not report itself."""

    chunks: int = 0
    """Text chunks put into the stream (about one per generated token)."""
    stopped: bool = False
    """A stop string ended the answer."""
    last: dict[str, Any] | None = None
    """The event that said the answer is complete, when one did."""
    started: float = field(default_factory=time.perf_counter)
    first_text_at: float | None = None


async def relay(
    events: AsyncIterator[dict[str, Any]],
    stream: TextStream,
    stops: Sequence[str],
    text_of: Callable[[dict[str, Any]], str],
    is_last: Callable[[dict[str, Any]], bool] = lambda _event: False,
) -> Relayed:
    """Copy the text of an upstream's ``events`` into ``stream`` up to a stop string, the event
    ``is_last`` recognises, or the end of the events. ``text_of`` reads an event's text; it
    raises for an event that reports an error and may read the counts the event carries."""
    matcher = StopMatcher(stops)
    seen = Relayed()
    async for event in events:
        text = matcher.feed(text_of(event))
        if text:
            seen.first_text_at = seen.first_text_at or time.perf_counter()
            seen.chunks += 1
            stream.put(text)
        if matcher.stopped:
            seen.stopped = True
            stream.stats.finish_reason = "stop"
            break  # leaving the response closes it, which stops the upstream generating
        if is_last(event):
            seen.last = event
            break
    tail = matcher.flush()
    if tail:
        stream.put(tail)
    return seen


# tokens -------------------------------------------------------------------------------------
def estimate_tokens(text: str) -> int:
    return math.ceil(len(text.encode("utf-8", "replace")) / BYTES_PER_TOKEN_ESTIMATE)


class TokenCounter:
    """Exact counts from the local GGUF's vocabulary when there is one, else an over-estimate."""

    def __init__(self, gguf_path: Path | None) -> None:
        self.gguf_path = gguf_path
        self._lock = threading.Lock()
        self._vocab: Any = None
        self._unavailable = gguf_path is None

    @property
    def exact(self) -> bool:
        return self._load() is not None

    def count(self, text: str) -> int:
        vocab = self._load()
        if vocab is None:
            return estimate_tokens(text)
        data = text.encode("utf-8", "replace")
        with self._lock:
            return len(vocab.tokenize(data, add_bos=False, special=False))

    def _load(self) -> Any:
        if self._unavailable:
            return None
        with self._lock:
            if self._vocab is None and not self._unavailable:
                self._vocab = self._open()
                self._unavailable = self._vocab is None
            return self._vocab

    def _open(self) -> Any:
        try:
            import llama_cpp

            return llama_cpp.Llama(str(self.gguf_path), vocab_only=True, verbose=False)
        except (ImportError, ValueError, RuntimeError, OSError) as exc:
            log.warning(
                "token counts are estimates: cannot read the vocabulary of %s: %s",
                self.gguf_path,
                exc,
            )
            return None

    def close(self) -> None:
        with self._lock:
            vocab, self._vocab = self._vocab, None
        if vocab is not None:
            vocab.close()


def check_fits(
    counter: TokenCounter, texts: Iterable[str], context_length: int, where: str
) -> None:
    """Refuse at once a prompt that cannot fit, when the local vocabulary makes counting exact
    (an estimate could refuse prompts that fit; then the upstream's own error comes through)."""
    if not counter.exact:
        return
    used = sum(counter.count(text) for text in texts)
    if used >= context_length:
        raise PromptTooLongError(
            f"The prompt takes {used} tokens but {where} holds {context_length}; shorten it or "
            "start a new chat."
        )


# the backend --------------------------------------------------------------------------------
class HttpBackend:
    """The part of a backend behind an HTTP upstream that does not depend on the upstream's
    API: the client, generations per lane, token counts, and streaming one request's answer.

    A subclass gives the words its sentences use and reads its dialect's events (the methods
    under "the dialect").
    """

    remote_prompt = True
    """The upstream evaluates the prompt on its own hardware, out of our reach: a FIM time
    budget counts from the request, not from the first token (see FimService)."""

    name: str
    label: str
    """How its own errors name it: "The {label} backend is closed."."""
    who: str
    """The upstream as a sentence's subject; ``{url}`` stands for its address."""
    lost: str
    """The sentence for a connection that fails while generating (``{url}``, ``{reason}``)."""
    context_where: str
    """Where a prompt must fit, for :func:`check_fits`'s sentence."""
    read_events: Callable[[httpx.Response, str], AsyncIterator[dict[str, Any]]]
    """The streamed answer as JSON events: :func:`ndjson_lines` or :func:`sse_events`."""
    _generation_timeout: Any = httpx.USE_CLIENT_DEFAULT

    def __init__(self, url: str, gguf_path: Path | None, context_length: int) -> None:
        self.url = public_url(url)  # for sentences and /health: never its credentials
        self.context_length = context_length
        self._who = self.who.format(url=self.url)
        self._client: httpx.AsyncClient | None = None
        self._lanes = LaneCounts()
        self._tokens = TokenCounter(gguf_path)

    def _lost(self, exc: httpx.HTTPError) -> BackendUnavailableError:
        return BackendUnavailableError(self.lost.format(url=self.url, reason=transport_reason(exc)))

    # life cycle ---------------------------------------------------------------------------
    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        self._tokens.close()

    def in_flight(self) -> dict[str, int]:
        return self._lanes.snapshot()

    def generated_tokens(self) -> int:
        return self._lanes.generated

    def count_tokens(self, text: str) -> int:
        return self._tokens.count(text)

    async def _load_vocabulary(self) -> None:
        await asyncio.to_thread(self._tokens.count, "")  # off the loop: it reads the GGUF

    def _started_client(self, state: str = "not started") -> httpx.AsyncClient:
        if self._client is None:
            raise BackendUnavailableError(f"The {self.label} backend is {state}.")
        return self._client

    # generation ---------------------------------------------------------------------------
    def _check_fits(self, texts: Iterable[str]) -> None:
        check_fits(self._tokens, texts, self.context_length, self.context_where)

    def _stream(
        self, lane: str, path: str, body: dict[str, Any], stops: Sequence[str], text_of: TextOf
    ) -> TextStream:
        """POST ``body`` to ``path`` and relay the streamed answer's text (``text_of`` reads it
        from an event) up to a stop string; the dialect methods below read the events."""

        async def produce(stream: TextStream) -> None:
            client = self._started_client("closed")
            timeout = self._generation_timeout
            async with client.stream("POST", path, json=body, timeout=timeout) as response:
                await raise_for_status(response, self._who, f"POST {path}")
                seen = await relay(
                    self.read_events(response, self._who),
                    stream,
                    stops,
                    lambda event: self._text(stream.stats, event, text_of),
                    self._is_last,
                )
            self._settle(stream.stats, seen)

        return run_stream(produce, lanes=self._lanes, lane=lane, on_transport_error=self._lost)

    # the dialect ----------------------------------------------------------------------------
    def _text(self, stats: GenerationStats, event: dict[str, Any], text_of: TextOf) -> str:
        """An event's text; raises for an event that reports an error, and reads into ``stats``
        the counts an event carries."""
        raise NotImplementedError

    def _is_last(self, event: dict[str, Any]) -> bool:
        """Whether ``event`` completes the answer (else the events simply end)."""
        return False

    def _settle(self, stats: GenerationStats, seen: Relayed) -> None:
        """Fill in from what :func:`relay` saw the statistics the upstream did not report."""
