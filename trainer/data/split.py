"""The deterministic train/validation split and the leakage check that guards it.

Conversations are placed by a hash of their normalised prompt, source files by a hash of their
path, so an item never moves when unrelated items are added and duplicates (which share the
key) can never land on both sides.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

from trainer.data.keys import prompt_key, stable_unit
from trainer.data.records import DataError, Example, SourceFile

T = TypeVar("T")


class LeakageError(DataError):
    """Validation data also appears in training data."""


def split_by_key(
    items: list[T], key: Callable[[T], str], val_fraction: float, seed: int, salt: str
) -> tuple[list[T], list[T]]:
    train: list[T] = []
    val: list[T] = []
    for item in items:
        (val if stable_unit(seed, salt, key(item)) < val_fraction else train).append(item)
    return train, val


def split_examples(
    examples: list[Example], val_fraction: float, seed: int
) -> tuple[list[Example], list[Example]]:
    return split_by_key(examples, prompt_key, val_fraction, seed, "chat-split")


def split_files(
    files: list[SourceFile], val_fraction: float, seed: int
) -> tuple[list[SourceFile], list[SourceFile]]:
    return split_by_key(files, lambda f: f.key, val_fraction, seed, "file-split")


def check_leakage(
    train: list[Example],
    val: list[Example],
    train_files: list[SourceFile],
    val_files: list[SourceFile],
    fim_train: list[dict],
    fim_val: list[dict],
) -> None:
    """Raise ``LeakageError`` naming the first offenders when anything is on both sides."""
    _disjoint("prompt", {prompt_key(e) for e in train}, {prompt_key(e) for e in val})
    _disjoint("source file", {f.key for f in train_files}, {f.key for f in val_files})
    _disjoint("source content", {f.sha256 for f in train_files}, {f.sha256 for f in val_files})
    _disjoint("FIM file", set(_fim_files(fim_train)), set(_fim_files(fim_val)))
    _inside("FIM training", _fim_files(fim_train), {f.key for f in train_files})
    _inside("FIM validation", _fim_files(fim_val), {f.key for f in val_files})


def _fim_files(samples: list[dict]) -> Iterable[str]:
    for sample in samples:
        yield sample["file"]
        yield from sample["context_files"]


def _disjoint(what: str, train: set[str], val: set[str]) -> None:
    shared = sorted(train & val)
    if shared:
        listed = "; ".join(repr(s[:80]) for s in shared[:3])
        raise LeakageError(
            f"leakage: {len(shared)} {what}(s) in both training and validation data, e.g. {listed}"
        )


def _inside(what: str, used: Iterable[str], allowed: set[str]) -> None:
    outside = sorted(set(used) - allowed)
    if outside:
        raise LeakageError(
            f"leakage: {what} samples use {len(outside)} file(s) from the other split, "
            f"e.g. {outside[0]!r}"
        )
