"""Fenced code blocks in Markdown text (chat answers, training examples), as CommonMark reads them.

A fence is three or more backticks or tildes, indented by at most three spaces; it closes at a
line of the same character at least as long, or, for text cut off mid-block, at the end.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from itertools import accumulate

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


@dataclass(frozen=True)
class Segment:
    """A run of prose, or one fenced code block with its fence lines, as it appears in the text."""

    raw: str
    is_code: bool = False
    marker: str = ""
    info: str = ""
    body: str = ""
    """The code between the fences, without the fence's indentation."""
    closed: bool = True
    start: int = 0
    """Where ``raw`` starts in the text."""

    @property
    def end(self) -> int:
        return self.start + len(self.raw)

    @property
    def language(self) -> str:
        """The info string's first word, lower-cased ("" for an unlabelled block)."""
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
    starts = accumulate((len(segment.raw) for segment in segments), initial=0)
    return [replace(seg, start=start) for seg, start in zip(segments, starts, strict=False)]


def code_blocks(text: str) -> list[Segment]:
    """The fenced code blocks of ``text``, in order."""
    return [segment for segment in split_segments(text) if segment.is_code]


def is_bbj_block(segment: Segment, looks_like_bbj: Callable[[str], bool]) -> bool:
    """A code block labelled as BBj, or an unlabelled one whose code ``looks_like_bbj``."""
    if not segment.is_code:
        return False
    if segment.language:
        return segment.language in BBJ_ALIASES
    return looks_like_bbj(segment.body)


def fence(code: str, language: str = BBJ_LANGUAGE) -> str:
    """Wrap ``code`` in a fence long enough not to be closed by anything inside it."""
    longest = max((len(run) for run in re.findall(r"`{3,}", code)), default=2)
    marker = "`" * max(3, longest + 1)
    body = code if code.endswith("\n") else code + "\n"
    return f"{marker}{language}\n{body}{marker}"


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
