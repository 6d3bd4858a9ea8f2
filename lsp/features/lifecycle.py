"""Session life cycle: settings at ``initialize``, from ``workspace/configuration`` once
``initialized`` and on every configuration change; connect to the daemon early; close at
``shutdown``.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from lsp.log import logger
from lsp.settings import SECTION, LspSettings, parse_settings, section_of

if TYPE_CHECKING:
    from lsp.server import BbjLanguageServer


def _warn(message: str) -> None:
    logger.warning("%s", message)


def _supports_configuration(server: BbjLanguageServer) -> bool:
    workspace = server.client_capabilities.workspace
    return bool(workspace and workspace.configuration)


async def _editor_section(server: BbjLanguageServer) -> Any:
    """The ``bbjCoder`` section from ``workspace/configuration`` (None when unavailable)."""
    if not _supports_configuration(server):
        return None
    params = types.ConfigurationParams(items=[types.ConfigurationItem(section=SECTION)])
    try:
        answer = await server.workspace_configuration_async(params)
    except Exception as error:  # an editor's broken answer must not stop the server
        logger.warning("workspace/configuration failed: %s", error)
        return None
    return answer[0] if answer else None


def apply_settings(server: BbjLanguageServer, section: Any) -> None:
    """Make ``section`` (on top of the initialization options) the current settings."""
    old = server.settings
    server.settings = parse_settings(section, _warn, base=server.initial_settings)
    if _daemon_location(old) != _daemon_location(server.settings):
        server.daemon.reset()
    logger.debug("Settings: %s", server.settings)


def _daemon_location(settings: LspSettings) -> tuple[object, ...]:
    return (settings.daemon_url, settings.token_file)


def setup(server: BbjLanguageServer) -> None:
    background: set[asyncio.Future[Any]] = set()

    @server.feature(types.INITIALIZE)
    def initialize(params: types.InitializeParams) -> None:
        options = section_of(params.initialization_options)
        server.initial_settings = parse_settings(options, _warn)
        server.settings = server.initial_settings

    @server.feature(types.INITIALIZED)
    async def initialized(params: types.InitializedParams) -> None:
        try:
            apply_settings(server, await _editor_section(server))
        finally:
            server.settings_loaded.set()
        # Connect (starting the daemon if needed) before the first keystroke needs it.
        task = asyncio.ensure_future(server.daemon.connected())
        background.add(task)
        task.add_done_callback(background.discard)

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(params: types.DidChangeConfigurationParams) -> None:
        section = await _editor_section(server)
        if section is None:
            section = section_of(params.settings) or None
        apply_settings(server, section)

    @server.feature(types.SHUTDOWN)
    async def shutdown(params: None) -> None:
        for task in background:
            task.cancel()
        await server.daemon.close()
