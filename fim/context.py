"""Token-budgeted FIM prompt assembly.

The prompt is cut in *tokens*, at line boundaries: the prefix keeps the lines nearest the
cursor (the cursor line's partial text always stays), the suffix keeps its first lines, and the
prefix gets the larger share.  Context chunks from other files go first, in the order given, so
that the start of the prompt stays byte-identical across keystrokes and llama.cpp can reuse its
KV cache.  *Pinned* chunks (signatures from the workspace index) go before those: they change
least often of all.  ``count_tokens`` is called a few dozen times at most: line counts are found
by a galloping binary search, never by counting line by line or character by character.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from fim.formats import ContextFile, FimFormat

TokenCounter = Callable[[str], int]

CHARS_PER_TOKEN_GUESS = 3
"""Only used to pick the first line count to probe; the token counter decides."""

PREFIX_ANCHOR_LINES = 8
"""A truncated prefix starts at a line whose index (in the given prefix) is a multiple of this.
Typing on the cursor line would otherwise push one line out of the top every few keystrokes
(and back in as tokenisation shifts), and every such move changes the prompt right after the
context chunks: the KV cache can reuse nothing after it. Costs at most this many lines less."""

_MAX_ROUNDS = 6
_PROBE_CHUNK = ContextFile("", "\n")


@dataclass(frozen=True)
class AssembledPrompt:
    """A rendered prompt and what went into it."""

    prompt: str
    prefix: str
    suffix: str
    context: tuple[ContextFile, ...]
    prefix_truncated: bool
    suffix_truncated: bool
    context_dropped: int
    token_estimate: int
    pinned_kept: int = 0
    """How many of ``context``'s first entries are pinned chunks."""


@dataclass(frozen=True)
class _Fit:
    text: str
    tokens: int
    truncated: bool


@dataclass(frozen=True)
class _Request:
    prefix: str
    suffix: str
    fmt: FimFormat
    count: TokenCounter
    context: tuple[ContextFile, ...]
    path: str | None
    prefix_share: float
    context_share: float
    pinned: tuple[ContextFile, ...] = ()
    pinned_share: float = 0.5


def assemble_prompt(
    prefix: str,
    suffix: str,
    *,
    fmt: FimFormat,
    count_tokens: TokenCounter,
    max_prompt_tokens: int,
    context: Sequence[ContextFile] = (),
    path: str | None = None,
    prefix_share: float = 0.75,
    context_share: float = 0.25,
    pinned: Sequence[ContextFile] = (),
    pinned_share: float = 0.5,
) -> AssembledPrompt:
    """Render a FIM prompt of at most ``max_prompt_tokens`` tokens.

    ``context_share`` of the budget is held for context chunks when there are any (what they
    do not use goes to prefix and suffix); chunks also fill whatever prefix and suffix leave.
    When not every chunk fits, later chunks win (the ring lists the freshest last) but the
    chosen ones keep their given order.  Formats without repo-level tokens drop all context.

    ``pinned`` chunks come first of all, in their given order; they may take up to
    ``pinned_share`` of the budget, and when not all fit, the first ones are kept (the caller
    lists the most important first and has already trimmed them to its own budget).
    """
    usable = tuple(context) if fmt.supports_repo_level else ()
    skeleton = count_tokens(fmt.render("", "", path=path))
    if path is not None and skeleton > max_prompt_tokens:
        # The file name is a hint; one too long for the whole budget is left out.
        path = None
        skeleton = count_tokens(fmt.render("", "", path=None))
    kept_pinned = tuple(pinned) if fmt.supports_repo_level else ()
    request = _Request(
        prefix,
        suffix,
        fmt,
        count_tokens,
        usable,
        path,
        prefix_share,
        context_share,
        kept_pinned,
        pinned_share,
    )
    if skeleton > max_prompt_tokens:
        raise ValueError(
            f"max_prompt_tokens={max_prompt_tokens} cannot hold the {fmt.name} FIM tokens "
            f"({skeleton} tokens)"
        )
    budget = max_prompt_tokens
    for round_no in range(_MAX_ROUNDS):
        plan = _plan(request, budget)
        total = count_tokens(plan.prompt)
        if total <= max_prompt_tokens:
            return _finish(plan, total, len(context))
        # Tokens are not exactly additive across the pieces; shrink and try again.
        budget -= (total - max_prompt_tokens) * (2**round_no)
    empty = fmt.render("", "", path=path)
    return AssembledPrompt(empty, "", "", (), bool(prefix), bool(suffix), len(context), skeleton)


