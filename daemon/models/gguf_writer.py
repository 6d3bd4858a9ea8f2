"""The project's one Qwen2 -> GGUF writer (built on the ``gguf`` package).

Used by the tiny demo/test model builder and by ``bbj-coder train export``. llama.cpp's own
converter rejects tokenizers whose pre-tokenizer hash it does not know and Unsloth's export
downloads llama.cpp at run time, so neither works air-gapped.

Weights arrive in Hugging Face layout and naming (Linear weights are ``(out, in)``). numpy's
shape is written reversed as ggml's ``ne``, so an ``(out, in)`` array is exactly the
``{in, out}`` tensor llama.cpp expects; like llama.cpp's converter for qwen2, q/k are not
permuted (qwen2 uses NEOX-style rope, which matches HF's rotate-half layout). Matrices are
written as F16, norms and biases as F32. Tensors are streamed: header and tensor table first,
then one tensor at a time, so a 7B model never sits in memory twice.

The tokenizer is written as llama.cpp's converter writes it: added tokens spelled ``<|...|>``
are control tokens (the Qwen2.5-Coder FIM/repo tokens say ``special: false`` but llama.cpp finds
them by text), ids the tokenizer lacks up to the embedding size become ``[PADn]`` unused tokens,
and the pre-tokenizer is declared ``qwen2``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from daemon.errors import ModelError

__all__ = [
    "GGUF_ARCH",
    "GGUF_ARCHITECTURES",
    "GGUF_PRE_TOKENIZER",
    "GGUFConversionError",
    "Qwen2Hparams",
    "SpecialTokens",
    "Vocabulary",
    "bpe_merges",
    "gguf_architecture",
    "gguf_tensor_name",
    "qwen2_tensors",
    "read_tokenizer_json",
    "read_vocabulary",
    "vocabulary_from_tokenizer_json",
    "write_gguf",
    "write_qwen2_gguf",
]

GGUF_ARCH = "qwen2"
GGUF_ARCHITECTURES: dict[str, str] = {"Qwen2ForCausalLM": GGUF_ARCH}
"""HF architecture -> GGUF architecture the writer supports."""
GGUF_PRE_TOKENIZER = "qwen2"


class GGUFConversionError(ModelError):
    """A model or tokenizer the writer cannot turn into GGUF; ``str(exc)`` says why."""


# --------------------------------------------------------------------------- hyper-parameters


@dataclass(frozen=True)
class Qwen2Hparams:
    """What llama.cpp needs of a Qwen2 decoder, named as in HF's ``config.json``."""

    vocab_size: int
    hidden_size: int
    num_hidden_layers: int
    num_attention_heads: int
    num_key_value_heads: int
    intermediate_size: int
    rms_norm_eps: float
    rope_theta: float
    context_length: int
    rope_scaling: Mapping[str, Any] | None = None
    tie_word_embeddings: bool = False

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_attention_heads

    @property
    def kv_size(self) -> int:
        return self.head_dim * self.num_key_value_heads

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Qwen2Hparams:
        """From an HF ``config.json`` (old ``rope_theta``/``rope_scaling`` or new
        ``rope_parameters`` spelling)."""
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


def gguf_architecture(config: Mapping[str, Any]) -> str:
    """The GGUF architecture for an HF ``config.json``; refuses what the writer cannot do."""
    names = config.get("architectures") or [config.get("model_type", "unknown")]
    for name in names:
        if name in GGUF_ARCHITECTURES:
            return GGUF_ARCHITECTURES[name]
    supported = ", ".join(GGUF_ARCHITECTURES)
    raise GGUFConversionError(
        f"The export converter supports {supported} models (Qwen2.5-Coder); this base model is "
        f"{', '.join(map(str, names))}, which it cannot convert to GGUF."
    )


def _add_hparams(writer: Any, hp: Qwen2Hparams, name: str) -> None:
    import gguf

    writer.add_name(name)
    writer.add_context_length(hp.context_length)
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


def _add_rope_scaling(writer: Any, scaling: Mapping[str, Any] | None) -> None:
    import gguf

    if not scaling:
        return
    kind = scaling.get("rope_type", scaling.get("type"))
    kinds = {"yarn": gguf.RopeScalingType.YARN, "linear": gguf.RopeScalingType.LINEAR}
    if kind not in kinds:
        raise GGUFConversionError(f"The converter does not support rope scaling {kind!r}.")
    writer.add_rope_scaling_type(kinds[kind])
    writer.add_rope_scaling_factor(float(scaling["factor"]))
    if "original_max_position_embeddings" in scaling:
        writer.add_rope_scaling_orig_ctx_len(int(scaling["original_max_position_embeddings"]))


# --------------------------------------------------------------------------- tokenizer


