"""The filters, each ``(completion, ctx) -> str``, the default chain, and early stopping.

Most filters cut the completion before some line, found by a *cutter*; the same cutters drive
:func:`early_stop_index` while a completion streams in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fim.language import BLOCK_CLOSERS, BLOCK_PAIRS, CLOSER_TO_OPENER, first_word
from fim.postprocess.blocks import QUOTES, block_events, indent_width, is_continuation
from fim.postprocess.cursor import FimContext

LONG_LINE_CHARS = 12
"""A repeated suffix line at least this long is matched on its own, shorter ones need the next."""

_MIDDLES: dict[str, tuple[str, ...]] = {pair.opener: pair.middles for pair in BLOCK_PAIRS}
_OPENING_BRACKETS = "([{"
_CLOSING_BRACKETS = ")]}"

Filter = Callable[[str, FimContext], str]


@dataclass(frozen=True)
class _Lines:
    """A completion split into lines; ``full`` has the cursor line's text before line 0.

    ``known`` lines are complete.  While streaming, the last line is still being generated.
    """

    raw: tuple[str, ...]
    full: tuple[str, ...]
    known: int

    @classmethod
    def build(cls, completion: str, ctx: FimContext, *, final: bool) -> _Lines:
        raw = tuple(completion.split("\n"))
        full = (ctx.line_prefix + raw[0], *raw[1:])
        return cls(raw, full, len(raw) if final else len(raw) - 1)

    def starts_known(self, index: int) -> bool:
        """Is it known whether line ``index`` is a ``:`` continuation line?"""
        return index < self.known or (index < len(self.raw) and bool(self.raw[index].strip()))

    def cut_offset(self, index: int) -> int:
        """Where the completion ends when cut before line ``index`` (its newline dropped)."""
        return max(sum(len(line) + 1 for line in self.raw[:index]) - 1, 0)


Cutter = Callable[[_Lines, FimContext], int | None]


def single_line_mid_statement(completion: str, ctx: FimContext) -> str:
    """Cursor mid-statement: only the rest of that line (with its ``:`` continuation lines)."""
    return _apply(completion, ctx, _single_line_cut)


def keep_continuation_lines(completion: str, ctx: FimContext) -> str:
    """When the cursor's statement continues after the cursor, add no line that would split it."""
    return _apply(completion, ctx, _continuation_cut)


def stop_at_suffix_overlap(completion: str, ctx: FimContext) -> str:
    """Cut where the completion starts repeating the suffix (whole lines or the line's rest)."""
    return _drop_repeated_line_rest(_apply(completion, ctx, _suffix_overlap_cut), ctx)


def stop_at_dedent(completion: str, ctx: FimContext) -> str:
    """A line that dedents below the completion's first line ends it.

    Middles of the cursor's block (``else``, ``case``) may sit one level out; so may the closer
    of the cursor's block unless the suffix closes it, and the completion ends after it.
    """
    return _apply(completion, ctx, _dedent_cut)


def drop_closers_in_suffix(completion: str, ctx: FimContext) -> str:
    """Cut at a closer (``methodend``, ``next``, ``wend``…) of a block the suffix already closes."""
    return _apply(completion, ctx, _closer_cut)


def drop_repeat_of_previous_line(completion: str, ctx: FimContext) -> str:
    """Cut at a line that repeats the line before it (closers may legitimately repeat)."""
    return _apply(completion, ctx, _repeat_cut)


def trim_trailing_whitespace(completion: str, ctx: FimContext) -> str:
    """Strip trailing whitespace; keep what the text after the cursor needs.

    Mid-line, the last line's trailing space separates it from the rest of the line.  On an
    empty line in front of existing text, the completion ends with a newline and the cursor's
    indentation so that text keeps its place.
    """
    lines = completion.split("\n")
    trimmed = [line.rstrip() for line in lines]
    if ctx.line_suffix.strip() and not ctx.multiline:
        return "\n".join([*trimmed[:-1], lines[-1]])
    text = "\n".join(trimmed).rstrip()
    if text.strip() and ctx.line_suffix.strip():
        return f"{text}\n{ctx.line_prefix}"
    return text


def drop_empty(completion: str, ctx: FimContext) -> str:
    """A completion of nothing but whitespace becomes empty."""
    return completion if completion.strip() else ""


DEFAULT_CHAIN: tuple[Filter, ...] = (
    single_line_mid_statement,
    keep_continuation_lines,
    stop_at_suffix_overlap,
    stop_at_dedent,
    drop_closers_in_suffix,
    drop_repeat_of_previous_line,
    trim_trailing_whitespace,
    drop_empty,
)


def postprocess(
    completion: str, prefix: str, suffix: str, chain: tuple[Filter, ...] = DEFAULT_CHAIN
) -> str:
    """Run ``chain`` over a raw completion for the cursor between ``prefix`` and ``suffix``."""
    return apply_chain(completion, FimContext.build(prefix, suffix), chain)


def apply_chain(completion: str, ctx: FimContext, chain: tuple[Filter, ...] = DEFAULT_CHAIN) -> str:
    """Like :func:`postprocess` with a context built once (e.g. for several candidates)."""
    for step in chain:
        completion = step(completion, ctx)
    return completion


def early_stop_index(partial: str, ctx: FimContext) -> int | None:
    """Where the default chain would cut ``partial`` for sure, or ``None`` to keep generating.

    Call it after each completed line; text after the last newline counts as unfinished.  A cut
    before a line is reported once that line is complete, or, for the single-line and
    continuation rules, once its first character shows it is not a ``:`` continuation line.
    """
    lines = _Lines.build(partial, ctx, final=False)
    cuts = [cut for cutter in _CUTTERS if (cut := cutter(lines, ctx)) is not None]
    return lines.cut_offset(min(cuts)) if cuts else None


