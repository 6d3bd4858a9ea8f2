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


def render_chatml(
    messages: Sequence[ChatMessage], system_prompt: str = DEFAULT_SYSTEM_PROMPT
) -> str:
    """ChatML with a default system message when none is given, ending with the assistant turn."""
    parts = []
    if not messages or messages[0].role != "system":
        parts.append(f"{IM_START}system\n{system_prompt}{IM_END}\n")
    for message in messages:
        parts.append(f"{IM_START}{message.role}\n{message.content}{IM_END}\n")
    parts.append(f"{IM_START}assistant\n")
    return "".join(parts)
