"""BBj code blocks in training examples: finding them and normalising their fences to ```bbj."""

from __future__ import annotations

import re

from fim.fences import BBJ_LANGUAGE, fence, is_bbj_block, split_segments
from fim.language import KEYWORDS, first_word

_ASSIGNMENT = re.compile(r"^\s*(\d+\s+)?[A-Za-z_][\w.!]*[$%!]?\s*(\[[^\]]*\])?\s*=")


def looks_like_bbj(code: str) -> bool:
    """True when at least half of the non-blank lines start like a BBj statement."""
    lines = [line for line in code.splitlines() if line.strip()]
    if not lines:
        return False
    statements = sum(1 for line in lines if first_word(line) in KEYWORDS or _ASSIGNMENT.match(line))
    return statements * 2 >= len(lines)


def bbj_blocks(text: str) -> list[str]:
    """The bodies of the BBj code blocks in ``text`` (labelled, or unlabelled BBj-looking)."""
    return [s.body for s in split_segments(text) if is_bbj_block(s, looks_like_bbj)]


def has_code_block(text: str) -> bool:
    return any(s.is_code for s in split_segments(text))


def prose_of(text: str) -> str:
    """``text`` without its code blocks."""
    return "".join(s.raw for s in split_segments(text) if not s.is_code)


def normalise_fences(text: str) -> tuple[str, int]:
    """Rewrite every code block as a plain ``` fence, BBj blocks labelled ``bbj``.

    Returns the new text and how many blocks changed.
    """
    changed = 0
    out = []
    for segment in split_segments(text):
        if not segment.is_code:
            out.append(segment.raw)
            continue
        language = BBJ_LANGUAGE if is_bbj_block(segment, looks_like_bbj) else segment.info
        trailing = "\n" if segment.raw.endswith("\n") else ""
        rendered = fence(segment.body, language) + trailing
        changed += rendered != segment.raw
        out.append(rendered)
    return "".join(out), changed
