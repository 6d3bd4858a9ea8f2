"""Registering the local GGUF with a running Ollama, so nobody writes a Modelfile.

The file goes to ``/api/blobs`` (skipped when Ollama already holds a blob with its sha256),
then ``/api/create`` makes the model with a template that renders bbj-coder's FIM prompt when
a suffix is given and ChatML otherwise. :func:`push_to_ollama` does it; the Ollama backend
calls :func:`register` at start when the model is missing; :func:`push_command` is
``bbj-coder model push-ollama``.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx

from daemon.backends._http import (
    error_message,
    make_client,
    public_url,
    raise_for_status,
    transport_reason,
)
from daemon.backends.chatml import CHATML_STOPS
from daemon.errors import (
    BackendUnavailableError,
    BbjCoderError,
    ModelLoadError,
    ModelNotFoundError,
)
from fim import QWEN25_CODER, FimFormat, UnknownFimFormatError, format_by_name

# Ollama hashes an uploaded blob before answering, and create copies it: minutes for big files.
PUSH_TIMEOUT = httpx.Timeout(30.0, read=1800.0, write=300.0)
CHUNK = 1 << 20


def unreachable(url: str, exc: httpx.HTTPError) -> str:
    """The sentence for an Ollama that does not answer at ``url``."""
    return (
        f"Ollama is not reachable at {url}: {transport_reason(exc)}; start it with "
        "`ollama serve`, or set backend.ollama_url to where it listens."
    )


def gguf_format(path: Path) -> FimFormat | None:
    """The FIM format the GGUF's vocabulary has tokens for."""
    from daemon.models.gguf_info import read_gguf_info

    return read_gguf_info(path).fim_format


# the model Ollama creates ------------------------------------------------------------------
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


# registering -------------------------------------------------------------------------------
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
        return await register(
            client,
            public_url(url),
            gguf_path,
            name,
            fim_format=fim_format,
            num_ctx=num_ctx,
            sha256=sha256,
            progress=progress,
        )


async def register(
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
    """Register ``gguf_path`` as ``name`` with the Ollama ``client`` talks to (``url`` names it
    in sentences); returns the name."""
    fmt = fim_format or gguf_format(gguf_path) or QWEN25_CODER
    digest = "sha256:" + (sha256 or await _hash(gguf_path))
    try:
        if not await _blob_exists(client, url, digest):
            await _upload(client, url, gguf_path, digest, progress)
        await _create(client, url, name, {_file_name(gguf_path): digest}, fmt, num_ctx)
    except httpx.HTTPError as exc:
        raise BackendUnavailableError(unreachable(url, exc)) from exc
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
