"""Loading the base model in full precision with the trained adapter, and merging it.

The adapter was trained against a 4-bit base (QLoRA) but is merged into the original weights:
merging into dequantised 4-bit weights would bake the quantisation error into every layer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

DTYPES: tuple[str, ...] = ("float32", "bfloat16", "float16")


def load_adapted(base: Path, adapter: Path, dtype: str = "float32") -> Any:
    """The base model (CPU, ``dtype``) with the adapter applied but not merged."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM
    from transformers.utils import logging

    logging.disable_progress_bar()
    model = AutoModelForCausalLM.from_pretrained(
        str(base), dtype=getattr(torch, dtype), local_files_only=True, device_map={"": "cpu"}
    )
    return PeftModel.from_pretrained(model, str(adapter)).eval()


def merge(adapted: Any) -> Any:
    """The adapter folded into the base weights (a plain transformers model)."""
    return adapted.merge_and_unload()


def lora_alpha(adapted: Any) -> float:
    return float(adapted.peft_config[adapted.active_adapter].lora_alpha)
