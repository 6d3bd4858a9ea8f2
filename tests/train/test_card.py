"""The model card: the data report's key counts (no local path), the eval table with checker
and N, and a warning when the base model looks like an Instruct model."""

from __future__ import annotations

import json
from pathlib import Path

from trainer.export.card import model_card
from trainer.train.inputs import instruct_signals

EVALUATION = {
    "format": 2,
    "data": "/home/someone/data/v0001",
    "split": "test",
    "checker": "built-in checker (bbjcpl not found)",
    "settings": {},
    "models": [
        {
            "label": "base",
            "path": "b",
            "kind": "gguf",
            "chat": {"prompts": 12, "compile@1": 0.25},
            "fim": {
                "samples": 40,
                "non_empty_share": 0.5,
                "compile_rate_non_empty": 0.6,
                "compile_checked": 18,
                "adds_no_error": 0.9,
            },
        },
        {
            "label": "tuned",
            "path": "t",
            "kind": "gguf",
            "chat": {"prompts": 12, "compile@1": 0.75},
            "fim": {
                "samples": 40,
                "non_empty_share": 0.95,
                "compile_rate_non_empty": 0.8,
                "compile_checked": 35,
                "adds_no_error": 0.95,
            },
        },
    ],
}


def base_dir(root: Path, name: str, eos: str) -> Path:
    path = root / name
    path.mkdir()
    (path / "config.json").write_text(json.dumps({"model_type": "qwen2"}))
    template = "{% for m in messages %}<|im_start|>{{ m.role }}{% endfor %}"
    (path / "tokenizer_config.json").write_text(
        json.dumps({"eos_token": eos, "chat_template": template})
    )
    return path


def test_the_card_carries_counts_not_paths_and_names_checker_and_n(
    tiny_data: Path, tmp_path: Path
) -> None:
    base = base_dir(tmp_path, "Qwen2.5-Coder-0.5B", "<|endoftext|>")
    info = {"base_model": str(base), "data": str(tiny_data), "config": {}, "stages": {}}
    card = model_card("bbj-coder-test", info, [], EVALUATION, None, [])
    report = json.loads((tiny_data / "report.json").read_text())
    assert str(tiny_data) not in card and str(tmp_path) not in card
    assert f"Build: `{tiny_data.name}` (manifest " in card
    chat = report["chat"]
    assert f"| conversations | {chat['train']} | {chat['val']} | {chat['test']} |" in card
    assert "| failing examples dropped" in card and "| raw code answers fenced |" in card
    assert "| near duplicates kept (numbers or identifiers differ) |" in card
    assert "Split: test; checker: built-in checker (bbjcpl not found); N = 12 chat prompts" in card
    assert "40 FIM samples (FIM compile rate over N = base 18, tuned 35" in card
    assert "| FIM compile rate (non-empty) | 0.600 | 0.800 |" in card
    assert "Warning" not in card


def test_an_instruct_base_model_is_warned_about(tmp_path: Path) -> None:
    by_name = base_dir(tmp_path, "Qwen2.5-Coder-0.5B-Instruct", "<|endoftext|>")
    by_template = base_dir(tmp_path, "my-model", "<|im_end|>")
    plain = base_dir(tmp_path, "Qwen2.5-Coder-0.5B", "<|endoftext|>")
    assert instruct_signals(by_name) == [
        "its name (Qwen2.5-Coder-0.5B-Instruct) says it is chat-tuned"
    ]
    assert instruct_signals(by_template) == [
        "its tokenizer ends text at the chat template's <|im_end|>"
    ]
    assert instruct_signals(plain) == []
    info = {"base_model": str(by_template), "data": "", "config": {}, "stages": {}}
    card = model_card("m", info, [], None, None, [])
    assert "> **Warning:** the base model looks like an Instruct model" in card
