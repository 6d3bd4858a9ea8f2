"""Logging for the language server: every record to the editor's ``window/logMessage``, and
only warnings and errors to stderr.

Never to stdout, which carries the protocol. Editors treat stderr as an error channel (Neovim
logs every stderr line as ``[ERROR]``), so INFO and DEBUG go only to ``window/logMessage``.
"""

from __future__ import annotations

import logging
import sys

from lsprotocol import types
from pygls.lsp.server import LanguageServer

LOGGER_NAME = "bbj_coder.lsp"
STDERR_LEVEL = logging.WARNING

logger = logging.getLogger(LOGGER_NAME)

_MESSAGE_TYPES: tuple[tuple[int, types.MessageType], ...] = (
    (logging.ERROR, types.MessageType.Error),
    (logging.WARNING, types.MessageType.Warning),
    (logging.INFO, types.MessageType.Info),
    (logging.NOTSET, types.MessageType.Log),
)


def message_type(level: int) -> types.MessageType:
    """The LSP message type for a logging level."""
    return next(kind for threshold, kind in _MESSAGE_TYPES if level >= threshold)


class ClientLogHandler(logging.Handler):
    """Forwards log records to the editor as ``window/logMessage`` notifications."""

    def __init__(self, server: LanguageServer) -> None:
        super().__init__()
        self._server = server

    def emit(self, record: logging.LogRecord) -> None:
        if self._server.protocol.writer is None:
            return
        try:
            params = types.LogMessageParams(
                type=message_type(record.levelno), message=self.format(record)
            )
            self._server.window_log_message(params)
        except Exception:
            self.handleError(record)


def setup_logging(server: LanguageServer, level: int) -> None:
    """Send this package's records to the editor, and its warnings and errors to stderr too;
    pygls's own warnings only to stderr."""
    stderr = logging.StreamHandler(sys.stderr)
    stderr.setLevel(STDERR_LEVEL)
    stderr.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    client = ClientLogHandler(server)
    client.setFormatter(logging.Formatter("%(message)s"))
    logger.handlers[:] = [stderr, client]
    logger.setLevel(level)
    logger.propagate = False
    pygls_logger = logging.getLogger("pygls")
    pygls_logger.handlers[:] = [stderr]
    pygls_logger.setLevel(max(level, logging.WARNING))
    pygls_logger.propagate = False
