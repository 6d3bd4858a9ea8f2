"""The daemon's life cycle as the language server sees it: absent, started, killed, failing."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from daemon.instance import read_state
from daemon.models.tinymodel import TinyModel
from tests.conftest import free_port, run_cli
from tests.lsp.conftest import (
    NEOVIM,
    VSCODE,
    capabilities,
    inline_params,
    lsp_env,
    lsp_session,
    open_document,
    replace_text,
    standin_options,
    stop_daemon_of,
    wait_until,
)
from tests.lsp.standin import RunningStandIn, StandInDaemon

pytestmark = pytest.mark.asyncio

BROKEN = "for i = 1 to 3\n  print i\n"
FIXED = "for i = 1 to 3\n  print i\nnext i\n"


def warnings_shown(client: LanguageClient) -> list[str]:
    return [m.message for m in client.messages if m.type == types.MessageType.Warning]


def diagnostics_of(client: LanguageClient, uri: str) -> list[types.Diagnostic] | None:
    found = client.diagnostics.get(uri)
    return None if found is None else list(found)


async def test_starts_the_daemon_and_restarts_it_after_it_dies(
    tiny_model: TinyModel, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    imported = run_cli(home, "model", "import", str(tiny_model.gguf_path))
    assert imported.returncode == 0, imported.stderr
    port = free_port()
    options = {"daemonUrl": f"http://127.0.0.1:{port}", "debounceMs": 50}
    state_file = home / "state" / "daemon.json"
    try:
        async with lsp_session(
            lsp_env(home), capabilities(VSCODE), initialization_options=options
        ) as client:
            uri = open_document(client, tmp_path / "started.bbj", BROKEN)
            assert await wait_until(lambda: diagnostics_of(client, uri), timeout=60)
            first = read_state(state_file)
            assert first is not None and first.port == port

            os.kill(first.pid, signal.SIGKILL)
            await wait_until(lambda: read_state(state_file) is None)
            replace_text(client, uri, FIXED, version=2)
            await wait_until(lambda: diagnostics_of(client, uri) == [], timeout=60)
            second = read_state(state_file)
            assert second is not None and second.pid != first.pid and second.port == port
    finally:
        stop_daemon_of(home)


async def test_without_a_daemon_it_warns_once_and_reconnects_later(tmp_path: Path) -> None:
    port = free_port()
    options = {"daemonUrl": f"http://127.0.0.1:{port}", "startDaemon": False, "debounceMs": 50}
    async with lsp_session(
        lsp_env(tmp_path), capabilities(NEOVIM), initialization_options=options
    ) as client:
        uri = open_document(client, tmp_path / "offline.bbj", BROKEN)
        for character in range(3):
            items = await client.text_document_inline_completion_async(
                inline_params(uri, 0, character)
            )
            assert items == []
        (warning,) = await wait_until(lambda: warnings_shown(client))
        assert "bbj-coder serve" in warning

        running = RunningStandIn(port)
        running.start()
        try:
            replace_text(client, uri, BROKEN + "rem edited\n", version=2)
            assert await wait_until(lambda: diagnostics_of(client, uri))
        finally:
            running.stop()
        assert len(warnings_shown(client)) == 1


async def test_a_failing_daemon_is_reported_once_and_survived(
    standin: StandInDaemon, tmp_path: Path
) -> None:
    standin.fail_status = 500
    async with lsp_session(
        lsp_env(tmp_path), capabilities(VSCODE), initialization_options=standin_options(standin)
    ) as client:
        uri = open_document(client, tmp_path / "failing.bbj", BROKEN)
        await wait_until(lambda: standin.check_requests)
        for character in range(3):
            items = await client.text_document_inline_completion_async(
                inline_params(uri, 1, character)
            )
            assert items == []
        (warning,) = await wait_until(lambda: warnings_shown(client))
        assert "500" in warning
        assert any("500" in m.message for m in client.log_messages)

        standin.fail_status = None
        replace_text(client, uri, BROKEN + "rem edited\n", version=2)
        assert await wait_until(lambda: diagnostics_of(client, uri))
        assert len(warnings_shown(client)) == 1


async def test_a_new_daemon_url_setting_takes_effect(
    standin: StandInDaemon, tmp_path: Path
) -> None:
    other = RunningStandIn()
    second = other.start()
    try:
        async with lsp_session(
            lsp_env(tmp_path),
            capabilities(NEOVIM),
            initialization_options=standin_options(standin, diagnostics=False),
            configuration={"bbjCoder": {}},
        ) as client:
            uri = open_document(client, tmp_path / "moved.bbj", "print ")
            assert await client.text_document_inline_completion_async(inline_params(uri, 0, 6))
            assert (standin.fim_requests, second.fim_requests) == (1, 0)

            client.set_configuration({"bbjCoder": {"daemonUrl": second.url}})
            client.workspace_did_change_configuration(
                types.DidChangeConfigurationParams(settings=None)
            )
            for _attempt in range(100):
                await client.text_document_inline_completion_async(inline_params(uri, 0, 6))
                if second.fim_requests:
                    break
            assert second.fim_requests >= 1
    finally:
        other.stop()
