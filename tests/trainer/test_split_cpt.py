"""The train/validation split, the leakage check, and pretraining packing."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from trainer.data.cpt import document, pack_corpus
from trainer.data.records import Example, Message, SourceFile
from trainer.data.split import LeakageError, check_leakage, split_examples, split_files
from trainer.data.tokens import HFTokenCounter


def example(user: str, order: int = 0) -> Example:
    return Example(
        messages=(Message("user", user), Message("assistant", "a")),
        source=f"s:{order}",
        order=order,
        origin="chatml",
    )


def source(name: str, text: str = "print 1\n", sha: str | None = None) -> SourceFile:
    return SourceFile("corpus", "app", f"app/{name}", text, "utf-8", sha or f"sha-{name}")


def test_split_is_about_ten_percent_and_stable_when_examples_are_added() -> None:
    examples = [example(f"question {i}", i) for i in range(2000)]
    train, val, test = split_examples(examples, 0.1, seed=0, test_fraction=0.1)
    assert 150 < len(val) < 250
    assert 150 < len(test) < 250
    extra = [example(f"unrelated {i}", 5000 + i) for i in range(500)]
    train2, val2, test2 = split_examples(extra + examples, 0.1, seed=0, test_fraction=0.1)
    assert {e.order for e in val2} & {e.order for e in examples} == {e.order for e in val}
    assert {e.order for e in test2} & {e.order for e in examples} == {e.order for e in test}
    assert {e.order for e in train2} >= {e.order for e in train}


def test_same_normalised_prompt_lands_on_the_same_side() -> None:
    texts = ["Open a file", "open a  FILE", " OPEN A FILE "] * 50
    variants = [example(text, i) for i, text in enumerate(texts)]
    parts = split_examples(variants, 0.3, seed=3, test_fraction=0.3)
    assert sorted(len(part) for part in parts) == [0, 0, 150]


def test_files_split_by_path() -> None:
    files = [source(f"f{i}.bbj") for i in range(500)]
    train, val, test = split_files(files, 0.1, seed=0, test_fraction=0.1)
    assert 20 < len(val) < 80 and 20 < len(test) < 80
    assert not {f.key for f in train} & {f.key for f in val}
    assert not {f.key for f in test} & ({f.key for f in val} | {f.key for f in train})


def test_leakage_check_fails_loudly() -> None:
    with pytest.raises(LeakageError, match="1 prompt"):
        check_leakage({"train": [example("same")], "val": [example("SAME")]}, {}, {})
    with pytest.raises(LeakageError, match=r"1 prompt.*validation and test"):
        check_leakage({"val": [example("same")], "test": [example("SAME")]}, {}, {})
    with pytest.raises(LeakageError, match="source content"):
        files = {"train": [source("a.bbj", sha="x")], "test": [source("b.bbj", sha="x")]}
        check_leakage({}, files, {})
    fim = {"file": "corpus/app/b.bbj", "context_files": ["corpus/app/a.bbj"]}
    with pytest.raises(LeakageError, match="FIM test samples use 1 file"):
        check_leakage({}, {"train": [source("a.bbj")], "test": [source("b.bbj")]}, {"test": [fim]})
    pinned = {
        "file": "corpus/app/b.bbj",
        "context_files": [],
        "workspace_files": ["corpus/app/a.bbj"],
    }
    with pytest.raises(LeakageError, match="FIM test samples use 1 file"):
        check_leakage(
            {}, {"train": [source("a.bbj")], "test": [source("b.bbj")]}, {"test": [pinned]}
        )
    check_leakage(
        {"train": [example("a")], "val": [example("b")], "test": [example("c")]},
        {"train": [source("a.bbj")], "val": [source("b.bbj")], "test": [source("c.bbj")]},
        {},
    )


def test_packing_respects_the_limit_and_keeps_every_character(
    counter: HFTokenCounter, bbj_source: Callable
) -> None:
    files = [source(f"f{i}.bbj", bbj_source(i, 5 + 20 * i)) for i in range(8)]
    records, report = pack_corpus(files, 200, counter, seed=0, label="train", show_progress=False)
    texts = [r["text"] for r in records]
    assert all(counter.count(t) <= 200 for t in texts)
    joined = "".join(texts)
    assert sorted(joined.split("<|file_sep|>")[1:]) == sorted(
        document(f).removeprefix("<|file_sep|>") for f in files
    )
    assert report.counts["files split across records"] > 0
    assert report.counts["records"] == len(records) < len(files) * 10


def test_packing_puts_small_files_together(counter: HFTokenCounter) -> None:
    files = [source(f"f{i}.bbj", f"print {i}\n") for i in range(10)]
    records, _ = pack_corpus(files, 4096, counter, seed=0, label="val", show_progress=False)
    assert len(records) == 1
    assert records[0]["text"].count("<|file_sep|>") == 10


def test_packing_cuts_a_giant_line(counter: HFTokenCounter) -> None:
    files = [source("wide.bbj", 'print "' + "ab " * 2000 + '"\n')]
    records, _ = pack_corpus(files, 100, counter, seed=0, label="train", show_progress=False)
    assert len(records) > 5
    assert all(counter.count(r["text"]) <= 100 for r in records)
    assert "".join(r["text"] for r in records) == document(files[0])
