"""The "Fix with bbj-coder" quick fix for this server's compiler diagnostics.

The chat rewrites the block around the diagnostic (see :mod:`lsp.fixer`); the patched document
is checked through ``/v1/bbj/check`` and the edit is offered only if the fix passes.

Asking the chat takes seconds, so where the editor supports ``codeAction/resolve`` for ``edit``
the action is listed at once and the fix is computed when the user picks it; a fix that does
not pass then resolves without an edit and the user is told.  Other editors get the action
only when a passing fix was computed up front.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.workspace import TextDocument

from daemon.client import CheckReport, DaemonClient
from lsp.documents import physical_lines
from lsp.features.diagnostics import SOURCES
from lsp.fixer import (
    CompilerDiagnostic,
    LineSpan,
    enclosing_block,
    extract_code,
    fix_messages,
    fix_passes,
    replace_span,
)
from lsp.log import logger

if TYPE_CHECKING:
    from lsp.daemon_link import DaemonLink
    from lsp.server import BbjLanguageServer

FIX_TITLE = "Fix with bbj-coder"
FIX_TEMPERATURE = 0.2
NO_FIX = "bbj-coder found no fix that passes the compiler check; nothing was changed."


def ours(diagnostics: list[types.Diagnostic]) -> list[types.Diagnostic]:
    return [d for d in diagnostics if d.source in SOURCES]


def wants_quickfix(only: list[str] | None) -> bool:
    """Whether the requested kinds (hierarchical, e.g. "quickfix" or "") include quick fixes."""
    if only is None:
        return True
    kind = types.CodeActionKind.QuickFix.value
    wanted = [str(getattr(o, "value", o)) for o in only]
    return any(not w or kind == w or kind.startswith(f"{w}.") for w in wanted)


def client_resolves_edits(server: BbjLanguageServer) -> bool:
    text_document = server.client_capabilities.text_document
    code_action = text_document.code_action if text_document else None
    support = code_action.resolve_support if code_action else None
    return bool(support and "edit" in support.properties)


class Fixer:
    """Asks the daemon's chat for a fix and checks it."""

    def __init__(self, server: BbjLanguageServer) -> None:
        self._server = server

    async def propose(
        self, uri: str, version: int | None, diagnostics: list[types.Diagnostic]
    ) -> types.WorkspaceEdit | None:
        """An edit that fixes ``diagnostics`` in that version of the document, or None."""
        document = self._server.bbj_document(uri)
        if document is None or document.version != version or not diagnostics:
            return None
        source = document.source
        lines = physical_lines(source)
        problems = [CompilerDiagnostic(d.range.start.line, d.message) for d in diagnostics]
        span = enclosing_block(lines, problems[0].line)
        inside = [p for p in problems if p.line in span]
        link = await self._server.daemon_ready()
        code = await self._ask(link, fix_messages(document.filename or uri, lines, span, inside))
        if code is None:
            return None
        patched, patched_span = replace_span(lines, span, code)
        if not await self._passes(link, source, patched, patched_span, document.filename):
            return None
        current = self._server.bbj_document(uri)
        if current is None or current.version != version:
            return None
        return self._workspace_edit(current, span, code)

    async def _ask(self, link: DaemonLink, messages: list[dict[str, str]]) -> str | None:
        max_tokens = self._server.settings.max_fix_tokens

        async def chat(client: DaemonClient) -> str:
            return await client.chat(messages, max_tokens=max_tokens, temperature=FIX_TEMPERATURE)

        answer = await link.request(chat, FIX_TITLE)
        if answer is None:
            return None
        code = extract_code(answer)
        if code is None:
            logger.info("%s: the answer had no fenced code block", FIX_TITLE)
        return code

    async def _passes(
        self, link: DaemonLink, source: str, patched: str, span: LineSpan, name: str | None
    ) -> bool:
        before = await self._check(link, source, name)
        after = await self._check(link, patched, name)
        if before is None or after is None or after.tool_error:
            return False
        passes = fix_passes(
            [d.line for d in before.diagnostics], [d.line for d in after.diagnostics], span
        )
        logger.info(
            "%s: the fix %s the %s check (%d error(s) left)",
            FIX_TITLE,
            "passes" if passes else "does not pass",
            after.checker,
            len(after.diagnostics),
        )
        return passes

    async def _check(self, link: DaemonLink, code: str, name: str | None) -> CheckReport | None:
        async def check(client: DaemonClient) -> CheckReport:
            return await client.check(code, filename=name)

        return await link.request(check, "The compiler check")

    def _workspace_edit(
        self, document: TextDocument, span: LineSpan, code: str
    ) -> types.WorkspaceEdit:
        last_line = physical_lines(document.source)[span.last]
        end = document.position_codec.client_num_units(last_line)
        replaced = types.Range(
            start=types.Position(line=span.first, character=0),
            end=types.Position(line=span.last, character=end),
        )
        newline = "\r\n" if "\r\n" in document.source else "\n"
        edit = types.TextEdit(range=replaced, new_text=code.replace("\n", newline))
        if not self._client_takes_document_changes():
            return types.WorkspaceEdit(changes={document.uri: [edit]})
        versioned = types.OptionalVersionedTextDocumentIdentifier(
            uri=document.uri, version=document.version
        )
        return types.WorkspaceEdit(
            document_changes=[types.TextDocumentEdit(text_document=versioned, edits=[edit])]
        )

    def _client_takes_document_changes(self) -> bool:
        workspace = self._server.client_capabilities.workspace
        edit = workspace.workspace_edit if workspace else None
        return bool(edit and edit.document_changes)


def _fix_target(data: Any) -> tuple[str, int | None] | None:
    """(uri, version) from a code action's ``data``; None when it is not ours."""
    if not isinstance(data, dict) or not isinstance(data.get("uri"), str):
        return None
    version = data.get("version")
    return data["uri"], version if isinstance(version, int) else None


def setup(server: BbjLanguageServer) -> None:
    fixer = Fixer(server)
    options = types.CodeActionOptions(
        code_action_kinds=[types.CodeActionKind.QuickFix], resolve_provider=True
    )

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION, options)
    async def code_action(params: types.CodeActionParams) -> list[types.CodeAction] | None:
        uri = params.text_document.uri
        document = server.bbj_document(uri)
        diagnostics = ours(list(params.context.diagnostics))
        if document is None or not diagnostics or not wants_quickfix(params.context.only):
            return None
        action = types.CodeAction(
            title=FIX_TITLE,
            kind=types.CodeActionKind.QuickFix,
            diagnostics=diagnostics,
            data={"uri": uri, "version": document.version},
        )
        if client_resolves_edits(server):
            return [action]
        action.edit = await fixer.propose(uri, document.version, diagnostics)
        return [action] if action.edit is not None else None

    @server.feature(types.CODE_ACTION_RESOLVE)
    async def resolve(action: types.CodeAction) -> types.CodeAction:
        target = _fix_target(action.data)
        if target is None or action.edit is not None:
            return action
        action.edit = await fixer.propose(*target, list(action.diagnostics or []))
        if action.edit is None:
            server.notices.info(NO_FIX)
        return action
