"""Build a tiny, randomly initialised Qwen2 model with a real BBj BPE tokenizer.

No machine here can download weights, so tests and ``bbj-coder serve --demo`` build their own
model: a byte-level BPE tokenizer trained on embedded BBj text carrying the Qwen2.5-Coder
special tokens, a 2-layer Qwen2 written as GGUF (for llama.cpp) and optionally as HF files
(``config.json``, ``tokenizer.json``, ``model.safetensors``) holding the same weights.

Builds are deterministic, cached in ``out_dir`` behind a stamp file written last, written
atomically file by file, and serialised across processes by a lock file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from daemon.files import atomic_path, write_atomic
from daemon.models.gguf_writer import (
    Qwen2Hparams,
    bpe_merges,
    vocabulary_from_tokenizer_json,
    write_qwen2_gguf,
)
from daemon.models.tinymodel_corpus import sample_bbj_corpus

__all__ = [
    "TINY_MODEL_NAME",
    "TINY_SPECIAL_TOKENS",
    "TinyModel",
    "build_tiny_model",
    "sample_bbj_corpus",
]

TINY_MODEL_NAME = "bbj-coder-tiny"
# Bump whenever the output of a build changes for the same parameters.
_BUILDER_VERSION = 1

GGUF_FILE_NAME = f"{TINY_MODEL_NAME}.f16.gguf"
TOKENIZER_FILE_NAME = "tokenizer.json"
HF_DIR_NAME = "hf"
_STAMP_FILE_NAME = "tinymodel.stamp.json"
_LOCK_FILE_NAME = ".tinymodel.lock"

_EOS_TEXT = "<|endoftext|>"
_CHAT_EOS_TEXT = "<|im_end|>"


@dataclass(frozen=True)
class _AddedToken:
    text: str
    special: bool


# In Qwen2.5-Coder's tokenizer.json, im_*/endoftext are special; the FIM/repo ones are not.
_ADDED_TOKENS: tuple[_AddedToken, ...] = (
    _AddedToken("<|endoftext|>", special=True),
    _AddedToken("<|im_start|>", special=True),
    _AddedToken("<|im_end|>", special=True),
    _AddedToken("<|fim_prefix|>", special=False),
    _AddedToken("<|fim_middle|>", special=False),
    _AddedToken("<|fim_suffix|>", special=False),
    _AddedToken("<|fim_pad|>", special=False),
    _AddedToken("<|repo_name|>", special=False),
    _AddedToken("<|file_sep|>", special=False),
)
TINY_SPECIAL_TOKENS: tuple[str, ...] = tuple(token.text for token in _ADDED_TOKENS)

# Qwen2's pre-tokenizer regex, verbatim from its tokenizer.json; llama.cpp's "qwen2" pre-type
# uses the same expression (with the case-insensitive group spelled out).
_QWEN2_SPLIT_REGEX = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
_BPE_VOCAB_LIMIT = 2000
_BYTE_LEVEL_JSON = {
    "type": "ByteLevel",
    "add_prefix_space": False,
    "trim_offsets": False,
    "use_regex": False,
}

_CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if loop.first and message['role'] != 'system' %}"
    "<|im_start|>system\nYou are bbj-coder, a helpful BBj programming assistant.<|im_end|>\n"
    "{% endif %}"
    "<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


@dataclass(frozen=True)
class TinyModel:
    """Paths of a finished tiny-model build."""

    gguf_path: Path
    tokenizer_path: Path
    hf_dir: Path | None


@dataclass(frozen=True)
class _BuildParams:
    seed: int
    context_length: int
    builder_version: int = _BUILDER_VERSION

    def digest(self) -> str:
        text = json.dumps(asdict(self), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()


# --------------------------------------------------------------------------- tokenizer


def _train_tokenizer_json() -> dict[str, Any]:
    """Train the byte-level BPE on the embedded corpus; return its ``tokenizer.json`` dict."""
    from tokenizers import (
        AddedToken,
        Regex,
        Tokenizer,
        models,
        normalizers,
        pre_tokenizers,
        processors,
        trainers,
    )

    tokenizer = Tokenizer(models.BPE())
    tokenizer.normalizer = normalizers.NFC()
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(_QWEN2_SPLIT_REGEX), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False),
        ]
    )
    tokenizer.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=_BPE_VOCAB_LIMIT,
        min_frequency=1,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(sample_bbj_corpus().splitlines(keepends=True), trainer)
    for token in _ADDED_TOKENS:
        added = AddedToken(token.text, special=token.special, normalized=False)
        if token.special:
            tokenizer.add_special_tokens([added])
        else:
            tokenizer.add_tokens([added])
    return _mirror_qwen2_json(json.loads(tokenizer.to_str()))


def _mirror_qwen2_json(tokenizer_json: dict[str, Any]) -> dict[str, Any]:
    # The tokenizers API ignores ByteLevel decoder options; spell them as Qwen2's file does.
    tokenizer_json["decoder"] = dict(_BYTE_LEVEL_JSON)
    tokenizer_json["post_processor"] = dict(_BYTE_LEVEL_JSON)
    return tokenizer_json


# --------------------------------------------------------------------------- weights


def _hf_weight_shapes(hparams: Qwen2Hparams) -> dict[str, tuple[int, ...]]:
    """Every Qwen2ForCausalLM parameter with its HF shape (Linear weights are (out, in))."""
    hidden, ffn, kv = hparams.hidden_size, hparams.intermediate_size, hparams.kv_size
    shapes: dict[str, tuple[int, ...]] = {"model.embed_tokens.weight": (hparams.vocab_size, hidden)}
    for layer in range(hparams.num_hidden_layers):
        p = f"model.layers.{layer}"
        shapes |= {
            f"{p}.input_layernorm.weight": (hidden,),
            f"{p}.self_attn.q_proj.weight": (hidden, hidden),
            f"{p}.self_attn.q_proj.bias": (hidden,),
            f"{p}.self_attn.k_proj.weight": (kv, hidden),
            f"{p}.self_attn.k_proj.bias": (kv,),
            f"{p}.self_attn.v_proj.weight": (kv, hidden),
            f"{p}.self_attn.v_proj.bias": (kv,),
            f"{p}.self_attn.o_proj.weight": (hidden, hidden),
            f"{p}.post_attention_layernorm.weight": (hidden,),
            f"{p}.mlp.gate_proj.weight": (ffn, hidden),
            f"{p}.mlp.up_proj.weight": (ffn, hidden),
            f"{p}.mlp.down_proj.weight": (hidden, ffn),
        }
    shapes["model.norm.weight"] = (hidden,)
    shapes["lm_head.weight"] = (hparams.vocab_size, hidden)
    return shapes


def _init_std(name: str, dims: tuple[int, ...]) -> float:
    # Unit-variance embeddings and 1/sqrt(fan_in) projections keep every layer's contribution
    # comparable, so the output depends on context; a wider lm_head gives peaked logits.
    if name == "model.embed_tokens.weight":
        return 1.0
    if name == "lm_head.weight":
        return 2.0 / np.sqrt(dims[1])
    if name.endswith(".bias"):
        return 0.1
    return 1.0 / np.sqrt(dims[1])


def _random_weights(hparams: Qwen2Hparams, seed: int) -> dict[str, np.ndarray]:
    """Deterministic float32 weights whose values are exactly representable in float16."""
    rng = np.random.default_rng(seed)
    weights: dict[str, np.ndarray] = {}
    for name, dims in _hf_weight_shapes(hparams).items():
        if name.endswith("norm.weight"):
            weights[name] = np.ones(dims, dtype=np.float32)
            continue
        values = rng.normal(0.0, _init_std(name, dims), size=dims)
        # Rounded through float16 so the F16 GGUF and the F32 safetensors hold equal values.
        weights[name] = values.astype(np.float16).astype(np.float32)
    return weights


# --------------------------------------------------------------------------- HF files


def _hf_config(vocab_size: int, context_length: int, eos_id: int) -> dict[str, Any]:
    """The tiny model's ``config.json``: the one place its dimensions are spelled."""
    return {
        "architectures": ["Qwen2ForCausalLM"],
        "model_type": "qwen2",
        "vocab_size": vocab_size,
        "hidden_size": 256,
        "intermediate_size": 512,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "hidden_act": "silu",
        "max_position_embeddings": context_length,
        "initializer_range": 0.02,
        "rms_norm_eps": 1e-6,
        "rope_theta": 1_000_000.0,
        "rope_scaling": None,
        "use_cache": True,
        "use_sliding_window": False,
        "sliding_window": context_length,
        "max_window_layers": 2,
        "attention_dropout": 0.0,
        "tie_word_embeddings": False,
        "bos_token_id": eos_id,
        "eos_token_id": eos_id,
        "torch_dtype": "float32",
    }


