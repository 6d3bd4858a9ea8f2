"""Find the BBj code in a chat answer: ```bbj fences, and unlabelled fences that look like BBj."""

from __future__ import annotations

import re
from dataclasses import dataclass

from fim.fences import code_blocks, is_bbj_block
from fim.language import BLOCK_OPENERS, KEYWORDS, first_word

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
    """Every fenced block labelled as BBj, plus unlabelled ones whose lines read like BBj.

    A block still open at the end of the text (an answer cut off mid-block) counts too.
    """
    return [
        CodeBlock(code=block.body, label=block.language, start=block.start, end=block.end)
        for block in code_blocks(text)
        if is_bbj_block(block, _looks_like_bbj)
    ]
