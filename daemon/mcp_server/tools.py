"""bbj-coder's MCP tools, written once against :class:`BbjServices` (stdio and ``/mcp`` alike).

Every tool has a JSON schema for its input (from its signature) and a pydantic result that the
SDK sends as ``structuredContent``. Bad input and daemon failures come back as MCP tool
errors (``isError``) whose text is a sentence; nothing a caller sends can crash the server.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field, ValidationError

from daemon import __version__
from daemon.client import CheckDiagnostic, CheckReport
from daemon.errors import BbjCoderError
from daemon.mcp_server.models import (
    CompletionOut,
    DiagnosticOut,
    ExplanationOut,
    GenerationOut,
    SymbolOut,
    ValidationOut,
    WorkspaceSearchOut,
)
from daemon.mcp_server.services import BbjServices
from daemon.services.generate import MAX_ATTEMPTS, GenerateRequest, RequestableGeneration
from daemon.workspace.service import MAX_QUERY_CHARS

MAX_CODE_CHARS = 500_000
"""Longest program (or prefix + suffix) a tool accepts: far above any real BBj source file."""
MAX_TASK_CHARS = 20_000
MAX_NAME_CHARS = 1_000
EXPLAIN_ATTEMPTS = 3

INSTRUCTIONS = (
    "bbj-coder checks and writes BBj (BASIS Business BASIC for Java) on this machine. "
    "validate_bbj_syntax compiles a snippet; generate_bbj_code writes code and keeps fixing it "
    "until the compiler accepts it, then says honestly whether it did; complete_bbj_code fills "
    "in code at a cursor; explain_bbj_diagnostic explains a compiler error and proposes a "
    "checked fix; search_bbj_workspace finds classes, methods and labels in the workspace."
)

_SURROGATE = re.compile("[\ud800-\udfff]")


class BbjMcpServer(MCPServer):
    """MCPServer whose argument errors and unknown-tool errors read as sentences."""

    async def call_tool(self, name: str, arguments: dict[str, Any], context: Any = None) -> Any:
        if self._tool_manager.get_tool(name) is None:
            known = ", ".join(t.name for t in self._tool_manager.list_tools())
            raise ToolError(f"There is no tool named {name!r}; bbj-coder's tools are: {known}.")
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            if isinstance(exc.__cause__, ValidationError):
                raise ToolError(_describe(name, exc.__cause__)) from exc
            raise


def _describe(tool: str, exc: ValidationError) -> str:
    problems = []
    for error in exc.errors()[:5]:
        where = ".".join(str(part) for part in error["loc"]) or "arguments"
        message = "is required" if error["type"] == "missing" else error["msg"][:1].lower()
        if error["type"] != "missing":
            message += error["msg"][1:]
        problems.append(f"'{where}' {message}")
    return f"Invalid arguments for {tool}: " + "; ".join(problems) + "."


def _limit(name: str, value: str, most: int) -> None:
    """Refuse text too long to be one program, or not Unicode text at all."""
    if len(value) > most:
        raise ToolError(
            f"'{name}' is {len(value)} characters; the limit is {most}. Send only the program "
            "or unit the request is about."
        )
    # JSON can carry a lone UTF-16 surrogate ("\ud800"), which no file or compiler can hold.
    bad = _SURROGATE.search(value)
    if bad is not None:
        raise ToolError(
            f"'{name}' is not valid Unicode text: a lone surrogate (U+{ord(bad.group()):04X}) "
            f"at character {bad.start()}."
        )


@contextlib.contextmanager
def _as_tool_error() -> Iterator[None]:
    """A bbj-coder failure (daemon down, no model, prompt too long) is a tool error sentence."""
    try:
        yield
    except BbjCoderError as exc:
        raise ToolError(str(exc)) from exc


def _diagnostic(d: CheckDiagnostic) -> DiagnosticOut:
    return DiagnosticOut(line=d.line, column=d.col, message=d.message, severity=d.severity)


def _validation(report: CheckReport) -> ValidationOut:
    return ValidationOut(
        ok=report.ok,
        checker=report.checker,
        diagnostics=[_diagnostic(d) for d in report.diagnostics],
        tool_error=report.tool_error,
    )


def _describe_diagnostic(d: CheckDiagnostic) -> str:
    where = f"line {d.line}, col {d.col}" if d.col else f"line {d.line}"
    return f"{where}: {d.message}"


def _nearest(report: CheckReport, line: int) -> CheckDiagnostic | None:
    if not report.diagnostics:
        return None
    return min(report.diagnostics, key=lambda d: (abs(d.line - line), d.line))


def build_server(services: BbjServices) -> BbjMcpServer:
    """The MCP server with bbj-coder's tools, serving through ``services``."""
    server = BbjMcpServer(
        name="bbj-coder", version=__version__, instructions=INSTRUCTIONS, log_level="WARNING"
    )

    @server.tool(title="Validate BBj syntax")
    async def validate_bbj_syntax(
        code: Annotated[str, Field(description="The BBj program or snippet to compile.")],
        filename: Annotated[
            str | None, Field(description="Its file name (e.g. Orders.bbj), for messages.")
        ] = None,
    ) -> ValidationOut:
        """Compile BBj code with the BBj compiler (bbjcpl) when installed, else bbj-coder's
        built-in BBj parser, and return the verdict with each error's line and column."""
        _limit("code", code, MAX_CODE_CHARS)
        _limit("filename", filename or "", MAX_NAME_CHARS)
        with _as_tool_error():
            return _validation(await services.check(code, filename))

    @server.tool(title="Generate compiler-checked BBj code")
    async def generate_bbj_code(
        task: Annotated[str, Field(description="What the code should do, in words.")],
        ctx: Context,
        context_code: Annotated[
            str, Field(description="Existing BBj code the task refers to or should match.")
        ] = "",
        generation: Annotated[
            RequestableGeneration | None,
            Field(description="BBj generation to write for; detected from the code if omitted."),
        ] = None,
        max_attempts: Annotated[
            int, Field(ge=1, le=MAX_ATTEMPTS, description="Generate→check rounds at most.")
        ] = 3,
    ) -> GenerationOut:
        """Write BBj code with bbj-coder's local model, compile it, feed the compiler's errors
        back and retry; returns the code and an honest verdict (passed or not, with the errors
        that remain). Reports progress as each attempt starts and is judged."""
        _limit("task", task, MAX_TASK_CHARS)
        _limit("context_code", context_code, MAX_CODE_CHARS)
        if not task.strip():
            raise ToolError("'task' is empty; say what the code should do.")

        async def progress(done: float, total: int, message: str) -> None:
            await ctx.report_progress(done, total, message)

        request = GenerateRequest(task, context_code, generation, max_attempts)
        with _as_tool_error():
            result = await services.generate(request, progress)
        return GenerationOut(
            code=result.code,
            passed=result.passed,
            checker=result.checker,
            attempts=result.attempts,
            generation=result.generation,
            errors=list(result.errors),
            explanation=result.explanation,
        )

    @server.tool(title="Complete BBj code at a cursor")
    async def complete_bbj_code(
        prefix: Annotated[str, Field(description="The file's text before the cursor.")],
        suffix: Annotated[str, Field(description="The file's text after the cursor.")] = "",
        path: Annotated[str | None, Field(description="The file's path, for context.")] = None,
    ) -> CompletionOut:
        """Fill in code at the cursor (fill-in-the-middle), through the same compile gate as
        the editor's completions: a completion that adds compiler errors is not returned."""
        _limit("prefix + suffix", prefix + suffix, MAX_CODE_CHARS)
        _limit("path", path or "", MAX_NAME_CHARS)
        with _as_tool_error():
            done = await services.complete(prefix, suffix, path)
        return CompletionOut(
            completion=done.text,
            checked=done.checker is not None,
            passed=done.passed,
            checker=done.checker,
            new_errors=list(done.new_errors),
            finish_reason=done.finish_reason,
            superseded=done.superseded,
        )

    @server.tool(title="Explain a BBj compiler error")
    async def explain_bbj_diagnostic(
        code: Annotated[str, Field(description="The BBj program that fails to compile.")],
        line: Annotated[int, Field(ge=1, description="The 1-based line of the error.")],
        ctx: Context,
    ) -> ExplanationOut:
        """Explain the compiler error on (or nearest) a line and propose a corrected program
        that passes the check, or say honestly that no checked fix was found."""
        _limit("code", code, MAX_CODE_CHARS)
        with _as_tool_error():
            report = await services.check(code, None)
            if report.tool_error:
                raise ToolError(f"The code could not be checked: {report.tool_error}")
            found = _nearest(report, line)
            if found is None:
                return ExplanationOut(
                    line=line,
                    diagnostic=None,
                    explanation=f"{report.checker} reports no error in this code.",
                    fixed_code=None,
                    passed=False,
                    checker=report.checker,
                    attempts=0,
                    remaining_errors=[],
                )
            task = (
                f"This BBj program fails the compile check at {_describe_diagnostic(found)}. "
                "Explain in one or two sentences what the error means and why it happens there, "
                "then give the complete corrected program."
            )

            async def progress(done: float, total: int, message: str) -> None:
                await ctx.report_progress(done, total, message)

            result = await services.generate(
                GenerateRequest(task, code, None, EXPLAIN_ATTEMPTS), progress
            )
        explanation = result.explanation
        if not result.passed:
            explanation = (explanation + " " if explanation else "") + (
                f"No checked fix found: {result.attempts} attempt(s) still fail {result.checker}."
            )
        return ExplanationOut(
            line=line,
            diagnostic=_describe_diagnostic(found),
            explanation=explanation,
            fixed_code=result.code if result.passed else None,
            passed=result.passed,
            checker=result.checker,
            attempts=result.attempts,
            remaining_errors=list(result.errors),
        )

    @server.tool(title="Search the BBj workspace")
    async def search_bbj_workspace(
        query: Annotated[str, Field(description="Part of a class, method, label or FN name.")],
        limit: Annotated[int, Field(ge=1, le=500, description="Most symbols returned.")] = 50,
    ) -> WorkspaceSearchOut:
        """Find classes, methods, fields, labels and DEF FNs in the workspace the daemon
        indexes, with their file, line, signature and doc comment."""
        _limit("query", query, MAX_QUERY_CHARS)
        with _as_tool_error():
            symbols = await services.workspace_symbols(query, limit)
        return WorkspaceSearchOut(symbols=[SymbolOut.model_validate(s) for s in symbols])

    return server
