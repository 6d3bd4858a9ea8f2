"""``bbj-coder mcp`` on stdio and the daemon's ``/mcp`` over HTTP, driven by the ``mcp`` SDK's
own client against a real daemon serving the tiny test model."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from daemon.instance import read_state
from daemon.models.tinymodel import TinyModel
from tests.backends.standins import FakeOllama, ollama_app, serving
from tests.conftest import REPO_ROOT, RunningDaemon, daemon_env, free_port, run_cli, start_daemon
from tests.lsp.conftest import stop_daemon_of
from tests.mcp.standins import BAD_PROGRAM, GOOD

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def stdio_params(daemon: RunningDaemon) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "daemon", "mcp", "--no-start"],
        env=daemon_env(daemon.home),
        cwd=str(REPO_ROOT),
    )


@asynccontextmanager
async def http_client(daemon: RunningDaemon, mode: str = "auto") -> AsyncIterator[Client]:
    """The SDK's client over Streamable HTTP: ``auto`` negotiates the newest protocol,
    ``legacy`` the initialize handshake of 2025 revisions (what most editors speak today)."""
    http = httpx2.AsyncClient(headers=daemon.headers, timeout=httpx2.Timeout(30, read=300))
    transport = streamable_http_client(f"{daemon.url}/mcp", http_client=http)
    async with http, Client(transport, mode=mode) as client:  # type: ignore[arg-type]
        yield client


@asynccontextmanager
async def legacy_http_client(daemon: RunningDaemon) -> AsyncIterator[Client]:
    async with http_client(daemon, "legacy") as client:
        yield client


@asynccontextmanager
async def stdio_client(daemon: RunningDaemon) -> AsyncIterator[Client]:
    async with Client(stdio_params(daemon), read_timeout_seconds=300) as client:
        yield client


CONNECTIONS = {"stdio": stdio_client, "http": http_client, "http-legacy": legacy_http_client}


@pytest.mark.parametrize("transport", sorted(CONNECTIONS))
async def test_every_tool_answers_with_schema_valid_results(
    daemon: RunningDaemon, transport: str
) -> None:
    async with CONNECTIONS[transport](daemon) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        valid = await client.call_tool("validate_bbj_syntax", {"code": BAD_PROGRAM})
        progress: list[float] = []

        async def on_progress(done: float, total: float | None, message: str | None) -> None:
            progress.append(done)

        generated = await client.call_tool(
            "generate_bbj_code",
            {"task": "print hello", "max_attempts": 2},
            progress_callback=on_progress,
        )
        completed = await client.call_tool(
            "complete_bbj_code", {"prefix": "for i = 1 to 3\n  ", "suffix": "\nnext i\n"}
        )
        explained = await client.call_tool(
            "explain_bbj_diagnostic", {"code": BAD_PROGRAM, "line": 2}
        )
        workspace = await client.call_tool("search_bbj_workspace", {"query": "Order"})
    assert len(tools) == 5
    assert valid.structured_content is not None and valid.structured_content["ok"] is False
    assert valid.structured_content["diagnostics"][0]["line"] == 2
    # The tiny model writes noise: the verdict must say so rather than claim a pass.
    data = generated.structured_content
    assert data is not None and not generated.is_error
    assert data["passed"] is False and data["errors"] and data["attempts"] == 2
    assert progress and progress[-1] == 2 and progress == sorted(set(progress))
    assert completed.structured_content is not None and not completed.is_error
    assert completed.structured_content["checked"] is False  # the fixture daemon's gate is off
    assert explained.structured_content is not None and not explained.is_error
    assert explained.structured_content["passed"] is False
    assert "No checked fix found" in explained.structured_content["explanation"]
    # Until the workspace index lands, the daemon answers 404: a tool error, not a crash.
    assert workspace.is_error
    assert "the workspace index is not enabled" in workspace.content[0].text


async def test_http_bad_input_gets_errors_and_the_endpoint_keeps_serving(
    daemon: RunningDaemon,
) -> None:
    async with http_client(daemon) as client:
        missing = await client.call_tool("validate_bbj_syntax", {})
        unknown = await client.call_tool("no_such_tool", {})
        huge = await client.call_tool("validate_bbj_syntax", {"code": "x" * 600_000})
        fine = await client.call_tool("validate_bbj_syntax", {"code": "print 1\n"})
    assert missing.is_error and "'code' is required" in missing.content[0].text
    assert unknown.is_error and "There is no tool named" in unknown.content[0].text
    assert huge.is_error and "the limit is" in huge.content[0].text
    assert fine.structured_content is not None and fine.structured_content["ok"] is True


def test_mcp_needs_the_token_and_only_takes_posts(daemon: RunningDaemon) -> None:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    accept = {"Accept": "application/json, text/event-stream"}
    without = httpx.post(f"{daemon.url}/mcp", json=body, headers=accept, timeout=30)
    wrong = httpx.post(
        f"{daemon.url}/mcp",
        json=body,
        headers={**accept, "Authorization": "Bearer nope"},
        timeout=30,
    )
    foreign = httpx.post(
        f"{daemon.url}/mcp",
        json=body,
        headers={**accept, **daemon.headers, "Origin": "https://evil.example"},
        timeout=30,
    )
    with daemon.client() as client:
        get = client.get("/mcp")
        garbage = client.post(
            "/mcp",
            content=b'{"jsonrpc": "2.0", "id": 1, "method": "\xff\xfe"}',
            headers={**accept, "Content-Type": "application/json"},
        )
    assert without.status_code == 401 and "bearer token" in without.json()["error"]["message"]
    assert wrong.status_code == 401
    assert foreign.status_code == 403
    assert get.status_code == 405 and "POST" in get.json()["error"]["message"]
    assert garbage.status_code == 400
    assert garbage.json()["error"]["code"] == -32700  # JSON-RPC parse error, with its reason
    assert "invalid unicode" in garbage.json()["error"]["message"]


def test_stdio_survives_invalid_utf8_and_junk_lines(daemon: RunningDaemon) -> None:
    init = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "raw", "version": "0"},
        },
    }
    feed = b"\xff\xfe not json\n" + b"{\n" + json.dumps(init).encode() + b"\n"
    process = subprocess.run(
        [sys.executable, "-m", "daemon", "mcp", "--no-start"],
        input=feed,
        capture_output=True,
        env=daemon_env(daemon.home),
        cwd=REPO_ROOT,
        timeout=120,
    )
    replies = [json.loads(line) for line in process.stdout.splitlines() if line.strip()]
    assert any(r.get("id") == 1 and "result" in r for r in replies), process.stderr[-2000:]
    assert process.returncode == 0
    assert b"Traceback" not in process.stderr


def test_generate_route_answers_with_a_verdict_and_refuses_bad_bodies(
    daemon: RunningDaemon,
) -> None:
    with daemon.client() as client:
        plain = client.post("/v1/bbj/generate", json={"task": "print hi", "max_attempts": 1})
        streamed = client.post(
            "/v1/bbj/generate", json={"task": "print hi", "max_attempts": 1, "stream": True}
        )
        missing = client.post("/v1/bbj/generate", json={"max_attempts": 1})
        too_many = client.post("/v1/bbj/generate", json={"task": "x", "max_attempts": 99})
        unknown = client.post("/v1/bbj/generate", json={"task": "x", "generation": "cobol"})
    assert plain.status_code == 200
    result = plain.json()
    assert result["attempts"] == 1 and result["checker"] in ("builtin", "bbjcpl")
    assert result["passed"] is False or result["code"]
    lines = [json.loads(line) for line in streamed.text.splitlines()]
    assert [next(iter(line)) for line in lines][-1] == "result"
    done = [line["progress"]["done"] for line in lines if "progress" in line]
    assert done and done == sorted(set(done)) and done[-1] == 1
    for bad, field in ((missing, "task"), (too_many, "max_attempts"), (unknown, "generation")):
        assert bad.status_code == 400 and f"'{field}'" in bad.json()["error"]["message"]


async def test_stdio_server_starts_the_daemon_when_none_runs(
    tiny_model: TinyModel, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    imported = run_cli(home, "model", "import", str(tiny_model.gguf_path))
    assert imported.returncode == 0, imported.stderr
    env = daemon_env(home, BBJ_CODER_SERVER_PORT=str(free_port()), BBJ_CODER_MODEL_N_CTX="8192")
    refusing = StdioServerParameters(
        command=sys.executable, args=["-m", "daemon", "mcp", "--no-start"], env=env
    )
    starting = StdioServerParameters(command=sys.executable, args=["-m", "daemon", "mcp"], env=env)
    try:
        async with Client(refusing, read_timeout_seconds=120) as client:
            refused = await client.call_tool("validate_bbj_syntax", {"code": "print 1\n"})
        assert read_state(home / "state" / "daemon.json") is None
        async with Client(starting, read_timeout_seconds=120) as client:
            checked = await client.call_tool("validate_bbj_syntax", {"code": "print 1\n"})
        assert refused.is_error and "does not answer" in refused.content[0].text
        assert checked.structured_content is not None and checked.structured_content["ok"]
        assert read_state(home / "state" / "daemon.json") is not None  # it outlives the server
    finally:
        stop_daemon_of(home)


async def test_completion_goes_through_the_editors_compile_gate(
    tiny_model: TinyModel, tmp_path: Path
) -> None:
    gated = start_daemon(
        tmp_path / "home",
        "--model",
        str(tiny_model.gguf_path),
        BBJ_CODER_MODEL_N_CTX="8192",
        BBJ_CODER_FIM_TIME_BUDGET_MS="20000",
    )
    try:
        async with http_client(gated) as client:
            results = [
                await client.call_tool(
                    "complete_bbj_code",
                    {"prefix": f"rem {n}\nfor i = 1 to 3\n  ", "suffix": "\nnext i\n"},
                )
                for n in range(3)
            ]
    finally:
        gated.stop()
    for result in results:
        data = result.structured_content
        assert data is not None and not result.is_error
        # Whatever the tiny model writes, only a completion that passed the gate is returned.
        assert data["completion"] == "" or (data["checked"] and data["passed"])
        if data["checked"]:
            assert data["checker"] == "builtin"


async def test_generate_passes_end_to_end_when_the_model_writes_good_code(
    tiny_model: TinyModel, tmp_path: Path
) -> None:
    """The pass path through the real daemon: its backend is an Ollama stand-in that answers
    every chat with known-good BBj."""
    ollama = FakeOllama()
    ollama.add_model("bbj-coder-tiny.f16")
    ollama.script = [
        {"message": {"role": "assistant", "content": GOOD}, "done": False},
        {"message": {"role": "assistant", "content": ""}, "done": True, "done_reason": "stop"},
    ]
    with serving(ollama_app(ollama)) as url:
        running = start_daemon(
            tmp_path / "home",
            "--model",
            str(tiny_model.gguf_path),
            BBJ_CODER_BACKEND_KIND="ollama",
            BBJ_CODER_BACKEND_OLLAMA_URL=url,
            BBJ_CODER_BACKEND_OLLAMA_PUSH="false",
        )
        try:
            async with http_client(running) as client:
                result = await client.call_tool(
                    "generate_bbj_code", {"task": "count to three", "generation": "dwc"}
                )
        finally:
            running.stop()
    data = result.structured_content
    assert data is not None and not result.is_error
    assert data["passed"] is True and data["attempts"] == 1 and data["errors"] == []
    assert data["code"] == "for i = 1 to 3\n  print i\nnext i\n"
    chat = next(body for path, body in ollama.requests if path == "/api/chat")
    assert "dwc" in chat["messages"][0]["content"]  # the asked generation reached the prompt
