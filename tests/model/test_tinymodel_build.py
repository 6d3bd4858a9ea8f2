"""The tiny model builder: tokenizer, GGUF metadata, HF files, caching and locking."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from tokenizers import Tokenizer, pre_tokenizers

from daemon.models import gguf_writer as _tinymodel_gguf
from daemon.models import tinymodel
from daemon.models.tinymodel import (
    TINY_SPECIAL_TOKENS,
    TinyModel,
    build_tiny_model,
    sample_bbj_corpus,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
FIM_AND_REPO_TOKENS = TINY_SPECIAL_TOKENS[3:]
EXPECTED_SPECIAL_TOKENS = (
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|fim_prefix|>",
    "<|fim_middle|>",
    "<|fim_suffix|>",
    "<|fim_pad|>",
    "<|repo_name|>",
    "<|file_sep|>",
)


def _gguf_field(reader: object, key: str) -> object:
    """A scalar, string or array value of a GGUF metadata field."""
    return reader.fields[key].contents()  # type: ignore[attr-defined]


def _mtimes(directory: Path) -> dict[str, int]:
    return {
        str(p.relative_to(directory)): p.stat().st_mtime_ns
        for p in directory.rglob("*")
        if p.is_file() and p.name != ".tinymodel.lock"
    }


# --------------------------------------------------------------------------- corpus, tokenizer


def test_corpus_covers_every_bbj_generation() -> None:
    corpus = sample_bbj_corpus()
    assert len(corpus.splitlines()) >= 200
    for signal in (
        "methodend",
        "classend",
        "PRINT @(",
        "'WINDOW'(",
        "BBjAPI().getSysGui()",
        "getWebManager()",
        "0010 REM",
    ):
        assert signal in corpus


def test_special_tokens_are_the_qwen25_coder_ones() -> None:
    assert TINY_SPECIAL_TOKENS == EXPECTED_SPECIAL_TOKENS


def test_tokenizer_vocabulary_has_bytes_merges_and_added_tokens_last(tiny_model: TinyModel) -> None:
    tokenizer = Tokenizer.from_file(str(tiny_model.tokenizer_path))
    vocab = tokenizer.get_vocab(with_added_tokens=False)
    assert 1000 <= len(vocab) <= 2000
    assert set(pre_tokenizers.ByteLevel.alphabet()) <= set(vocab)
    special_ids = [tokenizer.token_to_id(text) for text in TINY_SPECIAL_TOKENS]
    assert special_ids == list(range(len(vocab), len(vocab) + len(TINY_SPECIAL_TOKENS)))


def test_added_tokens_mirror_qwen_special_flags(tiny_model: TinyModel) -> None:
    data = json.loads(tiny_model.tokenizer_path.read_text(encoding="utf-8"))
    flags = {t["content"]: (t["special"], t["normalized"]) for t in data["added_tokens"]}
    assert flags["<|endoftext|>"] == (True, False)
    assert flags["<|im_start|>"] == (True, False)
    assert flags["<|im_end|>"] == (True, False)
    for text in FIM_AND_REPO_TOKENS:
        assert flags[text] == (False, False)


def test_pre_tokenizer_is_qwen2_split_then_byte_level(tiny_model: TinyModel) -> None:
    data = json.loads(tiny_model.tokenizer_path.read_text(encoding="utf-8"))
    split, byte_level = data["pre_tokenizer"]["pretokenizers"]
    assert split["type"] == "Split"
    assert split["pattern"]["Regex"].startswith("(?i:'s|'t|'re|'ve|'m|'ll|'d)|")
    assert split["behavior"] == "Isolated"
    assert byte_level == {
        "type": "ByteLevel",
        "add_prefix_space": False,
        "trim_offsets": False,
        "use_regex": False,
    }
    assert data["decoder"]["type"] == "ByteLevel"


def test_tokenizer_round_trips_and_keeps_special_tokens_whole(tiny_model: TinyModel) -> None:
    tokenizer = Tokenizer.from_file(str(tiny_model.tokenizer_path))
    text = '<|fim_prefix|>0010 PRINT @(0,0),"Größe"<|fim_suffix|>\n<|fim_middle|>'
    encoding = tokenizer.encode(text)
    assert tokenizer.decode(encoding.ids, skip_special_tokens=False) == text
    for token in TINY_SPECIAL_TOKENS:
        assert tokenizer.encode(f"x{token}y").tokens[1] == token
    # Digits are split one by one, as Qwen2's pre-tokenizer does.
    assert tokenizer.encode("12345").tokens == ["1", "2", "3", "4", "5"]


def test_chat_template_renders_chatml(tiny_model: TinyModel) -> None:
    jinja2 = pytest.importorskip("jinja2")
    template = jinja2.Template(tinymodel._CHAT_TEMPLATE)
    rendered = template.render(
        messages=[{"role": "user", "content": "Hi"}], add_generation_prompt=True
    )
    assert rendered.startswith("<|im_start|>system\n")
    assert rendered.endswith("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")


# --------------------------------------------------------------------------- GGUF


def test_gguf_metadata_describes_a_qwen2_bpe_model(tiny_model: TinyModel) -> None:
    gguf = pytest.importorskip("gguf")
    reader = gguf.GGUFReader(tiny_model.gguf_path)
    tokenizer = Tokenizer.from_file(str(tiny_model.tokenizer_path))
    eos_id = tokenizer.token_to_id("<|endoftext|>")
    expected = {
        "general.architecture": "qwen2",
        "general.name": "bbj-coder-tiny",
        "qwen2.context_length": 2048,
        "qwen2.embedding_length": 256,
        "qwen2.block_count": 2,
        "qwen2.feed_forward_length": 512,
        "qwen2.attention.head_count": 4,
        "qwen2.attention.head_count_kv": 2,
        "tokenizer.ggml.model": "gpt2",
        "tokenizer.ggml.pre": "qwen2",
        "tokenizer.ggml.eos_token_id": eos_id,
        "tokenizer.ggml.bos_token_id": eos_id,
        "tokenizer.ggml.padding_token_id": eos_id,
        "tokenizer.ggml.add_bos_token": False,
    }
    assert {key: _gguf_field(reader, key) for key in expected} == expected
    assert _gguf_field(reader, "qwen2.rope.freq_base") == pytest.approx(1e6)
    assert _gguf_field(reader, "qwen2.attention.layer_norm_rms_epsilon") == pytest.approx(1e-6)
    assert "<|im_start|>" in _gguf_field(reader, "tokenizer.chat_template")


def test_gguf_vocabulary_matches_tokenizer_json(tiny_model: TinyModel) -> None:
    gguf = pytest.importorskip("gguf")
    reader = gguf.GGUFReader(tiny_model.gguf_path)
    tokenizer = Tokenizer.from_file(str(tiny_model.tokenizer_path))
    tokens = _gguf_field(reader, "tokenizer.ggml.tokens")
    types = _gguf_field(reader, "tokenizer.ggml.token_type")
    assert len(tokens) == tokenizer.get_vocab_size(with_added_tokens=True)
    assert all(tokenizer.token_to_id(text) == i for i, text in enumerate(tokens))
    special_ids = {tokenizer.token_to_id(text) for text in TINY_SPECIAL_TOKENS}
    # Like llama.cpp's converter: every <|...|> added token is CONTROL, the rest NORMAL.
    assert {i for i, t in enumerate(types) if t == gguf.TokenType.CONTROL} == special_ids
    assert {t for i, t in enumerate(types) if i not in special_ids} == {gguf.TokenType.NORMAL}
    merges = _gguf_field(reader, "tokenizer.ggml.merges")
    assert len(merges) == len(tokens) - 256 - len(TINY_SPECIAL_TOKENS)
    assert all(len(m.split(" ")) == 2 for m in merges)


def test_added_token_without_special_spelling_becomes_user_defined() -> None:
    gguf = pytest.importorskip("gguf")
    tokenizer_json = {
        "model": {"vocab": {"a": 0, "b": 1, "ab": 2}, "merges": [["a", "b"]]},
        "added_tokens": [
            {"id": 3, "content": "<|endoftext|>", "special": True},
            {"id": 4, "content": "<extra>", "special": False},
            {"id": 5, "content": "<|fim_pad|>", "special": False},
        ],
    }
    vocab = _tinymodel_gguf.vocabulary_from_tokenizer_json(tokenizer_json, "", "<|endoftext|>")
    assert vocab.tokens == ("a", "b", "ab", "<|endoftext|>", "<extra>", "<|fim_pad|>")
    assert vocab.merges == ("a b",)
    assert vocab.eos_token_id == 3
    normal, control, user = (
        gguf.TokenType.NORMAL,
        gguf.TokenType.CONTROL,
        gguf.TokenType.USER_DEFINED,
    )
    assert vocab.token_types == (normal, normal, normal, control, user, control)


def test_gguf_tensors_have_llama_cpp_names_shapes_and_types(tiny_model: TinyModel) -> None:
    gguf = pytest.importorskip("gguf")
    reader = gguf.GGUFReader(tiny_model.gguf_path)
    n_vocab = Tokenizer.from_file(str(tiny_model.tokenizer_path)).get_vocab_size()
    tensors = {t.name: t for t in reader.tensors}
    per_block = {
        "attn_norm.weight": [256],
        "attn_q.weight": [256, 256],
        "attn_q.bias": [256],
        "attn_k.weight": [256, 128],
        "attn_k.bias": [128],
        "attn_v.weight": [256, 128],
        "attn_v.bias": [128],
        "attn_output.weight": [256, 256],
        "ffn_norm.weight": [256],
        "ffn_gate.weight": [256, 512],
        "ffn_up.weight": [256, 512],
        "ffn_down.weight": [512, 256],
    }
    expected = {
        "token_embd.weight": [256, n_vocab],
        "output_norm.weight": [256],
        "output.weight": [256, n_vocab],
    }
    expected |= {f"blk.{b}.{name}": ne for b in range(2) for name, ne in per_block.items()}
    assert {name: list(t.shape) for name, t in tensors.items()} == expected
    for tensor in tensors.values():
        want = (
            gguf.GGMLQuantizationType.F16
            if len(tensor.shape) == 2
            else gguf.GGMLQuantizationType.F32
        )
        assert tensor.tensor_type == want, tensor.name


# --------------------------------------------------------------------------- HF files


def test_hf_files_load_and_match_config(hf_dir: Path, tiny_model: TinyModel) -> None:
    safetensors_numpy = pytest.importorskip("safetensors.numpy")
    config = json.loads((hf_dir / "config.json").read_text(encoding="utf-8"))
    assert config["architectures"] == ["Qwen2ForCausalLM"]
    assert config["tie_word_embeddings"] is False
    weights = safetensors_numpy.load_file(hf_dir / "model.safetensors")
    hidden, ffn, vocab = config["hidden_size"], config["intermediate_size"], config["vocab_size"]
    kv = hidden // config["num_attention_heads"] * config["num_key_value_heads"]
    expected = {
        "model.embed_tokens.weight": (vocab, hidden),
        "model.norm.weight": (hidden,),
        "lm_head.weight": (vocab, hidden),
    }
    for i in range(config["num_hidden_layers"]):
        p = f"model.layers.{i}"
        expected |= {
            f"{p}.input_layernorm.weight": (hidden,),
            f"{p}.post_attention_layernorm.weight": (hidden,),
            f"{p}.self_attn.q_proj.weight": (hidden, hidden),
            f"{p}.self_attn.q_proj.bias": (hidden,),
            f"{p}.self_attn.k_proj.weight": (kv, hidden),
            f"{p}.self_attn.k_proj.bias": (kv,),
            f"{p}.self_attn.v_proj.weight": (kv, hidden),
            f"{p}.self_attn.v_proj.bias": (kv,),
            f"{p}.self_attn.o_proj.weight": (hidden, hidden),
            f"{p}.mlp.gate_proj.weight": (ffn, hidden),
            f"{p}.mlp.up_proj.weight": (ffn, hidden),
            f"{p}.mlp.down_proj.weight": (hidden, ffn),
        }
    assert {name: array.shape for name, array in weights.items()} == expected
    assert all(array.dtype == np.float32 for array in weights.values())
    hf_tokenizer = Tokenizer.from_file(str(hf_dir / "tokenizer.json"))
    assert hf_tokenizer.get_vocab_size() == vocab
    assert (hf_dir / "tokenizer.json").read_bytes() == tiny_model.tokenizer_path.read_bytes()


def test_hf_tokenizer_and_generation_configs(hf_dir: Path) -> None:
    tokenizer = Tokenizer.from_file(str(hf_dir / "tokenizer.json"))
    eos_id = tokenizer.token_to_id("<|endoftext|>")
    tok_config = json.loads((hf_dir / "tokenizer_config.json").read_text(encoding="utf-8"))
    assert tok_config["eos_token"] == tok_config["pad_token"] == "<|endoftext|>"
    assert "<|im_start|>" in tok_config["chat_template"]
    decoder = tok_config["added_tokens_decoder"]
    assert {v["content"]: int(k) for k, v in decoder.items()} == {
        text: tokenizer.token_to_id(text) for text in TINY_SPECIAL_TOKENS
    }
    generation = json.loads((hf_dir / "generation_config.json").read_text(encoding="utf-8"))
    assert generation["eos_token_id"] == eos_id


def test_hf_and_gguf_hold_the_same_weights(hf_dir: Path, tiny_model: TinyModel) -> None:
    gguf = pytest.importorskip("gguf")
    safetensors_numpy = pytest.importorskip("safetensors.numpy")
    hf_weights = safetensors_numpy.load_file(hf_dir / "model.safetensors")
    gguf_tensors = {t.name: t for t in gguf.GGUFReader(tiny_model.gguf_path).tensors}
    for hf_name, array in hf_weights.items():
        tensor = gguf_tensors[_tinymodel_gguf.gguf_tensor_name(hf_name, 2)]
        # GGUFReader returns data in numpy order, i.e. the HF (out, in) layout.
        np.testing.assert_array_equal(
            np.asarray(tensor.data, dtype=np.float32), array, err_msg=hf_name
        )


# --------------------------------------------------------------------------- cache, determinism


def test_second_build_reuses_the_cache(tiny_model_dir: Path, tiny_model: TinyModel) -> None:
    before = _mtimes(tiny_model_dir)
    again = build_tiny_model(tiny_model_dir, write_hf=tiny_model.hf_dir is not None)
    assert again == tiny_model
    assert _mtimes(tiny_model_dir) == before


def test_hf_build_also_serves_a_gguf_only_request(tiny_model_dir: Path, hf_dir: Path) -> None:
    before = _mtimes(tiny_model_dir)
    again = build_tiny_model(tiny_model_dir)
    assert again.hf_dir == hf_dir
    assert _mtimes(tiny_model_dir) == before


def test_damaged_or_different_builds_are_rebuilt(tmp_path: Path) -> None:
    first = build_tiny_model(tmp_path, seed=1)
    first.gguf_path.write_bytes(first.gguf_path.read_bytes()[:1000])
    repaired = build_tiny_model(tmp_path, seed=1)
    assert repaired.gguf_path.stat().st_size > 1000
    gguf_seed_1 = repaired.gguf_path.read_bytes()
    build_tiny_model(tmp_path, seed=2)
    assert repaired.gguf_path.read_bytes() != gguf_seed_1
    build_tiny_model(tmp_path, seed=1, context_length=512)
    assert repaired.gguf_path.read_bytes() != gguf_seed_1


def test_builds_are_deterministic(tmp_path: Path, tiny_model: TinyModel) -> None:
    same_seed = build_tiny_model(tmp_path / "a")
    other_seed = build_tiny_model(tmp_path / "b", seed=7)
    assert same_seed.gguf_path.read_bytes() == tiny_model.gguf_path.read_bytes()
    assert same_seed.tokenizer_path.read_bytes() == tiny_model.tokenizer_path.read_bytes()
    assert other_seed.tokenizer_path.read_bytes() == tiny_model.tokenizer_path.read_bytes()
    assert other_seed.gguf_path.read_bytes() != tiny_model.gguf_path.read_bytes()


def test_build_leaves_no_temp_files(tmp_path: Path) -> None:
    build_tiny_model(tmp_path)
    assert not [p for p in tmp_path.rglob("*.tmp")]


def test_concurrent_builder_waits_for_the_lock(tmp_path: Path) -> None:
    script = (
        "import sys; from pathlib import Path; from daemon.models.tinymodel import "
        "build_tiny_model; print(build_tiny_model(Path(sys.argv[1])).gguf_path)"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    with tinymodel._exclusive_lock(tmp_path / ".tinymodel.lock"):
        child = subprocess.Popen(
            [sys.executable, "-c", script, str(tmp_path)],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        time.sleep(2.0)
        assert child.poll() is None, "the second builder did not wait for the lock"
        assert not (tmp_path / "tinymodel.stamp.json").exists()
    out, _ = child.communicate(timeout=60)
    assert child.returncode == 0
    assert Path(out.strip()) == tmp_path / "bbj-coder-tiny.f16.gguf"
    assert (tmp_path / "tinymodel.stamp.json").is_file()


def test_parallel_builds_into_one_dir_both_succeed(tmp_path: Path) -> None:
    script = (
        "import sys; from pathlib import Path; from daemon.models.tinymodel import "
        "build_tiny_model; build_tiny_model(Path(sys.argv[1]))"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    children = [
        subprocess.Popen([sys.executable, "-c", script, str(tmp_path)], env=env) for _ in range(2)
    ]
    assert [child.wait(timeout=60) for child in children] == [0, 0]
    before = _mtimes(tmp_path)
    build_tiny_model(tmp_path)
    assert _mtimes(tmp_path) == before


def test_hf_request_without_safetensors_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    with pytest.raises(RuntimeError, match="safetensors"):
        build_tiny_model(tmp_path, write_hf=True)
    assert not (tmp_path / "tinymodel.stamp.json").exists()


def test_rebuild_without_hf_removes_stale_hf_files(tmp_path: Path) -> None:
    pytest.importorskip("safetensors")
    assert build_tiny_model(tmp_path, seed=3, write_hf=True).hf_dir is not None
    rebuilt = build_tiny_model(tmp_path, seed=4)
    assert rebuilt.hf_dir is None
    assert not (tmp_path / "hf").exists()
