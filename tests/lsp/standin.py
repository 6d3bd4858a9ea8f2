"""A deterministic stand-in for the daemon's HTTP API, for what the tiny model cannot do on cue.

It answers ``/health``, ``/v1/bbj/check`` with the real built-in checker, ``/v1/bbj/fim`` with a
fixed completion (optionally slowly, noticing when the caller hangs up) and
``/v1/chat/completions`` with a fixed answer.  ``fail_status`` makes every ``/v1`` route fail.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from daemon.check import BuiltinChecker
from tests.conftest import free_port

FIXED_COMPLETION = 'print "from the stand-in"'


@dataclass
class StandInDaemon:
    """Knobs and observations of one stand-in; change the knobs from a test at any time."""

    port: int
    chat_answer: str = '```bbj\nprint "fixed"\n```'
    fim_delay_s: float = 0.0
    fail_status: int | None = None
    fim_requests: int = 0
    last_fim: dict[str, Any] | None = None
    check_requests: int = 0
    fim_abandoned: threading.Event = field(default_factory=threading.Event)
    fim_started: threading.Event = field(default_factory=threading.Event)
    fim_completion: str = FIXED_COMPLETION
    next_edits: list[dict[str, Any]] = field(default_factory=list)
    """What ``/v1/bbj/next-edit`` answers (daemon-shaped ``{range, new_text}``)."""
    last_next_edit: dict[str, Any] | None = None
    next_edit_requests: int = 0
    next_edit_status: int | None = None
    """When set, ``/v1/bbj/next-edit`` answers this error status (404: off, 409: unsupported)."""
    fim_superseded: bool = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _failure(status: int) -> Response:
    return JSONResponse({"error": {"message": "stand-in failure", "code": "x"}}, status_code=status)


def build_app(state: StandInDaemon) -> Starlette:
    checker = BuiltinChecker()

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "stand_in": True})

    async def check(request: Request) -> Response:
        state.check_requests += 1
        if state.fail_status:
            return _failure(state.fail_status)
        body = await request.json()
        return JSONResponse(checker.check_text(body["code"]).to_dict())

    async def fim(request: Request) -> Response:
        state.fim_requests += 1
        if state.fail_status:
            return _failure(state.fail_status)
        state.last_fim = await request.json()
        state.fim_started.set()
        deadline = time.monotonic() + state.fim_delay_s
        while time.monotonic() < deadline:
            if await request.is_disconnected():
                state.fim_abandoned.set()
                return Response(status_code=499)
            await asyncio.sleep(0.02)
        return JSONResponse(
            {
                "completion": state.fim_completion,
                "cached": False,
                "superseded": state.fim_superseded,
                "finish_reason": "stop",
                "timings": {},
            }
        )

    async def next_edit(request: Request) -> Response:
        state.next_edit_requests += 1
        if state.fail_status:
            return _failure(state.fail_status)
        if state.next_edit_status:
            return _failure(state.next_edit_status)
        state.last_next_edit = await request.json()
        reason = None if state.next_edits else "no_change"
        return JSONResponse({"edits": state.next_edits, "reason": reason, "superseded": False})

    async def chat(request: Request) -> Response:
        if state.fail_status:
            return _failure(state.fail_status)
        message = {"role": "assistant", "content": state.chat_answer}
        return JSONResponse({"choices": [{"index": 0, "message": message}]})

    return Starlette(
        routes=[
            Route("/health", health, methods=["GET"]),
            Route("/v1/bbj/check", check, methods=["POST"]),
            Route("/v1/bbj/fim", fim, methods=["POST"]),
            Route("/v1/chat/completions", chat, methods=["POST"]),
            Route("/v1/bbj/next-edit", next_edit, methods=["POST"]),
        ]
    )


class RunningStandIn:
    """Serves a :class:`StandInDaemon` on a loopback port from a background thread."""

    def __init__(self, port: int | None = None) -> None:
        self.state = StandInDaemon(port=port or free_port())
        config = uvicorn.Config(
            build_app(self.state), host="127.0.0.1", port=self.state.port, log_level="warning"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def start(self) -> StandInDaemon:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the stand-in daemon did not start")
            time.sleep(0.02)
        return self.state

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
