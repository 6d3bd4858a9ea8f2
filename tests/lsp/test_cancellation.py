"""Cancellation and staleness, against the stand-in daemon whose FIM answers as slowly as told."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcRequestCancelled

from tests.lsp.conftest import (
    PROFILES,
    capabilities,
    inline_params,
    lsp_env,
    lsp_session,
    open_document,
    replace_text,
    standin_options,
    wait_until,
)
from tests.lsp.standin import FIXED_COMPLETION, StandInDaemon

pytestmark = pytest.mark.asyncio


@pytest.mark.parametrize("profile", PROFILES)
async def test_cancel_answers_promptly_and_abandons_the_daemon_request(
    profile: str, standin: StandInDaemon, tmp_path: Path
) -> None:
    standin.fim_delay_s = 30
    options = standin_options(standin)
    async with lsp_session(
        lsp_env(tmp_path), capabilities(profile), initialization_options=options
    ) as client:
        uri = open_document(client, tmp_path / "slow.bbj", "print ")
        future = client.protocol.send_request(
            types.TEXT_DOCUMENT_INLINE_COMPLETION, inline_params(uri, 0, 6), msg_id="slow-1"
        )
        await wait_until(standin.fim_started.is_set)
        cancelled_at = time.monotonic()
        client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="slow-1"))
        with pytest.raises(JsonRpcRequestCancelled):
            await asyncio.wait_for(asyncio.wrap_future(future), 5)
        assert time.monotonic() - cancelled_at < 2
        await wait_until(standin.fim_abandoned.is_set, timeout=5)


@pytest.mark.parametrize("profile", PROFILES)
async def test_an_edit_while_waiting_discards_the_completion(
    profile: str, standin: StandInDaemon, tmp_path: Path
) -> None:
    standin.fim_delay_s = 0.5
    options = standin_options(standin)
    async with lsp_session(
        lsp_env(tmp_path), capabilities(profile), initialization_options=options
    ) as client:
        uri = open_document(client, tmp_path / "edited.bbj", "print ")
        pending = asyncio.ensure_future(
            client.text_document_inline_completion_async(inline_params(uri, 0, 6))
        )
        await wait_until(standin.fim_started.is_set)
        replace_text(client, uri, "print 42\n", version=2)
        assert await asyncio.wait_for(pending, 5) == []
        fresh = await client.text_document_inline_completion_async(inline_params(uri, 0, 8))
        assert [item.insert_text for item in fresh] == [FIXED_COMPLETION]
