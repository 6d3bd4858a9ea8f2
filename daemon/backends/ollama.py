"""The Ollama fallback: FIM through ``/api/generate`` (``raw``, our own prompt), chat through
``/api/chat``, both streamed as NDJSON.

It can also register the local GGUF with a running Ollama (``/api/blobs`` + ``/api/create``) so
nobody writes a Modelfile: :func:`push_to_ollama`, and :func:`push_command` behind
``bbj-coder model push-ollama``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
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
    ndjson_lines,
    public_url,
    raise_for_status,
    run_stream,
    transport_reason,
)
from daemon.backends.base import BackendInfo, ChatMessage, SamplingParams, TextStream
from daemon.backends.chatml import CHATML_STOPS
from daemon.backends.stops import StopMatcher
from daemon.errors import (
    BackendUnavailableError,
    BbjCoderError,
    ModelLoadError,
    ModelNotFoundError,
)
from fim import FORMATS, QWEN25_CODER, FimFormat, UnknownFimFormatError, format_by_name

log = logging.getLogger("bbj_coder")

DEFAULT_URL = "http://127.0.0.1:11434"
# The first token may wait for Ollama to load the model from disk; readers cancel earlier.
GENERATION_READ_TIMEOUT_S = 300.0
# Ollama hashes an uploaded blob before answering, and create copies it: minutes for big files.
PUSH_TIMEOUT = httpx.Timeout(30.0, read=1800.0, write=300.0)
CHUNK = 1 << 20
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


class OllamaBackend:
    name = "ollama"

    def __init__(self, options: OllamaOptions) -> None:
        self.options = options
        self.url = public_url(options.url)
        self.context_length = options.context_length
        self.fim_format = options.fim_format
        self._client: httpx.AsyncClient | None = None
        self._lanes = LaneCounts()
        self._tokens = TokenCounter(options.gguf_path)
        self._details: dict[str, str] = {}
        self._quant = "unknown"

    @property
    def _who(self) -> str:
        return f"Ollama at {self.url}"

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
        await asyncio.to_thread(self._tokens.count, "")  # load the vocabulary off the loop

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        self._tokens.close()

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

    def in_flight(self) -> dict[str, int]:
        return self._lanes.snapshot()

    def generated_tokens(self) -> int:
        return self._lanes.generated

    def count_tokens(self, text: str) -> int:
        return self._tokens.count(text)

    # start-up steps -------------------------------------------------------------------------
    async def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        if self._client is None:
            raise BackendUnavailableError("The Ollama backend is not started.")
        try:
            response = await self._client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise BackendUnavailableError(_unreachable(self.url, exc)) from exc
        if response.status_code in (401, 403):
            raise BackendUnavailableError(
                f"{self._who} refused our credentials (HTTP {response.status_code}: "
                f"{error_message(response)}); set the token its authenticating proxy expects."
            )
        await raise_for_status(response, self._who, f"{method} {path}")
        return response

    async def _json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = await self._call(method, path, **kwargs)
        try:
            body = response.json()
        except ValueError:
            body = None
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
        assert self._client is not None
        log.info("registering %s with %s as %r", options.gguf_path, self._who, options.model)
        await _register(
            self._client,
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
                self.fim_format = _gguf_format(self.options.gguf_path)

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
        return self._stream("fim", "/api/generate", body, stops, lambda line: line.get("response"))

    def chat(self, messages: Sequence[ChatMessage], params: SamplingParams) -> TextStream:
        self._check_fits(m.content for m in messages)
        body = {
            "model": self.options.model,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "stream": True,
            "options": self._options(params),
            "keep_alive": _keep_alive(self.options.keep_alive),
        }

        def text_of(line: dict[str, Any]) -> Any:
            message = line.get("message")
            return message.get("content") if isinstance(message, dict) else None

        return self._stream("chat", "/api/chat", body, CHATML_STOPS, text_of)

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

    def _check_fits(self, texts: Iterable[str]) -> None:
        check_fits(self._tokens, texts, self.context_length, "the model's context in Ollama")

    def _stream(
        self,
        lane: str,
        path: str,
        body: dict[str, Any],
        stops: Sequence[str],
        text_of: Callable[[dict[str, Any]], Any],
    ) -> TextStream:
        async def produce(stream: TextStream) -> None:
            if self._client is None:
                raise BackendUnavailableError("The Ollama backend is closed.")
            timeout = httpx.Timeout(self.options.timeout_s, read=GENERATION_READ_TIMEOUT_S)
            async with self._client.stream("POST", path, json=body, timeout=timeout) as response:
                await raise_for_status(response, self._who, f"POST {path}")
                await _relay(ndjson_lines(response, self._who), stream, stops, text_of)

        def lost(exc: httpx.HTTPError) -> BackendUnavailableError:
            return BackendUnavailableError(
                f"Generation through Ollama at {self.url} failed: "
                f"{transport_reason(exc)}; check that Ollama is still running (`ollama ps`)."
            )

        return run_stream(produce, lanes=self._lanes, lane=lane, on_transport_error=lost)


async def _relay(
    lines: AsyncIterator[dict[str, Any]],
    stream: TextStream,
    stops: Sequence[str],
    text_of: Callable[[dict[str, Any]], Any],
) -> None:
    """Copy Ollama's lines into ``stream`` up to a stop string or the final ``done`` line."""
    matcher = StopMatcher(stops)
    started = time.perf_counter()
    chunks = 0
    async for line in lines:
        if "error" in line:
            raise BackendUnavailableError(
                f"Ollama reported an error while generating: {line['error']}."
            )
        text = matcher.feed(str(text_of(line) or ""))
        if text:
            chunks += 1
            stream.put(text)
        if matcher.stopped:
            # Leaving the response closes it, which stops Ollama generating.
            stream.stats.completion_tokens = chunks
            stream.stats.finish_reason = "stop"
            return
        if line.get("done"):
            _fill_stats(stream, line)
            break
    else:
        stream.stats.completion_tokens = chunks
        stream.stats.eval_s = time.perf_counter() - started
    tail = matcher.flush()
    if tail:
        stream.put(tail)


