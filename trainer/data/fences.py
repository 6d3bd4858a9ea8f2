"""BBj code blocks in training examples: finding them and normalising their fences to ```bbj."""

from __future__ import annotations

import re

from fim.fences import BBJ_LANGUAGE, fence, is_bbj_block, split_segments
from fim.language import KEYWORDS, first_word

_ASSIGNMENT = re.compile(r"^\s*(\d+\s+)?[A-Za-z_][\w.!]*[$%!]?\s*(\[[^\]]*\])?\s*=")
_BBJ_SIGNAL = re.compile(r"[A-Za-z_]\w*[$!]|#\w|\bBBjAPI\b|'\w+'\(?")
_FOREIGN = re.compile(
    r"[{}]\s*$|=>|===|!==|&&|\|\||\bconsole\.|\bfunction\b|\bdocument\."
    r"|^\s*(var|const|import|export|#include|public static)\b|</?[a-z]+[ >]"
)
_SENTENCE = re.compile(r"^\s*[A-Z][a-z']*(\s+[a-z'(),]+){3,}.*[.?!:]\s*$")


def looks_like_bbj(code: str) -> bool:
    """True when at least half of the non-blank lines start like a BBj statement, one of them
    is unmistakably BBj (a keyword, or a ``$``/``!`` variable), and no line is another
    language's (braces, ``=>``, ``const``, ``console.``): program output such as
    ``Total = 55`` and JavaScript are not BBj."""
    lines = [line for line in code.splitlines() if line.strip()]
    if not lines or any(_FOREIGN.search(line) for line in lines):
        return False
    keyword_lines = sum(1 for line in lines if first_word(line) in KEYWORDS)
    statements = sum(1 for line in lines if first_word(line) in KEYWORDS or _ASSIGNMENT.match(line))
    if keyword_lines == 0 and not any(_BBJ_SIGNAL.search(line) for line in lines):
        return False
    return statements * 2 >= len(lines)


def raw_code_split(answer: str) -> int | None:
    """Where unfenced BBj code starts in an answer that has no code block: the start of the
    first paragraph from which everything to the end is BBj (at least two statements, no
    sentence of prose). None when the answer is prose or holds a fenced block."""
    if has_code_block(answer) or "\n" not in answer.strip():
        return None
    starts = [0] + [m.end() for m in re.finditer(r"\n[ \t]*\n", answer)]
    for start in starts:
        code = answer[start:]
        lines = [line for line in code.splitlines() if line.strip()]
        if len(lines) < 2 or any(_SENTENCE.match(line) for line in lines):
            continue
        if looks_like_bbj(code):
            return start
    return None


def fence_raw_code(answer: str) -> tuple[str, bool]:
    """``answer`` with its unfenced trailing BBj code put in a ```bbj fence."""
    start = raw_code_split(answer)
    if start is None:
        return answer, False
    code = answer[start:].strip("\n")
    head = answer[:start].rstrip()
    return (head + "\n\n" if head else "") + fence(code + "\n"), True


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
