"""Bearer token, Host allow-list and browser-Origin refusal (DESIGN §2.1).

The token protects every route but ``/health`` and ``GET /``. The Host check defends against
DNS rebinding (a web page resolving its own name to 127.0.0.1); the Origin check refuses
requests a browser makes on a page's behalf. Both are ASGI middleware so they run before any
route and cannot be forgotten on a new one.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import os
import re
import secrets
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

from daemon.config import ServerSettings
from daemon.errors import TokenError, os_error_as

PUBLIC_PATHS = frozenset({"/health", "/"})
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def load_or_create_token(path: Path) -> str:
    """Read the per-install token, creating it (mode 0600) on first use.

    A file that cannot be read or created raises :class:`TokenError` with the system's sentence.
    """
    with os_error_as(TokenError):
        if path.exists():
            if os.name == "posix" and stat.S_IMODE(path.stat().st_mode) & 0o077:
                raise TokenError(
                    f"The token file {path} is readable by other users; run `chmod 600 {path}`."
                )
            token = path.read_text(encoding="utf-8").strip()
            if len(token) < 16:
                raise TokenError(
                    f"The token file {path} is empty or too short; delete it to regenerate."
                )
            return token
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        token = "bbj-" + secrets.token_urlsafe(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(token + "\n")
        return token


# RFC 3986 authority without userinfo: a bracketed IPv6 literal or a name, then an optional port.
_HOST = re.compile(r"(?:\[(?P<v6>[0-9a-f:.]+)\]|(?P<name>[a-z0-9._-]+))(?::(?P<port>\d{1,5}))?")


def host_name(host_header: str) -> str | None:
    """The host part of a Host header (``name``, ``name:port``, ``[v6]:port``), lowercased;
    None when the header is not a plain host (``localhost:1@evil.com``, paths, spaces)."""
    header = host_header.strip().lower()
    match = _HOST.fullmatch(header)
    if match is None:
        return _bare_ipv6(header)
    return match.group("v6") or match.group("name")


def _bare_ipv6(header: str) -> str | None:
    """Some clients send an IPv6 literal without brackets (``::1``): unambiguous, so accepted."""
    try:
        return str(ipaddress.IPv6Address(header))
    except ValueError:
        return None


def is_loopback_host(host_header: str) -> bool:
    """True when a Host header names this machine (``localhost``, 127.x, ``[::1]``), any port."""
    host = host_name(host_header)
    if host is None:
        return False
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class SecurityMiddleware:
    """Refuse foreign Hosts and browser Origins, then require the bearer token."""

    def __init__(
        self,
        app: Any,
        *,
        token: str,
        settings: Callable[[], ServerSettings],
    ) -> None:
        self.app = app
        self.token = token.encode()
        self.settings = settings  # read per request, so a reloaded config applies at once

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        problem = self._problem(scope, headers)
        if problem is None:
            await self.app(scope, receive, send)
            return
        status, message = problem
        await _send_error(scope, send, status, message)

    def _problem(self, scope: dict[str, Any], headers: dict[str, str]) -> tuple[int, str] | None:
        host = headers.get("host", "")
        if not self._host_allowed(host):
            return 403, (
                f"Host {host!r} is not allowed; bbj-coder only answers requests addressed to "
                "localhost (add it to server.allowed_hosts if you really mean it)."
            )
        origin = headers.get("origin")
        allowed_origins = {o.rstrip("/").lower() for o in self.settings().allowed_origins}
        if origin and origin.rstrip("/").lower() not in allowed_origins:
            return 403, (
                f"Requests from the browser origin {origin!r} are refused; add it to "
                "server.allowed_origins to allow it."
            )
        if scope["path"] in PUBLIC_PATHS and scope["method"] in ("GET", "HEAD"):
            return None
        if not self._token_ok(headers.get("authorization", "")):
            return 401, (
                "Missing or wrong bearer token: send 'Authorization: Bearer <token>' "
                "(`bbj-coder config token` prints it)."
            )
        return None

    def _host_allowed(self, host: str) -> bool:
        if is_loopback_host(host):
            return True
        name = host_name(host)
        if name is None:
            return False
        settings = self.settings()
        allowed = {h.lower() for h in settings.allowed_hosts}
        bound = settings.host.lower()
        return name in allowed or (name == bound and name != "0.0.0.0")

    def _token_ok(self, authorization: str) -> bool:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() != "bearer":
            return False
        return hmac.compare_digest(value.strip().encode(), self.token)


async def _send_error(scope: dict[str, Any], send: Any, status: int, message: str) -> None:
    path = scope.get("path", "")
    error_type = "authentication_error" if status == 401 else "permission_error"
    if path.startswith("/api/"):
        payload: dict[str, Any] = {"error": message}
    else:
        payload = {"error": {"message": message, "type": error_type, "code": status}}
    body = json.dumps(payload).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
