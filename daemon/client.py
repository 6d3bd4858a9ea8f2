"""The one small typed HTTP client for the daemon, used by the LSP, the TUI and the CLI.

Its errors are a branch of :class:`daemon.errors.BbjCoderError`::

DaemonClientError
├── DaemonUnreachableError   nothing answers at the URL (not running, wrong port)
└── DaemonHTTPError          the daemon answered with an error status (``status``, ``message``)
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from daemon.backends._http import is_loopback
from daemon.errors import BbjCoderError
from daemon.instance import read_state
from daemon.paths import AppPaths, app_paths

DEFAULT_URL = "http://127.0.0.1:11435"


class DaemonClientError(BbjCoderError):
    pass


class DaemonUnreachableError(DaemonClientError):
    pass


class DaemonHTTPError(DaemonClientError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"bbj-coder answered {status}: {message}")
        self.status = status
        self.message = message


@dataclass(frozen=True)
class FimCompletion:
    completion: str
    cached: bool
    superseded: bool
    finish_reason: str
    timings: dict[str, float] = field(default_factory=dict)
    check: dict[str, Any] | None = None
    """The compile gate's verdict (checker, passed, attempts, new_errors), None when off."""


@dataclass(frozen=True)
class CheckDiagnostic:
    line: int
    message: str
    severity: str = "error"
    col: int | None = None


@dataclass(frozen=True)
class CheckReport:
    ok: bool
    checker: str
    diagnostics: tuple[CheckDiagnostic, ...]
    tool_error: str | None = None


@dataclass(frozen=True)
class NextEditSuggestion:
    """``edits`` (LSP-shaped ``{range, new_text}`` dicts) or none, with ``reason`` why not."""

    edits: tuple[dict[str, Any], ...]
    reason: str | None
    superseded: bool
    timings: dict[str, float] = field(default_factory=dict)


def local_daemon(paths: AppPaths | None = None) -> tuple[str, str | None]:
    """(URL, token) of this user's daemon from its state and token files (token None if absent)."""
    paths = paths or app_paths()
    state = read_state(paths.state_file)
    url = state.url if state else DEFAULT_URL
    try:
        token: str | None = paths.token_file.read_text(encoding="utf-8").strip()
    except OSError:
        token = None
    return url, token


def loopback_client(base_url: str, *, timeout: float) -> httpx.Client:
    """A blocking client for ``base_url``: never through a proxy when it is on this machine,
    since a proxy would see the bearer token and the user's code."""
    return httpx.Client(
        base_url=base_url.rstrip("/"), timeout=timeout, trust_env=not is_loopback(base_url)
    )


def _error_message(response: httpx.Response) -> str:
    try:
        error = response.json().get("error")
    except ValueError:
        return response.text[:200]
    if isinstance(error, dict):
        return str(error.get("message", error))
    return str(error)


