"""Render chat messages as ChatML ourselves: no template shipped inside a model is executed."""

from __future__ import annotations

from collections.abc import Sequence

from daemon.backends.base import ChatMessage

IM_START = "<|im_start|>"
IM_END = "<|im_end|>"
CHATML_MARKERS = (IM_START, IM_END)
CHATML_STOPS = (IM_END, "<|endoftext|>", IM_START)

DEFAULT_SYSTEM_PROMPT = (
    "You are bbj-coder, an expert in BBj (BASIS International's Business BASIC for Java). "
    "Answer precisely. Put BBj code in ```bbj fenced blocks; code you show must compile."
)


Segment = tuple[str, bool]
"""A piece of a prompt and whether it is one of *our* control markers (never user text)."""


def chatml_segments(
    messages: Sequence[ChatMessage], system_prompt: str = DEFAULT_SYSTEM_PROMPT
) -> list[Segment]:
    """ChatML as segments, so user text that happens to contain ``<|im_start|>`` stays text."""
    turns = list(messages)
    if not turns or turns[0].role != "system":
        turns.insert(0, ChatMessage("system", system_prompt))
    segments: list[Segment] = []
    for message in turns:
        segments += [
            (IM_START, True),
            (f"{message.role}\n{message.content}", False),
            (IM_END, True),
            ("\n", False),
        ]
    return [*segments, (IM_START, True), ("assistant\n", False)]


def render_chatml(
    messages: Sequence[ChatMessage], system_prompt: str = DEFAULT_SYSTEM_PROMPT
) -> str:
    """ChatML with a default system message when none is given, ending with the assistant turn."""
    return "".join(text for text, _ in chatml_segments(messages, system_prompt))
