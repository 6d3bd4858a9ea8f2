"""Choosing the training engine (Unsloth, TRL + QLoRA, TRL + LoRA) and saying why."""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from typing import Any

from trainer.train.errors import TrainError

BNB_MIN_WIDTH = 64
"""bitsandbytes refuses to quantise layers narrower than this."""


@dataclass(frozen=True)
class Engine:
    name: str
    """unsloth, qlora or lora."""
    reason: str
    device: str
    """cuda or cpu."""
    precision: str
    """bf16, fp16 or fp32."""

    @property
    def four_bit(self) -> bool:
        return self.name in ("unsloth", "qlora")

    def describe(self) -> str:
        return f"{self.name} on {self.device} ({self.precision}): {self.reason}"


def installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def narrowest_layer(base_config: dict[str, Any]) -> int:
    hidden = int(base_config.get("hidden_size", 0))
    heads = int(base_config.get("num_attention_heads", 1)) or 1
    kv_heads = int(base_config.get("num_key_value_heads", heads))
    widths = (hidden, int(base_config.get("intermediate_size", hidden)), hidden // heads * kv_heads)
    return min(widths)


def _distributed() -> bool:
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def _precision(requested: str, device: str) -> str:
    if device == "cpu":
        return "fp32" if requested == "auto" else requested
    if requested != "auto":
        return requested
    import torch

    return "bf16" if torch.cuda.is_bf16_supported() else "fp16"


def _auto(base_config: dict[str, Any], gpu: bool) -> tuple[str, str]:
    notes = []
    if installed("unsloth"):
        if gpu and not _distributed():
            return "unsloth", "Unsloth is installed and a CUDA GPU is present"
        notes.append(
            "Unsloth is installed but "
            + ("runs on one GPU only (accelerate launch uses TRL)" if gpu else "needs a CUDA GPU")
        )
    if not installed("bitsandbytes"):
        notes.append("bitsandbytes is not installed, so no 4-bit base")
        return "lora", "; ".join(notes)
    width = narrowest_layer(base_config)
    if width < BNB_MIN_WIDTH:
        notes.append(f"a {width}-wide layer is too narrow for bitsandbytes 4-bit")
        return "lora", "; ".join(notes)
    where = "GPU" if gpu else "CPU"
    notes.append(f"bitsandbytes NF4 4-bit base on the {where} (QLoRA)")
    return "qlora", "; ".join(notes)


def _forced(name: str, base_config: dict[str, Any], gpu: bool) -> str:
    if name == "unsloth":
        if not installed("unsloth"):
            raise TrainError(
                "engine = 'unsloth' but Unsloth is not installed; install the "
                "[train-gpu] extra or use engine = 'auto'."
            )
        if not gpu:
            raise TrainError("engine = 'unsloth' needs a CUDA GPU; use engine = 'auto'.")
    if name == "qlora":
        if not installed("bitsandbytes"):
            raise TrainError("engine = 'qlora' needs bitsandbytes; install the [train] extra.")
        width = narrowest_layer(base_config)
        if width < BNB_MIN_WIDTH:
            raise TrainError(
                f"engine = 'qlora' cannot quantise this model: a layer is {width} "
                f"wide and bitsandbytes needs {BNB_MIN_WIDTH}; use engine = 'lora'."
            )
    return "chosen in the config"


def choose_engine(requested: str, precision: str, base_config: dict[str, Any]) -> Engine:
    """The engine for ``requested`` (auto picks the best that works here) and the reason."""
    import torch

    gpu = torch.cuda.is_available()
    device = "cuda" if gpu else "cpu"
    if requested == "auto":
        name, reason = _auto(base_config, gpu)
    else:
        name, reason = requested, _forced(requested, base_config, gpu)
    resolved = _precision(precision, device)
    if device == "cpu" and resolved != "fp32":
        raise TrainError(f"precision = '{precision}' needs a GPU; use 'auto' or 'fp32' on CPU.")
    return Engine(name=name, reason=reason, device=device, precision=resolved)
