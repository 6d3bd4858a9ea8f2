"""Split an already templated FIM prompt (Continue's ``provider: openai``) back into its parts.

Continue renders the FIM template itself and sends the result to ``/v1/completions``.  The
daemon recognises every format in :data:`fim.formats.FORMATS`, recovers prefix, suffix and any
repo-level context, and runs its own pipeline on them.

Continue treats ``.bbj`` as an unknown language and puts snippets from other files in front of
the prefix as line comments (``core/autocomplete/templating/formatting.ts``)::

    // Path: src/other.bbj
    // <snippet line>
    // <snippet line>
    // src/current.bbj
    <real prefix>

(with no snippets the block is ``"\\n// src/current.bbj\\n"``).  Those blocks become
:class:`ContextFile` chunks, which the repo-level renderer then places where the model expects
other files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fim.formats import FORMATS, ContextFile, FimFormat

SNIPPET_COMMENT_MARKERS: tuple[str, ...] = ("//", "#", "rem")
"""Line-comment markers Continue may use for snippet blocks (compared case-insensitively)."""

SNIPPET_PATH_LABEL = "Path: "
DIFF_SNIPPET_PATH = "recent-edits.diff"
"""Path for commented snippet text without a ``Path:`` line (Continue's diff snippets)."""

CONTINUE_EMPTY_SUFFIX = "\n"
"""Continue replaces an empty suffix with a single newline before templating."""

_PATH_LIKE = re.compile(r"[^\s:*?\"<>|]+\.[A-Za-z0-9]{1,8}")
_DIFF_STARTS: tuple[str, ...] = ("diff --git", "--- ", "+++ ", "@@ ", "Index: ")


@dataclass(frozen=True)
class TemplatedPrompt:
    """The parts of a templated FIM prompt."""

    prefix: str
    suffix: str
    fmt: FimFormat
    context: tuple[ContextFile, ...] = ()
    path: str | None = None


@dataclass(frozen=True)
class SnippetSplit:
    """A prefix with Continue's comment snippet header taken off."""

    prefix: str
    context: tuple[ContextFile, ...]
    path: str | None


@dataclass(frozen=True)
class _RepoHeader:
    context: tuple[ContextFile, ...]
    path: str | None


def parse_templated_prompt(prompt: str) -> TemplatedPrompt | None:
    """Recognise a PSM FIM prompt in any known format; ``None`` for a plain prompt."""
    for fmt in FORMATS:
        parsed = _parse_with_format(prompt, fmt)
        if parsed is not None:
            return parsed
    return None


def extract_snippet_context(prefix: str) -> tuple[str, tuple[ContextFile, ...]]:
    """Return the real prefix and Continue's commented snippets as context files."""
    split = split_snippet_header(prefix)
    return split.prefix, split.context


def split_snippet_header(prefix: str) -> SnippetSplit:
    """Like :func:`extract_snippet_context`, also returning the current file's path."""
    unchanged = SnippetSplit(prefix, (), None)
    start = 1 if prefix.startswith("\n") else 0
    marker = _snippet_marker(prefix, start)
    if marker is None:
        return unchanged
    contents, line_ends = _comment_run(prefix, start, marker)
    path_index = _last_path_line(contents)
    if path_index is None:
        return unchanged
    header = contents[:path_index]
    if not _is_snippet_header(header, leading_blank=start == 1):
        return unchanged
    real_prefix = prefix[line_ends[path_index] :]
    return SnippetSplit(real_prefix, _snippets_from_header(header), contents[path_index])


def _parse_with_format(prompt: str, fmt: FimFormat) -> TemplatedPrompt | None:
    middle_at = prompt.rfind(fmt.middle_token)
    if middle_at < 0 or prompt[middle_at + len(fmt.middle_token) :].strip():
        return None
    suffix_at = prompt.rfind(fmt.suffix_token, 0, middle_at)
    if suffix_at < 0:
        return None
    prefix_at = prompt.rfind(fmt.prefix_token, 0, suffix_at)
    if prefix_at < 0:
        return None
    raw_prefix = prompt[prefix_at + len(fmt.prefix_token) : suffix_at]
    raw_suffix = prompt[suffix_at + len(fmt.suffix_token) : middle_at]
    prefix, suffix = _strip_token_spacing(raw_prefix, raw_suffix, fmt)
    repo = _parse_repo_header(prompt[:prefix_at], fmt)
    snippets = split_snippet_header(prefix)
    return TemplatedPrompt(
        prefix=snippets.prefix,
        suffix="" if suffix == CONTINUE_EMPTY_SUFFIX else suffix,
        fmt=fmt,
        context=repo.context + snippets.context,
        path=repo.path if repo.path is not None else snippets.path,
    )


def _strip_token_spacing(prefix: str, suffix: str, fmt: FimFormat) -> tuple[str, str]:
    """Undo the spaces CodeLlama-style formats put around their tokens.

    Our renderer writes ``<PRE> P<SUF> S<MID>``; Continue and Hugging Face write
    ``<PRE> P <SUF>S <MID>``.  A suffix section ending in the spacing is the second form
    (a real suffix almost always ends with a newline).
    """
    sp = fmt.token_spacing
    if not sp:
        return prefix, suffix
    prefix = prefix.removeprefix(sp)
    if prefix.endswith(sp) and suffix.endswith(sp):
        return prefix[: -len(sp)], suffix[: -len(sp)]
    return prefix, suffix.removeprefix(sp)


def _parse_repo_header(header: str, fmt: FimFormat) -> _RepoHeader:
    if not fmt.supports_repo_level or not header or fmt.file_sep_token not in header:
        return _RepoHeader((), None)
    blocks = header.split(fmt.file_sep_token)
    files = tuple(_context_file(block) for block in blocks[1:-1])
    current_path = blocks[-1].split("\n", 1)[0].strip()
    return _RepoHeader(tuple(f for f in files if f.text), current_path or None)


def _context_file(block: str) -> ContextFile:
    path, _, text = block.partition("\n")
    return ContextFile(path.strip(), text)


def _snippet_marker(prefix: str, start: int) -> str | None:
    head = prefix[start : start + 4].lower()
    for marker in SNIPPET_COMMENT_MARKERS:
        if head.startswith(marker) and head[len(marker) : len(marker) + 1] in (" ", "\n", ""):
            return marker
    return None


def _comment_run(prefix: str, start: int, marker: str) -> tuple[list[str], list[int]]:
    """Contents (marker removed) of the complete comment lines from ``start``, and line ends.

    Blank lines do not end the run (the split point is chosen later, at the current-file path
    line).  The cursor line (the last, unterminated one) is never part of the run.
    """
    contents: list[str] = []
    line_ends: list[int] = []
    pos = start
    while True:
        newline = prefix.find("\n", pos)
        if newline < 0:
            break
        line = prefix[pos:newline]
        content = _comment_content(line, marker)
        if content is None and not (line.strip() == "" and contents):
            break
        contents.append(content or "")
        line_ends.append(newline + 1)
        pos = newline + 1
    return contents, line_ends


def _comment_content(line: str, marker: str) -> str | None:
    if line[: len(marker)].lower() != marker:
        return None
    rest = line[len(marker) :]
    if rest and not rest.startswith(" "):
        return None
    return rest[1:] if rest else ""


def _last_path_line(contents: list[str]) -> int | None:
    for index in range(len(contents) - 1, -1, -1):
        if _PATH_LIKE.fullmatch(contents[index]):
            return index
    return None


def _is_snippet_header(header: list[str], *, leading_blank: bool) -> bool:
    if not header:
        return leading_blank
    first = header[0]
    return first.startswith(SNIPPET_PATH_LABEL) or first.startswith(_DIFF_STARTS)


def _snippets_from_header(header: list[str]) -> tuple[ContextFile, ...]:
    snippets: list[ContextFile] = []
    path = DIFF_SNIPPET_PATH
    lines: list[str] = []
    for content in header:
        if content.startswith(SNIPPET_PATH_LABEL):
            snippets.append(_snippet(path, lines))
            path, lines = content[len(SNIPPET_PATH_LABEL) :].strip(), []
        else:
            lines.append(content)
    snippets.append(_snippet(path, lines))
    return tuple(s for s in snippets if s.text.strip())


def _snippet(path: str, lines: list[str]) -> ContextFile:
    # Continue trims each snippet, so blank lines at its end are separators, not content.
    return ContextFile(path, "\n".join(lines).rstrip("\n") + "\n")