def _fill_stats(stream: TextStream, line: dict[str, Any]) -> None:
    stats = stream.stats
    stats.prompt_tokens = int(line.get("prompt_eval_count") or 0)
    stats.completion_tokens = int(line.get("eval_count") or 0)
    stats.prompt_eval_s = int(line.get("prompt_eval_duration") or 0) / 1e9
    stats.eval_s = int(line.get("eval_duration") or 0) / 1e9
    stats.finish_reason = "length" if line.get("done_reason") == "length" else "stop"


def _unreachable(url: str, exc: httpx.HTTPError) -> str:
    return (
        f"Ollama is not reachable at {url}: {transport_reason(exc)}; start it with "
        "`ollama serve`, or set backend.ollama_url to where it listens."
    )


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


def _gguf_format(path: Path) -> FimFormat | None:
    from daemon.models.gguf_info import read_gguf_info

    return read_gguf_info(path).fim_format


# registering the GGUF with Ollama -----------------------------------------------------------
_CHATML_TEMPLATE = (
    "{{- else if .Messages }}"
    "{{- range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n{{ end }}"
    "<|im_start|>assistant\n"
    "{{ else }}"
    "{{- if .System }}<|im_start|>system\n{{ .System }}<|im_end|>\n{{ end }}"
    "<|im_start|>user\n{{ .Prompt }}<|im_end|>\n<|im_start|>assistant\n"
    "{{ end }}"
)


def ollama_template(fmt: FimFormat) -> str:
    """A Go template: our FIM prompt when ``.Suffix`` is set (Continue's FIM), ChatML otherwise."""
    sp = fmt.token_spacing
    fim = (
        f"{fmt.prefix_token}{sp}{{{{ .Prompt }}}}"
        f"{fmt.suffix_token}{sp}{{{{ .Suffix }}}}{fmt.middle_token}"
    )
    return "{{- if .Suffix }}" + fim + _CHATML_TEMPLATE


def ollama_stops(fmt: FimFormat) -> list[str]:
    return list(dict.fromkeys((*fmt.stop_tokens, *CHATML_STOPS)))


