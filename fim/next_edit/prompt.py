"""From an editor state (document, cursor, recent edits, context) to the rendered prompt.

Both the daemon and the trainer build prompts here, so a model is trained on exactly what it is
served. ``fit_prompt`` drops the oldest context, then the oldest hunks, until the prompt fits a
token budget; the window itself is never cut.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from fim.formats import ContextFile
from fim.next_edit.format import NextEditFormat
from fim.next_edit.history import Hunk
from fim.next_edit.text import Position, split_lines
from fim.next_edit.undo import revert
from fim.next_edit.window import Window, extract_window


@dataclass(frozen=True)
class NextEditState:
    """What the editor knows when it asks for the next edit."""

    path: str
    text: str
    cursor: Position
    hunks: tuple[Hunk, ...] = ()
    context: tuple[ContextFile, ...] = ()


@dataclass(frozen=True)
class NextEditPrompt:
    prompt: str
    window: Window
    original_window: str
    hunks: tuple[Hunk, ...]
    context: tuple[ContextFile, ...]


def last_hunk_of(path: str, hunks: Sequence[Hunk]) -> Hunk | None:
    return next((h for h in reversed(hunks) if h.path == path), None)


def window_before_last_edit(lines: list[str], window: Window, last: Hunk | None) -> str:
    """The window's text as it was before ``last`` (when that edit touched the window)."""
    if last is None:
        return window.text
    end = last.start_line + len(last.updated)
    if end < window.start or last.start_line > window.end:
        return window.text
    reverted = revert(lines, last)
    if reverted is None:
        return window.text
    delta = len(last.original) - len(last.updated)
    start = min(window.start, last.start_line)
    return "\n".join(reverted[start : max(start, window.end + delta)])


def build_prompt(
    fmt: NextEditFormat,
    state: NextEditState,
    *,
    hunks: Sequence[Hunk] | None = None,
    context: Sequence[ContextFile] | None = None,
) -> NextEditPrompt:
    hunks = tuple(state.hunks if hunks is None else hunks)
    context = tuple(state.context if context is None else context)
    window = extract_window(state.text, state.cursor, fmt.lines_above, fmt.lines_below)
    original = window_before_last_edit(
        split_lines(state.text), window, last_hunk_of(state.path, state.hunks)
    )
    prompt = fmt.render(state.path, original, window.text, hunks=hunks, context=context)
    return NextEditPrompt(prompt, window, original, hunks, context)


def fit_prompt(
    fmt: NextEditFormat,
    state: NextEditState,
    count_tokens: Callable[[str], int],
    budget: int,
) -> NextEditPrompt:
    """The fullest prompt within ``budget`` tokens (context goes first, then old hunks)."""
    hunks, context = list(state.hunks), list(state.context)
    built = build_prompt(fmt, state)
    while count_tokens(built.prompt) > budget and (context or hunks):
        if context:
            context.pop(0)
        else:
            hunks.pop(0)
        built = build_prompt(fmt, state, hunks=hunks, context=context)
    return built
