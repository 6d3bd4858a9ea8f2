"""The tools through the SDK's own client, in-process, on the real checker and generate loop
with a scripted model: the pass path, the fix loop with progress, the honest failure, bad input."""

from __future__ import annotations

import httpx
import pytest
from mcp import Client

from daemon.check import CheckResult
from daemon.mcp_server import MAX_CODE_CHARS, build_server
from tests.mcp.standins import BAD_PROGRAM, BROKEN, GOOD, StandInServices

pytestmark = pytest.mark.anyio

TOOLS = {
    "validate_bbj_syntax",
    "generate_bbj_code",
    "complete_bbj_code",
    "explain_bbj_diagnostic",
    "search_bbj_workspace",
}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_tools_are_listed_with_input_and_output_schemas() -> None:
    async with Client(build_server(StandInServices([GOOD]))) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    assert set(tools) == TOOLS
    assert tools["validate_bbj_syntax"].input_schema["required"] == ["code"]
    assert tools["explain_bbj_diagnostic"].input_schema["required"] == ["code", "line"]
    for tool in tools.values():
        assert tool.output_schema is not None and tool.output_schema["type"] == "object"


async def test_validate_reports_line_and_column() -> None:
    async with Client(build_server(StandInServices([GOOD]))) as client:
        good = await client.call_tool("validate_bbj_syntax", {"code": "print 1\n"})
        bad = await client.call_tool("validate_bbj_syntax", {"code": BAD_PROGRAM})
    assert not good.is_error and good.structured_content == {
        "ok": True,
        "checker": "builtin",
        "diagnostics": [],
        "tool_error": None,
    }
    assert bad.structured_content is not None and bad.structured_content["ok"] is False
    first = bad.structured_content["diagnostics"][0]
    assert first["line"] == 2 and first["message"]


async def test_generate_passes_with_known_good_code() -> None:
    services = StandInServices([GOOD])
    async with Client(build_server(services)) as client:
        result = await client.call_tool(
            "generate_bbj_code", {"task": "count to three", "generation": "character"}
        )
    data = result.structured_content
    assert data is not None and not result.is_error
    assert data["passed"] is True and data["attempts"] == 1 and data["errors"] == []
    assert "next i" in data["code"] and data["generation"] == "character"
    system = services.backend.calls[0][0].content
    assert "character" in system  # the asked generation is named in the prompt


async def test_generate_fixes_with_the_compiler_errors_and_reports_progress() -> None:
    services = StandInServices([BROKEN, GOOD])
    seen: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, total, message))

    async with Client(build_server(services)) as client:
        result = await client.call_tool(
            "generate_bbj_code", {"task": "count"}, progress_callback=on_progress
        )
    data = result.structured_content
    assert data is not None and data["passed"] is True and data["attempts"] == 2
    fix = services.backend.calls[1][-1].content
    assert "line 2" in fix  # the checker's error went back to the model
    assert seen and seen[-1][0] == 2 and all(t == 3 for _, t, _ in seen)
    values = [p for p, _, _ in seen]
    assert values == sorted(set(values))  # MCP progress only ever increases


async def test_generate_says_honestly_when_nothing_passed() -> None:
    async with Client(build_server(StandInServices([BROKEN]))) as client:
        result = await client.call_tool("generate_bbj_code", {"task": "x", "max_attempts": 2})
    data = result.structured_content
    assert data is not None and not result.is_error
    assert data["passed"] is False and data["attempts"] == 2 and data["errors"]


async def test_explain_gives_a_checked_fix_or_says_none_was_found() -> None:
    async with Client(build_server(StandInServices([GOOD]))) as client:
        fixed = await client.call_tool("explain_bbj_diagnostic", {"code": BAD_PROGRAM, "line": 2})
    async with Client(build_server(StandInServices([BROKEN]))) as client:
        unfixed = await client.call_tool("explain_bbj_diagnostic", {"code": BAD_PROGRAM, "line": 2})
    assert fixed.structured_content is not None and unfixed.structured_content is not None
    assert fixed.structured_content["passed"] is True
    assert "next i" in fixed.structured_content["fixed_code"]
    assert fixed.structured_content["diagnostic"].startswith("line 2")
    assert unfixed.structured_content["fixed_code"] is None
    assert "No checked fix found" in unfixed.structured_content["explanation"]


