"""Stand-ins for what the tests cannot have: a model that writes known code, a workspace index."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from daemon.backends.base import BackendInfo, ChatMessage, SamplingParams, TextStream
from daemon.check import BuiltinChecker
from daemon.client import CheckDiagnostic, CheckReport, DaemonClient
from daemon.config import CheckSettings
from daemon.mcp_server import Completion
from daemon.services.generate import GenerateRequest, GenerateResult, GenerateService, Progress

GOOD = "Counts to three.\n```bbj\nfor i = 1 to 3\n  print i\nnext i\n```\n"
BROKEN = 'Here:\n```bbj\nfor i = 1 to 3\n  print "x\n```\n'
BAD_PROGRAM = 'for i = 1 to 3\n  print "x\nnext i\n'


class ScriptedBackend:
    """Answers each chat with the next scripted text (the last one repeats)."""

    name = "scripted"

    def __init__(self, answers: Sequence[str]) -> None:
        self.answers = list(answers)
        self.calls: list[list[ChatMessage]] = []

    def chat(self, messages: Sequence[ChatMessage], params: SamplingParams) -> TextStream:
        self.calls.append(list(messages))
        stream = TextStream()
        stream.put(self.answers[min(len(self.calls), len(self.answers)) - 1])
        stream.finish()
        return stream

    def info(self) -> BackendInfo:
        return BackendInfo("scripted", "scripted", "", 4096, "qwen2.5-coder", "F16")


class StandInServices:
    """BbjServices on the real built-in checker and generate loop, a scripted model, and a
    real :class:`DaemonClient` whose HTTP answers come from ``workspace``."""

    def __init__(self, answers: Sequence[str], workspace: httpx.MockTransport | None = None):
        self.backend = ScriptedBackend(answers)
        self.checker = BuiltinChecker()
        self.workspace = workspace

    async def check(self, code: str, filename: str | None) -> CheckReport:
        result = await self.checker.check(code, filename)
        return CheckReport(
            result.ok,
            result.checker,
            tuple(
                CheckDiagnostic(d.line, d.message, d.severity, d.col) for d in result.diagnostics
            ),
            result.tool_error,
        )

    async def generate(self, request: GenerateRequest, progress: Progress | None) -> GenerateResult:
        service = GenerateService(
            self.backend,  # type: ignore[arg-type]
            self.checker,
            CheckSettings(),
            SamplingParams(max_tokens=64),
        )
        return await service.run(request, progress)

    async def complete(self, prefix: str, suffix: str, path: str | None) -> Completion:
        return Completion("print i\n", "stop", "builtin", True)

    async def workspace_symbols(self, query: str, limit: int) -> list[dict[str, Any]]:
        from daemon.mcp_server.remote import RemoteServices
        from daemon.paths import AppPaths

        assert self.workspace is not None
        client = DaemonClient("http://127.0.0.1:1", "token")
        client._http = httpx.AsyncClient(base_url="http://127.0.0.1:1", transport=self.workspace)
        nowhere = Path("/nonexistent/bbj-coder")
        remote = RemoteServices(AppPaths(*[nowhere] * 6), start=False, client=client)
        return await remote.workspace_symbols(query, limit)