async def push_to_ollama(
    url: str,
    gguf_path: Path,
    name: str,
    *,
    fim_format: FimFormat | None,
    num_ctx: int,
    token: str | None = None,
    sha256: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> str:
    """Register ``gguf_path`` with the Ollama at ``url`` as ``name`` (uploading it only if
    Ollama lacks the blob); returns the name. ``progress`` gets the bytes uploaded."""
    async with make_client(url, token=token, timeout_s=30.0) as client:
        return await _register(
            client,
            public_url(url),
            gguf_path,
            name,
            fim_format=fim_format,
            num_ctx=num_ctx,
            sha256=sha256,
            progress=progress,
        )


async def _register(
    client: httpx.AsyncClient,
    url: str,
    gguf_path: Path,
    name: str,
    *,
    fim_format: FimFormat | None,
    num_ctx: int,
    sha256: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> str:
    fmt = fim_format or _gguf_format(gguf_path) or QWEN25_CODER
    digest = "sha256:" + (sha256 or await _hash(gguf_path))
    try:
        if not await _blob_exists(client, url, digest):
            await _upload(client, url, gguf_path, digest, progress)
        await _create(client, url, name, {_file_name(gguf_path): digest}, fmt, num_ctx)
    except httpx.HTTPError as exc:
        raise BackendUnavailableError(_unreachable(url, exc)) from exc
    return name


async def _hash(path: Path) -> str:
    from daemon.models.store import sha256_file

    try:
        return await asyncio.to_thread(sha256_file, path)
    except FileNotFoundError as exc:
        raise ModelNotFoundError(f"The model file {path} does not exist.") from exc
    except OSError as exc:
        raise ModelLoadError(f"Cannot read the model file {path}: {exc.strerror}.") from exc


def _file_name(path: Path) -> str:
    return path.name if path.suffix == ".gguf" else f"{path.name}.gguf"


async def _blob_exists(client: httpx.AsyncClient, url: str, digest: str) -> bool:
    response = await client.head(f"/api/blobs/{digest}", timeout=PUSH_TIMEOUT)
    if response.status_code in (200, 404):
        return response.status_code == 200
    await raise_for_status(response, f"Ollama at {url}", "HEAD /api/blobs")
    return True


async def _upload(
    client: httpx.AsyncClient,
    url: str,
    path: Path,
    digest: str,
    progress: Callable[[int], None] | None,
) -> None:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ModelNotFoundError(f"Cannot read the model file {path}: {exc.strerror}.") from exc
    response = await client.post(
        f"/api/blobs/{digest}",
        content=_file_chunks(path, progress),
        headers={"Content-Length": str(size), "Content-Type": "application/octet-stream"},
        timeout=PUSH_TIMEOUT,
    )
    if response.status_code == 400:
        raise BackendUnavailableError(
            f"Ollama at {url} rejected {path.name}: its content does not match {digest} "
            f"({error_message(response)}). The file changed or is corrupt; import it again "
            "with `bbj-coder model import`."
        )
    await raise_for_status(response, f"Ollama at {url}", "the upload of the model file")


async def _file_chunks(path: Path, progress: Callable[[int], None] | None) -> AsyncIterator[bytes]:
    with open(path, "rb") as handle:
        while chunk := await asyncio.to_thread(handle.read, CHUNK):
            if progress is not None:
                progress(len(chunk))
            yield chunk


async def _create(
    client: httpx.AsyncClient,
    url: str,
    name: str,
    files: dict[str, str],
    fmt: FimFormat,
    num_ctx: int,
) -> None:
    body = {
        "model": name,
        "files": files,
        "template": ollama_template(fmt),
        "parameters": {"num_ctx": num_ctx, "stop": ollama_stops(fmt)},
        "stream": False,
    }
    response = await client.post("/api/create", json=body, timeout=PUSH_TIMEOUT)
    failed = not response.is_success
    if not failed:
        answer = response.json() if response.content else {}
        failed = isinstance(answer, dict) and "error" in answer
    if failed:
        raise BackendUnavailableError(
            f"Ollama at {url} could not create the model {name!r}: {error_message(response)}."
        )


# `bbj-coder model push-ollama NAME [--url URL]` ---------------------------------------------
def push_command(name_or_path: str, url: str | None, token: str | None) -> int:
    """Register a store model (or a .gguf path) with Ollama; 0 on success, 2 with a sentence."""
    try:
        name, path, sha256, fmt, num_ctx, default_url = _push_plan(name_or_path)
        target = url or default_url
        print(f"Registering {path} with Ollama at {public_url(target)} as {name!r} …", flush=True)
        pushed = asyncio.run(
            push_to_ollama(
                target, path, name, fim_format=fmt, num_ctx=num_ctx, token=token, sha256=sha256
            )
        )
    except BbjCoderError as exc:
        print(f"bbj-coder: {exc}", file=sys.stderr)
        return 2
    print(f"Ollama now serves {pushed!r} (num_ctx {num_ctx}); try `ollama run {pushed}`.")
    return 0


def _push_plan(
    name_or_path: str,
) -> tuple[str, Path, str | None, FimFormat | None, int, str]:
    """(name, file, sha256, FIM format, num_ctx, Ollama URL) from the store and the config."""
    from daemon.config import load_config
    from daemon.models.gguf_info import read_gguf_info
    from daemon.models.store import ModelStore
    from daemon.paths import app_paths

    paths = app_paths()
    config = load_config(paths.config_file).config
    store = ModelStore(paths.models_dir)
    name, path = store.resolve(name_or_path)
    entry = store.load().find(name)
    info = read_gguf_info(path)
    fmt = info.fim_format
    if entry is not None and entry.fim_format:
        with contextlib.suppress(UnknownFimFormatError):  # an unknown name: keep what the file says
            fmt = format_by_name(entry.fim_format)
    num_ctx = min(config.model.n_ctx, info.context_length or config.model.n_ctx)
    sha256 = entry.sha256 if entry is not None and store.path_of(entry) == path else None
    return name, path, sha256, fmt, num_ctx, config.backend.ollama_url
