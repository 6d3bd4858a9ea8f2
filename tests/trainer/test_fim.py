"""FIM samples: exact reassembly, the token limit, span types, repo-level context."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from fim.formats import QWEN25_CODER
from fim.language import BLOCK_CLOSERS, BLOCK_OPENERS, first_word
from trainer.data.fim_samples import FimBuilder, FimSettings
from trainer.data.records import SourceFile
from trainer.data.spans import FileLines, find_blocks, line_span, statements
from trainer.data.tokens import HFTokenCounter

SETTINGS = FimSettings(
    max_seq_len=4096,
    rate=1.0,
    samples_per_file=6,
    span_types=("line", "block", "random"),
    repo_rate=0.5,
    repo_max_files=2,
    max_middle_tokens=256,
    seed=0,
)


def source_file(text: str, name: str, project: str = "app") -> SourceFile:
    return SourceFile("corpus", project, f"{project}/{name}", text, "utf-8", f"sha-{name}")


@pytest.fixture
def files(bbj_source: Callable) -> list[SourceFile]:
    return [source_file(bbj_source(i, 20 + 7 * i), f"p{i}.bbj") for i in range(6)]


def build(files: list[SourceFile], counter: HFTokenCounter, **changes: object) -> list[dict]:
    settings = FimSettings(**{**SETTINGS.__dict__, **changes})
    return FimBuilder(files, settings, counter).build("train", False)


def test_prefix_middle_suffix_reassemble_the_file(files: list, counter: HFTokenCounter) -> None:
    samples = build(files, counter)
    texts = {f.key: f.text for f in files}
    assert len(samples) == 6 * 6
    for sample in samples:
        assert not sample["truncated"]
        assert sample["prefix"] + sample["middle"] + sample["suffix"] == texts[sample["file"]]
        assert sample["completion"] == sample["middle"] + "<|endoftext|>"
        assert sample["middle"]


def test_prompt_has_the_header_the_daemon_sends(files: list, counter: HFTokenCounter) -> None:
    """The LSP always sends a path, so the daemon always renders the repo-level header with
    its repo name ("workspace"); every sample must look like that, context or not."""
    for sample in build(files, counter):
        tail = f"<|file_sep|>{sample['path']}\n" + QWEN25_CODER.render(
            sample["prefix"], sample["suffix"]
        )
        assert sample["prompt"].startswith("<|repo_name|>workspace\n<|file_sep|>")
        assert sample["prompt"].endswith(tail)
        if not sample["repo_level"]:
            assert sample["prompt"] == "<|repo_name|>workspace\n" + tail
        else:
            assert sample["prompt"].count("<|file_sep|>") >= 2


def test_every_sample_fits_the_tiny_tokenizer(
    bbj_source: Callable, counter: HFTokenCounter
) -> None:
    big = [source_file(bbj_source(i, 400), f"big{i}.bbj") for i in range(3)]
    samples = build(big, counter, max_seq_len=256, max_middle_tokens=48)
    assert samples
    texts = {f.key: f.text for f in big}
    for sample in samples:
        prompt, completion = sample["prompt"], sample["completion"]
        assert counter.count(prompt) + counter.count(completion) <= 256
        assert counter.count(prompt + completion) <= 256
        assert sample["tokens"] <= 256
        window = sample["prefix"] + sample["middle"] + sample["suffix"]
        offset = sample["offset"]
        assert texts[sample["file"]][offset : offset + len(window)] == window
    assert any(s["truncated"] for s in samples)


def test_one_giant_line_still_fits(counter: HFTokenCounter) -> None:
    text = 'print "' + "x y " * 3000 + '"\nend\n'
    samples = build(
        [source_file(text, "wide.bbj")],
        counter,
        max_seq_len=128,
        max_middle_tokens=32,
        repo_rate=0.0,
    )
    assert samples
    for sample in samples:
        assert sample["tokens"] <= 128
        window = sample["prefix"] + sample["middle"] + sample["suffix"]
        assert text[sample["offset"] : sample["offset"] + len(window)] == window


def test_span_types_and_levels_all_occur(files: list, counter: HFTokenCounter) -> None:
    samples = build(files, counter)
    assert {s["span_type"] for s in samples} == {"line", "block", "random"}
    assert {s["repo_level"] for s in samples} == {True, False}


def test_block_spans_start_at_an_opener_and_end_at_a_closer(
    files: list, counter: HFTokenCounter
) -> None:
    blocks = [s for s in build(files, counter, span_types=("block",))]
    assert blocks
    for sample in blocks:
        lines = sample["middle"].splitlines()
        assert first_word(lines[0]) in BLOCK_OPENERS
        assert first_word(lines[-1]) in BLOCK_CLOSERS
        assert sample["prefix"] == "" or sample["prefix"].endswith("\n")


def test_line_spans_are_whole_lines(files: list, counter: HFTokenCounter) -> None:
    for sample in build(files, counter, span_types=("line",)):
        assert sample["middle"].count("\n") == 1 and sample["middle"].endswith("\n")
        assert sample["prefix"] == "" or sample["prefix"].endswith("\n")


def test_context_comes_from_the_same_project_only(
    counter: HFTokenCounter, bbj_source: Callable
) -> None:
    files = [source_file(bbj_source(i), f"a{i}.bbj", "alpha") for i in range(3)]
    files += [source_file(bbj_source(10 + i), f"b{i}.bbj", "beta") for i in range(3)]
    project = {f.key: f.project for f in files}
    samples = build(files, counter, repo_rate=1.0)
    assert all(s["repo_level"] for s in samples)
    for sample in samples:
        assert sample["file"] not in sample["context_files"]
        assert {project[k] for k in sample["context_files"]} == {project[sample["file"]]}


def test_fim_rate_zero_and_determinism(files: list, counter: HFTokenCounter) -> None:
    assert build(files, counter, rate=0.0) == []
    assert build(files, counter) == build(list(files), counter)
    assert build(files, counter) != build(files, counter, seed=1)


def test_statements_ignore_separators_in_strings_and_comments() -> None:
    assert statements('print "a;b"; for i=1 to 2; next i') == [
        'print "a;b"',
        " for i=1 to 2",
        " next i",
    ]
    assert statements("rem a; b") == ["rem a"]


def test_blocks_pair_openers_with_closers_and_skip_one_liners() -> None:
    text = (
        "for i=1 to 3; print i; next i\nif x then print 1\ndef fna(x)=x*2\n"
        "while x\n  if y then\n    x=0\n  fi\nwend\nmethod public void m()\nmethodend\n"
    )
    assert find_blocks(FileLines(text)) == [(3, 7), (4, 6), (8, 9)]


def test_continuation_lines_stay_with_their_statement() -> None:
    text = "print 1,\n: 2,\n: 3\nprint 4\n"
    lines = FileLines(text)
    for seed in range(20):
        start, end = line_span(lines, random.Random(seed))
        assert text[start:end] in ("print 1,\n: 2,\n: 3\n", "print 4\n")