def _hf_tokenizer_config(tokenizer_json: dict[str, Any], context_length: int) -> dict[str, Any]:
    decoder = {
        str(t["id"]): {
            key: t[key]
            for key in ("content", "lstrip", "normalized", "rstrip", "single_word", "special")
        }
        for t in tokenizer_json["added_tokens"]
    }
    return {
        "add_bos_token": False,
        "add_prefix_space": False,
        "added_tokens_decoder": decoder,
        "additional_special_tokens": ["<|im_start|>", "<|im_end|>"],
        "bos_token": None,
        "chat_template": _CHAT_TEMPLATE,
        "clean_up_tokenization_spaces": False,
        "eos_token": _EOS_TEXT,
        "errors": "replace",
        "model_max_length": context_length,
        "pad_token": _EOS_TEXT,
        "split_special_tokens": False,
        "tokenizer_class": "Qwen2Tokenizer",
        "unk_token": None,
    }


def _hf_generation_config(eos_id: int) -> dict[str, Any]:
    return {
        "bos_token_id": eos_id,
        "eos_token_id": eos_id,
        "do_sample": False,
        "max_new_tokens": 256,
    }


def _merges_txt(tokenizer_json: dict[str, Any]) -> str:
    return "#version: 0.2\n" + "".join(f"{line}\n" for line in bpe_merges(tokenizer_json))


