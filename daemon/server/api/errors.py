"""API errors rendered in the caller's dialect: OpenAI (``/v1``) or Ollama (``/api``)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse

from daemon.errors import BbjCoderError

_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "invalid_request_error",
    499: "cancelled",
    500: "server_error",
    503: "service_unavailable",
}


class ApiError(BbjCoderError):
    """Raised by route code; turned into a JSON error response by :func:`render_api_error`."""

    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code


def error_body(path: str, status: int, message: str, code: str | None = None) -> dict[str, Any]:
    if path.startswith("/api/"):
        return {"error": message}
    return {
        "error": {"message": message, "type": _TYPES.get(status, "error"), "code": code or status}
    }


async def render_api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return JSONResponse(
        error_body(request.url.path, exc.status, exc.message, exc.code), status_code=exc.status
    )


def describe_validation_error(exc: ValidationError) -> str:
    """One sentence naming each bad field, e.g. "'messages': List should have at least 1 item"."""
    problems = []
    for error in exc.errors()[:5]:
        location = ".".join(str(part) for part in error["loc"]) or "body"
        problems.append(f"'{location}': {error['msg']}")
    return "Invalid request: " + "; ".join(problems) + "."
