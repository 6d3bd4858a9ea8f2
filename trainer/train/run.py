"""``bbj-coder train run``: stage 1 (continued pretraining) then stage 2 (chat + FIM).

The run directory holds ``run.json`` (config, engine and why, library versions, data, stage
summaries), ``cpt/`` and ``sft/`` (checkpoints, best adapter, summary), ``logs/`` (TensorBoard)
and, when the run is finished, ``adapter/``: the final LoRA adapter for ``train export``.
"""

from __future__ import annotations

import dataclasses
import gc
import logging
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from daemon.files import staged_directory
from trainer.train.config import TrainConfig
from trainer.train.engine import Engine, choose_engine
from trainer.train.errors import TrainError
from trainer.train.examples import StageRows, cpt_rows, fit_rows, sft_rows
from trainer.train.inputs import (
    check_base_model,
    check_tokenizer_fits_data,
    instruct_signals,
    resolve_data_dir,
)
from trainer.train.runinfo import (
    RUN_FILE,
    check_resumable,
    library_versions,
    read_run_info,
    write_run_info,
)
from trainer.train.stage import ADAPTER, StagePlan, build_trainer, run_stage, summary_of

FINAL_ADAPTER = "adapter"

Say = Callable[[str], None]


def _say(text: str) -> None:
    print(text, flush=True)


def _silent(_text: str) -> None:
    return None


def stage_plans(config: TrainConfig, out: Path) -> list[StagePlan]:
    plans = [StagePlan("cpt", config.cpt, out / "cpt"), StagePlan("sft", config.sft, out / "sft")]
    return [plan for plan in plans if plan.settings.enabled]


def prepare_run_dir(config: TrainConfig, out: Path, resume: bool) -> None:
    info = read_run_info(out)
    if resume:
        if info is None:
            raise TrainError(f"There is no run to resume in {out} ({RUN_FILE} is missing).")
        check_resumable(info, config)
    elif out.exists() and any(out.iterdir()):
        raise TrainError(
            f"{out} already holds a run; pass --resume to continue it, or set out to a new "
            "directory."
        )
    out.mkdir(parents=True, exist_ok=True)


def stage_rows(plan: StagePlan, tokenizer: Any, data_dir: Path, config: TrainConfig) -> StageRows:
    if plan.name == "cpt":
        return cpt_rows(tokenizer, data_dir)
    return sft_rows(tokenizer, data_dir, config.fim_ratio, config.seed)


def fitted_rows(plan: StagePlan, context: dict[str, Any], config: TrainConfig) -> StageRows:
    rows = stage_rows(plan, context["tokenizer"], context["data_dir"], config)
    return fit_rows(rows, config.max_seq_len, plan.name)


def _quiet_libraries() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing is ever fetched
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import datasets
    import transformers

    datasets.disable_progress_bars()
    transformers.logging.set_verbosity_warning()
    transformers.logging.disable_progress_bar()
    logging.getLogger("trl.trainer.sft_trainer").addFilter(_drop_packing_warning)


def _drop_packing_warning(record: logging.LogRecord) -> bool:
    # TRL warns that packing without FlashAttention may mix examples. transformers >= 5 builds a
    # per-example (block-diagonal) mask from the packed position_ids for SDPA and eager when no
    # KV cache is used, as in training (tests/train/test_masking.py checks it), so it is safe.
    return "Flash Attention variant" not in record.getMessage()


def _is_main_process() -> bool:
    from accelerate import PartialState

    return PartialState().is_main_process


def _wait_for_everyone() -> None:
    """A barrier between the processes of ``accelerate launch`` (nothing in a single one)."""
    from accelerate import PartialState

    PartialState().wait_for_everyone()


def train_stage(
    plan: StagePlan,
    engine: Engine,
    config: TrainConfig,
    context: dict[str, Any],
    callbacks: list[Any],
    resume: bool,
) -> dict[str, Any]:
    from transformers import set_seed

    from trainer.train.model import load_model
    from trainer.train.progress import ProgressLine

    set_seed(config.seed)  # the LoRA initialisation happens before the trainer seeds anything
    rows = context["rows"].pop(plan.name, None) or fitted_rows(plan, context, config)
    if not rows.train:
        raise TrainError(f"Stage {plan.name} has no training examples in {context['data_dir']}.")
    model = load_model(engine, config, context["base"], context["adapter"])
    progress = ProgressLine(plan.name, enabled=config.progress and _is_main_process())
    trainer = build_trainer(
        model, context["tokenizer"], rows, config, plan, engine, [progress, *callbacks]
    )
    try:
        return run_stage(trainer, plan, resume, rows.counts)
    finally:
        del trainer, model
        gc.collect()


