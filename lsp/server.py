"""``bbj-coder lsp``: the pygls language server and its entry point.

Each LSP capability lives in its own module under :mod:`lsp.features` with a ``setup(server)``
function; :class:`BbjLanguageServer` only holds the state they share.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import secrets
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from pygls.lsp.server import LanguageServer
from pygls.workspace import TextDocument

from daemon import __version__
from daemon.paths import AppPaths, app_paths
from fim import ContextRing
from fim.next_edit import EditHistory
from lsp.daemon_link import DaemonLink
from lsp.documents import find_document, is_bbj
from lsp.events import DocumentEvents
from lsp.features import FEATURES
from lsp.log import logger, setup_logging
from lsp.notices import Notices
from lsp.settings import LspSettings

if TYPE_CHECKING:
    from pygls.server import ServerErrors

SERVER_NAME = "bbj-coder"


class BbjLanguageServer(LanguageServer):
    """The pygls server plus the state the feature modules share."""

    def __init__(self, paths: AppPaths | None = None) -> None:
        super().__init__(SERVER_NAME, __version__)
        self.initial_settings = LspSettings()
        """From ``initializationOptions``; ``workspace/configuration`` answers apply on top."""
        self.settings = LspSettings()
        self.settings_loaded = asyncio.Event()
        """Set once the editor's settings are known; nothing talks to the daemon before."""
        self.notices = Notices(self.window_show_message)
        self.daemon = DaemonLink(self._current_settings, self.notices, paths or app_paths())
        self.context = ContextRing()
        """Chunks of recently opened and edited BBj files, sent as extra FIM context."""
        self.client_id = f"lsp-{os.getpid()}-{secrets.token_hex(4)}"
        """Identifies this editor session to the daemon: a newer FIM request supersedes older."""
        self.documents = DocumentEvents()
        self.edit_history = EditHistory()
        """Recent edits of the open BBj documents as hunks, sent with next-edit requests."""
        self.next_edit_off = False
        """The daemon answered next-edit with 404/409 (off, or the model cannot): inline
        completion stops falling back to it until an explicit bbj/nextEdit succeeds."""

    def _current_settings(self) -> LspSettings:
        return self.settings

    async def daemon_ready(self) -> DaemonLink:
        """The daemon link, once the settings that say where the daemon is are known."""
        await self.settings_loaded.wait()
        return self.daemon

    def bbj_document(self, uri: str) -> TextDocument | None:
        """The open BBj document at ``uri``; None for unknown URIs and other languages."""
        document = find_document(self.workspace, uri)
        return document if document is not None and is_bbj(document) else None

    def report_server_error(self, error: Exception, source: ServerErrors) -> None:
        # pygls would pop up every internal error (e.g. an edit to a document never opened).
        logger.error("Internal error (%s): %s", source.__name__, error)


def create_server(paths: AppPaths | None = None) -> BbjLanguageServer:
    """A server with every feature set up."""
    server = BbjLanguageServer(paths)
    for feature in FEATURES:
        feature.setup(server)
    return server


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bbj-coder lsp",
        description="BBj language server (stdio): AI completions, compiler diagnostics, fixes.",
    )
    parser.add_argument("--stdio", action="store_true", help="use stdio (the default and only)")
    parser.add_argument(
        "--log-level",
        default="INFO",
        type=str.upper,
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="log level for stderr and the editor's log (default INFO)",
    )
    return parser.parse_args(argv)


def run_lsp(argv: list[str] | None = None) -> int:
    """Serve LSP over stdin/stdout until the editor exits; returns the exit status."""
    args = _parse_args(argv)
    protocol_out = sys.stdout.buffer
    # Anything printed by accident must not corrupt the protocol stream.
    sys.stdout = sys.stderr
    server = create_server()
    setup_logging(server, getattr(logging, args.log_level))
    server.start_io(sys.stdin.buffer, protocol_out)
    return 0
