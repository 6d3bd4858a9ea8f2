"""Choosing the training engine (Unsloth, TRL + QLoRA, TRL + LoRA) and saying why."""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from typing import Any

from trainer.train.errors import TrainError

BNB_MIN_WIDTH = 64
"""bitsandbytes refuses to quantise layers narrower than this."""
CPU_AUTO_MAX_PARAMETERS = 1_100_000_000
"""``auto`` does not train a larger model on the CPU (days, not hours): a 1.5B is refused."""


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


def parameter_count(base_config: dict[str, Any]) -> int:
    """Parameters of a decoder-only transformer from its config.json (Qwen2/Llama layout)."""
    hidden = int(base_config.get("hidden_size", 0))
    inter = int(base_config.get("intermediate_size", 4 * hidden))
    layers = int(base_config.get("num_hidden_layers", 0))
    heads = int(base_config.get("num_attention_heads", 1)) or 1
    kv = hidden // heads * int(base_config.get("num_key_value_heads", heads))
    vocab = int(base_config.get("vocab_size", 0))
    per_layer = 2 * hidden * hidden + 2 * hidden * kv + 3 * hidden * inter
    embeddings = vocab * hidden * (1 if base_config.get("tie_word_embeddings") else 2)
    return layers * per_layer + embeddings


def why_no_cuda() -> str:
    """Why torch sees no usable CUDA device, in words."""
    import torch

    if torch.version.cuda is None:
        return f"the installed torch {torch.__version__} is a CPU-only build"
    if os.environ.get("CUDA_VISIBLE_DEVICES", None) in ("", "-1"):
        return "CUDA_VISIBLE_DEVICES hides every GPU"
    try:
        torch.cuda.init()
    except Exception as exc:  # torch says why: no driver, driver too old, no device
        return f"torch {torch.__version__} (CUDA {torch.version.cuda}) cannot use CUDA: {exc}"
    return f"torch {torch.__version__} (CUDA {torch.version.cuda}) found no CUDA device"


def _refuse_big_cpu_run(base_config: dict[str, Any]) -> None:
    count = parameter_count(base_config)
    if count > CPU_AUTO_MAX_PARAMETERS:
        raise TrainError(
            f"No usable CUDA device ({why_no_cuda()}), and engine = 'auto' will not train a "
            f"{count / 1e9:.1f}B-parameter model on the CPU. Fix the GPU setup, or name the "
            "engine (engine = 'lora' or 'qlora', or --engine) to train on the CPU anyway."
        )


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
        if not gpu:
            _refuse_big_cpu_run(base_config)
        name, reason = _auto(base_config, gpu)
    else:
        name, reason = requested, _forced(requested, base_config, gpu)
    resolved = _precision(precision, device)
    if device == "cpu" and resolved != "fp32":
        raise TrainError(f"precision = '{precision}' needs a GPU; use 'auto' or 'fp32' on CPU.")
    return Engine(name=name, reason=reason, device=device, precision=resolved)