def _save_safetensors(path: Path, weights: dict[str, np.ndarray]) -> None:
    try:
        from safetensors.numpy import save_file
    except ImportError as exc:
        raise RuntimeError(
            "write_hf=True needs the 'safetensors' package (pip install safetensors)"
        ) from exc
    arrays = {name: np.ascontiguousarray(array) for name, array in weights.items()}
    save_file(arrays, str(path), metadata={"format": "pt"})


def _write_hf_files(
    hf_dir: Path,
    config: dict[str, Any],
    tokenizer_json: dict[str, Any],
    weights: dict[str, np.ndarray],
) -> list[Path]:
    hf_dir.mkdir(parents=True, exist_ok=True)
    vocab_json = tokenizer_json["model"]["vocab"]
    texts = {
        "config.json": _json_text(config),
        "generation_config.json": _json_text(_hf_generation_config(config["eos_token_id"])),
        "tokenizer.json": _json_text(tokenizer_json),
        "tokenizer_config.json": _json_text(
            _hf_tokenizer_config(tokenizer_json, config["max_position_embeddings"])
        ),
        "vocab.json": _json_text(vocab_json),
        "merges.txt": _merges_txt(tokenizer_json),
    }
    written = [write_atomic(hf_dir / name, text) for name, text in texts.items()]
    safetensors_path = hf_dir / "model.safetensors"
    with atomic_path(safetensors_path) as tmp:
        _save_safetensors(tmp, weights)
    return [*written, safetensors_path]


# ------------------------------------------------------------- JSON text, build lock