def run_training(
    config: TrainConfig,
    *,
    resume: bool = False,
    callbacks: list[Any] | None = None,
    say: Say = _say,
) -> dict[str, Any]:
    """Run (or resume) both stages; returns the final ``run.json`` content."""
    base = config.base_model.resolve()  # type: ignore[union-attr]
    base_config = check_base_model(base)
    data_dir = resolve_data_dir(config.data.resolve())  # type: ignore[union-attr]
    out = config.out.resolve()
    prepare_run_dir(config, out, resume)
    _wait_for_everyone()  # every process checked the directory before the first one writes
    if not _is_main_process():
        say = _silent
    engine = choose_engine(config.engine, config.precision, base_config)
    if engine.name == "unsloth":
        import unsloth  # noqa: F401  (must patch transformers/TRL before they are imported)
    _quiet_libraries()
    from trainer.train.model import load_tokenizer

    tokenizer = load_tokenizer(base)
    check_tokenizer_fits_data(tokenizer, data_dir, config.sft.enabled and config.fim_ratio > 0)
    say(f"engine: {engine.describe()}")
    signals = instruct_signals(base)
    if signals:
        say(
            f"warning: {base.name} looks like an Instruct model ({'; '.join(signals)}); "
            "train from the base model"
        )
    info = _start_info(config, engine, base, data_dir, out, resume)
    context = {"tokenizer": tokenizer, "data_dir": data_dir, "base": base, "adapter": None}
    # Every stage's rows are measured before the first one trains: a too long row stops the
    # run now, not after hours of stage 1.
    context["rows"] = {}
    problems = []
    for plan in stage_plans(config, out):
        if summary_of(plan.directory) is None:
            try:
                context["rows"][plan.name] = fitted_rows(plan, context, config)
            except TrainError as exc:
                problems.append(str(exc))
    if problems:
        raise TrainError(" ".join(problems))
    for plan in stage_plans(config, out):
        done = summary_of(plan.directory)
        if done is None:
            say(f"stage {plan.name}: training ({_stage_text(plan)})")
            done = train_stage(plan, engine, config, context, callbacks or [], resume)
            _wait_for_everyone()  # the next stage loads the adapter the main process saved
        else:
            say(f"stage {plan.name}: already finished, skipped")
        info["stages"][plan.name] = _brief(done)
        context["adapter"] = plan.directory / ADAPTER
        if _is_main_process():
            write_run_info(out, info)
    return _finish(out, info, context["adapter"], say)


def _stage_text(plan: StagePlan) -> str:
    stage = plan.settings
    length = f"{stage.max_steps} steps" if stage.max_steps > 0 else f"{stage.epochs:g} epochs"
    return f"{length}, learning rate {stage.learning_rate:g}"


def _start_info(
    config: TrainConfig, engine: Engine, base: Path, data_dir: Path, out: Path, resume: bool
) -> dict[str, Any]:
    previous = read_run_info(out) if resume else None
    info = {
        "format": 1,
        "status": "running",
        "config": config_document(config),
        "base_model": str(base),
        "base_model_warnings": instruct_signals(base),
        "data": str(data_dir),
        "engine": dataclasses.asdict(engine),
        "versions": library_versions(),
        "stages": (previous or {}).get("stages", {}),
        "adapter": None,
    }
    if _is_main_process():
        write_run_info(out, info)
    return info


def _brief(summary: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in summary.items() if key != "log_history"}


def _finish(out: Path, info: dict[str, Any], adapter: Path, say: Say) -> dict[str, Any]:
    if _is_main_process():
        with staged_directory(out / FINAL_ADAPTER) as staging:
            shutil.copytree(adapter, staging)
        info.update(status="finished", adapter=str(out / FINAL_ADAPTER))
        write_run_info(out, info)
    say(
        f"finished: adapter in {out / FINAL_ADAPTER}; export it with "
        f"`bbj-coder train export --run {out}`"
    )
    return info


def config_document(config: TrainConfig) -> dict[str, Any]:
    """The config as JSON-ready data (paths as absolute strings)."""

    def plain(value: Any) -> Any:
        if isinstance(value, Path):
            return str(value.resolve())
        if isinstance(value, tuple):
            return list(value)
        return value

    return {
        key: ({k: plain(v) for k, v in value.items()} if isinstance(value, dict) else plain(value))
        for key, value in dataclasses.asdict(config).items()
    }


def report_failure(exc: BaseException) -> str:
    """A sentence for errors the libraries raise while training."""
    text = str(exc).strip() or type(exc).__name__
    if "out of memory" in text.lower():
        return (
            f"Training ran out of memory ({text.splitlines()[0]}); lower batch_size or "
            "max_seq_len, or raise gradient_accumulation_steps."
        )
    return f"Training failed: {type(exc).__name__}: {text.splitlines()[0]}"
