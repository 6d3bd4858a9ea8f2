"""Counting tokens: with the model's HF tokenizer, or UTF-8 bytes when none is given.

Byte counts are an upper bound for any byte-level BPE tokenizer, so limits hold either way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from fim.formats import QWEN25_CODER
from trainer.data.records import DataError

SPECIAL_TOKENS: tuple[str, ...] = QWEN25_CODER.stop_tokens
"""Token texts that must not occur in training text: a tokenizer reads them as control tokens."""


class TokenCounter(Protocol):
    name: str

    def count(self, text: str) -> int: ...

    def count_many(self, texts: list[str]) -> list[int]: ...

    def has_token(self, text: str) -> bool: ...


class ByteCounter:
    """One token per UTF-8 byte."""

    name = "utf-8 bytes (no tokenizer given; an upper bound)"

    def count(self, text: str) -> int:
        return len(text.encode("utf-8"))

    def count_many(self, texts: list[str]) -> list[int]:
        return [len(t.encode("utf-8")) for t in texts]

    def has_token(self, text: str) -> bool:
        return True


class HFTokenCounter:
    """A ``tokenizers.Tokenizer``; special tokens written in text count as one token."""

    def __init__(self, tokenizer: Any, name: str) -> None:
        self._tokenizer = tokenizer
        self.name = name

    def count(self, text: str) -> int:
        return len(self._tokenizer.encode(text, add_special_tokens=False).ids)

    def count_many(self, texts: list[str]) -> list[int]:
        if not texts:
            return []
        encodings = self._tokenizer.encode_batch(texts, add_special_tokens=False)
        return [len(e.ids) for e in encodings]

    def has_token(self, text: str) -> bool:
        return self._tokenizer.token_to_id(text) is not None


def load_token_counter(path: Path | None) -> ByteCounter | HFTokenCounter:
    """Load ``tokenizer.json`` (or a model directory holding one); bytes when ``path`` is None."""
    if path is None:
        return ByteCounter()
    file = path / "tokenizer.json" if path.is_dir() else path
    if not file.is_file():
        where = f"directory {path} has no tokenizer.json" if path.is_dir() else f"{path} not found"
        raise DataError(f"tokenizer: {where}")
    from tokenizers import Tokenizer

    try:
        tokenizer = Tokenizer.from_file(str(file))
    except Exception as exc:  # tokenizers raises a bare Exception on bad JSON
        raise DataError(f"tokenizer: {file} is not a Hugging Face tokenizer.json ({exc})") from exc
    return HFTokenCounter(tokenizer, str(file))


def require_fim_tokens(counter: TokenCounter) -> None:
    """Refuse a tokenizer that lacks the FIM/repo tokens the samples are written with."""
    needed = (*QWEN25_CODER.marker_tokens, "<|endoftext|>")
    missing = [token for token in needed if not counter.has_token(token)]
    if missing:
        raise DataError(
            f"tokenizer {counter.name} has no {', '.join(missing)} token(s); FIM and pretraining "
            "data are written for a Qwen2.5-Coder tokenizer"
        )
