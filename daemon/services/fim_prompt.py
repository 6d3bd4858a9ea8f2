"""The FIM prompt the daemon serves, as one function: the trainer renders its FIM samples
through it too, so a model is trained on exactly the layout it is asked to complete.

Only ``fim`` is imported here (no server, no backend), so ``trainer`` may import it.
"""

from __future__ import annotations

from collections.abc import Sequence

from fim import ContextFile, FimFormat
from fim.context import AssembledPrompt, TokenCounter, assemble_prompt

MIN_PROMPT_TOKENS = 16
"""A prompt budget never drops below this, however small the context window."""


def fim_max_tokens(requested: int | None, default: int, n_ctx: int) -> int:
    """Most tokens one completion may generate: the request's, else the configured default,
    never more than half the context window."""
    return min(requested or default, n_ctx // 2)


def fim_prompt_budget(n_ctx: int, max_tokens: int, max_prompt_tokens: int = 0) -> int:
    """Tokens the prompt may use: the context window minus the completion's room, capped by
    ``max_prompt_tokens`` when that is above 0."""
    room = n_ctx - max_tokens
    if max_prompt_tokens > 0:
        room = min(room, max_prompt_tokens)
    return max(room, MIN_PROMPT_TOKENS)


def assemble_fim_prompt(
    prefix: str,
    suffix: str,
    *,
    fmt: FimFormat,
    count_tokens: TokenCounter,
    budget: int,
    path: str | None = None,
    context: Sequence[ContextFile] = (),
    pinned: Sequence[ContextFile] = (),
    prefix_share: float = 0.75,
) -> AssembledPrompt:
    """The prompt for a cursor in ``path`` (relative to the workspace root, as the LSP sends
    it) with ``context`` chunks of other files. ``pinned`` chunks (workspace definitions) go
    before the ring's chunks, so they stay at the stable front of the prompt."""
    return assemble_prompt(
        prefix,
        suffix,
        fmt=fmt,
        count_tokens=count_tokens,
        max_prompt_tokens=budget,
        context=context,
        path=path,
        prefix_share=prefix_share,
        pinned=pinned,
    )
