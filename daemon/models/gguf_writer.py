"""GGUF writer for the tiny test model: Qwen2 hyper-parameters, tensors and tokenizer metadata.

Weights arrive in Hugging Face layout and naming (Linear weights are ``(out, in)``). numpy's
shape is written reversed as ggml's ``ne``, so an ``(out, in)`` array is exactly the
``{in, out}`` tensor llama.cpp expects; like llama.cpp's own converter for qwen2, q/k are not
permuted (qwen2 uses NEOX-style rope, which matches HF's rotate-half layout).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

GGUF_ARCH = "qwen2"
GGUF_PRE_TOKENIZER = "qwen2"


@dataclass(frozen=True)
class Qwen2Shape:
    """Hyper-parameters of a Qwen2 decoder, named as in HF's ``config.json``."""

    vocab_size: int
    hidden_size: int = 256
    num_hidden_layers: int = 2
    num_attention_heads: int = 4
    num_key_value_heads: int = 2
    intermediate_size: int = 512
    rms_norm_eps: float = 1e-6
    rope_theta: float = 1_000_000.0
    context_length: int = 2048

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_attention_heads

    @property
    def kv_size(self) -> int:
        return self.head_dim * self.num_key_value_heads


@dataclass(frozen=True)
class AddedTokenInfo:
    """An added (special) token as HF's ``tokenizer.json`` describes it."""

    token_id: int
    text: str
    special: bool


@dataclass(frozen=True)
class Vocabulary:
    """A byte-level BPE vocabulary in the form GGUF stores it."""

    tokens: tuple[str, ...]
    token_types: tuple[int, ...]
    merges: tuple[str, ...]
    eos_token_id: int
    chat_template: str


def _looks_special(text: str) -> bool:
    # Mirrors llama.cpp's convert_hf_to_gguf.py: added tokens spelled <|...|> are control tokens
    # even when tokenizer.json says special=false (the Qwen2.5-Coder FIM/repo tokens).
    return text.startswith("<|") and text.endswith("|>")


def _added_token_type(token: AddedTokenInfo) -> int:
    import gguf

    if token.special or _looks_special(token.text):
        return int(gguf.TokenType.CONTROL)
    return int(gguf.TokenType.USER_DEFINED)


def _merge_text(merge: str | list[str]) -> str:
    # tokenizers >= 0.20 stores merges as pairs, older versions as "a b" strings.
    return merge if isinstance(merge, str) else " ".join(merge)


def vocabulary_from_tokenizer_json(
    tokenizer_json: Mapping[str, Any], chat_template: str, eos_text: str
) -> Vocabulary:
    """Turn a byte-level BPE ``tokenizer.json`` into the token/type/merge tables of GGUF."""
    import gguf

    model = tokenizer_json["model"]
    by_id: dict[int, str] = {token_id: text for text, token_id in model["vocab"].items()}
    types: dict[int, int] = dict.fromkeys(by_id, int(gguf.TokenType.NORMAL))
    for entry in tokenizer_json["added_tokens"]:
        added = AddedTokenInfo(entry["id"], entry["content"], bool(entry["special"]))
        by_id[added.token_id] = added.text
        types[added.token_id] = _added_token_type(added)
    if sorted(by_id) != list(range(len(by_id))):
        raise ValueError("tokenizer ids are not contiguous from 0")
    eos_ids = [token_id for token_id, text in by_id.items() if text == eos_text]
    return Vocabulary(
        tokens=tuple(by_id[i] for i in range(len(by_id))),
        token_types=tuple(types[i] for i in range(len(by_id))),
        merges=tuple(_merge_text(m) for m in model["merges"]),
        eos_token_id=eos_ids[0],
        chat_template=chat_template,
    )


def _add_hparams(writer: Any, shape: Qwen2Shape, model_name: str) -> None:
    import gguf

    writer.add_name(model_name)
    writer.add_context_length(shape.context_length)
    writer.add_embedding_length(shape.hidden_size)
    writer.add_block_count(shape.num_hidden_layers)
    writer.add_feed_forward_length(shape.intermediate_size)
    writer.add_head_count(shape.num_attention_heads)
    writer.add_head_count_kv(shape.num_key_value_heads)
    writer.add_rope_freq_base(shape.rope_theta)
    writer.add_layer_norm_rms_eps(shape.rms_norm_eps)
    writer.add_file_type(int(gguf.LlamaFileType.MOSTLY_F16))
    writer.add_quantization_version(gguf.GGML_QUANT_VERSION)


def _add_vocabulary(writer: Any, vocab: Vocabulary) -> None:
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre(GGUF_PRE_TOKENIZER)
    writer.add_token_list(list(vocab.tokens))
    writer.add_token_types(list(vocab.token_types))
    writer.add_token_merges(list(vocab.merges))
    # As llama.cpp's converter writes for the Qwen2.5-Coder base model: bos = eos = pad.
    writer.add_bos_token_id(vocab.eos_token_id)
    writer.add_eos_token_id(vocab.eos_token_id)
    writer.add_pad_token_id(vocab.eos_token_id)
    writer.add_add_bos_token(False)
    writer.add_chat_template(vocab.chat_template)


def gguf_tensor_name(hf_name: str, num_layers: int) -> str:
    """The llama.cpp tensor name for an HF Qwen2 parameter name (from gguf's own table)."""
    import gguf

    name_map = gguf.get_tensor_name_map(gguf.MODEL_ARCH.QWEN2, num_layers)
    gguf_name = name_map.get_name(hf_name, try_suffixes=(".weight", ".bias"))
    if gguf_name is None:
        raise KeyError(f"no GGUF name for HF tensor {hf_name!r}")
    return gguf_name


def _gguf_tensor_data(array: np.ndarray) -> np.ndarray:
    # Matrices as F16 (loadable and quantizable); norms and biases stay F32 as ggml requires.
    dtype = np.float16 if array.ndim == 2 else np.float32
    return np.ascontiguousarray(array.astype(dtype))


def write_gguf(
    path: Path,
    shape: Qwen2Shape,
    vocab: Vocabulary,
    hf_weights: Mapping[str, np.ndarray],
    model_name: str,
) -> None:
    """Write a complete qwen2 GGUF file (metadata, vocabulary, tensors) to ``path``."""
    import gguf

    writer = gguf.GGUFWriter(path, GGUF_ARCH)
    _add_hparams(writer, shape, model_name)
    _add_vocabulary(writer, vocab)
    for hf_name, array in hf_weights.items():
        writer.add_tensor(
            gguf_tensor_name(hf_name, shape.num_hidden_layers), _gguf_tensor_data(array)
        )
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