def _finish(plan: AssembledPrompt, total: int, offered: int) -> AssembledPrompt:
    return AssembledPrompt(
        prompt=plan.prompt,
        prefix=plan.prefix,
        suffix=plan.suffix,
        context=plan.context,
        prefix_truncated=plan.prefix_truncated,
        suffix_truncated=plan.suffix_truncated,
        context_dropped=offered - (len(plan.context) - plan.pinned_kept),
        token_estimate=total,
        pinned_kept=plan.pinned_kept,
    )


def _plan(req: _Request, budget: int) -> AssembledPrompt:
    available = budget - _skeleton_tokens(req)
    pinned = _choose_pinned(req, int(max(available, 0) * req.pinned_share))
    available -= sum(cost for _chunk, cost in pinned)
    costs = [_chunk_tokens(req, chunk) for chunk in req.context]
    reserve = int(max(available, 0) * req.context_share) if costs else 0
    chosen = _choose_chunks(costs, reserve, frozenset())
    body = max(available - sum(costs[i] for i in chosen), 0)
    prefix_fit, suffix_fit = _fit_prefix_and_suffix(req, body)
    leftover = body - prefix_fit.tokens - suffix_fit.tokens
    chosen |= _choose_chunks(costs, leftover, chosen)
    context = tuple(chunk for chunk, _cost in pinned) + tuple(
        req.context[i] for i in sorted(chosen)
    )
    prompt = req.fmt.render(prefix_fit.text, suffix_fit.text, path=req.path, context=context)
    return AssembledPrompt(
        prompt=prompt,
        prefix=prefix_fit.text,
        suffix=suffix_fit.text,
        context=context,
        prefix_truncated=prefix_fit.truncated,
        suffix_truncated=suffix_fit.truncated,
        context_dropped=0,
        token_estimate=0,
        pinned_kept=len(pinned),
    )


def _choose_pinned(req: _Request, room: int) -> list[tuple[ContextFile, int]]:
    """The leading pinned chunks that fit ``room`` tokens together."""
    kept: list[tuple[ContextFile, int]] = []
    for chunk in req.pinned:
        cost = _chunk_tokens(req, chunk)
        if cost > room:
            break
        kept.append((chunk, cost))
        room -= cost
    return kept


def _skeleton_tokens(req: _Request) -> int:
    """Tokens of the prompt with empty prefix and suffix (repo-level form if context is offered)."""
    if not req.context and not req.pinned:
        return req.count(req.fmt.render("", "", path=req.path))
    with_probe = req.fmt.render("", "", path=req.path, context=(_PROBE_CHUNK,))
    return req.count(with_probe) - _chunk_tokens(req, _PROBE_CHUNK)


def _chunk_tokens(req: _Request, chunk: ContextFile) -> int:
    text = chunk.text if chunk.text.endswith("\n") else chunk.text + "\n"
    return req.count(f"{req.fmt.file_sep_token}{chunk.path}\n{text}")


def _choose_chunks(costs: list[int], budget: int, taken: frozenset[int]) -> frozenset[int]:
    """Greedy pick, later chunks first; returns only newly picked indices."""
    picked: set[int] = set()
    for index in range(len(costs) - 1, -1, -1):
        if index not in taken and costs[index] <= budget:
            picked.add(index)
            budget -= costs[index]
    return frozenset(picked)


