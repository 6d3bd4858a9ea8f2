"""Cleaning steps on conversations. Each returns the new list and a ``StepReport`` of counts."""

from __future__ import annotations

import re
from dataclasses import replace
from itertools import pairwise

from fim.fences import split_segments
from trainer.data.fences import fence_raw_code, has_code_block, normalise_fences
from trainer.data.keys import prompt_key, stable_hash
from trainer.data.records import Example, Message, StepReport

DETAIL_LIMIT = 50
"""How many individual cases each step lists in the report (counts are always complete)."""

_ESCAPE_IN_PROSE = re.compile(r"(?<!\\)\\(r\\n|n|t)")
_ESCAPE_EVERYWHERE = re.compile(r'\\(r\\n|n|t|"|\\)')
_INLINE_CODE = re.compile(r"(?<!`)(`+)(?!`)[^\n]+?(?<!`)\1(?!`)")
_WINDOWS_PATH = re.compile(r"(?:\b[A-Za-z]:\\|\\\\\w)[^\s`'\"]*")
_SINGLE_TICK_CODE = re.compile(r"(?<!`)`(?!`)[^`\n]+?`(?!`)")
_STRING_LITERAL = re.compile(r'(?<!\\)"[^"\n]*?(?<!\\)"')
_UNESCAPED = {"r\\n": "\n", "n": "\n", "t": "\t", '"': '"', "\\": "\\"}
_ASKS_FOR_CODE = re.compile(
    r"\b(write|implement|create|generate|rewrite|convert|migrate|port|refactor|fix|complete"
    r"|modify)\b|\b(show|give) me\b.*\b(code|example|program|snippet)\b"
    r"|\bhow (do|can) i\b",
    re.IGNORECASE,
)
_CODE_KINDS = ("completion", "migration")


def repair_text(text: str) -> tuple[str, int]:
    """Turn literal ``\\n``/``\\t`` outside code into real ones; returns (text, replacements).

    A message with no real line break but several literal ones was escaped twice: it is
    unescaped whole (fenced code and escaped quotes too). Either way inline code, string
    literals (``"\\r\\n"`` is BBj, not damage) and Windows paths are left alone, and so are
    fenced code blocks of a message that has real line breaks.
    """
    if "\n" not in text and len(_ESCAPE_IN_PROSE.findall(text)) >= 2:
        spans = [_SINGLE_TICK_CODE, _STRING_LITERAL, _WINDOWS_PATH]
        return _outside(text, spans, _ESCAPE_EVERYWHERE)
    total = 0
    out = []
    for segment in split_segments(text):
        if segment.is_code:
            out.append(segment.raw)
            continue
        repaired, count = _repair_prose(segment.raw)
        out.append(repaired)
        total += count
    return "".join(out), total


def _repair_prose(prose: str) -> tuple[str, int]:
    return _outside(prose, [_INLINE_CODE, _STRING_LITERAL, _WINDOWS_PATH], _ESCAPE_IN_PROSE)


def _outside(
    text: str, protect: list[re.Pattern[str]], escapes: re.Pattern[str]
) -> tuple[str, int]:
    """Unescape ``escapes`` in ``text`` except inside the spans the ``protect`` patterns match
    (the earliest span wins where two overlap)."""
    protected = sorted(
        span for pattern in protect for span in (m.span() for m in pattern.finditer(text))
    )
    out, total, position = [], 0, 0
    for start, end in protected:
        if start < position:
            continue
        fixed, count = escapes.subn(lambda m: _UNESCAPED[m.group(1)], text[position:start])
        out += [fixed, text[start:end]]
        total, position = total + count, end
    fixed, count = escapes.subn(lambda m: _UNESCAPED[m.group(1)], text[position:])
    return "".join([*out, fixed]), total + count


def repair_escapes(examples: list[Example]) -> tuple[list[Example], StepReport]:
    report = StepReport("escapes")
    result = []
    for example in examples:
        messages = []
        for message in example.messages:
            text, count = repair_text(message.content)
            report.add("sequences repaired", count)
            report.add("messages repaired", int(count > 0))
            messages.append(replace(message, content=text))
        if tuple(messages) != example.messages:
            report.add("examples repaired")
            _note(report, {"source": example.source})
        result.append(replace(example, messages=tuple(messages)))
    return result, report


def normalise_code_fences(examples: list[Example]) -> tuple[list[Example], StepReport]:
    """Label BBj blocks ``bbj`` (others keep their label or none), and fence answers that are
    raw BBj code so the checker sees them (the report counts both)."""
    report = StepReport("fences")
    result = []
    for example in examples:
        messages = []
        for message in example.messages:
            text, changed = normalise_fences(message.content)
            report.add("fences normalised", changed)
            if message.role == "assistant":
                text, fenced = fence_raw_code(text)
                if fenced:
                    report.add("raw code answers fenced")
            messages.append(replace(message, content=text))
        if tuple(messages) != example.messages:
            report.add("examples changed")
            _note(report, {"source": example.source})
        result.append(replace(example, messages=tuple(messages)))
    return result, report


def asks_for_code(example: Example, user_text: str) -> bool:
    if example.kind in _CODE_KINDS:
        return True
    return example.kind == "chat" and bool(_ASKS_FOR_CODE.search(user_text))


def flag_missing_code(examples: list[Example], drop: bool) -> tuple[list[Example], StepReport]:
    """Flag (or drop) answers without a code block to a user turn that asked for code."""
    report = StepReport("missing code")
    result = []
    for example in examples:
        if not _missing_code(example):
            result.append(example)
            continue
        report.add("dropped" if drop else "flagged")
        _note(report, {"source": example.source, "prompt": example.first("user")[:200]})
        if not drop:
            result.append(replace(example, flags=(*example.flags, "no-code")))
    return result, report


def _missing_code(example: Example) -> bool:
    messages = example.messages
    for question, answer in pairwise(messages):
        if (
            question.role == "user"
            and answer.role == "assistant"
            and asks_for_code(example, question.content)
            and not has_code_block(answer.content)
        ):
            return True
    return False


def assign_system_prompts(
    examples: list[Example], prompts: tuple[str, ...], seed: int
) -> tuple[list[Example], StepReport]:
    """Give every conversation without a system message one of ``prompts``, chosen by a hash of
    its prompt, so the choice never changes between builds."""
    report = StepReport("system prompts")
    result = []
    for example in examples:
        if example.messages[0].role == "system":
            report.add("kept from the input")
            result.append(example)
            continue
        variant = stable_hash(seed, "system", prompt_key(example)) % len(prompts)
        report.add(f"variant {variant + 1}")
        system = Message("system", prompts[variant])
        result.append(replace(example, messages=(system, *example.messages)))
    return result, report


def _note(report: StepReport, detail: dict[str, object]) -> None:
    if len(report.details) < DETAIL_LIMIT:
        report.details.append(detail)