@dataclass(frozen=True)
class SpecialTokens:
    """GGUF's ``tokenizer.ggml.<kind>_token_id`` and ``add_<kind>_token`` keys and the chat
    template; ``kind`` is ``bos``, ``eos``, ``pad``, ... as in ``gguf.SpecialVocab``."""

    token_ids: Mapping[str, int]
    add_tokens: Mapping[str, bool]
    chat_template: str | Sequence[Mapping[str, str]] | None = None

    @classmethod
    def qwen2_base(cls, eos_token_id: int, chat_template: str) -> SpecialTokens:
        # As llama.cpp's converter writes for the Qwen2.5-Coder base model: bos = eos = pad.
        ids = {"bos": eos_token_id, "eos": eos_token_id, "pad": eos_token_id}
        return cls(ids, {"bos": False}, chat_template)

    @classmethod
    def from_tokenizer_dir(cls, tokenizer_dir: Path, vocab_size: int) -> SpecialTokens:
        """As HF's config files in ``tokenizer_dir`` say (read by ``gguf.SpecialVocab``)."""
        import gguf

        special = gguf.SpecialVocab(tokenizer_dir, load_merges=False, n_vocab=vocab_size)
        return cls(
            dict(special.special_token_ids),
            dict(special.add_special_token),
            special.chat_template,
        )


@dataclass(frozen=True)
class Vocabulary:
    """A byte-level BPE vocabulary in the form GGUF stores it."""

    tokens: tuple[str, ...]
    token_types: tuple[int, ...]
    merges: tuple[str, ...]
    special: SpecialTokens

    @property
    def eos_token_id(self) -> int:
        return self.special.token_ids["eos"]

    @property
    def chat_template(self) -> str | Sequence[Mapping[str, str]] | None:
        return self.special.chat_template


def _added_token_type(entry: Mapping[str, Any]) -> int:
    import gguf

    text = entry["content"]
    if entry.get("special") or (text.startswith("<|") and text.endswith("|>")):
        return int(gguf.TokenType.CONTROL)
    return int(gguf.TokenType.USER_DEFINED)


def _token_table(
    tokenizer_json: Mapping[str, Any], vocab_size: int | None
) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """Tokens and token types for ids 0..vocab_size-1 (default: up to the highest id)."""
    import gguf

    texts: dict[int, str] = {i: t for t, i in tokenizer_json["model"]["vocab"].items()}
    types = dict.fromkeys(texts, int(gguf.TokenType.NORMAL))
    for entry in tokenizer_json.get("added_tokens", []):
        texts[entry["id"]] = entry["content"]
        types[entry["id"]] = _added_token_type(entry)
    size = max(texts) + 1 if vocab_size is None else vocab_size
    if max(texts) >= size:
        raise GGUFConversionError(
            f"The tokenizer has id {max(texts)} but the model embeds only {size} tokens."
        )
    unused = int(gguf.TokenType.UNUSED)
    tokens = tuple(texts.get(i, f"[PAD{i}]") for i in range(size))
    return tokens, tuple(types.get(i, unused) for i in range(size))


def bpe_merges(tokenizer_json: Mapping[str, Any]) -> tuple[str, ...]:
    """The BPE merges as GGUF's ``"a b"`` strings (tokenizers >= 0.20 stores pairs)."""

    def text(merge: str | Sequence[str]) -> str:
        if isinstance(merge, str):
            return merge
        # As gguf.SpecialVocab: a space inside a pair is spelled U+0120 so the split stays 2.
        return " ".join(part.replace(" ", chr(ord(" ") + 256)) for part in merge)

    return tuple(text(merge) for merge in tokenizer_json["model"].get("merges", []))


def vocabulary_from_tokenizer_json(
    tokenizer_json: Mapping[str, Any],
    chat_template: str,
    eos_text: str,
    vocab_size: int | None = None,
) -> Vocabulary:
    """A ``tokenizer.json`` (as a dict) as GGUF tokens/types/merges, with the special tokens
    of a Qwen2.5-Coder base model (bos = eos = pad = ``eos_text``, no BOS added)."""
    tokens, types = _token_table(tokenizer_json, vocab_size)
    if eos_text not in tokens:
        raise GGUFConversionError(f"The tokenizer has no {eos_text} token.")
    special = SpecialTokens.qwen2_base(tokens.index(eos_text), chat_template)
    return Vocabulary(tokens, types, bpe_merges(tokenizer_json), special)


def read_tokenizer_json(tokenizer_dir: Path) -> dict[str, Any]:
    """``tokenizer_dir/tokenizer.json``, refused unless it is a byte-level BPE (as Qwen2's)."""
    path = tokenizer_dir / "tokenizer.json"
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise GGUFConversionError(f"{path} cannot be read as a tokenizer ({exc}).") from None
    model = document.get("model", {})
    if model.get("type") != "BPE" or "ByteLevel" not in json.dumps(document.get("pre_tokenizer")):
        raise GGUFConversionError(
            f"{path} is not a byte-level BPE tokenizer (as Qwen2's); the GGUF converter "
            "supports only that kind."
        )
    return document


