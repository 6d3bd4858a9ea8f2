"""The next-edit prompt format as data, and the one renderer used to train and to serve.

The layout follows Sweep's open next-edit models (Qwen2.5-Coder base): every block starts with
the ``<|file_sep|>`` token the base was pretrained on, the recent edits are ``original:`` /
``updated:`` pairs (Sweep measured these beat unified diffs), then the window around the
cursor as it was before the latest edit and as it is now, and the model writes the window as
it should be::

    <|file_sep|>{context path}
    {context text}
    <|file_sep|>{edited path}.diff
    original:
    {lines before}
    updated:
    {lines after}
    <|file_sep|>original/{path}
    {window before the latest edit}
    <|file_sep|>current/{path}
    {window now}
    <|file_sep|>updated/{path}
    {the model writes the updated window here}<|endoftext|>
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fim.formats import ContextFile
from fim.next_edit.history import Hunk


@dataclass(frozen=True)
class NextEditFormat:
    """Tokens, labels and window size of one next-edit prompt layout."""

    name: str
    file_sep: str
    end_token: str
    stop_tokens: tuple[str, ...]
    diff_suffix: str = ".diff"
    original_label: str = "original:"
    updated_label: str = "updated:"
    original_prefix: str = "original/"
    current_prefix: str = "current/"
    updated_prefix: str = "updated/"
    lines_above: int = 10
    lines_below: int = 10

    def _block(self, header: str, body: str) -> str:
        if body and not body.endswith("\n"):
            body += "\n"
        return f"{self.file_sep}{header}\n{body}"

    def render_context(self, context: Sequence[ContextFile]) -> str:
        return "".join(self._block(chunk.path, chunk.text) for chunk in context)

    def render_hunk(self, hunk: Hunk) -> str:
        body = (
            f"{self.original_label}\n{Hunk.block(hunk.original)}"
            f"{self.updated_label}\n{Hunk.block(hunk.updated)}"
        )
        return self._block(f"{hunk.path}{self.diff_suffix}", body)

    def render(
        self,
        path: str,
        original_window: str,
        current_window: str,
        *,
        hunks: Sequence[Hunk] = (),
        context: Sequence[ContextFile] = (),
    ) -> str:
        """The prompt, ending where the model starts writing the updated window."""
        return "".join(
            [
                self.render_context(context),
                *(self.render_hunk(h) for h in hunks),
                self._block(f"{self.original_prefix}{path}", original_window + "\n"),
                self._block(f"{self.current_prefix}{path}", current_window + "\n"),
                f"{self.file_sep}{self.updated_prefix}{path}\n",
            ]
        )

    def target(self, updated_window: str) -> str:
        """What the model is trained to write after the prompt."""
        return f"{updated_window}\n{self.end_token}"

    def parse(self, output: str) -> str:
        """The updated window from the model's output (cut at the first stop token)."""
        cut = len(output)
        for stop in self.stop_tokens:
            index = output.find(stop)
            if index != -1:
                cut = min(cut, index)
        text = output[:cut]
        return text[:-1] if text.endswith("\n") else text


SWEEP_QWEN = NextEditFormat(
    name="sweep-qwen2.5",
    file_sep="<|file_sep|>",
    end_token="<|endoftext|>",
    stop_tokens=(
        "<|endoftext|>",
        "<|file_sep|>",
        "<|repo_name|>",
        "<|fim_prefix|>",
        "<|fim_suffix|>",
        "<|fim_middle|>",
        "<|im_start|>",
        "<|im_end|>",
    ),
)

NEXT_EDIT_FORMATS: dict[str, NextEditFormat] = {SWEEP_QWEN.name: SWEEP_QWEN}