def _json_text(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


@contextlib.contextmanager
def _exclusive_lock(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive inter-process lock on ``lock_path`` (flock; msvcrt on Windows)."""
    with open(lock_path, "a+b") as handle:
        _lock(handle)
        try:
            yield
        finally:
            _unlock(handle)


def _lock(handle: IO[bytes]) -> None:
    try:
        import fcntl
    except ImportError:
        _lock_windows(handle)
        return
    fcntl.flock(handle.fileno(), fcntl.LOCK_EX)


def _unlock(handle: IO[bytes]) -> None:
    try:
        import fcntl
    except ImportError:
        import msvcrt

        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
        return
    fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _lock_windows(handle: IO[bytes]) -> None:
    import msvcrt

    handle.seek(0)
    while True:
        # LK_LOCK itself retries for ~10 s before raising; keep waiting for a slow builder.
        with contextlib.suppress(OSError):
            msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK, 1)
            return


# --------------------------------------------------------------------------- cache stamp


def _stamp_path(out_dir: Path) -> Path:
    return out_dir / _STAMP_FILE_NAME


def _write_stamp(out_dir: Path, params: _BuildParams, files: list[Path], has_hf: bool) -> None:
    stamp = {
        "builder_version": params.builder_version,
        "params_hash": params.digest(),
        "params": asdict(params),
        "hf": has_hf,
        "files": {str(f.relative_to(out_dir)): f.stat().st_size for f in files},
    }
    write_atomic(_stamp_path(out_dir), _json_text(stamp))


def _read_stamp(out_dir: Path) -> dict[str, Any] | None:
    try:
        stamp = json.loads(_stamp_path(out_dir).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return stamp if isinstance(stamp, dict) else None


def _files_intact(out_dir: Path, sizes: dict[str, int]) -> bool:
    for relative, size in sizes.items():
        path = out_dir / relative
        if not path.is_file() or path.stat().st_size != size:
            return False
    return True


def _cached_build(out_dir: Path, params: _BuildParams, write_hf: bool) -> TinyModel | None:
    stamp = _read_stamp(out_dir)
    if stamp is None or stamp.get("params_hash") != params.digest():
        return None
    if write_hf and not stamp.get("hf"):
        return None
    if not _files_intact(out_dir, stamp.get("files", {})):
        return None
    return _tiny_model(out_dir, has_hf=bool(stamp.get("hf")))


def _tiny_model(out_dir: Path, *, has_hf: bool) -> TinyModel:
    return TinyModel(
        gguf_path=out_dir / GGUF_FILE_NAME,
        tokenizer_path=out_dir / TOKENIZER_FILE_NAME,
        hf_dir=out_dir / HF_DIR_NAME if has_hf else None,
    )


# --------------------------------------------------------------------------- build


def _build(out_dir: Path, params: _BuildParams, write_hf: bool) -> TinyModel:
    # The stamp goes first so a crash mid-build never leaves old claims about new files.
    _stamp_path(out_dir).unlink(missing_ok=True)
    tokenizer_json = _train_tokenizer_json()
    vocab = vocabulary_from_tokenizer_json(tokenizer_json, _CHAT_TEMPLATE, _EOS_TEXT)
    config = _hf_config(len(vocab.tokens), params.context_length, vocab.eos_token_id)
    hparams = Qwen2Hparams.from_config(config)
    weights = _random_weights(hparams, params.seed)
    files = [write_atomic(out_dir / TOKENIZER_FILE_NAME, _json_text(tokenizer_json))]
    with atomic_path(out_dir / GGUF_FILE_NAME) as tmp:
        write_qwen2_gguf(tmp, hparams, vocab, weights, TINY_MODEL_NAME)
    files.append(out_dir / GGUF_FILE_NAME)
    if write_hf:
        files += _write_hf_files(out_dir / HF_DIR_NAME, config, tokenizer_json, weights)
    else:
        shutil.rmtree(out_dir / HF_DIR_NAME, ignore_errors=True)  # stale files of another build
    _write_stamp(out_dir, params, files, write_hf)
    return _tiny_model(out_dir, has_hf=write_hf)


def build_tiny_model(
    out_dir: Path, *, seed: int = 0, write_hf: bool = False, context_length: int = 2048
) -> TinyModel:
    """Build (or reuse a cached build of) the tiny BBj test model in ``out_dir``.

    A cached build is reused when its stamp matches the builder version, ``seed`` and
    ``context_length`` and, if ``write_hf`` is asked for, it has the HF files; a build that
    already has HF files also serves ``write_hf=False``. Concurrent callers are serialised.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    params = _BuildParams(seed=seed, context_length=context_length)
    with _exclusive_lock(out_dir / _LOCK_FILE_NAME):
        cached = _cached_build(out_dir, params, write_hf)
        if cached is not None:
            return cached
        return _build(out_dir, params, write_hf)
