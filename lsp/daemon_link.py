"""The language server's connection to the daemon: find it, start it if allowed, reconnect.

Every call goes through :meth:`DaemonLink.request`, which never raises for a daemon problem:
it logs it, tells the user once (``window/showMessage``), and returns None so that the feature
answers "nothing" and the editor keeps going.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

import httpx

from daemon.client import (
    DaemonClient,
    DaemonHTTPError,
    DaemonUnreachableError,
    is_loopback,
    local_daemon,
)
from daemon.launcher import DaemonLauncher
from daemon.paths import AppPaths
from lsp.log import logger
from lsp.notices import Notices
from lsp.settings import LspSettings

T = TypeVar("T")

REQUEST_TIMEOUT_S = 120.0
"""Per HTTP request; long enough for a fix from the chat (FIM requests are cancelled sooner)."""

HEALTH_TIMEOUT_S = 2.0
FAILED_START_BACKOFF_S = 30.0
"""After a start that did not come up, wait this long before starting another."""

LAUNCH_LOG = "daemon-started-by-lsp.log"
"""Where a daemon this server starts writes its output (in bbj-coder's logs folder)."""

UNREACHABLE = "daemon-unreachable"
HTTP_ERROR = "daemon-http-error"


class DaemonLink:
    """Holds one :class:`DaemonClient` and replaces it when the daemon goes away."""

    def __init__(
        self, settings: Callable[[], LspSettings], notices: Notices, paths: AppPaths
    ) -> None:
        self._settings = settings
        self._notices = notices
        self._paths = paths
        self._launcher = DaemonLauncher(paths, LAUNCH_LOG)
        self._client: DaemonClient | None = None
        self._connecting: asyncio.Future[DaemonClient | None] | None = None
        self._failed_start_at: float | None = None

    async def request(self, call: Callable[[DaemonClient], Awaitable[T]], what: str) -> T | None:
        """``call`` with a connected client; None (logged and reported) when the daemon fails.

        A daemon that stopped answering is looked for again (and restarted if allowed) once.
        Cancelling the caller abandons the HTTP request.
        """
        for _attempt in range(2):
            client = await self.connected()
            if client is None:
                return None
            try:
                result = await call(client)
            except DaemonUnreachableError as error:
                logger.warning("%s: %s", what, error)
                self._retire(client)
                continue
            except DaemonHTTPError as error:
                self._report_http_error(error, what)
                if error.status == 401:
                    self._retire(client)
                return None
            self._notices.resolved(UNREACHABLE, HTTP_ERROR)
            return result
        return None

    async def connected(self) -> DaemonClient | None:
        """The current client, connecting (or starting the daemon) first when there is none."""
        if self._client is not None:
            return self._client
        if self._connecting is None or self._connecting.done():
            self._connecting = asyncio.ensure_future(self._connect())
        # Shielded: one caller being cancelled must not abort a connect others are waiting on.
        return await asyncio.shield(self._connecting)

    def reset(self) -> None:
        """Forget the current connection (e.g. the settings changed); reconnect on next use."""
        if self._client is not None:
            self._retire(self._client)

    async def close(self) -> None:
        """Close the connection now (at shutdown)."""
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    def _retire(self, client: DaemonClient) -> None:
        """Stop handing out ``client``; close it once requests still using it are over."""
        if self._client is client:
            self._client = None
        loop = asyncio.get_running_loop()
        loop.call_later(REQUEST_TIMEOUT_S, lambda: loop.create_task(client.aclose()))

    async def _connect(self) -> DaemonClient | None:
        settings = self._settings()
        url, token = self._locate()
        if not await _answers_health(url):
            if not settings.start_daemon:
                self._warn_unreachable(url, "Start it with `bbj-coder serve`.")
                return None
            if not await self._start(url):
                return None
            url, token = self._locate()
        self._client = DaemonClient(url, token, timeout=REQUEST_TIMEOUT_S)
        logger.info("Connected to the bbj-coder daemon at %s", url)
        self._notices.resolved(UNREACHABLE)
        return self._client

    def _locate(self) -> tuple[str, str | None]:
        """(URL, token): from the settings where given, else from the daemon's state files."""
        settings = self._settings()
        url, token = local_daemon(self._paths)
        if settings.daemon_url is not None:
            url = settings.daemon_url
        if settings.token_file is not None:
            token = _read_token(settings.token_file)
        return url, token

    async def _start(self, url: str) -> bool:
        if not is_loopback(url):
            self._warn_unreachable(url, "It is not on this machine, so it is not started here.")
            return False
        failed_at = self._failed_start_at
        if failed_at is not None and time.monotonic() - failed_at < FAILED_START_BACKOFF_S:
            return False
        logger.info("No bbj-coder daemon answers at %s; starting one.", url)
        result = await self._launcher.launch(
            self._settings().daemon_start_timeout_s,
            port=self._serve_port(url),
            probe=self._probe_located,
        )
        if result.started:
            self._failed_start_at = None
            return True
        self._failed_start_at = time.monotonic()
        self._warn_unreachable(url, f"Starting `bbj-coder serve` failed: {result.sentence}")
        return False

    def _serve_port(self, url: str) -> int | None:
        """``serve --port``: the configured URL's port; None lets the daemon use its own."""
        return urlsplit(url).port if self._settings().daemon_url is not None else None

    async def _probe_located(self) -> bool:
        return await _answers_health(self._locate()[0])

    def _warn_unreachable(self, url: str, advice: str) -> None:
        message = f"bbj-coder: no daemon answers at {url}. {advice}"
        logger.warning("%s", message)
        self._notices.warn(
            UNREACHABLE, f"{message} Completions and diagnostics resume once it runs."
        )

    def _report_http_error(self, error: DaemonHTTPError, what: str) -> None:
        logger.error("%s failed: %s", what, error)
        if error.status == 401:
            advice = "Its token was refused; check the bbjCoder.tokenFile setting."
        elif error.status >= 500:
            advice = "See `bbj-coder status` and the daemon's log."
        else:
            return
        self._notices.warn(HTTP_ERROR, f"bbj-coder: {what} failed ({error}). {advice}")


async def _answers_health(url: str) -> bool:
    try:
        async with httpx.AsyncClient(
            timeout=HEALTH_TIMEOUT_S, trust_env=not is_loopback(url)
        ) as http:
            response = await http.get(f"{url.rstrip('/')}/health")
    except httpx.HTTPError:
        return False
    return response.status_code == 200


def _read_token(token_file: Path) -> str | None:
    try:
        return token_file.read_text(encoding="utf-8").strip()
    except OSError:
        return None
