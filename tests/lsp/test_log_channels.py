"""Issue #17 item 27: INFO goes to window/logMessage only; stderr carries warnings and errors
(Neovim logs every stderr line as [ERROR])."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest
from lsprotocol import types

from lsp.log import logger, setup_logging


class _Server:
    def __init__(self) -> None:
        self.protocol = SimpleNamespace(writer=object())
        self.sent: list[types.LogMessageParams] = []

    def window_log_message(self, params: types.LogMessageParams) -> None:
        self.sent.append(params)


def test_info_goes_to_the_editor_only(capsys: pytest.CaptureFixture[str]) -> None:
    server = _Server()
    setup_logging(server, logging.INFO)  # type: ignore[arg-type]
    try:
        logger.info("daemon reachable")
        logger.warning("daemon slow")
        logger.error("daemon gone")
    finally:
        logger.handlers.clear()
    stderr = capsys.readouterr().err
    assert "daemon reachable" not in stderr
    assert "WARNING" in stderr and "daemon slow" in stderr and "daemon gone" in stderr
    assert [(p.type, p.message) for p in server.sent] == [
        (types.MessageType.Info, "daemon reachable"),
        (types.MessageType.Warning, "daemon slow"),
        (types.MessageType.Error, "daemon gone"),
    ]
