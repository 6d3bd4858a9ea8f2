"""Fenced code blocks in Markdown text: splitting, extracting and normalising them to ```bbj."""

from __future__ import annotations

import re
from dataclasses import dataclass

from fim.language import KEYWORDS, first_word

BBJ_LANGUAGE = "bbj"
BBJ_ALIASES: frozenset[str] = frozenset(
    {
        "bbj",
        "bbx",
        "bbjt",
        "bbl",
        "basic",
        "bbasic",
        "business-basic",
        "businessbasic",
        "pro5",
        "vpro5",
        "visualpro5",
        "visual-pro5",
        "dwc",
        "bbj-gui",
    }
)
"""Info strings taken to mean BBj (compared lower-cased)."""

_FENCE_OPEN = re.compile(r"^(?P<indent> {0,3})(?P<marker>`{3,}|~{3,})(?P<info>.*?)\s*$")
_ASSIGNMENT = re.compile(r"^\s*(\d+\s+)?[A-Za-z_][\w.!]*[$%!]?\s*(\[[^\]]*\])?\s*=")


@dataclass(frozen=True)
class Segment:
    """A run of prose, or one fenced code block with its fence lines, as it appears in the text."""

    raw: str
    is_code: bool = False
    marker: str = ""
    info: str = ""
    body: str = ""
    closed: bool = True

    @property
    def language(self) -> str:
        return self.info.split()[0].lower() if self.info.strip() else ""


def split_segments(text: str) -> list[Segment]:
    """Split ``text`` into prose and code segments; joining their ``raw`` gives ``text`` back."""
    segments: list[Segment] = []
    prose: list[str] = []
    lines = text.splitlines(keepends=True)
    index = 0
    while index < len(lines):
        opener = _opening_fence(lines[index])
        if opener is None:
            prose.append(lines[index])
            index += 1
            continue
        if prose:
            segments.append(Segment("".join(prose)))
            prose = []
        segment, index = _read_block(lines, index, *opener)
        segments.append(segment)
    if prose:
        segments.append(Segment("".join(prose)))
    return segments


def _opening_fence(line: str) -> tuple[str, str, str] | None:
    match = _FENCE_OPEN.match(line.rstrip("\n"))
    if match is None:
        return None
    marker, info = match["marker"], match["info"]
    if marker.startswith("`") and "`" in info:
        return None
    return match["indent"], marker, info.strip()


def _read_block(
    lines: list[str], start: int, indent: str, marker: str, info: str
) -> tuple[Segment, int]:
    body: list[str] = []
    index = start + 1
    while index < len(lines):
        stripped = lines[index].strip()
        if stripped.startswith(marker[0] * len(marker)) and not stripped.strip(marker[0]):
            raw = "".join(lines[start : index + 1])
            return Segment(raw, True, marker, info, _dedent(body, len(indent))), index + 1
        body.append(lines[index])
        index += 1
    raw = "".join(lines[start:])
    return Segment(raw, True, marker, info, _dedent(body, len(indent)), closed=False), index


def _dedent(lines: list[str], width: int) -> str:
    if width == 0:
        return "".join(lines)
    out = []
    for line in lines:
        spaces = len(line) - len(line.lstrip(" "))
        out.append(line[min(spaces, width) :])
    return "".join(out)


def looks_like_bbj(code: str) -> bool:
    """True when at least half of the non-blank lines start like a BBj statement."""
    lines = [line for line in code.splitlines() if line.strip()]
    if not lines:
        return False
    statements = sum(1 for line in lines if first_word(line) in KEYWORDS or _ASSIGNMENT.match(line))
    return statements * 2 >= len(lines)


def is_bbj_block(segment: Segment) -> bool:
    if not segment.is_code:
        return False
    if segment.language:
        return segment.language in BBJ_ALIASES
    return looks_like_bbj(segment.body)


def bbj_blocks(text: str) -> list[str]:
    """The bodies of the BBj code blocks in ``text`` (labelled, or unlabelled BBj-looking)."""
    return [s.body for s in split_segments(text) if is_bbj_block(s)]


def has_code_block(text: str) -> bool:
    return any(s.is_code for s in split_segments(text))


def prose_of(text: str) -> str:
    """``text`` without its code blocks."""
    return "".join(s.raw for s in split_segments(text) if not s.is_code)


def fence(code: str, language: str = BBJ_LANGUAGE) -> str:
    """Wrap ``code`` in a fence long enough not to be closed by anything inside it."""
    longest = max((len(run) for run in re.findall(r"`{3,}", code)), default=2)
    marker = "`" * max(3, longest + 1)
    body = code if code.endswith("\n") else code + "\n"
    return f"{marker}{language}\n{body}{marker}"


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
        language = BBJ_LANGUAGE if is_bbj_block(segment) else segment.info
        trailing = "\n" if segment.raw.endswith("\n") else ""
        rendered = fence(segment.body, language) + trailing
        changed += rendered != segment.raw
        out.append(rendered)
    return "".join(out), changed
