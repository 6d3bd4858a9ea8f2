"""``TrainConfig``: every setting of ``bbj-coder train run``, read from the ``[train]`` table.

A nested table is a stage (``[train.cpt]``, ``[train.sft]``); paths are relative to the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from daemon.config import (
    DEFAULT,
    Origin,
    Wording,
    file_layer,
    flag_layer,
    read_toml,
    resolve,
    setting,
)
from daemon.errors import ConfigError
from trainer.train.errors import TrainError

TABLE = ("train",)
_WORDING = Wording(integer="a whole number")

ENGINES: tuple[str, ...] = ("auto", "unsloth", "qlora", "lora")
PRECISIONS: tuple[str, ...] = ("auto", "bf16", "fp16", "fp32")
SCHEDULERS: tuple[str, ...] = ("linear", "cosine", "constant", "constant_with_warmup")


@dataclass(frozen=True)
class StageConfig:
    """One training stage: ``[train.cpt]`` (continued pretraining) or ``[train.sft]``."""

    enabled: bool = setting(True, "Run this stage.")
    epochs: float = setting(1.0, "Passes over the stage's training data.")
    max_steps: int = setting(-1, "Stop after this many optimizer steps (-1: run all epochs).")
    learning_rate: float = setting(2e-4, "Peak learning rate of the LoRA weights.")
    embedding_learning_rate: float = setting(
        2e-5, "Learning rate of embed_tokens and lm_head (when train_embeddings is on)."
    )
    packing: bool = setting(
        True, "Pack several examples into one max_seq_len row (masks stay per example)."
    )


CPT_DEFAULTS = StageConfig(
    epochs=1.0, learning_rate=5e-5, embedding_learning_rate=5e-6, packing=False
)
SFT_DEFAULTS = StageConfig(
    epochs=2.0, learning_rate=2e-4, embedding_learning_rate=2e-5, packing=True
)


@dataclass(frozen=True)
class TrainConfig:
    """Settings of one two-stage run. Paths in the TOML file are relative to that file."""

    base_model: Path | None = setting(
        None,
        "Local directory of the Hugging Face base model (config.json, safetensors, "
        "tokenizer). Never downloaded.",
    )
    data: Path | None = setting(
        None, "Output of `bbj-coder train data`: a vNNNN directory, or its root (uses LATEST)."
    )
    out: Path = setting(Path("runs/bbj-coder"), "Run directory: checkpoints, adapter, logs.")
    engine: str = setting(
        "auto",
        "auto, unsloth, qlora (4-bit) or lora (full-precision base). auto refuses to train a "
        "model above about 1B parameters on the CPU: name an engine to do that anyway.",
    )
    seed: int = setting(0, "Seed of LoRA initialisation, data mixing and data order.")
    max_seq_len: int = setting(4096, "Longest training sequence in tokens (longer are cut).")
    batch_size: int = setting(4, "Sequences per device per step (training and validation).")
    gradient_accumulation_steps: int = setting(4, "Steps whose gradients add up to one update.")
    gradient_checkpointing: bool = setting(
        True, "Recompute activations to save GPU memory (always off on CPU)."
    )
    precision: str = setting(
        "auto", "auto (bf16 where supported, else fp16; fp32 on CPU), bf16, fp16 or fp32."
    )
    lora_r: int = setting(32, "LoRA rank.")
    lora_alpha: int = setting(64, "LoRA alpha (scale = alpha / r).")
    lora_dropout: float = setting(
        0.0,
        "Dropout on the LoRA branch; 0 keeps Unsloth's fast LoRA kernels on (any other value "
        "makes Unsloth fall back to its slower path).",
    )
    target_modules: tuple[str, ...] = setting(
        ("all-linear",),
        "Modules given LoRA weights; 'all-linear' means every linear layer but lm_head.",
    )
    train_embeddings: bool = setting(
        True, "Also train embed_tokens and lm_head (full copies, lower learning rate)."
    )
    fim_ratio: float = setting(
        0.3, "Share of stage-2 training examples that are FIM samples (0: chat only)."
    )
    lr_scheduler: str = setting("cosine", "linear, cosine, constant or constant_with_warmup.")
    warmup_ratio: float = setting(0.03, "Share of each stage's steps spent warming up.")
    weight_decay: float = setting(0.0, "AdamW weight decay.")
    max_grad_norm: float = setting(1.0, "Gradient clipping norm.")
    logging_steps: int = setting(10, "Log the training loss every N steps.")
    eval_steps: int = setting(100, "Validation loss and a checkpoint every N steps.")
    save_total_limit: int = setting(2, "Checkpoints kept per stage (the best is always kept).")
    tensorboard: bool = setting(True, "Write TensorBoard logs to OUT/logs/<stage>.")
    progress: bool = setting(True, "Show the live progress line on stderr.")
    cpt: StageConfig = setting(CPT_DEFAULTS, "Stage 1: continued pretraining on raw BBj source.")
    sft: StageConfig = setting(SFT_DEFAULTS, "Stage 2: chat (assistant-only loss) plus FIM.")


def load_train_config(path: Path, overrides: dict[str, object] | None = None) -> TrainConfig:
    """The ``[train]`` table of ``path`` over the defaults, then ``overrides`` (non-None)."""
    try:
        file = read_toml(path)
        resolved = resolve(
            TrainConfig(),
            file_layer(file, TrainConfig, table=TABLE, wording=_WORDING),
            flag_layer(
                overrides or {},
                TrainConfig,
                shown=lambda _key: "the command line",
                table=TABLE,
                wording=_WORDING,
            ),
        )
    except ConfigError as exc:
        raise TrainError(str(exc)) from exc
    validate(resolved.value, path, resolved.origins)
    return resolved.value


def validate(config: TrainConfig, path: Path, origins: dict[str, Origin] | None = None) -> None:
    checks = (
        (config.base_model is not None, "base_model", "is required (a local model directory)"),
        (config.data is not None, "data", "is required (a `bbj-coder train data` output)"),
        (config.engine in ENGINES, "engine", f"must be one of {', '.join(ENGINES)}"),
        (config.precision in PRECISIONS, "precision", f"must be one of {', '.join(PRECISIONS)}"),
        (
            config.lr_scheduler in SCHEDULERS,
            "lr_scheduler",
            f"must be one of {', '.join(SCHEDULERS)}",
        ),
        (config.max_seq_len >= 16, "max_seq_len", "must be at least 16"),
        (config.batch_size >= 1, "batch_size", "must be at least 1"),
        (
            config.gradient_accumulation_steps >= 1,
            "gradient_accumulation_steps",
            "must be at least 1",
        ),
        (config.lora_r >= 1, "lora_r", "must be at least 1"),
        (0.0 <= config.fim_ratio < 1.0, "fim_ratio", "must be at least 0 and below 1"),
        (0.0 <= config.warmup_ratio < 1.0, "warmup_ratio", "must be at least 0 and below 1"),
        (config.eval_steps >= 1, "eval_steps", "must be at least 1"),
        (config.logging_steps >= 1, "logging_steps", "must be at least 1"),
        (config.save_total_limit >= 1, "save_total_limit", "must be at least 1"),
        (bool(config.target_modules), "target_modules", "must name at least one module"),
        (config.cpt.enabled or config.sft.enabled, "cpt.enabled", "or sft.enabled must be true"),
    )
    for ok, key, problem in checks:
        if not ok:
            origin = (origins or {}).get(key, DEFAULT)
            where = origin.where or str(path)
            raise TrainError(f"{where}: config key '{key}' in [train] {problem}{origin.at}.")
