"""Running one training stage with TRL's SFTTrainer: validation, checkpoints, resume.

Each stage writes ``OUT/<stage>/checkpoint-N`` every ``eval_steps`` (the best by validation
loss is never rotated away), and when it ends, the best adapter to ``OUT/<stage>/adapter`` and
a summary to ``OUT/<stage>/stage.json``. A stage with a summary is finished; resuming
continues the unfinished one from its newest checkpoint, with the same data order.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from daemon.files import staged_directory, write_atomic
from trainer.train.config import StageConfig, TrainConfig
from trainer.train.engine import Engine
from trainer.train.examples import StageRows, to_dataset

SUMMARY = "stage.json"
ADAPTER = "adapter"


@dataclass(frozen=True)
class StagePlan:
    name: str
    """cpt or sft."""
    settings: StageConfig
    directory: Path


def summary_of(directory: Path) -> dict[str, Any] | None:
    """The summary of a finished stage, None while it is unfinished."""
    try:
        return json.loads((directory / SUMMARY).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def last_checkpoint(directory: Path) -> Path | None:
    from transformers.trainer_utils import get_last_checkpoint

    return (
        Path(found)
        if directory.is_dir() and (found := get_last_checkpoint(str(directory)))
        else None
    )


def sft_config(config: TrainConfig, plan: StagePlan, engine: Engine, has_eval: bool) -> Any:
    from trl import SFTConfig

    stage = plan.settings
    return SFTConfig(
        output_dir=str(plan.directory),
        num_train_epochs=stage.epochs,
        max_steps=stage.max_steps,
        per_device_train_batch_size=config.batch_size,
        per_device_eval_batch_size=config.batch_size,
        gradient_accumulation_steps=config.gradient_accumulation_steps,
        gradient_checkpointing=config.gradient_checkpointing and engine.device != "cpu",
        learning_rate=stage.learning_rate,
        lr_scheduler_type=config.lr_scheduler,
        warmup_steps=config.warmup_ratio,
        weight_decay=config.weight_decay,
        max_grad_norm=config.max_grad_norm,
        bf16=engine.precision == "bf16",
        fp16=engine.precision == "fp16",
        use_cpu=engine.device == "cpu",
        seed=config.seed,
        data_seed=config.seed,
        max_length=config.max_seq_len,
        packing=stage.packing,
        logging_steps=config.logging_steps,
        eval_strategy="steps" if has_eval else "no",
        eval_steps=config.eval_steps,
        save_strategy="steps",
        save_steps=config.eval_steps,
        save_total_limit=config.save_total_limit,
        load_best_model_at_end=has_eval,
        metric_for_best_model="eval_loss",
        greater_is_better=False,
        report_to=["tensorboard"] if config.tensorboard else [],
        disable_tqdm=True,
        dataloader_pin_memory=engine.device != "cpu",
    )


def trainer_class(base: type) -> type:
    """``base`` (TRL's SFTTrainer, patched by Unsloth on its path) with a separate, lower
    learning rate for the trained embed_tokens/lm_head copies."""

    class BbjTrainer(base):  # type: ignore[misc, valid-type]
        embedding_learning_rate: float | None = None

        def create_optimizer(self, model: Any = None) -> Any:
            if self.optimizer is None and self.embedding_learning_rate is not None:
                target = self.model if model is None else model
                optimizer_cls, kwargs = self.get_optimizer_cls_and_kwargs(self.args, target)
                groups = parameter_groups(target, self.args, self.embedding_learning_rate)
                self.optimizer = optimizer_cls(groups, **kwargs)
            return super().create_optimizer(model)

    return BbjTrainer


def is_embedding_parameter(name: str) -> bool:
    return "embed_tokens" in name or "lm_head" in name


def parameter_groups(model: Any, args: Any, embedding_lr: float) -> list[dict[str, Any]]:
    trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    lora = [p for n, p in trainable if not is_embedding_parameter(n)]
    embeddings = [p for n, p in trainable if is_embedding_parameter(n)]
    groups = [{"params": lora, "weight_decay": args.weight_decay}]
    if embeddings:
        groups.append({"params": embeddings, "weight_decay": 0.0, "lr": embedding_lr})
    return groups


def build_trainer(
    model: Any,
    tokenizer: Any,
    rows: StageRows,
    config: TrainConfig,
    plan: StagePlan,
    engine: Engine,
    callbacks: list[Any],
) -> Any:
    from trl import SFTTrainer

    has_eval = bool(rows.eval)
    if config.tensorboard:
        os.environ["TENSORBOARD_LOGGING_DIR"] = str(plan.directory.parent / "logs" / plan.name)
    trainer = trainer_class(SFTTrainer)(
        model=model,
        args=sft_config(config, plan, engine, has_eval),
        train_dataset=to_dataset(rows.train),
        eval_dataset=to_dataset(rows.eval) if has_eval else None,
        processing_class=tokenizer,
        callbacks=callbacks,
    )
    if config.train_embeddings:
        trainer.embedding_learning_rate = plan.settings.embedding_learning_rate
    from transformers.trainer_callback import PrinterCallback

    trainer.remove_callback(PrinterCallback)  # the progress line shows the same, on one line
    return trainer


def run_stage(trainer: Any, plan: StagePlan, resume: bool, counts: dict[str, int]) -> dict:
    """Train (from the newest checkpoint when resuming), then publish adapter and summary."""
    started = time.monotonic()
    checkpoint = last_checkpoint(plan.directory) if resume else None
    trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    if trainer.is_world_process_zero():
        save_adapter(trainer.model, plan.directory / ADAPTER)
    summary = {
        "stage": plan.name,
        "steps": trainer.state.global_step,
        "best_eval_loss": trainer.state.best_metric,
        "best_checkpoint": trainer.state.best_model_checkpoint,
        "resumed_from": str(checkpoint) if checkpoint else None,
        "seconds": round(time.monotonic() - started, 1),
        "examples": counts,
        "log_history": trainer.state.log_history,
    }
    if trainer.is_world_process_zero():
        write_json(plan.directory / SUMMARY, summary)
    return summary


def save_adapter(model: Any, target: Path) -> None:
    """Write the adapter next to ``target`` and rename it into place (never half-written)."""
    with staged_directory(target) as staging:
        model.save_pretrained(str(staging))


def write_json(path: Path, data: Any) -> None:
    write_atomic(path, json.dumps(data, indent=2, default=str) + "\n")
