"""Compiler diagnostics for BBj files from the daemon's ``/v1/bbj/check``.

Checked at once on open and save, and after a quiet time (``debounceMs``) on change.  A newer
check of the same document cancels the older one; a result for an outdated version of the text
is dropped.  A fixed file publishes an empty list, a closed one too.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from lsprotocol import types
from pygls.workspace import TextDocument

from daemon.client import CheckDiagnostic, CheckReport, DaemonClient
from lsp.documents import line_range
from lsp.events import DocumentChange, DocumentEvent
from lsp.log import logger

if TYPE_CHECKING:
    from lsp.server import BbjLanguageServer

BBJCPL_SOURCE = "bbjcpl"
BUILTIN_SOURCE = "bbj-coder"
SOURCES = frozenset({BBJCPL_SOURCE, BUILTIN_SOURCE})
"""``Diagnostic.source`` of the diagnostics this server publishes."""

_SEVERITIES = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "info": types.DiagnosticSeverity.Information,
}


def to_lsp_diagnostic(
    document: TextDocument, found: CheckDiagnostic, checker: str
) -> types.Diagnostic:
    """The checker's 1-based physical line (0: unknown, shown on the first) as an LSP range."""
    return types.Diagnostic(
        range=line_range(document, found.line - 1),
        message=found.message,
        severity=_SEVERITIES.get(found.severity, types.DiagnosticSeverity.Error),
        source=BBJCPL_SOURCE if checker == "bbjcpl" else BUILTIN_SOURCE,
    )


class DiagnosticsPublisher:
    """Schedules checks per document and publishes their results."""

    def __init__(self, server: BbjLanguageServer) -> None:
        self._server = server
        self._checks: dict[str, asyncio.Task[None]] = {}
        self._published: set[str] = set()

    def on_document(self, event: DocumentEvent) -> None:
        if event.change is DocumentChange.CLOSED:
            self._cancel(event.uri)
            self._clear(event.uri)
            return
        if self._server.bbj_document(event.uri) is None:
            return
        debounce_s = self._server.settings.debounce_ms / 1000
        delay_s = debounce_s if event.change is DocumentChange.CHANGED else 0
        self._schedule(event.uri, delay_s)

    def _schedule(self, uri: str, delay_s: float) -> None:
        self._cancel(uri)
        task = asyncio.ensure_future(self._check_later(uri, delay_s))
        self._checks[uri] = task
        task.add_done_callback(lambda done: self._forget(uri, done))

    def _cancel(self, uri: str) -> None:
        task = self._checks.pop(uri, None)
        if task is not None:
            task.cancel()

    def _forget(self, uri: str, task: asyncio.Task[None]) -> None:
        if self._checks.get(uri) is task:
            del self._checks[uri]

    async def _check_later(self, uri: str, delay_s: float) -> None:
        if delay_s:
            await asyncio.sleep(delay_s)
        link = await self._server.daemon_ready()
        document = self._server.bbj_document(uri)
        if document is None:
            return
        if not self._server.settings.diagnostics:
            self._clear(uri)  # they were switched off since they were published
            return
        version, text, name = document.version, document.source, document.filename

        async def check(client: DaemonClient) -> CheckReport:
            return await client.check(text, filename=name)

        report = await link.request(check, "The compiler check")
        document = self._server.bbj_document(uri)
        if report is None or document is None or document.version != version:
            return
        if report.tool_error and not report.diagnostics:
            logger.warning("The compiler check could not run: %s", report.tool_error)
            return
        found = [to_lsp_diagnostic(document, d, report.checker) for d in report.diagnostics]
        self._publish(uri, found, version)

    def _clear(self, uri: str) -> None:
        if uri in self._published:
            self._publish(uri, [], None)

    def _publish(self, uri: str, found: list[types.Diagnostic], version: int | None) -> None:
        if found:
            self._published.add(uri)
        else:
            self._published.discard(uri)
        params = types.PublishDiagnosticsParams(uri=uri, diagnostics=found, version=version)
        self._server.text_document_publish_diagnostics(params)


def setup(server: BbjLanguageServer) -> None:
    server.documents.subscribe(DiagnosticsPublisher(server).on_document)
