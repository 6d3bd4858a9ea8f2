"""The upstream training-data format (BBj's own repository): its files pass unchanged, and our
multi-file and migration examples written in its style become the right conversations."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from trainer.data.build import build_dataset
from trainer.data.markdown import load_markdown_file

ROOT = Path(__file__).resolve().parents[2]
UPSTREAM = ROOT / ".." / "shared" / "training-data-upstream"
EXAMPLES = ROOT / "trainer" / "examples"


@pytest.mark.skipif(not UPSTREAM.is_dir(), reason="../shared/training-data-upstream is absent")
def test_train_data_accepts_the_upstream_examples_in_place(tmp_path: Path) -> None:
    out = tmp_path / "out"
    command = [sys.executable, "-m", "daemon", "train", "data", "--no-progress"]
    command += ["--markdown", "../shared/training-data-upstream", "--out", str(out)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "problem" not in done.stderr
    report = json.loads((out / "v0001" / "report.json").read_text())
    assert report["inputs"]["markdown examples"] == 2
    assert report["inputs"].get("markdown files rejected", 0) == 0
    assert report["problems"]["count"] == 0
    chat = report["chat"]
    assert chat["train"] + chat["val"] + chat["test"] == 2
    assert chat["by_type"] == {"completion": 1, "comprehension": 1}
    assert chat["by_generation"] == {"all": 1, "bbj-gui": 1, "dwc": 1}


@pytest.mark.skipif(not UPSTREAM.is_dir(), reason="../shared/training-data-upstream is absent")
def test_upstream_list_generations_name_both_targets() -> None:
    example, problems = load_markdown_file(UPSTREAM / "gui" / "hello-window.md", 0)
    assert problems == [] and example is not None
    assert example.generations == ("bbj-gui", "dwc")
    user = example.messages[0].content
    assert user.startswith("Write BBj code for this task: Create and display a basic BBj window.")
    assert "BBj GUI" in user and "DWC" in user


def test_upstream_style_migration_uses_before_and_after() -> None:
    example, problems = load_markdown_file(EXAMPLES / "character-to-gui.md", 0)
    assert problems == [] and example is not None
    user, answer = (m.content for m in example.messages)
    assert user.startswith("Migrate this code, a character-mode (terminal) program, so that it")
    assert "a BBj GUI (SysGui) program or a DWC (Dynamic Web Client) program" in user
    assert "`greet_char.bbj`" in user and "input @(26,5)" in user and "getSysGui" not in user
    assert "`greet_gui.bbj`" in answer and "getSysGui" in answer and "input @(" not in answer
    assert example.files == ()


def test_after_blocks_win_over_order(write_markdown: Callable) -> None:
    """The ``### After`` sub-heading decides, even when the result is written first."""
    front = {"title": "t", "type": "migration", "generation": "dwc", "to_generation": ["dwc"]}
    code = (
        "### After (DWC)\n\n```bbj\nsysgui! = BBjAPI().getSysGui()\n```\n\n"
        '### Before (Character)\n\n```bbj\nprint @(1,1),"x"\n```\n'
    )
    example, problems = load_markdown_file(write_markdown("m.md", front, {"Code": code}), 0)
    assert problems == []
    user, answer = (m.content for m in example.messages)
    assert "print @(1,1)" in user and "getSysGui" not in user
    assert "getSysGui" in answer and "print @(1,1)" not in answer
    assert "a DWC (Dynamic Web Client) program" in user


def test_multi_file_example_names_each_file_and_becomes_a_project(
    make_config: Callable, tiny_tokenizer: Path
) -> None:
    example, problems = load_markdown_file(EXAMPLES / "greeter-two-files.md", 0)
    assert problems == [] and example is not None
    answer = example.messages[1].content
    assert answer.index("`greeting.bbj`") < answer.index("class public Greeter")
    assert answer.index("`main.bbj`") < answer.index("use ::greeting.bbj::Greeter")
    assert [name for name, _ in example.files] == ["greeting.bbj", "main.bbj"]
    config = make_config(
        markdown=(EXAMPLES / "greeter-two-files.md",),
        tokenizer=tiny_tokenizer,
        fim_rate=1.0,
        fim_repo_rate=1.0,
        max_seq_len=1024,
    )
    result = build_dataset(config)
    assert result.report["sources"]["example_project_files"] == 2
    samples = [
        json.loads(line)
        for name in ("fim_train.jsonl", "fim_val.jsonl", "fim_test.jsonl")
        for line in (result.directory / name).read_text().splitlines()
    ]
    assert samples, "the example's files gave no FIM samples"
    for sample in samples:
        assert sample["repo_level"]
        other = "main.bbj" if sample["path"] == "greeting.bbj" else "greeting.bbj"
        assert sample["context_files"] == [f"examples/greeter-two-files/{other}"]
        assert f"<|file_sep|>{other}\n" in sample["prompt"]