def _apply(completion: str, ctx: FimContext, cutter: Cutter) -> str:
    lines = _Lines.build(completion, ctx, final=True)
    cut = cutter(lines, ctx)
    return completion if cut is None else completion[: lines.cut_offset(cut)]


def _single_line_cut(lines: _Lines, ctx: FimContext) -> int | None:
    if ctx.multiline:
        return None
    return _first_non_continuation(lines, 1)


def _continuation_cut(lines: _Lines, ctx: FimContext) -> int | None:
    if not ctx.continues_after_cursor:
        return None
    if ctx.line_suffix.strip():
        # The cursor stands in front of a continuation line: line 0 must continue too.
        if not lines.starts_known(0):
            return None
        if not is_continuation(lines.full[0]):
            return 0
    return _first_non_continuation(lines, 1)


def _first_non_continuation(lines: _Lines, start: int) -> int | None:
    for index in range(start, len(lines.raw)):
        if not lines.starts_known(index):
            return None
        if not is_continuation(lines.raw[index]):
            return index
    return None


def _suffix_overlap_cut(lines: _Lines, ctx: FimContext) -> int | None:
    if not ctx.suffix_lines or first_word(ctx.suffix_lines[0]) in BLOCK_CLOSERS:
        return None  # closers are drop_closers_in_suffix's job: it knows block depth
    first = 0 if ctx.multiline else 1
    for index in range(first, lines.known):
        if lines.full[index].strip() == ctx.suffix_lines[0] and _overlap_confirmed(
            lines, ctx, index
        ):
            return index
    return None


def _overlap_confirmed(lines: _Lines, ctx: FimContext, index: int) -> bool:
    if len(ctx.suffix_lines[0]) >= LONG_LINE_CHARS or len(ctx.suffix_lines) < 2:
        return True
    for later in range(index + 1, lines.known):
        text = lines.full[later].strip()
        if text:
            return text == ctx.suffix_lines[1]
    return lines.known == len(lines.raw)  # nothing follows: only final text can tell


def _drop_repeated_line_rest(completion: str, ctx: FimContext) -> str:
    """Mid-line: drop a repeat of the rest of the cursor line from the completion's end."""
    rest = ctx.line_suffix.strip()
    first, newline, remainder = completion.partition("\n")
    body = first.rstrip()
    if not rest or ctx.multiline or not body.endswith(rest):
        return completion
    trimmed = body[: len(body) - len(rest)]
    before = _imbalance(ctx.line_prefix + body + ctx.line_suffix)
    after = _imbalance(ctx.line_prefix + trimmed + ctx.line_suffix)
    if after < before or (len(rest) >= 3 and _word_boundary(trimmed, rest)):
        return trimmed + newline + remainder
    return completion


def _word_boundary(before: str, after: str) -> bool:
    return not before or not (before[-1].isalnum() and after[0].isalnum())


def _imbalance(line: str) -> int:
    """Unclosed or unopened brackets plus an unterminated string or mnemonic, outside quotes."""
    depth = unopened = 0
    quote = ""
    for ch in line:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in QUOTES:
            quote = ch
        elif ch in _OPENING_BRACKETS:
            depth += 1
        elif ch in _CLOSING_BRACKETS:
            depth, unopened = (depth - 1, unopened) if depth else (0, unopened + 1)
    return depth + unopened + (1 if quote else 0)


def _dedent_cut(lines: _Lines, ctx: FimContext) -> int | None:
    start = next((i for i in range(lines.known) if lines.full[i].strip()), None)
    if start is None:
        return None
    reference = indent_width(lines.full[start])
    block = ctx.open_blocks[0] if ctx.open_blocks else None
    for index in range(start + 1, lines.known):
        line = lines.full[index]
        if not line.strip() or is_continuation(line) or indent_width(line) >= reference:
            continue
        word = first_word(line)
        if block is not None and word in _MIDDLES[block.opener]:
            continue
        closes_block = block is not None and CLOSER_TO_OPENER.get(word) == block.opener
        if closes_block and block is not None and not block.closed_in_suffix:
            return _first_non_continuation(lines, index + 1)
        return index
    return None


def _closer_cut(lines: _Lines, ctx: FimContext) -> int | None:
    depth = 0
    closing = 0  # which open block (innermost first) the next unmatched closer closes
    for index in range(lines.known):
        events = block_events(lines.full[index])
        if index == 0:
            events = events[ctx.line_prefix_events :]
        for is_opener, _word in events:
            if is_opener:
                depth += 1
            elif depth:
                depth -= 1
            elif closing < len(ctx.open_blocks) and ctx.open_blocks[closing].closed_in_suffix:
                return index
            else:
                closing += 1
    return None


def _repeat_cut(lines: _Lines, ctx: FimContext) -> int | None:
    previous = ctx.previous_line
    for index in range(lines.known):
        text = lines.full[index].strip()
        if not text or is_continuation(text):
            continue
        adds_text = index > 0 or bool(lines.raw[0].strip())
        if adds_text and text == previous and first_word(text) not in BLOCK_CLOSERS:
            return index
        previous = text
    return None


_CUTTERS: tuple[Cutter, ...] = (
    _single_line_cut,
    _continuation_cut,
    _suffix_overlap_cut,
    _dedent_cut,
    _closer_cut,
    _repeat_cut,
)
