"""The trained adapter as a llama.cpp LoRA GGUF (``Llama(model_path=base, lora_path=...)``).

llama.cpp adds ``alpha / r * B @ A`` to a weight, with ``r`` read from the tensor shapes, so a
LoRA pair is written as PEFT holds it. A fully trained copy (PEFT ``modules_to_save``: our
embed_tokens and lm_head) has no low-rank form; its exact change ``D`` is written as a pair of
rank ``hidden``: an identity and ``D`` rescaled by ``hidden / alpha``. llama.cpp applies an
embedding adapter with A and B swapped (rows of A are looked up by token id). When the base ties
lm_head to embed_tokens llama.cpp cannot take an embedding change through an adapter; it is
left out and the merged GGUF is the exact model.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from daemon.models.gguf_writer import (
    Qwen2Hparams,
    gguf_architecture,
    gguf_tensor_name,
    write_gguf,
)
from trainer.export.convert import conversion_errors

PEFT_PREFIX = "base_model.model."


@dataclass
class AdapterTensors:
    tensors: list[tuple[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _hf_name(module_name: str) -> str:
    return module_name.removeprefix(PEFT_PREFIX) + ".weight"


def _lora_pairs(model: Any, hp: Qwen2Hparams, alpha: float) -> Iterator[tuple[str, Any]]:
    from peft.tuners.lora import LoraLayer

    for module_name, module in model.named_modules():
        if not isinstance(module, LoraLayer) or not module.active_adapters:
            continue
        adapter = module.active_adapters[0]
        name = gguf_tensor_name(_hf_name(module_name), hp.num_hidden_layers)
        if adapter in module.lora_A:
            a, b = module.lora_A[adapter].weight, module.lora_B[adapter].weight
            rank = a.shape[0]
            yield f"{name}.lora_a", a
            yield f"{name}.lora_b", b * (module.scaling[adapter] * rank / alpha)
        elif adapter in getattr(module, "lora_embedding_A", {}):
            a, b = module.lora_embedding_A[adapter], module.lora_embedding_B[adapter]
            rank = a.shape[0]
            yield f"{name}.lora_a", a.T * (module.scaling[adapter] * rank / alpha)
            yield f"{name}.lora_b", b


def _full_deltas(
    model: Any, hp: Qwen2Hparams, alpha: float, notes: list[str]
) -> Iterator[tuple[str, Any]]:
    import torch
    from peft.utils import ModulesToSaveWrapper

    for module_name, module in model.named_modules():
        if not isinstance(module, ModulesToSaveWrapper):
            continue
        trained = module.modules_to_save[module.active_adapters[0]].weight
        delta = (trained - module.original_module.weight).detach().float()
        is_embedding = module_name.endswith("embed_tokens")
        if hp.tie_word_embeddings:
            notes.append(f"{module_name.removeprefix(PEFT_PREFIX)} (tied to the output layer)")
            continue
        name = gguf_tensor_name(_hf_name(module_name), hp.num_hidden_layers)
        width = delta.shape[1]
        identity = torch.eye(width)
        scaled = delta * (width / alpha)
        if is_embedding:  # llama.cpp: delta[token] = B @ A[token]
            yield f"{name}.lora_a", scaled
            yield f"{name}.lora_b", identity
        else:
            yield f"{name}.lora_a", identity
            yield f"{name}.lora_b", scaled


def adapter_tensors(model: Any, config: dict[str, Any], alpha: float) -> AdapterTensors:
    hp = Qwen2Hparams.from_config(config)
    result = AdapterTensors()
    result.tensors = list(_lora_pairs(model, hp, alpha))
    result.tensors += list(_full_deltas(model, hp, alpha, result.notes))
    return result


def write_lora_gguf(
    path: Path, model: Any, config: dict[str, Any], alpha: float, name: str
) -> list[str]:
    """Write the adapter GGUF; returns the trained modules it could not carry."""
    import gguf

    with conversion_errors():
        arch = gguf_architecture(config)
        found = adapter_tensors(model, config, alpha)

    def metadata(writer: Any) -> None:
        writer.add_name(name)
        writer.add_type(gguf.GGUFType.ADAPTER)
        writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
        writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, float(alpha))

    write_gguf(path, arch, metadata, found.tensors)
    return found.notes
