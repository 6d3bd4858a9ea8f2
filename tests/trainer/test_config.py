"""DataConfig: TOML loading, overrides, and errors that name the key and the file."""

from __future__ import annotations

import argparse
from dataclasses import fields
from pathlib import Path

import pytest

from trainer.data import (
    DataConfig,
    DataError,
    add_data_arguments,
    data_command_from_args,
    load_data_config,
)


def write_toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "conf" / "data.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_every_field_has_help_text() -> None:
    assert all(f.metadata.get("help") for f in fields(DataConfig))


def test_config_is_frozen() -> None:
    with pytest.raises(AttributeError):
        DataConfig().seed = 3  # type: ignore[misc]


def test_toml_paths_are_relative_to_the_file(tmp_path: Path) -> None:
    path = write_toml(tmp_path, 'markdown = ["examples"]\nout = "build"\nmax_seq_len = 512\n')
    config = load_data_config(path, {})
    assert config.markdown == (path.parent / "examples",)
    assert config.out == path.parent / "build"
    assert config.max_seq_len == 512


def test_a_data_table_is_used_when_present(tmp_path: Path) -> None:
    path = write_toml(tmp_path, "[data]\nseed = 7\n\n[sft]\nlearning_rate = 0.1\n")
    assert load_data_config(path, {}).seed == 7


def test_unknown_key_names_the_key_and_the_file(tmp_path: Path) -> None:
    path = write_toml(tmp_path, "max_seq_length = 512\n")
    with pytest.raises(DataError, match=r"data\.toml: unknown key 'max_seq_length'"):
        load_data_config(path, {})


def test_wrong_type_names_the_key(tmp_path: Path) -> None:
    path = write_toml(tmp_path, 'max_seq_len = "long"\n')
    with pytest.raises(DataError, match=r"key 'max_seq_len' must be an integer"):
        load_data_config(path, {})


def test_bool_is_not_accepted_as_a_number(tmp_path: Path) -> None:
    path = write_toml(tmp_path, "val_fraction = true\n")
    with pytest.raises(DataError, match="val_fraction"):
        load_data_config(path, {})


def test_invalid_toml_is_one_sentence(tmp_path: Path) -> None:
    path = write_toml(tmp_path, "seed = = 3\n")
    with pytest.raises(DataError, match=r"data\.toml: not valid TOML"):
        load_data_config(path, {})


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        load_data_config(tmp_path / "nope.toml", {})


def test_overrides_win_and_none_is_ignored(tmp_path: Path) -> None:
    path = write_toml(tmp_path, "seed = 1\nmax_seq_len = 256\n")
    config = load_data_config(path, {"seed": 9, "max_seq_len": None})
    assert (config.seed, config.max_seq_len) == (9, 256)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("val_fraction", 1.5),
        ("fim_rate", -0.1),
        ("system_prompts", []),
        ("max_seq_len", 8),
        ("fim_span_types", ["line", "paragraph"]),
        ("serve_workspace_budget_tokens", -1),
        ("serve_workspace_prefix", ["../lib"]),
        ("serve_workspace_prefix", ["/usr/local/lib"]),
    ],
)
def test_out_of_range_values_are_refused(key: str, value: object) -> None:
    with pytest.raises(DataError, match=f"config key '{key}'"):
        load_data_config(None, {key: value})


def test_cli_flags_become_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parser = argparse.ArgumentParser()
    add_data_arguments(parser)
    args = parser.parse_args(
        [
            "--markdown",
            "a",
            "--markdown",
            "b",
            "--max-seq-len",
            "300",
            "--no-check",
            "--out",
            str(tmp_path / "o"),
        ]
    )
    monkeypatch.chdir(tmp_path)
    overrides = {k: getattr(args, k) for k in ("markdown", "max_seq_len", "check_code", "out")}
    config = load_data_config(None, overrides)
    assert config.markdown == (tmp_path / "a", tmp_path / "b")
    assert config.max_seq_len == 300
    assert config.check_code is False


def test_bad_config_exits_2_with_a_sentence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_toml(tmp_path, "colour = 'blue'\n")
    parser = argparse.ArgumentParser()
    add_data_arguments(parser)
    assert data_command_from_args(parser.parse_args(["--config", str(path)])) == 2
    err = capsys.readouterr().err
    assert "unknown key 'colour'" in err
    assert "Traceback" not in err


def test_a_value_out_of_range_names_its_file_and_line(tmp_path: Path) -> None:
    path = write_toml(tmp_path, "[data]\nseed = 3\nfim_rate = 1.5\n")
    with pytest.raises(DataError) as info:
        load_data_config(path, {})
    assert f"{path}: config key 'fim_rate' must be between 0 and 1 (line 3)" in str(info.value)