def _fit_prefix_and_suffix(req: _Request, available: int) -> tuple[_Fit, _Fit]:
    prefix_budget = int(available * req.prefix_share)
    suffix_fit = _fit_suffix(req.suffix, available - prefix_budget, req.count)
    if not suffix_fit.truncated:
        prefix_budget = available - suffix_fit.tokens
    prefix_fit = _fit_prefix(req.prefix, prefix_budget, req.count)
    if suffix_fit.truncated and not prefix_fit.truncated:
        suffix_fit = _fit_suffix(req.suffix, available - prefix_fit.tokens, req.count)
    return prefix_fit, suffix_fit


def _fit_prefix(prefix: str, budget: int, count: TokenCounter) -> _Fit:
    """Keep the last lines of ``prefix``; the cursor line (after the last newline) always stays."""
    if not prefix:
        return _Fit("", 0, False)
    lines = prefix.split("\n")
    above = len(lines) - 1

    def text_for(kept: int) -> str:
        return "\n".join(lines[above - kept :])

    fits = _Memo(text_for, count, budget)
    if not fits(0):
        return _fit_cursor_line_tail(lines[-1], budget, count)
    start = _lines_within_chars(reversed(lines[:-1]), budget * CHARS_PER_TOKEN_GUESS)
    kept = _largest_fitting(above, fits, start)
    if kept < above:
        first = -(-(above - kept) // PREFIX_ANCHOR_LINES) * PREFIX_ANCHOR_LINES
        kept = max(0, above - first)
        fits(kept)  # fewer lines than a fitting count: fits too, and is now counted
    return _Fit(text_for(kept), fits.tokens[kept], kept < above)


def _fit_suffix(suffix: str, budget: int, count: TokenCounter) -> _Fit:
    """Keep the first lines of ``suffix`` (each with its newline)."""
    if not suffix:
        return _Fit("", 0, False)
    lines = suffix.split("\n")
    total = len(lines)

    def text_for(kept: int) -> str:
        return "\n".join(lines[:kept]) + ("\n" if 0 < kept < total else "")

    fits = _Memo(text_for, count, budget)
    start = _lines_within_chars(iter(lines), budget * CHARS_PER_TOKEN_GUESS)
    kept = _largest_fitting(total, fits, start)
    text = text_for(kept)
    return _Fit(text, fits.tokens[kept], text != suffix)


def _fit_cursor_line_tail(line: str, budget: int, count: TokenCounter) -> _Fit:
    """Pathological case: the cursor line alone is over budget; keep its end by characters."""
    fits = _Memo(lambda kept: line[len(line) - kept :], count, budget)
    kept = _largest_fitting(len(line), fits, 1)
    return _Fit(line[len(line) - kept :], fits.tokens[kept], True)


class _Memo:
    """``fits(k)``: does the text for ``k`` kept units fit ``budget``? Remembers token counts."""

    def __init__(self, text_for: Callable[[int], str], count: TokenCounter, budget: int) -> None:
        self._text_for = text_for
        self._count = count
        self._budget = budget
        self.tokens: dict[int, int] = {}

    def __call__(self, kept: int) -> bool:
        if kept not in self.tokens:
            text = self._text_for(kept)
            self.tokens[kept] = self._count(text) if text else 0
        return self.tokens[kept] <= self._budget


def _largest_fitting(limit: int, fits: _Memo, start: int) -> int:
    """Largest ``k`` in ``0..limit`` with ``fits(k)``, for monotone ``fits`` and ``fits(0)``."""
    fits(0)
    probe = min(max(start, 1), limit)
    low, high = 0, limit + 1
    while low < limit and probe > low:
        if fits(probe):
            low, probe = probe, min(probe * 2, limit)
        else:
            high = probe
            break
    while high - low > 1:
        middle = (low + high) // 2
        if fits(middle):
            low = middle
        else:
            high = middle
    return low


def _lines_within_chars(lines: Iterable[str], char_budget: int) -> int:
    """How many of ``lines`` (in order) fit ``char_budget`` characters: the first probe."""
    used = 0
    kept = 0
    for line in lines:
        used += len(line) + 1
        if used > char_budget:
            break
        kept += 1
    return kept
