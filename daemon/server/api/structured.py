"""JSON mode and log-probabilities: what only the embedded llama.cpp backend can do.

``response_format`` (OpenAI) and ``format`` (Ollama) become a GBNF grammar that constrains the
generation; any other backend, or a schema that cannot become a grammar, is a 400 that names
the option, never an option silently ignored.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from daemon.backends.base import TokenLogprob
from daemon.errors import BackendError
from daemon.server.api.errors import ApiError
from daemon.server.runtime import Runtime

EMBEDDED = "llama"


def require_embedded(runtime: Runtime, option: str) -> None:
    """400 unless the embedded llama.cpp backend serves (no backend: the route answers 503)."""
    try:
        info = runtime.backend_info()
    except BackendError:
        return
    if info is not None and info.name != EMBEDDED:
        raise ApiError(
            400,
            f"'{option}' needs the embedded llama.cpp backend; this daemon generates through "
            f"{info.name}. Leave '{option}' out.",
            code="unsupported_option",
        )


async def response_format_grammar(
    runtime: Runtime, response_format: dict[str, Any] | None
) -> str | None:
    """The grammar for OpenAI's ``response_format`` (None for plain text)."""
    kind = (response_format or {}).get("type", "text")
    if kind == "text":
        return None
    if kind == "json_object":
        return await _json_grammar(runtime, "response_format", None)
    if kind == "json_schema":
        spec = (response_format or {}).get("json_schema")
        schema = spec.get("schema") if isinstance(spec, dict) else None
        if not isinstance(schema, dict):
            raise ApiError(
                400, "'response_format.json_schema.schema' must be a JSON schema object."
            )
        return await _json_grammar(runtime, "response_format", schema)
    raise ApiError(
        400,
        f"'response_format' type {kind!r} is unknown; use text, json_object or json_schema.",
    )


async def ollama_format_grammar(runtime: Runtime, fmt: str | dict[str, Any] | None) -> str | None:
    """The grammar for Ollama's ``format`` (``"json"`` or a JSON schema; None when absent)."""
    if not fmt:
        return None
    if fmt == "json":
        return await _json_grammar(runtime, "format", None)
    if isinstance(fmt, dict):
        return await _json_grammar(runtime, "format", fmt)
    raise ApiError(400, f"'format' {fmt!r} is unknown; use \"json\" or a JSON schema.")


async def _json_grammar(runtime: Runtime, option: str, schema: dict[str, Any] | None) -> str:
    require_embedded(runtime, option)
    if schema is None:
        from llama_cpp.llama_grammar import JSON_GBNF

        return str(JSON_GBNF)
    # A large schema takes tens of milliseconds to convert and parse: not on the event loop.
    return await asyncio.to_thread(_schema_grammar, option, schema)


def _schema_grammar(option: str, schema: dict[str, Any]) -> str:
    from llama_cpp import LlamaGrammar
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    try:
        gbnf = str(json_schema_to_gbnf(json.dumps(schema)))
        LlamaGrammar.from_string(gbnf, verbose=False)
    except Exception as exc:  # the converter raises bare Exceptions and KeyErrors
        raise ApiError(
            400, f"'{option}' holds a JSON schema bbj-coder cannot enforce: {exc}."
        ) from exc
    return gbnf


def completion_logprobs(logprobs: list[TokenLogprob], text: str) -> dict[str, Any]:
    """OpenAI's legacy completions ``logprobs`` object for the tokens that made ``text``."""
    tokens: list[str] = []
    values: list[float] = []
    tops: list[dict[str, float]] = []
    offsets: list[int] = []
    used = 0
    for entry in logprobs:
        if used >= len(text):
            break  # a stop string cut the text: its tokens are not part of the answer
        tokens.append(entry.token)
        values.append(entry.logprob)
        tops.append(dict(entry.top))
        offsets.append(used)
        used += len(entry.token)
    return {
        "tokens": tokens,
        "token_logprobs": values,
        "top_logprobs": tops,
        "text_offset": offsets,
    }
