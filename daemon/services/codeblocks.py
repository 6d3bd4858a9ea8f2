"""Find the BBj code in a chat answer: ```bbj fences, and unlabelled fences that look like BBj."""

from __future__ import annotations

import re
from dataclasses import dataclass

from fim.language import BLOCK_OPENERS, KEYWORDS, first_word

# A fence closes at a line of ``` or, for an answer cut off mid-block, at the end of the text.
_FENCE = re.compile(r"^```[ \t]*([\w+#.-]*)[^\n]*\n(.*?)(?:^```[ \t]*$|\Z)", re.M | re.S)
BBJ_LABELS = frozenset({"bbj", "bbx", "basic", "bbjt", "pro5", "vpro5"})
_OTHER_LANGUAGE_HINTS = re.compile(r"^\s*(def |import |public static|#include|function |const )")


@dataclass(frozen=True)
class CodeBlock:
    code: str
    label: str
    start: int
    end: int


def _looks_like_bbj(code: str) -> bool:
    lines = [line for line in code.splitlines() if line.strip()]
    if not lines or any(_OTHER_LANGUAGE_HINTS.match(line) for line in lines[:3]):
        return False
    words = [first_word(line) for line in lines]
    known = sum(1 for w in words if w in KEYWORDS or w in BLOCK_OPENERS)
    return known >= max(1, len(lines) // 3)


def extract_bbj_blocks(text: str) -> list[CodeBlock]:
    """Every fenced block labelled as BBj, plus unlabelled ones whose lines read like BBj."""
    blocks = []
    for match in _FENCE.finditer(text):
        label, code = match.group(1).lower(), match.group(2)
        if label in BBJ_LABELS or (not label and _looks_like_bbj(code)):
            blocks.append(CodeBlock(code=code, label=label, start=match.start(), end=match.end()))
    return blocks
