"""The deterministic train/validation/test split and the leakage check that guards it.

Conversations are placed by a hash of their normalised prompt, source files by a hash of their
path, so an item never moves when unrelated items are added and duplicates (which share the
key) can never land on two sides. Validation picks the best checkpoint; test is only read by
``train eval``, so the eval table is not measured on the data that chose the model.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from itertools import combinations
from typing import NamedTuple, TypeVar

from trainer.data.keys import prompt_key, stable_unit
from trainer.data.records import DataError, Example, SourceFile

T = TypeVar("T")

SPLIT_NAMES: tuple[str, ...] = ("train", "val", "test")
SPLIT_WORDS = {"train": "training", "val": "validation", "test": "test"}


class LeakageError(DataError):
    """Held-out data also appears in training data (or in the other held-out split)."""


class Parts(NamedTuple):
    train: list
    val: list
    test: list


def split_by_key(
    items: list[T],
    key: Callable[[T], str],
    val_fraction: float,
    seed: int,
    salt: str,
    test_fraction: float = 0.0,
) -> Parts:
    parts = Parts([], [], [])
    for item in items:
        unit = stable_unit(seed, salt, key(item))
        if unit < val_fraction:
            parts.val.append(item)
        elif unit < val_fraction + test_fraction:
            parts.test.append(item)
        else:
            parts.train.append(item)
    return parts


def split_examples(
    examples: list[Example], val_fraction: float, seed: int, test_fraction: float = 0.0
) -> Parts:
    return split_by_key(examples, prompt_key, val_fraction, seed, "chat-split", test_fraction)


def split_files(
    files: list[SourceFile], val_fraction: float, seed: int, test_fraction: float = 0.0
) -> Parts:
    return split_by_key(files, lambda f: f.key, val_fraction, seed, "file-split", test_fraction)


def check_leakage(
    chat: Mapping[str, list[Example]],
    files: Mapping[str, list[SourceFile]],
    fim: Mapping[str, list[dict]],
) -> None:
    """Raise ``LeakageError`` naming the first offenders when anything is on two sides; each
    mapping is keyed by split name (train, val, test)."""
    for left, right in combinations(SPLIT_NAMES, 2):
        where = (left, right)
        _disjoint("prompt", where, _keys(chat, left, prompt_key), _keys(chat, right, prompt_key))
        _disjoint(
            "source file", where, _keys(files, left, _file_key), _keys(files, right, _file_key)
        )
        _disjoint("source content", where, _keys(files, left, _sha), _keys(files, right, _sha))
        _disjoint("FIM file", where, set(_fim_files(fim, left)), set(_fim_files(fim, right)))
    for name in SPLIT_NAMES:
        _inside(name, _fim_files(fim, name), _keys(files, name, _file_key))


def _file_key(file: SourceFile) -> str:
    return file.key


def _sha(file: SourceFile) -> str:
    return file.sha256


def _keys(parts: Mapping[str, list[T]], name: str, key: Callable[[T], str]) -> set[str]:
    return {key(item) for item in parts.get(name, [])}


def _fim_files(fim: Mapping[str, list[dict]], name: str) -> Iterable[str]:
    for sample in fim.get(name, []):
        yield sample["file"]
        yield from sample["context_files"]
        yield from sample.get("workspace_files", ())


def _disjoint(what: str, where: tuple[str, str], left: set[str], right: set[str]) -> None:
    shared = sorted(left & right)
    if shared:
        listed = "; ".join(repr(s[:80]) for s in shared[:3])
        sides = " and ".join(SPLIT_WORDS[name] for name in where)
        raise LeakageError(f"leakage: {len(shared)} {what}(s) in both {sides} data, e.g. {listed}")


def _inside(name: str, used: Iterable[str], allowed: set[str]) -> None:
    outside = sorted(set(used) - allowed)
    if outside:
        raise LeakageError(
            f"leakage: FIM {SPLIT_WORDS[name]} samples use {len(outside)} file(s) from another "
            f"split, e.g. {outside[0]!r}"
        )
