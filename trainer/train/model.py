"""Loading the base model for training and giving it its LoRA adapter, per engine.

Everything is loaded from local files only. A stage that follows another loads the previous
stage's adapter and keeps training it, so the run ends with one adapter.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from trainer.train.config import TrainConfig
from trainer.train.engine import Engine

EMBEDDING_MODULES: tuple[str, ...] = ("embed_tokens", "lm_head")
LINEAR_MODULES: tuple[str, ...] = (
    "q_proj",
    "k_proj",
    "v_proj",
    "o_proj",
    "gate_proj",
    "up_proj",
    "down_proj",
)


def torch_dtype(precision: str) -> Any:
    import torch

    return {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[precision]


def load_tokenizer(path: Path) -> Any:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = "<|endoftext|>"  # as Qwen's own SFT does
    return tokenizer


def lora_config(config: TrainConfig, tied: bool) -> Any:
    from peft import LoraConfig

    targets = config.target_modules
    return LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=targets[0] if targets == ("all-linear",) else list(targets),
        modules_to_save=list(EMBEDDING_MODULES) if config.train_embeddings else None,
        ensure_weight_tying=tied and config.train_embeddings,
        task_type="CAUSAL_LM",
    )


def _device_map(engine: Engine) -> dict[str, Any]:
    if engine.device == "cpu":
        return {"": "cpu"}
    from accelerate import PartialState

    return {"": PartialState().local_process_index}


def _quantization(engine: Engine) -> Any:
    import torch
    from transformers import BitsAndBytesConfig

    compute = torch.float32 if engine.device == "cpu" else torch_dtype(engine.precision)
    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=compute,
    )


def keep_cpu_4bit_trainable(model: Any) -> None:
    """Stop bitsandbytes repacking 4-bit weights for AVX512-BF16 inference on CPU.

    A no-grad forward (validation) repacks them, and the repacked layout has no backward, so
    the next training step would fail.
    """
    import bitsandbytes as bnb

    for module in model.modules():
        if isinstance(module, bnb.nn.Linear4bit):
            module.support_avx512bf16_for_cpu = False


def _load_trl_base(engine: Engine, base: Path, gradient_checkpointing: bool) -> Any:
    from transformers import AutoModelForCausalLM

    kwargs: dict[str, Any] = {
        "local_files_only": True,
        "dtype": torch_dtype(engine.precision),
        "device_map": _device_map(engine),
    }
    if engine.name == "qlora":
        kwargs["quantization_config"] = _quantization(engine)
    model = AutoModelForCausalLM.from_pretrained(str(base), **kwargs)
    if engine.name == "qlora":
        from peft import prepare_model_for_kbit_training

        if engine.device == "cpu":
            keep_cpu_4bit_trainable(model)
        model = prepare_model_for_kbit_training(
            model, use_gradient_checkpointing=gradient_checkpointing
        )
    return model


def load_trl_model(
    engine: Engine, config: TrainConfig, base: Path, adapter: Path | None, gc: bool
) -> Any:
    """The base (4-bit for qlora) wrapped in a trainable PEFT adapter, new or ``adapter``."""
    from peft import PeftModel, get_peft_model

    model = _load_trl_base(engine, base, gc)
    if adapter is not None:
        return PeftModel.from_pretrained(model, str(adapter), is_trainable=True)
    tied = bool(getattr(model.config, "tie_word_embeddings", False))
    return get_peft_model(model, lora_config(config, tied))


def load_unsloth_model(config: TrainConfig, base: Path, adapter: Path | None, gc: bool) -> Any:
    """Unsloth's 4-bit loader and LoRA (GPU only; imported before transformers patches)."""
    from unsloth import FastLanguageModel

    model, _tokenizer = FastLanguageModel.from_pretrained(
        model_name=str(adapter or base),
        max_seq_length=config.max_seq_len,
        dtype=None,
        load_in_4bit=True,
        local_files_only=True,
    )
    if adapter is not None:
        return model
    targets = (
        list(LINEAR_MODULES)
        if config.target_modules == ("all-linear",)
        else list(config.target_modules)
    )
    if config.train_embeddings:
        targets += list(EMBEDDING_MODULES)
    return FastLanguageModel.get_peft_model(
        model,
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        bias="none",  # with lora_dropout 0 this keeps Unsloth's fast LoRA kernels
        target_modules=targets,
        use_gradient_checkpointing="unsloth" if gc else False,
        random_state=config.seed,
    )


def load_model(engine: Engine, config: TrainConfig, base: Path, adapter: Path | None) -> Any:
    gc = config.gradient_checkpointing and engine.device != "cpu"
    if engine.name == "unsloth":
        return load_unsloth_model(config, base, adapter, gc)
    return load_trl_model(engine, config, base, adapter, gc)
