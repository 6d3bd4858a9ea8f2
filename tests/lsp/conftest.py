"""Fixtures for the language server tests: pytest-lsp clients driving ``python -m lsp``.

Two editor profiles: VS Code (pytest-lsp's recorded capabilities plus LSP 3.18 inline
completion, as VS Code >= 1.99 with vscode-languageclient 10 announces it) and Neovim 0.11
(no inline completion: it gets the ``textDocument/completion`` fallback).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from daemon.instance import read_state
from tests.conftest import RunningDaemon, daemon_env
from tests.lsp.standin import RunningStandIn, StandInDaemon

VSCODE = "vscode"
NEOVIM = "neovim"
PROFILES = (VSCODE, NEOVIM)


def capabilities(profile: str) -> types.ClientCapabilities:
    if profile == NEOVIM:
        return client_capabilities("neovim@v0.11")
    caps = client_capabilities("visual-studio-code")
    assert caps.text_document is not None
    caps.text_document.inline_completion = types.InlineCompletionClientCapabilities()
    return caps


def without_edit_resolve(caps: types.ClientCapabilities) -> types.ClientCapabilities:
    """The same editor, but one that cannot resolve a code action's edit later."""
    assert caps.text_document is not None and caps.text_document.code_action is not None
    caps.text_document.code_action.resolve_support = None
    return caps


def lsp_env(home: Path, **extra: str) -> dict[str, str]:
    return daemon_env(home, BBJ_CODER_MODEL_N_CTX="8192", **extra)


@contextlib.asynccontextmanager
async def lsp_session(
    env: dict[str, str],
    caps: types.ClientCapabilities,
    *,
    initialization_options: Any = None,
    configuration: dict[str, Any] | None = None,
) -> AsyncIterator[LanguageClient]:
    """A started and initialized client; shut down (and its server gone) afterwards."""
    config = ClientServerConfig(server_command=[sys.executable, "-m", "lsp"], server_env=env)
    client = await config.start()
    if configuration is not None:
        client.set_configuration(configuration)
    try:
        params = types.InitializeParams(
            capabilities=caps, initialization_options=initialization_options
        )
        await asyncio.wait_for(client.initialize_session(params), 30)
        yield client
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(client.shutdown_session(), 10)
        await client.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=PROFILES)
async def real_client(
    request: pytest.FixtureRequest, daemon: RunningDaemon
) -> AsyncIterator[LanguageClient]:
    """A client per editor profile whose server finds the real daemon through its state file."""
    options = {"debounceMs": 50, "maxCompletionTokens": 48, "maxFixTokens": 64}
    async with lsp_session(
        lsp_env(daemon.home), capabilities(request.param), initialization_options=options
    ) as client:
        client.profile = request.param  # type: ignore[attr-defined]
        yield client


@pytest.fixture
def standin() -> Iterator[StandInDaemon]:
    running = RunningStandIn()
    yield running.start()
    running.stop()


def standin_options(standin: StandInDaemon, **extra: Any) -> dict[str, Any]:
    return {"daemonUrl": standin.url, "startDaemon": False, "debounceMs": 50, **extra}


def stop_daemon_of(home: Path) -> None:
    """Kill the daemon whose state file is under ``home`` (one the LSP started), if any."""
    state = read_state(home / "state" / "daemon.json")
    if state is None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(state.pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    while read_state(home / "state" / "daemon.json") is not None:
        if time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.kill(state.pid, signal.SIGKILL)
            break
        time.sleep(0.05)


async def wait_until(predicate: Callable[[], Any], timeout: float = 15.0) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out after {timeout} s waiting for {predicate}")


def open_document(
    client: LanguageClient, path: Path, text: str, language_id: str = "bbj", version: int = 1
) -> str:
    uri = path.as_uri()
    item = types.TextDocumentItem(uri=uri, language_id=language_id, version=version, text=text)
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=item))
    return uri


def replace_text(client: LanguageClient, uri: str, text: str, version: int) -> None:
    """Send the whole new text (a full-document change)."""
    change = types.TextDocumentContentChangeWholeDocument(text=text)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[change],
        )
    )


def inline_params(uri: str, line: int, character: int) -> types.InlineCompletionParams:
    return types.InlineCompletionParams(
        context=types.InlineCompletionContext(
            trigger_kind=types.InlineCompletionTriggerKind.Invoked
        ),
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=types.Position(line=line, character=character),
    )


def completion_params(uri: str, line: int, character: int) -> types.CompletionParams:
    return types.CompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=types.Position(line=line, character=character),
    )
