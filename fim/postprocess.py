"""FIM post-processing: a chain of small named filters, each ``(completion, ctx) -> str``.

Most filters cut the completion before some line.  Cuts never separate a ``:`` continuation
line from its statement: no filter chooses a continuation line as its cut point.  The same
cutters drive :func:`early_stop_index`, which a streaming generation loop calls to stop as soon
as the chain would cut anyway.

Lines are judged on the *full* cursor line: the completion's first line is appended to the text
before the cursor.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fim.language import (
    BLOCK_CLOSERS,
    BLOCK_OPENERS,
    BLOCK_PAIRS,
    CLOSER_TO_OPENER,
    COMMENT_KEYWORD,
    CONTINUATION_CHAR,
    STATEMENT_SEPARATOR,
    first_word,
)

MAX_SCAN_LINES = 1000
"""How far ``FimContext.build`` looks back into the prefix and forward into the suffix."""

LONG_LINE_CHARS = 12
"""A repeated suffix line at least this long is matched on its own, shorter ones need the next."""

_MIDDLES: dict[str, tuple[str, ...]] = {pair.opener: pair.middles for pair in BLOCK_PAIRS}
_OPENING_BRACKETS = "([{"
_CLOSING_BRACKETS = ")]}"
_QUOTES = "\"'"
_BLOCK_WORDS = BLOCK_OPENERS | BLOCK_CLOSERS
_TAB_WIDTH = 4

BlockEvent = tuple[bool, str]
"""``(True, opener)`` or ``(False, closer)``."""


@dataclass(frozen=True)
class OpenBlock:
    """A block open at the cursor: its opener keyword and the opener line's indentation."""

    opener: str
    indent: int
    closed_in_suffix: bool = False


@dataclass(frozen=True)
class FimContext:
    """The text around the cursor and what the filters derive from it (built once per request)."""

    prefix: str
    suffix: str
    line_prefix: str
    """The cursor line's text before the cursor."""
    line_suffix: str
    """The cursor line's text after the cursor."""
    previous_line: str
    """The last non-blank line above the cursor line, stripped."""
    suffix_lines: tuple[str, ...]
    """The first two non-blank lines from the cursor on, stripped."""
    open_blocks: tuple[OpenBlock, ...]
    """Blocks open at the cursor, innermost first, each marked if the suffix closes it."""
    continues_after_cursor: bool
    """The cursor's statement goes on in a ``:`` continuation line after the cursor."""
    line_prefix_events: int
    """How many block openers/closers the text before the cursor on its line holds."""

    @property
    def multiline(self) -> bool:
        """Multi-line completions are allowed only on an empty (or whitespace-only) line."""
        return not self.line_prefix.strip()

    @classmethod
    def build(cls, prefix: str, suffix: str) -> FimContext:
        above = prefix.rsplit("\n", MAX_SCAN_LINES)
        if len(above) > MAX_SCAN_LINES:
            above = above[1:]
        below = suffix.split("\n", MAX_SCAN_LINES)
        if len(below) > MAX_SCAN_LINES:
            below = below[:-1]
        line_prefix, line_suffix = above[-1], below[0]
        return cls(
            prefix=prefix,
            suffix=suffix,
            line_prefix=line_prefix,
            line_suffix=line_suffix,
            previous_line=_last_non_blank(above[:-1]),
            suffix_lines=_first_non_blank(below, 2),
            open_blocks=find_open_blocks(above, below),
            continues_after_cursor=_continues_after_cursor(line_prefix, below),
            line_prefix_events=len(block_events(line_prefix)),
        )


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
        elif ch in _QUOTES:
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


def _last_non_blank(lines: list[str]) -> str:
    for line in reversed(lines):
        if line.strip():
            return line.strip()
    return ""


def _first_non_blank(lines: list[str], wanted: int) -> tuple[str, ...]:
    found: list[str] = []
    for line in lines:
        if line.strip():
            found.append(line.strip())
            if len(found) == wanted:
                break
    return tuple(found)


def _continues_after_cursor(line_prefix: str, below: list[str]) -> bool:
    if below[0].strip():
        return not line_prefix.strip() and is_continuation(below[0])
    return len(below) > 1 and is_continuation(below[1])


# --- BBj block structure --------------------------------------------------------------------


