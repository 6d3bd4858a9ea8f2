"""Normalised prompt text and stable hashes: the keys dedup, split and sampling agree on."""

from __future__ import annotations

import hashlib
import re
import unicodedata

from trainer.data.records import Example

_SPACE = re.compile(r"\s+")
_PUNCTUATION = re.compile(r"[^\w$%!]+")


def normalise_text(text: str) -> str:
    """NFKC, case-folded, whitespace collapsed: two prompts equal here are duplicates."""
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def prompt_key(example: Example) -> str:
    """The normalised text of every user turn; what duplicates and the split are keyed on."""
    return normalise_text(example.joined("user"))


def words(text: str) -> list[str]:
    """Normalised words without punctuation (BBj's ``$ % !`` suffixes are kept)."""
    return [w for w in _PUNCTUATION.split(normalise_text(text)) if w]


def stable_hash(*parts: object) -> int:
    """A 64-bit hash of ``parts`` that is the same on every machine and run."""
    data = "\x1f".join(str(p) for p in parts).encode("utf-8")
    return int.from_bytes(hashlib.sha256(data).digest()[:8], "big")


def stable_unit(*parts: object) -> float:
    """A number in [0, 1) fixed by ``parts``."""
    return stable_hash(*parts) / 2**64
