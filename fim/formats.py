"""FIM prompt formats as data, the one renderer used to train and to serve, and detection.

A format is identified by the *text* of its special tokens; token ids are always looked up in
the model's vocabulary by that text, never hard-coded.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from fim.errors import BbjCoderError


@dataclass(frozen=True)
class ContextFile:
    """A chunk of another file placed before the current file (repo-level FIM)."""

    path: str
    text: str


@dataclass(frozen=True)
class FimFormat:
    """The special tokens and layout of one model family's fill-in-the-middle prompt."""

    name: str
    prefix_token: str
    suffix_token: str
    middle_token: str
    stop_tokens: tuple[str, ...]
    repo_name_token: str | None = None
    file_sep_token: str | None = None
    # CodeLlama puts a space after <PRE>/<SUF>/<MID>; the others glue text to the token.
    token_spacing: str = ""

    @property
    def supports_repo_level(self) -> bool:
        return self.repo_name_token is not None and self.file_sep_token is not None

    @property
    def marker_tokens(self) -> tuple[str, ...]:
        """Every token text of this format that must never appear in a completion."""
        extra = tuple(t for t in (self.repo_name_token, self.file_sep_token) if t)
        return (self.prefix_token, self.suffix_token, self.middle_token, *extra)

    def render(
        self,
        prefix: str,
        suffix: str,
        *,
        path: str | None = None,
        context: Sequence[ContextFile] = (),
        repo_name: str = "workspace",
    ) -> str:
        """Render a PSM (prefix-suffix-middle) prompt, repo-level given context or a path."""
        sp = self.token_spacing
        fim = f"{self.prefix_token}{sp}{prefix}{self.suffix_token}{sp}{suffix}{self.middle_token}"
        if not self.supports_repo_level or (not context and path is None):
            return fim
        parts = [f"{self.repo_name_token}{repo_name}\n"]
        for chunk in context:
            text = chunk.text if chunk.text.endswith("\n") else chunk.text + "\n"
            parts.append(f"{self.file_sep_token}{chunk.path}\n{text}")
        parts.append(f"{self.file_sep_token}{path or 'current.bbj'}\n{fim}")
        return "".join(parts)

    def context_header(self, repo_name: str = "workspace") -> str:
        """The repo header (``<|repo_name|>name\\n``) that starts a repo-level prompt."""
        return f"{self.repo_name_token}{repo_name}\n" if self.repo_name_token else ""


QWEN25_CODER = FimFormat(
    name="qwen2.5-coder",
    prefix_token="<|fim_prefix|>",
    suffix_token="<|fim_suffix|>",
    middle_token="<|fim_middle|>",
    stop_tokens=(
        "<|endoftext|>",
        "<|fim_prefix|>",
        "<|fim_suffix|>",
        "<|fim_middle|>",
        "<|fim_pad|>",
        "<|repo_name|>",
        "<|file_sep|>",
        "<|im_start|>",
        "<|im_end|>",
    ),
    repo_name_token="<|repo_name|>",
    file_sep_token="<|file_sep|>",
)

STARCODER2 = FimFormat(
    name="starcoder2",
    prefix_token="<fim_prefix>",
    suffix_token="<fim_suffix>",
    middle_token="<fim_middle>",
    stop_tokens=("<|endoftext|>", "<fim_prefix>", "<fim_suffix>", "<fim_middle>", "<file_sep>"),
    repo_name_token="<repo_name>",
    file_sep_token="<file_sep>",
)

CODELLAMA = FimFormat(
    name="codellama",
    prefix_token="<PRE>",
    suffix_token="<SUF>",
    middle_token="<MID>",
    stop_tokens=("<EOT>", "</s>", "<PRE>", "<SUF>", "<MID>"),
    token_spacing=" ",
)

DEEPSEEK_CODER = FimFormat(
    name="deepseek-coder",
    prefix_token="<｜fim▁begin｜>",
    suffix_token="<｜fim▁hole｜>",
    middle_token="<｜fim▁end｜>",
    stop_tokens=("<｜end▁of▁sentence｜>", "<｜fim▁begin｜>", "<｜fim▁hole｜>", "<｜fim▁end｜>"),
)

FORMATS: tuple[FimFormat, ...] = (QWEN25_CODER, STARCODER2, CODELLAMA, DEEPSEEK_CODER)
FORMATS_BY_NAME: dict[str, FimFormat] = {f.name: f for f in FORMATS}


class UnknownFimFormatError(BbjCoderError):
    """Raised when a format name is not one of :data:`FORMATS`."""


def format_by_name(name: str) -> FimFormat:
    try:
        return FORMATS_BY_NAME[name]
    except KeyError:
        known = ", ".join(FORMATS_BY_NAME)
        message = f"unknown FIM format {name!r}; known formats: {known}"
        raise UnknownFimFormatError(message) from None


def _normalise_token_text(text: str) -> str:
    # SentencePiece vocabularies (CodeLlama) store "▁<PRE>" for " <PRE>".
    return text.lstrip("▁").strip()


def detect_format(vocabulary: Iterable[str]) -> FimFormat | None:
    """Pick the format whose prefix, suffix and middle tokens all exist in ``vocabulary``."""
    texts = {_normalise_token_text(t) for t in vocabulary}
    for fmt in FORMATS:
        if {fmt.prefix_token, fmt.suffix_token, fmt.middle_token} <= texts:
            return fmt
    return None
