"""Whole builds: outputs, versioning, atomic publishing, determinism, bad input."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from trainer.data import DataError, run_data_command
from trainer.data.build import build_dataset

OUTPUTS = {
    "train.jsonl",
    "val.jsonl",
    "test.jsonl",
    "fim_train.jsonl",
    "fim_val.jsonl",
    "fim_test.jsonl",
    "cpt_train.jsonl",
    "cpt_val.jsonl",
    "report.json",
    "report.md",
    "token_lengths.png",
    "manifest.json",
}


@pytest.fixture
def inputs(
    tmp_path: Path,
    write_markdown: Callable,
    write_jsonl: Callable,
    chat_line: Callable,
    bbj_source: Callable,
) -> dict[str, Path]:
    code = '```bbj\nprint "hello"\nend\n```'
    write_markdown(
        "hello.md",
        {"title": "Hello", "type": "completion", "generation": "dwc"},
        {"Code": code, "Explanation": "Prints a greeting."},
    )
    write_markdown(
        "broken.md", {"title": "Bad", "type": "tutorial", "generation": "dwc"}, {"Code": code}
    )
    lines = [chat_line(f"Write BBj that prints {i}", f"```bbj\nprint {i}\n```") for i in range(40)]
    lines += [chat_line("Write BBj that prints 3", "```BBj\nprint 3\nBROKEN\n```"), "{oops"]
    write_jsonl("chat.jsonl", lines)
    for project in ("billing", "stock"):
        for i in range(12):
            path = tmp_path / "src" / project / f"m{i}.bbj"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(bbj_source(i + len(project) * 100, 25))
    latin = 'rem "\u00e9t\u00e9"\n'.encode("latin-1")
    (tmp_path / "src" / "stock" / "latin.src").write_bytes(latin)
    (tmp_path / "src" / "stock" / "binary.bbj").write_bytes(b"\x00\x01\x02tokenised")
    return {"markdown": tmp_path / "md", "chatml": tmp_path / "chat", "sources": tmp_path / "src"}


def settings(inputs: dict[str, Path], tiny_tokenizer: Path) -> dict[str, object]:
    return {
        "markdown": (inputs["markdown"],),
        "chatml": (inputs["chatml"],),
        "sources": (inputs["sources"],),
        "tokenizer": tiny_tokenizer,
        "max_seq_len": 512,
        "fim_rate": 1.0,
        "check_code": True,
    }


def test_a_full_build(
    inputs: dict, tiny_tokenizer: Path, make_config: Callable, checker: Callable
) -> None:
    config = make_config(**settings(inputs, tiny_tokenizer), drop_failing=False)
    result = build_dataset(config, checker=checker)
    assert result.directory == config.out / "v0001"
    assert {p.name for p in result.directory.iterdir()} == OUTPUTS
    assert (config.out / "LATEST").read_text() == "v0001\n"
    report = json.loads((result.directory / "report.json").read_text())
    assert report["chat"]["train"] + report["chat"]["val"] + report["chat"]["test"] == 41
    assert report["drop_failing"] is False
    assert report["inputs"]["markdown files rejected"] == 1
    assert report["inputs"]["chatml lines rejected"] == 1
    assert report["sources"]["skipped"] == {"binary": 1}
    assert report["sources"]["encodings"] == {"cp1252": 1, "utf-8": 24}
    steps = {step["step"]: step for step in report["cleaning"]}
    assert steps["duplicates"]["counts"] == {
        "conflicting answers": 1,
        "exact duplicates removed": 1,
    }
    assert steps["checker"]["counts"]["failed"] == 1
    assert steps["checker"]["counts"]["kept although failing (drop_failing is off)"] == 1
    assert steps["fences"]["counts"]["fences normalised"] == 1
    assert report["fim"]["train"] > 0 and report["fim"]["val"] > 0
    assert report["fim"]["tokens"]["max"] <= 512
    for line in (result.directory / "train.jsonl").read_text().splitlines():
        record = json.loads(line)
        assert record["messages"][0]["role"] == "system"
    assert (result.directory / "token_lengths.png").read_bytes().startswith(b"\x89PNG")
    markdown = (result.directory / "report.md").read_text()
    assert "## Cleaning" in markdown and "token_lengths.png" in markdown


def test_manifest_hashes_every_output_and_input(
    inputs: dict, tiny_tokenizer: Path, make_config: Callable, checker: Callable
) -> None:
    directory = build_dataset(
        make_config(**settings(inputs, tiny_tokenizer)), checker=checker
    ).directory
    manifest = json.loads((directory / "manifest.json").read_text())
    listed = {entry["path"]: entry["sha256"] for entry in manifest["outputs"]}
    assert set(listed) == OUTPUTS - {"manifest.json"}
    for name, digest in listed.items():
        assert hashlib.sha256((directory / name).read_bytes()).hexdigest() == digest
    inputs_listed = {entry["path"] for entry in manifest["inputs"]}
    assert str(inputs["chatml"] / "chat.jsonl") in inputs_listed
    assert str(tiny_tokenizer) in inputs_listed
    assert str(inputs["sources"] / "stock" / "latin.src") in inputs_listed


def test_two_builds_are_byte_identical(
    inputs: dict, tiny_tokenizer: Path, make_config: Callable, checker: Callable
) -> None:
    config = make_config(**settings(inputs, tiny_tokenizer))
    first = build_dataset(config, checker=checker).directory
    second = build_dataset(config, checker=checker).directory
    assert (first.name, second.name) == ("v0001", "v0002")
    assert (config.out / "LATEST").read_text() == "v0002\n"
    for name in OUTPUTS:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_fim_samples_get_the_workspace_signatures_the_daemon_would_pin(
    tmp_path: Path, tiny_tokenizer: Path, make_config: Callable
) -> None:
    """Library classes the programs `use` are pinned in their FIM prompts (from the same
    split only), the report counts those samples, and a rebuild is byte-identical."""
    for name in ("Alpha", "Beta", "Gamma"):
        lib = tmp_path / "src" / "shop" / "lib" / f"{name}.bbj"
        lib.parent.mkdir(parents=True, exist_ok=True)
        lib.write_text(
            f"class public {name}\n  method public void run{name}()\n  methodend\nclassend\n"
        )
    for i in range(12):
        uses = "".join(f"use ::lib/{n}.bbj::{n}\n" for n in ("Alpha", "Beta", "Gamma"))
        body = "".join(f"x{j} = {i} + {j}\nprint x{j}\n" for j in range(6))
        (tmp_path / "src" / "shop" / f"p{i}.bbj").write_text(uses + body + "end\n")
    base = {
        "sources": (tmp_path / "src",),
        "tokenizer": tiny_tokenizer,
        "max_seq_len": 512,
        "fim_rate": 1.0,
        "fim_repo_rate": 0.0,
    }
    config = make_config(**base)
    first = build_dataset(config).directory
    second = build_dataset(config).directory
    for name in ("fim_train.jsonl", "fim_val.jsonl", "fim_test.jsonl", "report.json"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    report = json.loads((first / "report.json").read_text())
    assert report["fim"]["with workspace signatures"] > 0
    split_of = {}
    for part in ("train", "val", "test"):
        for line in (first / f"fim_{part}.jsonl").read_text().splitlines():
            record = json.loads(line)
            split_of[record["file"]] = part
            for key in record["workspace_files"]:
                assert key.startswith("src/shop/lib/")
                assert (
                    f"<|file_sep|>{key.removeprefix('src/shop/')}\nclass public" in record["prompt"]
                )
    pinned = [
        json.loads(line)
        for line in (first / "fim_train.jsonl").read_text().splitlines()
        if json.loads(line)["workspace_files"]
    ]
    assert pinned and all(split_of[k] == "train" for p in pinned for k in p["workspace_files"])

    off = build_dataset(make_config(**base, fim_workspace_context=False)).directory
    report = json.loads((off / "report.json").read_text())
    assert report["fim"]["with workspace signatures"] == 0
    for line in (off / "fim_train.jsonl").read_text().splitlines():
        assert json.loads(line)["prompt"].count("<|file_sep|>") == 1  # only the file's own


def test_a_failed_build_publishes_nothing(
    inputs: dict,
    tiny_tokenizer: Path,
    make_config: Callable,
    checker: Callable,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("trainer.data.build.write_histogram", fail)
    config = make_config(**settings(inputs, tiny_tokenizer))
    with pytest.raises(KeyboardInterrupt):
        build_dataset(config, checker=checker)
    assert os.listdir(config.out) == []


def test_leakage_stops_the_build(
    inputs: dict,
    tiny_tokenizer: Path,
    make_config: Callable,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def leaky_split(files: list, fraction: float, seed: int, test: float) -> tuple:
        return files, files[:1], []

    monkeypatch.setattr("trainer.data.build.split_files", leaky_split)
    config = make_config(**{**settings(inputs, tiny_tokenizer), "check_code": False})
    assert run_data_command(config) == 1
    assert "leakage: 1 source file(s) in both training and validation" in capsys.readouterr().err
    assert not config.out.exists()


def test_run_data_command_prints_the_timing(
    inputs: dict, tiny_tokenizer: Path, make_config: Callable, capsys: pytest.CaptureFixture[str]
) -> None:
    config = make_config(**{**settings(inputs, tiny_tokenizer), "check_code": False})
    assert run_data_command(config) == 0
    captured = capsys.readouterr()
    assert "wrote " in captured.out and " s (report: " in captured.out
    assert "line 42: not valid JSON" in captured.err


def test_the_real_checker_is_the_default(
    write_markdown: Callable, make_config: Callable, tmp_path: Path
) -> None:
    code = "```bbj\nfor i = 1 to 3\nprint i\n```"
    write_markdown(
        "open.md", {"title": "Loop", "type": "completion", "generation": "all"}, {"Code": code}
    )
    config = make_config(markdown=(tmp_path / "md",), check_code=True)
    result = build_dataset(config)
    steps = {step["step"]: step for step in result.report["cleaning"]}
    assert steps["checker"]["counts"] == {"failed": 1, "dropped": 1}
    assert result.report["drop_failing"] is True
    assert "drop_failing on" in (result.directory / "report.md").read_text()


def test_empty_inputs_say_so(
    tmp_path: Path, make_config: Callable, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("md", "chat", "src"):
        (tmp_path / name).mkdir()
    (tmp_path / "chat" / "empty.jsonl").write_bytes(b"")
    config = make_config(
        markdown=(tmp_path / "md",), chatml=(tmp_path / "chat",), sources=(tmp_path / "src",)
    )
    with pytest.raises(DataError, match="nothing to build: no usable examples"):
        build_dataset(config)
    assert run_data_command(config) == 1
    assert "nothing to build" in capsys.readouterr().err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_no_inputs_at_all(make_config: Callable) -> None:
    with pytest.raises(DataError, match="name Markdown examples, ChatML files or source trees"):
        build_dataset(make_config())


def test_missing_input_path(tmp_path: Path, make_config: Callable) -> None:
    with pytest.raises(DataError, match=r"chatml input .*nope\.jsonl does not exist"):
        build_dataset(make_config(chatml=(tmp_path / "nope.jsonl",)))


def test_bad_tokenizer_path(tmp_path: Path, make_config: Callable) -> None:
    (tmp_path / "model").mkdir()
    with pytest.raises(DataError, match=r"has no tokenizer\.json"):
        build_dataset(make_config(tokenizer=tmp_path / "model"))


def test_a_tokenizer_without_fim_tokens_is_refused(tmp_path: Path, make_config: Callable) -> None:
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel()
    tokenizer.train_from_iterator(["print 1\nend\n"] * 10, trainers.BpeTrainer(vocab_size=300))
    tokenizer.save(str(tmp_path / "plain.json"))
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.bbj").write_text("print 1\n")
    config = make_config(sources=(tmp_path / "src",), tokenizer=tmp_path / "plain.json")
    with pytest.raises(DataError, match=r"has no <\|fim_prefix\|>"):
        build_dataset(config)