def read_vocabulary(tokenizer_dir: Path, vocab_size: int) -> Vocabulary:
    """An HF tokenizer folder as GGUF vocabulary for an embedding of ``vocab_size`` rows;
    special tokens and chat template as its config files say."""
    document = read_tokenizer_json(tokenizer_dir)
    tokens, types = _token_table(document, vocab_size)
    merges = bpe_merges(document)
    if not merges:
        raise GGUFConversionError(f"{tokenizer_dir / 'tokenizer.json'} has no BPE merges.")
    special = SpecialTokens.from_tokenizer_dir(tokenizer_dir, vocab_size)
    return Vocabulary(tokens, types, merges, special)


def _add_vocabulary(writer: Any, vocab: Vocabulary) -> None:
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre(GGUF_PRE_TOKENIZER)
    writer.add_token_list(list(vocab.tokens))
    writer.add_token_types(list(vocab.token_types))
    writer.add_token_merges(list(vocab.merges))
    for kind, token_id in vocab.special.token_ids.items():
        getattr(writer, f"add_{kind}_token_id")(token_id)
    for kind, add in vocab.special.add_tokens.items():
        getattr(writer, f"add_add_{kind}_token")(add)
    if vocab.special.chat_template is not None:
        writer.add_chat_template(vocab.special.chat_template)


# --------------------------------------------------------------------------- tensors


def gguf_tensor_name(hf_name: str, num_layers: int) -> str:
    """The llama.cpp tensor name of an HF Qwen2 parameter (from gguf's own table)."""
    import gguf

    table = gguf.get_tensor_name_map(gguf.MODEL_ARCH.QWEN2, num_layers)
    name = table.get_name(hf_name, try_suffixes=(".weight", ".bias"))
    if name is None:
        raise GGUFConversionError(f"The converter has no GGUF name for the tensor {hf_name!r}.")
    return name


def qwen2_tensors(weights: Mapping[str, Any], num_layers: int) -> Iterator[tuple[str, Any]]:
    """(GGUF name, tensor) for every HF weight; a tied lm_head is llama.cpp's token_embd."""
    embed = weights.get("model.embed_tokens.weight")
    for hf_name, tensor in weights.items():
        if hf_name == "lm_head.weight" and embed is not None and _same_tensor(tensor, embed):
            continue
        if hf_name.endswith("rotary_emb.inv_freq"):
            continue
        yield gguf_tensor_name(hf_name, num_layers), tensor


def _same_tensor(a: Any, b: Any) -> bool:
    if hasattr(a, "data_ptr") and a.data_ptr() == b.data_ptr():
        return True
    return tuple(a.shape) == tuple(b.shape) and bool((a == b).all())


def _gguf_dtype(tensor: Any) -> np.dtype:
    # Matrices as F16 (loadable and quantizable); norms and biases stay F32 as ggml requires.
    return np.dtype(np.float16 if tensor.ndim == 2 else np.float32)


def _gguf_array(tensor: Any) -> np.ndarray:
    """A numpy array or torch tensor as llama.cpp stores it."""
    array = tensor if isinstance(tensor, np.ndarray) else tensor.detach().float().cpu().numpy()
    return np.ascontiguousarray(array.astype(_gguf_dtype(array)))


# --------------------------------------------------------------------------- files


def write_gguf(
    path: Path,
    arch: str,
    metadata: Callable[[Any], None],
    tensors: Iterable[tuple[str, Any]],
) -> None:
    """Write ``tensors`` (GGUF name, numpy array or torch tensor) after the metadata that
    ``metadata(writer)`` adds, one tensor at a time."""
    import gguf

    items = list(tensors)
    writer = gguf.GGUFWriter(path, arch)
    try:
        metadata(writer)
        for name, tensor in items:
            dtype = _gguf_dtype(tensor)
            nbytes = int(np.prod(tensor.shape)) * dtype.itemsize
            writer.add_tensor_info(name, tuple(tensor.shape), dtype, nbytes)
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_ti_data_to_file()
        for _name, tensor in items:
            writer.write_tensor_data(_gguf_array(tensor))
    finally:
        writer.close()


def write_qwen2_gguf(
    path: Path,
    hp: Qwen2Hparams,
    vocab: Vocabulary,
    hf_weights: Mapping[str, Any],
    name: str,
) -> None:
    """A complete F16 qwen2 GGUF (hyper-parameters, tokenizer, weights) at ``path``."""

    def metadata(writer: Any) -> None:
        _add_hparams(writer, hp, name)
        _add_vocabulary(writer, vocab)

    write_gguf(path, GGUF_ARCH, metadata, qwen2_tensors(hf_weights, hp.num_hidden_layers))