def is_continuation(line: str) -> bool:
    """Is ``line`` a ``:`` continuation of the line before it?"""
    return line.lstrip().startswith(CONTINUATION_CHAR)


def indent_width(line: str) -> int:
    stripped = line.lstrip(" \t")
    return len(line[: len(line) - len(stripped)].expandtabs(_TAB_WIDTH))


def block_events(line: str) -> list[BlockEvent]:
    """Block openers and closers in one physical line, statement by statement, before ``REM``."""
    if STATEMENT_SEPARATOR not in line and first_word(line) not in _BLOCK_WORDS:
        return []
    events: list[BlockEvent] = []
    for statement in _statements(line):
        word = first_word(statement)
        if word == COMMENT_KEYWORD:
            break
        if word in BLOCK_CLOSERS:
            events.append((False, word))
        elif word in BLOCK_OPENERS and _opens_block(word, statement):
            events.append((True, word))
    return events


def _statements(line: str) -> list[str]:
    """Split at ``;`` outside strings and mnemonics."""
    if STATEMENT_SEPARATOR not in line:
        return [line]
    parts: list[str] = []
    start = 0
    quote = ""
    for index, ch in enumerate(line):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in _QUOTES:
            quote = ch
        elif ch == STATEMENT_SEPARATOR:
            parts.append(line[start:index])
            start = index + 1
    parts.append(line[start:])
    return parts


def _opens_block(word: str, statement: str) -> bool:
    """``IF … THEN`` opens a block only with nothing after THEN; ``DEF FN`` only without ``=``."""
    if word == "if":
        text = statement.rstrip().lower()
        return text.endswith("then") and not text[-5:-4].isalnum()
    if word == "def":
        return "=" not in statement
    return True


def find_open_blocks(above: list[str], below: list[str]) -> tuple[OpenBlock, ...]:
    """Blocks open at the cursor (innermost first), marked when the suffix closes them.

    ``above`` ends with the cursor line's text before the cursor; ``below`` starts with the
    rest of the cursor line.
    """
    open_blocks = _scan_upwards(above)
    closed = _closed_by_suffix([opener for opener, _ in open_blocks], below)
    return tuple(
        OpenBlock(opener, indent, index in closed)
        for index, (opener, indent) in enumerate(open_blocks)
    )


def _scan_upwards(above: list[str]) -> list[tuple[str, int]]:
    pending: list[str] = []  # closers seen so far, waiting for their openers further up
    found: list[tuple[str, int]] = []
    continued = False
    for line in reversed(above):
        for is_opener, word in reversed(block_events(line)):
            if not is_opener:
                pending.append(word)
            elif word == "if" and continued:
                continue  # IF … THEN followed by a ':' line is a one-statement IF
            elif not pending:
                found = _open_found(found, word, indent_width(line))
            elif CLOSER_TO_OPENER[pending[-1]] == word:
                pending.pop()
            elif word not in ("if", "method"):
                pending.pop()  # tolerate a mismatch; IFs and interface methods may not close
        continued = is_continuation(line)
    return found


def _open_found(found: list[tuple[str, int]], opener: str, indent: int) -> list[tuple[str, int]]:
    if opener == "interface":
        # Methods inside an interface are declarations, not blocks.
        found = [entry for entry in found if entry[0] != "method"]
    return [*found, (opener, indent)]


def _closed_by_suffix(openers: list[str], below: list[str]) -> set[int]:
    """Indices of ``openers`` (innermost first) whose closers the suffix provides."""
    closed: set[int] = set()
    depth = 0
    position = 0
    in_interface = bool(openers) and openers[0] == "interface"
    for index, line in enumerate(below):
        if position >= len(openers):
            break
        continued = index + 1 < len(below) and is_continuation(below[index + 1])
        for is_opener, word in block_events(line):
            if is_opener:
                declaration = word == "method" and in_interface and depth == 0
                depth += 0 if declaration or (word == "if" and continued) else 1
            elif depth:
                depth -= 1
            else:
                match = _next_match(openers, position, CLOSER_TO_OPENER[word])
                if match is None:
                    return closed
                closed.add(match)
                position = match + 1
    return closed


def _next_match(openers: list[str], start: int, opener: str) -> int | None:
    for index in range(start, len(openers)):
        if openers[index] == opener:
            return index
    return None
