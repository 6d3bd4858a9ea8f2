"""``TrainConfig``: every setting of ``bbj-coder train run``, read from the ``[train]`` table."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from trainer.train.errors import TrainError
from trainer.train.tomlconfig import build, doc, read_table

ENGINES: tuple[str, ...] = ("auto", "unsloth", "qlora", "lora")
PRECISIONS: tuple[str, ...] = ("auto", "bf16", "fp16", "fp32")
SCHEDULERS: tuple[str, ...] = ("linear", "cosine", "constant", "constant_with_warmup")


@dataclass(frozen=True)
class StageConfig:
    """One training stage: ``[train.cpt]`` (continued pretraining) or ``[train.sft]``."""

    enabled: bool = field(default=True, metadata=doc("Run this stage."))
    epochs: float = field(default=1.0, metadata=doc("Passes over the stage's training data."))
    max_steps: int = field(
        default=-1, metadata=doc("Stop after this many optimizer steps (-1: run all epochs).")
    )
    learning_rate: float = field(
        default=2e-4, metadata=doc("Peak learning rate of the LoRA weights.")
    )
    embedding_learning_rate: float = field(
        default=2e-5,
        metadata=doc("Learning rate of embed_tokens and lm_head (when train_embeddings is on)."),
    )
    packing: bool = field(
        default=True,
        metadata=doc("Pack several examples into one max_seq_len row (masks stay per example)."),
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

    base_model: Path | None = field(
        default=None,
        metadata=doc(
            "Local directory of the Hugging Face base model (config.json, safetensors, "
            "tokenizer). Never downloaded."
        ),
    )
    data: Path | None = field(
        default=None,
        metadata=doc(
            "Output of `bbj-coder train data`: a vNNNN directory, or its root (uses LATEST)."
        ),
    )
    out: Path = field(
        default=Path("runs/bbj-coder"), metadata=doc("Run directory: checkpoints, adapter, logs.")
    )
    engine: str = field(
        default="auto", metadata=doc("auto, unsloth, qlora (4-bit) or lora (full-precision base).")
    )
    seed: int = field(
        default=0, metadata=doc("Seed of LoRA initialisation, data mixing and data order.")
    )
    max_seq_len: int = field(
        default=4096, metadata=doc("Longest training sequence in tokens (longer are cut).")
    )
    batch_size: int = field(
        default=4, metadata=doc("Sequences per device per step (training and validation).")
    )
    gradient_accumulation_steps: int = field(
        default=4, metadata=doc("Steps whose gradients add up to one update.")
    )
    gradient_checkpointing: bool = field(
        default=True, metadata=doc("Recompute activations to save GPU memory (always off on CPU).")
    )
    precision: str = field(
        default="auto",
        metadata=doc("auto (bf16 where supported, else fp16; fp32 on CPU), bf16, fp16 or fp32."),
    )
    lora_r: int = field(default=32, metadata=doc("LoRA rank."))
    lora_alpha: int = field(default=64, metadata=doc("LoRA alpha (scale = alpha / r)."))
    lora_dropout: float = field(default=0.05, metadata=doc("Dropout on the LoRA branch."))
    target_modules: tuple[str, ...] = field(
        default=("all-linear",),
        metadata=doc(
            "Modules given LoRA weights; 'all-linear' means every linear layer but lm_head."
        ),
    )
    train_embeddings: bool = field(
        default=True,
        metadata=doc("Also train embed_tokens and lm_head (full copies, lower learning rate)."),
    )
    fim_ratio: float = field(
        default=0.3,
        metadata=doc("Share of stage-2 training examples that are FIM samples (0: chat only)."),
    )
    lr_scheduler: str = field(
        default="cosine", metadata=doc("linear, cosine, constant or constant_with_warmup.")
    )
    warmup_ratio: float = field(
        default=0.03, metadata=doc("Share of each stage's steps spent warming up.")
    )
    weight_decay: float = field(default=0.0, metadata=doc("AdamW weight decay."))
    max_grad_norm: float = field(default=1.0, metadata=doc("Gradient clipping norm."))
    logging_steps: int = field(default=10, metadata=doc("Log the training loss every N steps."))
    eval_steps: int = field(
        default=100, metadata=doc("Validation loss and a checkpoint every N steps.")
    )
    save_total_limit: int = field(
        default=2, metadata=doc("Checkpoints kept per stage (the best is always kept).")
    )
    tensorboard: bool = field(
        default=True, metadata=doc("Write TensorBoard logs to OUT/logs/<stage>.")
    )
    progress: bool = field(default=True, metadata=doc("Show the live progress line on stderr."))
    cpt: StageConfig = field(
        default=CPT_DEFAULTS, metadata=doc("Stage 1: continued pretraining on raw BBj source.")
    )
    sft: StageConfig = field(
        default=SFT_DEFAULTS, metadata=doc("Stage 2: chat (assistant-only loss) plus FIM.")
    )


def load_train_config(path: Path, overrides: dict[str, object] | None = None) -> TrainConfig:
    """The ``[train]`` table of ``path`` over the defaults, then ``overrides`` (non-None)."""
    config = build(TrainConfig(), read_table(path, "train"), "train", path)
    given = {key: value for key, value in (overrides or {}).items() if value is not None}
    config = replace(config, **given)
    validate(config, path)
    return config


def validate(config: TrainConfig, path: Path) -> None:
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
            raise TrainError(f"{path}: config key '{key}' in [train] {problem}.")
