"""Servers for what the daemon cannot play: an Ollama with ``/api/blobs`` and ``/api/create``,
a minimal OpenAI-compatible server (for TLS), and a forward HTTP proxy that records requests.

``FakeOllama`` follows Ollama's documented behaviour: ``HEAD /api/blobs/sha256:<hex>`` answers
200 or 404; ``POST`` keeps the body only if its sha256 matches the digest (201, else 400);
``/api/create`` needs every blob it references (else 400 with ``{"error": …}``) and answers
``{"status": "success"}``; ``/api/tags`` and ``/api/show`` describe the created models.
``/api/generate`` streams a scripted answer, then filler until the caller hangs up.
"""

from __future__ import annotations

import asyncio
import hashlib
import http.server
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.conftest import free_port

FILLER_LIMIT = 5000  # lines of filler before a generation ends on its own


@dataclass
class FakeOllama:
    """Knobs and observations; tests change the knobs at any time."""

    url: str = ""
    corrupt_uploads: bool = False
    script: list[dict[str, Any]] = field(default_factory=list)  # lines sent before the filler
    filler_delay_s: float = 0.005
    blobs: dict[str, int] = field(default_factory=dict)  # digest → size
    models: dict[str, dict[str, Any]] = field(default_factory=dict)  # name:tag → create body
    heads: int = 0
    uploads: int = 0
    creates: list[dict[str, Any]] = field(default_factory=list)
    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # generation bodies
    filler_sent: int = 0
    generation_started: threading.Event = field(default_factory=threading.Event)
    generation_abandoned: threading.Event = field(default_factory=threading.Event)

    def add_model(self, name: str, num_ctx: int = 2048, template: str = "{{ .Prompt }}") -> None:
        self.models[_tagged(name)] = {"template": template, "parameters": {"num_ctx": num_ctx}}


def _tagged(name: str) -> str:
    return name if ":" in name else f"{name}:latest"


def _error(status: int, message: str) -> Response:
    return JSONResponse({"error": message}, status_code=status)


def ollama_app(state: FakeOllama) -> Starlette:
    async def version(request: Request) -> Response:
        return JSONResponse({"version": "0.12.0"})

    async def tags(request: Request) -> Response:
        models = [{"name": n, "model": n, "details": {}} for n in state.models]
        return JSONResponse({"models": models})

    async def show(request: Request) -> Response:
        name = (await request.json()).get("model", "")
        model = state.models.get(_tagged(name))
        if model is None:
            return _error(404, f"model '{name}' not found")
        params = model["parameters"]
        lines = [f"num_ctx {params['num_ctx']}"]
        lines += [f'stop "{stop}"' for stop in params.get("stop", [])]
        return JSONResponse(
            {
                "template": model["template"],
                "parameters": "\n".join(lines),
                "details": {"family": "qwen2", "quantization_level": "Q4_K_M"},
            }
        )

    async def blob(request: Request) -> Response:
        digest = request.path_params["digest"]
        if request.method == "HEAD":
            state.heads += 1
            return Response(status_code=200 if digest in state.blobs else 404)
        hasher, size = hashlib.sha256(), 0
        async for chunk in request.stream():
            hasher.update(chunk)
            size += len(chunk)
        if state.corrupt_uploads:
            hasher.update(b"\0")  # as if a byte was flipped on the way
        actual = f"sha256:{hasher.hexdigest()}"
        if actual != digest:
            return _error(400, f"digest mismatch, expected {digest}, got {actual}")
        state.blobs[digest] = size
        state.uploads += 1
        return Response(status_code=201)

    async def create(request: Request) -> Response:
        body = await request.json()
        state.creates.append(body)
        missing = [d for d in body.get("files", {}).values() if d not in state.blobs]
        if missing:
            return _error(400, f"blob {missing[0]} not found; upload it first")
        state.models[_tagged(body["model"])] = body
        return JSONResponse({"status": "success"})

    async def generate(request: Request) -> Response:
        body = await request.json()
        state.requests.append((request.url.path, body))
        field_name = "message" if request.url.path == "/api/chat" else "response"
        return StreamingResponse(_generation(state, field_name), media_type="application/x-ndjson")

    return Starlette(
        routes=[
            Route("/api/version", version, methods=["GET"]),
            Route("/api/tags", tags, methods=["GET"]),
            Route("/api/show", show, methods=["POST"]),
            Route("/api/blobs/{digest}", blob, methods=["HEAD", "POST"]),
            Route("/api/create", create, methods=["POST"]),
            Route("/api/generate", generate, methods=["POST"]),
            Route("/api/chat", generate, methods=["POST"]),
        ]
    )


def _line(field_name: str, text: str, **extra: Any) -> bytes:
    value: Any = {"role": "assistant", "content": text} if field_name == "message" else text
    return (json.dumps({field_name: value, "done": False, **extra}) + "\n").encode()


async def _generation(state: FakeOllama, field_name: str) -> AsyncIterator[bytes]:
    state.generation_started.set()
    finished = False
    try:
        for line in state.script:
            yield (json.dumps(line) + "\n").encode()
            if line.get("done") or "error" in line:
                finished = True
                return
        for _ in range(FILLER_LIMIT):
            await asyncio.sleep(state.filler_delay_s)
            state.filler_sent += 1
            yield _line(field_name, "tok ")
        finished = True
        yield _line(field_name, "", done=True, done_reason="length", eval_count=FILLER_LIMIT)
    finally:
        if not finished:
            state.generation_abandoned.set()


def openai_models_app(model: str = "bbj-coder") -> Starlette:
    async def models(request: Request) -> Response:
        return JSONResponse({"object": "list", "data": [{"id": model, "object": "model"}]})

    return Starlette(routes=[Route("/v1/models", models, methods=["GET"])])


@contextmanager
def serving(app: Starlette, **ssl: str) -> Iterator[str]:
    """Serve ``app`` on a loopback port in a thread; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=1, **ssl
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the stand-in server did not start")
        time.sleep(0.01)
    scheme = "https" if ssl else "http"
    try:
        yield f"{scheme}://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@dataclass
class RecordingProxy:
    """A forward proxy that answers every request itself and remembers the URLs asked for."""

    url: str
    seen: list[str]


@contextmanager
def recording_proxy(answer: dict[str, Any]) -> Iterator[RecordingProxy]:
    seen: list[str] = []
    payload = json.dumps(answer).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # a proxied request names the full URL: GET http://host/path
            seen.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield RecordingProxy(url=f"http://127.0.0.1:{server.server_address[1]}", seen=seen)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def self_signed_cert(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 signed by nobody the OS trusts: (cert, key)."""
    import subprocess

    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key
