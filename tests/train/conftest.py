"""Fixtures for the trainer tests: a tiny HF Qwen2, a tiny data build, one finished run and its
export (built once per session: the expensive end-to-end path runs a single time)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from daemon.models.tinymodel import TinyModel, build_tiny_model

CHAT_ITEMS = 24
SOURCE_FILES = 8


@pytest.fixture(scope="session")
def tiny_hf(tmp_path_factory: pytest.TempPathFactory) -> TinyModel:
    """The tiny Qwen2 as HF files (``.hf_dir``) and its GGUF twin with the same weights."""
    return build_tiny_model(tmp_path_factory.mktemp("tiny-hf"), write_hf=True)


def bbj_program(project: int, index: int) -> str:
    lines = [f"rem program {project}-{index}"]
    for k in range(6):
        lines += [
            f"for i = 1 to {k + index}",
            '    print "value ", i',
            "next i",
            f"total = total + {k}",
        ]
    return "\n".join(lines) + "\nend\n"


def write_inputs(root: Path) -> dict[str, Path]:
    chat = root / "chat.jsonl"
    chat.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    for i in range(CHAT_ITEMS):
        answer = f"```bbj\nprint {i}\nend\n```\nThis prints {i}."
        messages = [
            {"role": "user", "content": f"Write BBj code that prints the number {i}."},
            {"role": "assistant", "content": answer},
        ]
        lines.append(json.dumps({"messages": messages}))
    chat.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for project in range(2):
        for index in range(SOURCE_FILES):
            path = root / "src" / f"proj{project}" / f"m{index}.bbj"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(bbj_program(project, index), encoding="utf-8")
    return {"chatml": chat, "sources": root / "src"}


def build_data(root: Path, tokenizer: Path) -> Path:
    from trainer.data.build import build_dataset
    from trainer.data.config import DataConfig

    inputs = write_inputs(root / "inputs")
    config = DataConfig(
        chatml=(inputs["chatml"],),
        sources=(inputs["sources"],),
        out=root / "data",
        tokenizer=tokenizer,
        max_seq_len=256,
        val_fraction=0.25,
        test_fraction=0.25,
        fim_rate=1.0,
        check_code=False,
        progress=False,
    )
    return build_dataset(config).directory


@pytest.fixture(scope="session")
def tiny_data(tiny_hf: TinyModel, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data build (chat, FIM and pretraining splits) for the tiny tokenizer."""
    return build_data(tmp_path_factory.mktemp("tiny-data"), tiny_hf.tokenizer_path)


TRAIN_TOML = """\
[data]
out = "ignored-by-train"

[train]
base_model = "{base}"
data = "{data}"
out = "{out}"
max_seq_len = 256
batch_size = 2
gradient_accumulation_steps = 1
lora_r = 8
lora_alpha = 16
logging_steps = 1
eval_steps = {eval_steps}
fim_ratio = 0.4
progress = false
{extra}
[train.cpt]
max_steps = {cpt_steps}
learning_rate = 1e-3
embedding_learning_rate = 5e-3

[train.sft]
max_steps = {sft_steps}
learning_rate = 1e-3
embedding_learning_rate = 5e-3
{sft_extra}"""


def write_train_toml(
    path: Path,
    base: Path,
    data: Path,
    out: Path,
    *,
    eval_steps: int = 2,
    cpt_steps: int = 4,
    sft_steps: int = 6,
    extra: str = "",
    sft_extra: str = "",
) -> Path:
    path.write_text(
        TRAIN_TOML.format(
            base=base,
            data=data,
            out=out,
            eval_steps=eval_steps,
            cpt_steps=cpt_steps,
            sft_steps=sft_steps,
            extra=extra,
            sft_extra=sft_extra,
        ),
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="session")
def make_toml() -> Callable[..., Path]:
    return write_train_toml


@pytest.fixture(scope="session")
def finished_run(
    tiny_hf: TinyModel, tiny_data: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """Both stages, through the command's entry function, with the engine chosen for this
    machine (QLoRA on CPU when bitsandbytes is installed)."""
    import argparse

    from trainer.train import add_run_arguments, run_command_from_args

    root = tmp_path_factory.mktemp("run")
    assert tiny_hf.hf_dir is not None
    config = write_train_toml(root / "train.toml", tiny_hf.hf_dir, tiny_data, root / "run")
    parser = argparse.ArgumentParser()
    add_run_arguments(parser)
    assert run_command_from_args(parser.parse_args(["--config", str(config)])) == 0
    return root / "run"


@pytest.fixture(scope="session")
def exported(finished_run: Path) -> Path:
    """The run exported to F16, Q4_K_M and a LoRA GGUF, with the merged HF model kept."""
    from trainer.export.run import ExportOptions, run_export

    result = run_export(
        ExportOptions(run=finished_run, quants=("Q4_K_M",), save_merged=True),
        say=lambda _text: None,
    )
    return result.out
