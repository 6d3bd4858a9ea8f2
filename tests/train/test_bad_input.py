"""Configs and inputs a user gets wrong: every one is refused with a sentence saying what."""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import pytest

from daemon.config import help_rows as describe
from trainer.train import TrainError, add_run_arguments, load_train_config, run_command_from_args
from trainer.train.config import TrainConfig


def run_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    add_run_arguments(parser)
    return run_command_from_args(parser.parse_args(list(argv)))


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_follow_the_design() -> None:
    config = TrainConfig()
    assert (config.lora_r, config.lora_alpha, config.target_modules) == (32, 64, ("all-linear",))
    assert config.sft.learning_rate == 2e-4 and config.cpt.learning_rate == 5e-5
    assert config.cpt.embedding_learning_rate < config.cpt.learning_rate
    assert 1 <= config.sft.epochs <= 3 and config.sft.packing
    assert all(help_text for _key, _default, help_text in describe(TrainConfig()))


def test_an_unknown_key_is_named_with_its_file(tmp_path: Path, capsys) -> None:
    config = write(
        tmp_path / "train.toml", '[train]\nbase_model = "m"\ndata = "d"\nlora_rank = 16\n'
    )
    assert run_cli("--config", str(config)) == 2
    error = capsys.readouterr().err
    assert "unknown key 'lora_rank' in [train]" in error and str(config) in error
    assert "lora_r" in error  # the known keys are listed


def test_an_unknown_key_in_a_stage_table_is_named(tmp_path: Path) -> None:
    config = write(
        tmp_path / "train.toml", '[train]\nbase_model = "m"\ndata = "d"\n[train.sft]\nlr = 1e-4\n'
    )
    with pytest.raises(TrainError, match=r"unknown key 'lr' in \[train.sft\]"):
        load_train_config(config)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('lora_r = "big"', "'lora_r' in [train] must be a whole number"),
        ('engine = "tpu"', "'engine' in [train] must be one of auto, unsloth, qlora, lora"),
        ("fim_ratio = 1.5", "'fim_ratio' in [train] must be at least 0 and below 1"),
    ],
)
def test_a_bad_value_is_named(tmp_path: Path, line: str, message: str) -> None:
    config = write(tmp_path / "train.toml", f'[train]\nbase_model = "m"\ndata = "d"\n{line}\n')
    with pytest.raises(TrainError) as caught:
        load_train_config(config)
    assert message in str(caught.value)


def test_paths_are_relative_to_the_config_file(tmp_path: Path) -> None:
    config = load_train_config(
        write(tmp_path / "train.toml", '[train]\nbase_model = "m"\ndata = "d"\n')
    )
    assert config.base_model == tmp_path / "m" and config.data == tmp_path / "d"


def test_a_missing_config_file_is_reported(tmp_path: Path, capsys) -> None:
    assert run_cli("--config", str(tmp_path / "nope.toml")) == 2
    assert "does not exist" in capsys.readouterr().err


def test_a_missing_base_model_directory(tmp_path: Path, tiny_data: Path, make_toml, capsys) -> None:
    config = make_toml(tmp_path / "train.toml", tmp_path / "no-model", tiny_data, tmp_path / "r")
    assert run_cli("--config", str(config)) == 2
    error = capsys.readouterr().err
    assert "base model directory" in error and "no-model" in error
    assert not (tmp_path / "r").exists()


def test_a_missing_data_build(tmp_path: Path, tiny_hf, make_toml, capsys) -> None:
    config = make_toml(tmp_path / "train.toml", tiny_hf.hf_dir, tmp_path / "none", tmp_path / "r")
    assert run_cli("--config", str(config)) == 2
    assert "build it with `bbj-coder train data`" in capsys.readouterr().err


def test_data_built_for_another_tokenizer_is_refused(
    tmp_path: Path, tiny_hf, tiny_data: Path, make_toml, capsys
) -> None:
    pytest.importorskip("transformers")
    base = tmp_path / "no-fim-model"
    shutil.copytree(tiny_hf.hf_dir, base)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        text = (base / name).read_text()
        (base / name).write_text(
            text.replace("<|fim_prefix|>", "<fim_prefix>").replace("<|fim_middle|>", "<fim_middle>")
        )
    config = make_toml(tmp_path / "train.toml", base, tiny_data, tmp_path / "r")
    assert run_cli("--config", str(config)) == 2
    error = capsys.readouterr().err
    assert "<|fim_prefix|>, <|fim_middle|>" in error and "another tokenizer" in error


def test_data_counted_with_another_vocabulary_is_refused(
    tmp_path: Path, tiny_hf, tiny_data: Path, make_toml
) -> None:
    pytest.importorskip("transformers")
    data = tmp_path / "data"
    shutil.copytree(tiny_data, data)
    samples = [json.loads(line) for line in (data / "fim_val.jsonl").read_text().splitlines()]
    samples[0]["tokens"] += 7
    (data / "fim_val.jsonl").write_text("".join(json.dumps(s) + "\n" for s in samples))
    config = load_train_config(
        make_toml(tmp_path / "train.toml", tiny_hf.hf_dir, data, tmp_path / "r")
    )
    from trainer.train.run import run_training

    with pytest.raises(TrainError, match="built with another tokenizer"):
        run_training(config, say=lambda _t: None)


def test_the_readme_documents_every_config_key() -> None:
    readme = (Path(__file__).resolve().parents[2] / "trainer" / "README-train.md").read_text()
    for key, _default, _help in describe(TrainConfig()):
        assert f"`{key}`" in readme, key


def test_a_max_seq_len_below_the_builds_is_refused_with_counts(
    tmp_path: Path, tiny_hf, tiny_data: Path, make_toml
) -> None:
    """The data was built for 256 tokens; training at 48 would cut the FIM middles away."""
    pytest.importorskip("transformers")
    path = make_toml(tmp_path / "train.toml", tiny_hf.hf_dir, tiny_data, tmp_path / "r")
    path.write_text(path.read_text().replace("max_seq_len = 256", "max_seq_len = 48"))
    config = load_train_config(path)
    from trainer.train.run import run_training

    with pytest.raises(TrainError) as caught:
        run_training(config, say=lambda _t: None)
    message = str(caught.value)
    assert "longer than max_seq_len=48" in message and " FIM" in message
    assert "would lose all of theirs" in message and "--max-seq-len 48" in message
    assert not list((tmp_path / "r").glob("**/adapter*"))


def test_too_long_chat_rows_are_dropped_and_counted() -> None:
    from trainer.train.examples import IGNORE, StageRows, fit_rows

    short = {"input_ids": [1, 2], "labels": [IGNORE, 2], "kind": "chat"}
    long = {"input_ids": [1] * 9, "labels": [IGNORE] * 8 + [1], "kind": "chat"}
    fitted = fit_rows(StageRows([short, long], [long], {"chat train": 2}), 8, "sft")
    assert fitted.train == [short] and fitted.eval == []
    assert fitted.counts["chat longer than max_seq_len (dropped)"] == 2
    fim = {"input_ids": [1] * 9, "labels": [IGNORE] * 8 + [1], "kind": "FIM"}
    with pytest.raises(TrainError, match=r"1 training row\(s\) \(1 FIM\)"):
        fit_rows(StageRows([short, fim], [], {}), 8, "sft")