class DaemonClient:
    def __init__(self, base_url: str, token: str | None, *, timeout: float = 30.0) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.base_url = base_url.rstrip("/")
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers=headers,
            timeout=timeout,
            trust_env=not is_loopback(self.base_url),
        )

    @classmethod
    def from_token_file(cls, base_url: str, token_file: Path, **kwargs: Any) -> DaemonClient:
        token = token_file.read_text(encoding="utf-8").strip() if token_file.exists() else None
        return cls(base_url, token, **kwargs)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> DaemonClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise DaemonUnreachableError(
                f"bbj-coder does not answer at {self.base_url} ({type(exc).__name__}); "
                "start it with `bbj-coder serve`."
            ) from exc
        if response.status_code >= 400:
            raise DaemonHTTPError(response.status_code, _error_message(response))
        return response

    async def reload(self) -> dict[str, Any]:
        """Ask the daemon to re-read its config and active model (``POST /v1/admin/reload``)."""
        return dict((await self._request("POST", "/v1/admin/reload")).json())

    async def health(self) -> dict[str, Any]:
        return dict((await self._request("GET", "/health")).json())

    async def fim(
        self,
        prefix: str,
        suffix: str,
        *,
        path: str | None = None,
        extra: Sequence[tuple[str, str]] = (),
        max_tokens: int | None = None,
        client: str | None = None,
    ) -> FimCompletion:
        body: dict[str, Any] = {
            "prefix": prefix,
            "suffix": suffix,
            "path": path,
            "extra": [{"path": p, "text": t} for p, t in extra],
        }
        if max_tokens is not None:
            body["max_tokens"] = max_tokens
        if client is not None:
            body["client"] = client
        data = (await self._request("POST", "/v1/bbj/fim", json=body)).json()
        return FimCompletion(
            completion=data["completion"],
            cached=data["cached"],
            superseded=data["superseded"],
            finish_reason=data["finish_reason"],
            timings=data.get("timings", {}),
            check=data.get("check"),
        )

    async def check(self, code: str, filename: str | None = None) -> CheckReport:
        data = (
            await self._request("POST", "/v1/bbj/check", json={"code": code, "filename": filename})
        ).json()
        diagnostics = tuple(
            CheckDiagnostic(d["line"], d["message"], d.get("severity", "error"), d.get("col"))
            for d in data["diagnostics"]
        )
        return CheckReport(
            ok=data["ok"],
            checker=data["checker"],
            diagnostics=diagnostics,
            tool_error=data.get("tool_error"),
        )

    async def chat(
        self,
        messages: Sequence[dict[str, str]],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
    ) -> str:
        body: dict[str, Any] = {"model": "bbj-coder", "messages": list(messages)}
        if max_tokens is not None:
            body["max_tokens"] = max_tokens
        if temperature is not None:
            body["temperature"] = temperature
        data = (await self._request("POST", "/v1/chat/completions", json=body)).json()
        return str(data["choices"][0]["message"]["content"])

    async def generate(
        self,
        task: str,
        *,
        context_code: str = "",
        generation: str | None = None,
        max_attempts: int = 3,
        on_progress: Callable[[float, int, str], Awaitable[None]] | None = None,
    ) -> dict[str, Any]:
        """Compiler-checked generation (``POST /v1/bbj/generate``, streamed so that
        ``on_progress`` hears about each attempt); the result object."""
        body = {
            "task": task,
            "context_code": context_code,
            "generation": generation,
            "max_attempts": max_attempts,
            "stream": True,
        }
        try:
            async with self._http.stream("POST", "/v1/bbj/generate", json=body) as response:
                if response.status_code >= 400:
                    await response.aread()
                    raise DaemonHTTPError(response.status_code, _error_message(response))
                async for line in response.aiter_lines():
                    if not line.strip():
                        continue
                    try:
                        event = json.loads(line)
                    except ValueError as exc:
                        raise DaemonHTTPError(
                            502, f"a generation line is not JSON: {line[:80]!r}"
                        ) from exc
                    if "progress" in event and on_progress is not None:
                        p = event["progress"]
                        await on_progress(p["done"], p["total"], p["message"])
                    elif "result" in event:
                        return dict(event["result"])
                    elif "error" in event:
                        raise DaemonHTTPError(500, str(event["error"].get("message")))
        except httpx.TransportError as exc:
            raise DaemonUnreachableError(
                f"bbj-coder does not answer at {self.base_url} ({type(exc).__name__}); "
                "start it with `bbj-coder serve`."
            ) from exc
        raise DaemonHTTPError(502, "the generation stream ended without a result")

    async def workspace_symbols(self, query: str, *, limit: int = 50) -> list[dict[str, Any]]:
        """Symbols of the daemon's workspace index matching ``query``
        (``GET /v1/bbj/workspace/symbols``); a 404 means the index is disabled."""
        response = await self._request(
            "GET", "/v1/bbj/workspace/symbols", params={"query": query, "limit": limit}
        )
        return [dict(s) for s in response.json()["symbols"]]

    async def next_edit(
        self,
        path: str,
        text: str,
        cursor: tuple[int, int],
        *,
        edits: Sequence[dict[str, Any]] = (),
        context: Sequence[tuple[str, str]] = (),
        client: str | None = None,
    ) -> NextEditSuggestion:
        """``POST /v1/bbj/next-edit``: the edit that should follow ``edits`` (hunks as
        ``{path, start_line, original, updated}``) with the cursor at ``(line, character)``."""
        body: dict[str, Any] = {
            "path": path,
            "text": text,
            "cursor": {"line": cursor[0], "character": cursor[1]},
            "edits": list(edits),
            "context": [{"path": p, "text": t} for p, t in context],
        }
        if client is not None:
            body["client"] = client
        data = (await self._request("POST", "/v1/bbj/next-edit", json=body)).json()
        return NextEditSuggestion(
            edits=tuple(data["edits"]),
            reason=data.get("reason"),
            superseded=data.get("superseded", False),
            timings=data.get("timings", {}),
        )

    async def workspace_update(
        self, path: str, text: str | None = None, *, deleted: bool = False
    ) -> int:
        """Re-index one file from the editor's ``text`` (or from disk; or drop it when
        ``deleted``); returns its symbol count."""
        body = {"path": path, "text": text, "deleted": deleted}
        data = (await self._request("POST", "/v1/bbj/workspace/files", json=body)).json()
        return int(data["symbols"])
