"""``POST /v1/bbj/next-edit``: the edit that should follow the user's recent ones, or none.

Request: ``{path, text, cursor: {line, character}, edits: [{path, start_line, original,
updated}], context: [{path, text}], max_tokens?, client?}``. Response: ``{edits: [{range,
new_text}], reason, window, updated_window, check, superseded, finish_reason, timings}``;
``edits`` is empty when there is no suggestion and ``reason`` says why (``no_change``,
``undo``, ``check_failed``, ``incomplete``, ``superseded``).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from daemon.server.api.common import (
    backend_errors,
    client_key,
    read_json,
    runtime_of,
    until_disconnected,
)
from daemon.server.api.errors import ApiError
from daemon.server.api.schemas import BbjNextEditRequest
from daemon.services.next_edit import NextEditRequest, NextEditResult
from fim import ContextFile
from fim.next_edit import CursorOutOfRangeError, Hunk, Position

FILE_SEP_FIM_FORMATS = ("qwen2.5-coder",)
"""FIM formats whose vocabulary has <|file_sep|>, which the next-edit prompt needs."""


def _request(
    request: Request, body: BbjNextEditRequest, max_hunks: int, max_chars: int
) -> NextEditRequest:
    history = sum(len(h.original) + len(h.updated) for h in body.edits)
    if len(body.edits) > max_hunks or history > max_chars:
        raise ApiError(
            400,
            f"The edit history has {len(body.edits)} hunks and {history} characters; at most "
            f"{max_hunks} hunks and {max_chars} characters are accepted (next_edit."
            "max_history_hunks / max_history_chars). Send only the most recent edits.",
            code="history_too_large",
        )
    return NextEditRequest(
        path=body.path,
        text=body.text,
        cursor=Position(body.cursor.line, body.cursor.character),
        hunks=tuple(
            Hunk(h.path, h.start_line, Hunk.unblock(h.original), Hunk.unblock(h.updated))
            for h in body.edits
        ),
        context=tuple(ContextFile(c.path, c.text) for c in body.context),
        client=client_key(request, body.client),
        max_tokens=body.max_tokens,
    )


def _payload(result: NextEditResult) -> dict[str, object]:
    built = result.built
    stats = result.stats
    return {
        "edits": [edit.to_dict() for edit in result.edits],
        "reason": result.reason,
        "window": None
        if built is None
        else {"start_line": built.window.start, "end_line": built.window.end},
        "updated_window": result.updated_window,
        "check": None
        if result.check is None
        else {
            "checker": result.check.checker,
            "passed": result.check.passed,
            "new_errors": list(result.check.new_errors),
        },
        "superseded": result.superseded,
        "finish_reason": stats.finish_reason,
        "timings": {
            "total_ms": round(result.elapsed_s * 1000, 1),
            "first_token_ms": round(stats.prompt_eval_s * 1000, 1),
            "prompt_tokens": stats.prompt_tokens,
            "cached_tokens": stats.cached_tokens,
            "completion_tokens": stats.completion_tokens,
        },
    }


async def bbj_next_edit(request: Request) -> Response:
    runtime = runtime_of(request)
    body = await read_json(request, BbjNextEditRequest)
    settings = runtime.config.next_edit
    if not settings.enabled:
        raise ApiError(404, "Next-edit suggestions are turned off (next_edit.enabled = false).")
    edit_request = _request(request, body, settings.max_history_hunks, settings.max_history_chars)
    with backend_errors():
        service = runtime.next_edit_service()
        fmt = service.backend.info().fim_format
        if fmt not in FILE_SEP_FIM_FORMATS:
            raise ApiError(
                409,
                f"The loaded model's prompt format is {fmt or 'unknown'}; next-edit suggestions "
                "need a Qwen2.5-Coder-family model (the prompt is built from <|file_sep|> blocks).",
                code="model_unsuitable",
            )
        checker = runtime.checker if settings.check else None
        try:
            result = await until_disconnected(
                request, service.suggest(edit_request, checker), lambda: None
            )
        except CursorOutOfRangeError as exc:
            raise ApiError(400, str(exc), code="cursor_out_of_range") from exc
    return JSONResponse(_payload(result))