async def test_workspace_search_returns_symbols_and_a_disabled_index_is_a_tool_error() -> None:
    symbol = {
        "name": "OrderForm",
        "kind": "class",
        "path": "src/OrderForm.bbj",
        "line": 3,
        "signature": "class public OrderForm",
        "container": None,
        "doc": "The order form.",
    }

    def index(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v1/bbj/workspace/symbols"
        assert request.url.params["query"] == "Order" and request.url.params["limit"] == "5"
        return httpx.Response(200, json={"symbols": [symbol]})

    def disabled(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json={"error": {"message": "The workspace index is off."}})

    services = StandInServices([GOOD], workspace=httpx.MockTransport(index))
    async with Client(build_server(services)) as client:
        found = await client.call_tool("search_bbj_workspace", {"query": "Order", "limit": 5})
    services = StandInServices([GOOD], workspace=httpx.MockTransport(disabled))
    async with Client(build_server(services)) as client:
        off = await client.call_tool("search_bbj_workspace", {"query": "Order"})
    assert found.structured_content == {"symbols": [symbol]}
    assert off.is_error
    assert "the workspace index is not enabled in this daemon" in off.content[0].text


@pytest.mark.parametrize(
    ("tool", "arguments", "words"),
    [
        ("validate_bbj_syntax", {}, "'code' is required"),
        ("explain_bbj_diagnostic", {"code": "x"}, "'line' is required"),
        ("explain_bbj_diagnostic", {"code": "x", "line": 0}, "'line'"),
        ("generate_bbj_code", {"task": "x", "generation": "cobol"}, "'generation'"),
        ("validate_bbj_syntax", {"code": "x" * (MAX_CODE_CHARS + 1)}, "the limit is"),
        ("no_such_tool", {}, "There is no tool named 'no_such_tool'"),
        ("validate_bbj_syntax", {"code": "print \ud800"}, "lone surrogate (U+D800) at character 6"),
        ("complete_bbj_code", {"prefix": "a", "path": "\udfff.bbj"}, "'path' is not valid Unicode"),
        ("generate_bbj_code", {"task": "  "}, "'task' is empty"),
    ],
)
async def test_bad_input_is_a_tool_error_with_a_sentence(
    tool: str, arguments: dict[str, object], words: str
) -> None:
    async with Client(build_server(StandInServices([GOOD]))) as client:
        result = await client.call_tool(tool, arguments)
        still = await client.call_tool("validate_bbj_syntax", {"code": "print 1\n"})
    assert result.is_error and words in result.content[0].text
    assert result.content[0].text.rstrip().endswith(".")
    assert not still.is_error  # the server goes on serving


async def test_generation_is_detected_from_the_context_code() -> None:
    services = StandInServices([GOOD])
    context = 'print @(0,0),"Orders"\nprint @(0,1),"Total:"\n'
    async with Client(build_server(services)) as client:
        result = await client.call_tool(
            "generate_bbj_code", {"task": "add a line", "context_code": context}
        )
    assert result.structured_content is not None
    assert result.structured_content["generation"] == "character"
    system, user = services.backend.calls[0]
    assert "character" in system.content and context.strip() in user.content


async def test_a_broken_checker_never_reads_as_a_pass() -> None:
    class BrokenChecker:
        name = "bbjcpl"

        async def check(self, code: str, filename: str | None = None) -> CheckResult:
            return CheckResult(False, (), "bbjcpl", 0.0, tool_error="bbjcpl timed out")

    services = StandInServices([GOOD])
    services.checker = BrokenChecker()  # type: ignore[assignment]
    async with Client(build_server(services)) as client:
        result = await client.call_tool("generate_bbj_code", {"task": "count"})
    data = result.structured_content
    assert data is not None and data["passed"] is False and data["attempts"] == 1
    assert data["errors"] == ["the code could not be checked: bbjcpl timed out"]


def test_every_real_generation_can_be_asked_for() -> None:
    from daemon.services.generate import REQUESTABLE_GENERATIONS
    from fim.generation import GENERATIONS, MIXED, UNKNOWN

    assert set(REQUESTABLE_GENERATIONS) == set(GENERATIONS) - {MIXED, UNKNOWN}
