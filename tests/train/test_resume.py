"""Resuming a run after a crash: same checkpoint, same data order, same losses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("trl", reason="the [train] extra is not installed")

from transformers import TrainerCallback

from trainer.train import TrainError, load_train_config
from trainer.train.run import run_training

CRASH_STEP = 4


class CrashAfterCheckpoint(TrainerCallback):
    """Kills stage 2 right after its checkpoint at ``CRASH_STEP`` is on disk."""

    def on_save(self, args, state, control, **kwargs):
        if args.output_dir.endswith("sft") and state.global_step == CRASH_STEP:
            raise RuntimeError("simulated crash")


class StepCounter(TrainerCallback):
    def __init__(self) -> None:
        self.steps: list[int] = []

    def on_step_end(self, args, state, control, **kwargs):
        self.steps.append(state.global_step)


def losses(run: Path) -> dict[int, float]:
    history = json.loads((run / "sft" / "stage.json").read_text())["log_history"]
    return {entry["step"]: entry["loss"] for entry in history if "loss" in entry}


@pytest.fixture(scope="module")
def config_for(tiny_hf, tiny_data: Path, make_toml, tmp_path_factory):
    root = tmp_path_factory.mktemp("resume")

    def config(name: str, extra: str = 'engine = "lora"'):
        toml = make_toml(
            root / f"{name}.toml",
            tiny_hf.hf_dir,
            tiny_data,
            root / name,
            cpt_steps=2,
            sft_steps=6,
            extra=extra,
        )
        return load_train_config(toml)

    return config


def test_resume_continues_from_the_checkpoint_with_the_same_data_order(config_for) -> None:
    quiet = {"say": lambda _text: None}
    straight = config_for("straight")
    run_training(straight, **quiet)
    crashed = config_for("crashed")
    with pytest.raises(RuntimeError, match="simulated crash"):
        run_training(crashed, callbacks=[CrashAfterCheckpoint()], **quiet)
    assert not (crashed.out / "sft" / "stage.json").exists()
    counter = StepCounter()
    info = run_training(crashed, resume=True, callbacks=[counter], **quiet)
    assert counter.steps == [CRASH_STEP + 1, 6]  # only the missing steps were trained
    assert info["status"] == "finished"
    assert info["stages"]["sft"]["resumed_from"].endswith(f"checkpoint-{CRASH_STEP}")
    assert info["stages"]["cpt"]["resumed_from"] is None  # finished stages are not redone
    expected, resumed = losses(straight.out), losses(crashed.out)
    assert sorted(resumed) == list(range(1, 7))
    for step in range(CRASH_STEP + 1, 7):
        assert resumed[step] == pytest.approx(expected[step], rel=1e-4), step


def test_resume_refuses_changed_settings(config_for) -> None:
    config = config_for("changed", extra='engine = "lora"\nlora_dropout = 0.1')
    config.out.mkdir(parents=True)
    first = config_for("changed")
    (config.out / "run.json").write_text(json.dumps({"config": _document(first)}))
    with pytest.raises(TrainError, match=r"lora_dropout \(0.0 -> 0.1\)"):
        run_training(config, resume=True, say=lambda _t: None)


def test_a_new_run_never_overwrites_an_old_one(config_for) -> None:
    config = config_for("occupied")
    config.out.mkdir(parents=True)
    (config.out / "run.json").write_text("{}")
    with pytest.raises(TrainError, match="already holds a run; pass --resume"):
        run_training(config, say=lambda _t: None)
    (config.out / "run.json").unlink()
    with pytest.raises(TrainError, match="no run to resume"):
        run_training(config, resume=True, say=lambda _t: None)


def _document(config) -> dict:
    from trainer.train.run import config_document

    return config_document(config)
