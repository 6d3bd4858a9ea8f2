"""bbj-coder's own HF-to-GGUF converter (built on the ``gguf`` package), for Qwen2 models.

Unsloth's GGUF export downloads and builds llama.cpp at run time and llama.cpp's converter
rejects tokenizers whose pre-tokenizer hash it does not know, so neither works air-gapped.
Tensors are streamed: header and tensor table first, then one tensor at a time, so a 7B model
never sits in memory twice. Matrices are written as F16, norms and biases as F32.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from trainer.export.vocab import add_vocabulary
from trainer.train.errors import TrainError

ARCHITECTURES: dict[str, str] = {"Qwen2ForCausalLM": "qwen2"}
"""HF architecture -> GGUF architecture the converter supports."""


@dataclass(frozen=True)
class Hparams:
    """What llama.cpp needs of a Qwen2 ``config.json``."""

    vocab_size: int
    hidden_size: int
    num_hidden_layers: int
    num_attention_heads: int
    num_key_value_heads: int
    intermediate_size: int
    rms_norm_eps: float
    rope_theta: float
    context_length: int
    rope_scaling: dict[str, Any] | None
    tie_word_embeddings: bool

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Hparams:
        rope = config.get("rope_parameters") or {}
        scaling = config.get("rope_scaling") or None
        if scaling is None and rope.get("rope_type", "default") != "default":
            scaling = rope
        return cls(
            vocab_size=int(config["vocab_size"]),
            hidden_size=int(config["hidden_size"]),
            num_hidden_layers=int(config["num_hidden_layers"]),
            num_attention_heads=int(config["num_attention_heads"]),
            num_key_value_heads=int(
                config.get("num_key_value_heads", config["num_attention_heads"])
            ),
            intermediate_size=int(config["intermediate_size"]),
            rms_norm_eps=float(config.get("rms_norm_eps", 1e-6)),
            rope_theta=float(config.get("rope_theta") or rope.get("rope_theta") or 10000.0),
            context_length=int(config.get("max_position_embeddings", 32768)),
            rope_scaling=scaling,
            tie_word_embeddings=bool(config.get("tie_word_embeddings", False)),
        )


def gguf_architecture(config: dict[str, Any]) -> str:
    """The GGUF architecture for an HF ``config.json``; refuses what the converter cannot do."""
    names = config.get("architectures") or [config.get("model_type", "unknown")]
    for name in names:
        if name in ARCHITECTURES:
            return ARCHITECTURES[name]
    supported = ", ".join(ARCHITECTURES)
    raise TrainError(
        f"The export converter supports {supported} models (Qwen2.5-Coder); this base model is "
        f"{', '.join(map(str, names))}, which it cannot convert to GGUF."
    )


def tensor_name(hf_name: str, num_layers: int) -> str:
    """The llama.cpp tensor name of an HF Qwen2 parameter (from gguf's own table)."""
    import gguf

    table = gguf.get_tensor_name_map(gguf.MODEL_ARCH.QWEN2, num_layers)
    name = table.get_name(hf_name, try_suffixes=(".weight", ".bias"))
    if name is None:
        raise TrainError(f"The converter has no GGUF name for the tensor {hf_name!r}.")
    return name


def gguf_array(tensor: Any) -> np.ndarray:
    """An HF tensor as llama.cpp stores it: (out, in) matrices are ggml's {in, out} as is."""
    array = tensor.detach().float().cpu().numpy()
    return np.ascontiguousarray(array.astype(np.float16 if array.ndim == 2 else np.float32))


def add_hparams(writer: Any, hp: Hparams, name: str, context_length: int) -> None:
    import gguf

    writer.add_name(name)
    writer.add_context_length(context_length)
    writer.add_embedding_length(hp.hidden_size)
    writer.add_block_count(hp.num_hidden_layers)
    writer.add_feed_forward_length(hp.intermediate_size)
    writer.add_head_count(hp.num_attention_heads)
    writer.add_head_count_kv(hp.num_key_value_heads)
    writer.add_rope_freq_base(hp.rope_theta)
    writer.add_layer_norm_rms_eps(hp.rms_norm_eps)
    writer.add_file_type(int(gguf.LlamaFileType.MOSTLY_F16))
    writer.add_quantization_version(gguf.GGML_QUANT_VERSION)
    _add_rope_scaling(writer, hp.rope_scaling)


def _add_rope_scaling(writer: Any, scaling: dict[str, Any] | None) -> None:
    import gguf

    if not scaling:
        return
    kind = scaling.get("rope_type", scaling.get("type"))
    kinds = {"yarn": gguf.RopeScalingType.YARN, "linear": gguf.RopeScalingType.LINEAR}
    if kind not in kinds:
        raise TrainError(f"The converter does not support rope scaling {kind!r}.")
    writer.add_rope_scaling_type(kinds[kind])
    writer.add_rope_scaling_factor(float(scaling["factor"]))
    if "original_max_position_embeddings" in scaling:
        writer.add_rope_scaling_orig_ctx_len(int(scaling["original_max_position_embeddings"]))


def model_tensors(state: dict[str, Any], hp: Hparams) -> Iterator[tuple[str, Any]]:
    """(GGUF name, tensor) for every weight; a tied lm_head is llama.cpp's token_embd."""
    embed = state.get("model.embed_tokens.weight")
    for hf_name, tensor in state.items():
        if hf_name == "lm_head.weight" and embed is not None and _same(tensor, embed):
            continue
        if hf_name.endswith("rotary_emb.inv_freq"):
            continue
        yield tensor_name(hf_name, hp.num_hidden_layers), tensor


def _same(a: Any, b: Any) -> bool:
    return a.data_ptr() == b.data_ptr() or (a.shape == b.shape and bool((a == b).all()))


def write_gguf_streamed(
    path: Path, arch: str, metadata: Any, tensors: Iterable[tuple[str, Any]]
) -> None:
    """Write ``tensors`` (name, torch tensor) after the metadata ``metadata(writer)`` adds."""
    import gguf

    items = list(tensors)
    writer = gguf.GGUFWriter(path, arch)
    try:
        metadata(writer)
        for name, tensor in items:
            dtype = np.float16 if tensor.ndim == 2 else np.float32
            nbytes = int(np.prod(tensor.shape)) * np.dtype(dtype).itemsize
            writer.add_tensor_info(name, tuple(tensor.shape), np.dtype(dtype), nbytes)
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_ti_data_to_file()
        for _name, tensor in items:
            writer.write_tensor_data(gguf_array(tensor))
    finally:
        writer.close()


def write_model_gguf(
    path: Path,
    config: dict[str, Any],
    state: dict[str, Any],
    tokenizer_dir: Path,
    name: str,
    context_length: int | None = None,
) -> None:
    """A complete F16 GGUF (hyper-parameters, tokenizer, weights) of a merged HF model."""
    arch = gguf_architecture(config)
    hp = Hparams.from_config(config)

    def metadata(writer: Any) -> None:
        add_hparams(writer, hp, name, context_length or hp.context_length)
        add_vocabulary(writer, tokenizer_dir, hp.vocab_size)

    write_gguf_streamed(path, arch, metadata, model_tensors(state, hp))
