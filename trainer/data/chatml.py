"""ChatML JSONL (``{"messages": [{"role", "content"}, ...]}``), read tolerantly.

Blank lines and byte-order marks are skipped; a bad line is reported with its file and line
number and skipped; a missing system message is added later by cleaning. Optional top-level
``generation`` and ``type`` keys label the record for the report.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from trainer.data.records import (
    CHAT_TYPE,
    EXAMPLE_TYPES,
    GENERATIONS,
    ROLES,
    UNKNOWN_GENERATION,
    DataError,
    Example,
    InputProblem,
    Message,
)
from trainer.data.tokens import SPECIAL_TOKENS

BOM = b"\xef\xbb\xbf"


class BadRecord(DataError):
    """A JSONL line that is not a usable conversation; ``field`` says where. It never escapes
    this module: the line becomes a :class:`Problem` and is skipped."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def load_chatml_file(
    path: Path, first_order: int, max_line_bytes: int
) -> tuple[list[Example], list[InputProblem]]:
    """Every good record of ``path``; bad lines become problems, never exceptions."""
    name = str(path)
    examples: list[Example] = []
    problems: list[InputProblem] = []
    try:
        with path.open("rb") as handle:
            for number, raw in _lines(handle, max_line_bytes):
                if raw is None:
                    message = f"line longer than {max_line_bytes} bytes skipped"
                    problems.append(InputProblem(name, message, number))
                    continue
                result = _parse_line(raw)
                if result is None:
                    continue
                if isinstance(result, BadRecord):
                    problems.append(InputProblem(name, str(result), number, result.field))
                    continue
                order = first_order + len(examples)
                examples.append(_example(result, f"{name}:{number}", order, problems, number))
    except OSError as exc:
        problems.append(InputProblem(name, f"cannot be read ({exc.strerror})"))
    return examples, problems


def _lines(handle: BinaryIO, limit: int) -> Iterator[tuple[int, bytes | None]]:
    """Numbered lines; a line over ``limit`` bytes is skipped without holding it in memory."""
    number = 0
    while True:
        chunk = handle.readline(limit + 1)
        if not chunk:
            return
        number += 1
        if len(chunk) > limit and not chunk.endswith(b"\n"):
            while chunk and not chunk.endswith(b"\n"):
                chunk = handle.readline(1 << 20)
            yield number, None
            continue
        yield number, chunk


def _parse_line(raw: bytes) -> dict[str, Any] | BadRecord | None:
    raw = raw.removeprefix(BOM).strip()
    if not raw:
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return BadRecord(f"not UTF-8 (byte {exc.start})")
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        return BadRecord(f"not valid JSON ({exc.msg} at column {exc.colno})")
    try:
        return _validate(record)
    except BadRecord as exc:
        return exc


def _validate(record: Any) -> dict[str, Any]:
    if not isinstance(record, dict):
        raise BadRecord("must be a JSON object with a 'messages' list")
    messages = record.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadRecord("must be a non-empty list of messages", "messages")
    cleaned = [_message(item, index) for index, item in enumerate(messages)]
    roles = [m.role for m in cleaned]
    if "user" not in roles:
        raise BadRecord("has no user message", "messages")
    if roles[-1] != "assistant":
        raise BadRecord("must end with an assistant message", "messages")
    if "system" in roles[roles.index("user") :]:
        raise BadRecord("has a system message after the conversation started", "messages")
    return {**record, "messages": cleaned}


def _message(item: Any, index: int) -> Message:
    where = f"messages[{index}]"
    if not isinstance(item, dict):
        raise BadRecord("must be an object with 'role' and 'content'", where)
    role = item.get("role")
    if not isinstance(role, str) or role.strip().lower() not in ROLES:
        raise BadRecord(f"{role!r} is not one of {', '.join(ROLES)}", f"{where}.role")
    content = _content_text(item.get("content"))
    if content is None:
        raise BadRecord("must be a string", f"{where}.content")
    role = role.strip().lower()
    if role != "system" and not content.strip():
        raise BadRecord("is empty", f"{where}.content")
    token = next((t for t in SPECIAL_TOKENS if t in content), None)
    if token is not None:
        raise BadRecord(f"contains the special token {token} as text", f"{where}.content")
    return Message(role, content.replace("\r\n", "\n"))


def _content_text(content: Any) -> str | None:
    """A string, or the text parts of an OpenAI-style list of content parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list) and all(isinstance(p, dict) for p in content):
        texts = [p.get("text") for p in content if p.get("type", "text") == "text"]
        if texts and all(isinstance(t, str) for t in texts):
            return "".join(texts)
    return None


def _example(
    record: dict[str, Any], source: str, order: int, problems: list[InputProblem], line: int
) -> Example:
    path = source.rsplit(":", 1)[0]
    generations = _labels(record.get("generation"), GENERATIONS)
    if generations is None:
        message = f"unknown generation {record['generation']!r} ignored"
        problems.append(InputProblem(path, message, line, "generation", skipped=False))
    kind = record.get("type") if record.get("type") in EXAMPLE_TYPES else CHAT_TYPE
    if "type" in record and kind == CHAT_TYPE:
        message = f"unknown type {record['type']!r} ignored"
        problems.append(InputProblem(path, message, line, "type", skipped=False))
    return Example(
        messages=tuple(record["messages"]),
        source=source,
        order=order,
        origin="chatml",
        kind=kind,
        generations=generations or (UNKNOWN_GENERATION,),
    )


def _labels(value: Any, allowed: tuple[str, ...]) -> tuple[str, ...] | None:
    """The generation label(s) of a record: () when absent, None when not understood."""
    if value is None:
        return ()
    values = [value] if isinstance(value, str) else value
    if isinstance(values, list) and values and all(v in allowed for v in values):
        return tuple(values)
    return None
