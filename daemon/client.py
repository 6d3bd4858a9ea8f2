"""The one small typed HTTP client for the daemon, used by the LSP, the TUI and the CLI.

Its errors are a branch of :class:`daemon.errors.BbjCoderError`::

DaemonClientError
├── DaemonUnreachableError   nothing answers at the URL (not running, wrong port)
└── DaemonHTTPError          the daemon answered with an error status (``status``, ``message``)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

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


@dataclass(frozen=True)
class CheckDiagnostic:
    line: int
    message: str
    severity: str = "error"


@dataclass(frozen=True)
class CheckReport:
    ok: bool
    checker: str
    diagnostics: tuple[CheckDiagnostic, ...]
    tool_error: str | None = None


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
        self._http = httpx.AsyncClient(base_url=self.base_url, headers=headers, timeout=timeout)

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
        )

    async def check(self, code: str, filename: str | None = None) -> CheckReport:
        data = (
            await self._request("POST", "/v1/bbj/check", json={"code": code, "filename": filename})
        ).json()
        diagnostics = tuple(
            CheckDiagnostic(d["line"], d["message"], d.get("severity", "error"))
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

    async def workspace_symbols(self, query: str, *, limit: int = 50) -> list[dict[str, Any]]:
        """Symbols of the workspace index whose name contains ``query``
        (``GET /v1/bbj/workspace/symbols``): dicts with name, kind, path, line, signature,
        container and doc. A 404 (:class:`DaemonHTTPError`) means the index is off."""
        params = {"query": query, "limit": str(limit)}
        data = (await self._request("GET", "/v1/bbj/workspace/symbols", params=params)).json()
        return [dict(item) for item in data["symbols"]]

    async def workspace_update(
        self, path: str, text: str | None = None, *, deleted: bool = False
    ) -> int:
        """Re-index one file from the editor's ``text`` (or from disk; or drop it when
        ``deleted``); returns its symbol count."""
        body = {"path": path, "text": text, "deleted": deleted}
        data = (await self._request("POST", "/v1/bbj/workspace/files", json=body)).json()
        return int(data["symbols"])
