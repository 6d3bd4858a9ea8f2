"""The tiny model as llama.cpp sees it: loading, tokenizing, generating, quantizing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tokenizers import Tokenizer

from daemon.models.tinymodel import TINY_SPECIAL_TOKENS, TinyModel, sample_bbj_corpus

llama_cpp = pytest.importorskip("llama_cpp")

TOKENIZER_SAMPLES = (
    "class public Customer\n    field public BBjString Name$\n    methodend\nclassend\n",
    '0010 PRINT \'CS\',@(0,0),"Customer Inquiry"\n0020 INPUT @(10,5),"No: ",CUST$\n',
    'sysgui! = BBjAPI().getSysGui()\r\n\twindow! = sysgui!.addWindow(1,2,300,200,"Größe")\n',
    "<|fim_prefix|>method public void run()\n<|fim_suffix|>\nmethodend\n<|fim_middle|>",
    "<|repo_name|>shop\n<|file_sep|>lib/a.bbj\nREM a\n<|file_sep|>b.bbj\n<|fim_pad|>",
    "<|im_start|>user\nWrite a FOR loop<|im_end|>\n<|im_start|>assistant\n<|endoftext|>",
    "it's   12345   don't 'LL  \n\n\n  x  日本語 🙂 ",
)


def _greedy(llm: Any, prompt: str, max_tokens: int = 16) -> str:
    result = llm(prompt, max_tokens=max_tokens, temperature=0.0, top_k=1, seed=0)
    return result["choices"][0]["text"]


def test_llama_cpp_loads_the_model(llama: Any, tiny_model: TinyModel) -> None:
    tokenizer = Tokenizer.from_file(str(tiny_model.tokenizer_path))
    assert llama.n_vocab() == tokenizer.get_vocab_size()
    assert llama.metadata["general.name"] == "bbj-coder-tiny"
    assert llama.metadata["tokenizer.ggml.pre"] == "qwen2"


@pytest.mark.parametrize("text", [*TOKENIZER_SAMPLES, sample_bbj_corpus()])
def test_llama_cpp_tokenizes_like_tokenizer_json(
    llama: Any, tiny_model: TinyModel, text: str
) -> None:
    tokenizer = Tokenizer.from_file(str(tiny_model.tokenizer_path))
    llama_ids = llama.tokenize(text.encode(), add_bos=False, special=True)
    assert llama_ids == tokenizer.encode(text).ids


@pytest.mark.parametrize("token", TINY_SPECIAL_TOKENS)
def test_each_special_token_is_one_token(llama: Any, tiny_model: TinyModel, token: str) -> None:
    tokenizer = Tokenizer.from_file(str(tiny_model.tokenizer_path))
    assert llama.tokenize(token.encode(), add_bos=False, special=True) == [
        tokenizer.token_to_id(token)
    ]


def test_llama_cpp_finds_fim_repo_and_eos_tokens_by_text(llama: Any, tiny_model: TinyModel) -> None:
    tokenizer = Tokenizer.from_file(str(tiny_model.tokenizer_path))
    vocab = llama_cpp.llama_model_get_vocab(llama.model)
    found = {
        "<|fim_prefix|>": llama_cpp.llama_vocab_fim_pre(vocab),
        "<|fim_suffix|>": llama_cpp.llama_vocab_fim_suf(vocab),
        "<|fim_middle|>": llama_cpp.llama_vocab_fim_mid(vocab),
        "<|fim_pad|>": llama_cpp.llama_vocab_fim_pad(vocab),
        "<|repo_name|>": llama_cpp.llama_vocab_fim_rep(vocab),
        "<|file_sep|>": llama_cpp.llama_vocab_fim_sep(vocab),
        "<|endoftext|>": llama_cpp.llama_vocab_eos(vocab),
    }
    assert found == {text: tokenizer.token_to_id(text) for text in found}
    for text in ("<|endoftext|>", "<|im_end|>", "<|fim_pad|>", "<|file_sep|>"):
        assert llama_cpp.llama_vocab_is_eog(vocab, tokenizer.token_to_id(text)), text
    assert not llama_cpp.llama_vocab_is_eog(vocab, tokenizer.token_to_id("<|fim_middle|>"))


def test_greedy_generation_is_deterministic_and_varied(llama: Any) -> None:
    prompt = "<|fim_prefix|>0010 PRINT @(0,0),<|fim_suffix|>\n<|fim_middle|>"
    first = llama.tokenize(_greedy(llama, prompt).encode(), add_bos=False, special=True)
    assert _greedy(llama, "class public Order\n") != ""
    again = llama.tokenize(_greedy(llama, prompt).encode(), add_bos=False, special=True)
    assert first == again
    assert len(set(first)) > 1, "greedy decoding is stuck on one token"


def test_chat_completion_uses_the_embedded_template(llama: Any) -> None:
    response = llama.create_chat_completion(
        messages=[{"role": "user", "content": "Write a FOR loop"}], max_tokens=4, temperature=0.0
    )
    assert response["choices"][0]["message"]["role"] == "assistant"
    assert response["usage"]["prompt_tokens"] > 10


def _rms_norm(x: np.ndarray, weight: np.ndarray, eps: float) -> np.ndarray:
    return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * weight


def _rope_neox(x: np.ndarray, theta: float) -> np.ndarray:
    """HF Qwen2 rotary embedding (rotate-half) for x of shape (tokens, heads, head_dim)."""
    half = x.shape[-1] // 2
    angles = np.arange(x.shape[0])[:, None] * theta ** (-np.arange(half) / half)[None, :]
    cos = np.concatenate([np.cos(angles)] * 2, -1)[:, None, :]
    sin = np.concatenate([np.sin(angles)] * 2, -1)[:, None, :]
    return x * cos + np.concatenate([-x[..., half:], x[..., :half]], -1) * sin


def _attention(q: np.ndarray, k: np.ndarray, v: np.ndarray) -> np.ndarray:
    repeat = q.shape[1] // k.shape[1]
    k, v = np.repeat(k, repeat, axis=1), np.repeat(v, repeat, axis=1)
    scores = np.einsum("thd,shd->hts", q, k) / np.sqrt(q.shape[-1])
    scores += np.triu(np.full(scores.shape[1:], -np.inf), 1)
    probs = np.exp(scores - scores.max(-1, keepdims=True))
    probs /= probs.sum(-1, keepdims=True)
    return np.einsum("hts,shd->thd", probs, v).reshape(q.shape[0], -1)


def _linear(weights: dict[str, np.ndarray], name: str, inputs: np.ndarray) -> np.ndarray:
    """An HF Linear layer: weight is (out_features, in_features), bias optional."""
    return inputs @ weights[f"{name}.weight"].T + weights.get(f"{name}.bias", 0.0)


def _decoder_layer(w: dict[str, np.ndarray], h: np.ndarray, config: dict[str, Any]) -> np.ndarray:
    heads, kv_heads = config["num_attention_heads"], config["num_key_value_heads"]
    head_dim, eps, theta = h.shape[-1] // heads, config["rms_norm_eps"], config["rope_theta"]
    x = _rms_norm(h, w["input_layernorm.weight"], eps)
    q = _rope_neox(_linear(w, "self_attn.q_proj", x).reshape(len(h), heads, head_dim), theta)
    k = _rope_neox(_linear(w, "self_attn.k_proj", x).reshape(len(h), kv_heads, head_dim), theta)
    v = _linear(w, "self_attn.v_proj", x).reshape(len(h), kv_heads, head_dim)
    h = h + _linear(w, "self_attn.o_proj", _attention(q, k, v))
    x = _rms_norm(h, w["post_attention_layernorm.weight"], eps)
    gate, up = _linear(w, "mlp.gate_proj", x), _linear(w, "mlp.up_proj", x)
    return h + _linear(w, "mlp.down_proj", gate / (1.0 + np.exp(-gate)) * up)


def _hf_reference_logits(hf_dir: Path, ids: list[int]) -> np.ndarray:
    """A plain-numpy Qwen2 forward pass over the HF safetensors weights."""
    weights = pytest.importorskip("safetensors.numpy").load_file(hf_dir / "model.safetensors")
    config = json.loads((hf_dir / "config.json").read_text(encoding="utf-8"))
    h = weights["model.embed_tokens.weight"][ids].astype(np.float64)
    for layer in range(config["num_hidden_layers"]):
        prefix = f"model.layers.{layer}."
        layer_weights = {
            k.removeprefix(prefix): v for k, v in weights.items() if k.startswith(prefix)
        }
        h = _decoder_layer(layer_weights, h, config)
    eps = config["rms_norm_eps"]
    return _rms_norm(h, weights["model.norm.weight"], eps) @ weights["lm_head.weight"].T


def test_llama_cpp_logits_match_an_hf_layout_reference(llama: Any, hf_dir: Path) -> None:
    ids = llama.tokenize(b'0010 PRINT @(0,0),"Hi"\nclass public Foo\n', add_bos=False, special=True)
    llama.reset()
    llama.eval(ids)
    llama_logits = np.array(llama.scores[: len(ids)], dtype=np.float64)
    reference = _hf_reference_logits(hf_dir, ids)
    # F16 matmuls in ggml: small absolute error against logits with a spread of ~2.
    assert np.abs(llama_logits - reference).max() < 0.05 * reference.std()
    assert (llama_logits.argmax(-1) == reference.argmax(-1)).all()


def test_quantized_q4_k_m_model_loads_and_generates(tiny_model: TinyModel, tmp_path: Path) -> None:
    gguf = pytest.importorskip("gguf")
    quantized = tmp_path / "tiny-q4_k_m.gguf"
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = llama_cpp.LLAMA_FTYPE_MOSTLY_Q4_K_M
    assert (
        llama_cpp.llama_model_quantize(
            str(tiny_model.gguf_path).encode(), str(quantized).encode(), params
        )
        == 0
    )
    assert quantized.stat().st_size < tiny_model.gguf_path.stat().st_size / 2
    tensor_types = {t.name: t.tensor_type for t in gguf.GGUFReader(quantized).tensors}
    assert tensor_types["blk.0.attn_q.weight"] == gguf.GGMLQuantizationType.Q4_K
    llm = llama_cpp.Llama(model_path=str(quantized), n_ctx=512, verbose=False)
    try:
        first = _greedy(llm, "class public Order\n")
        assert first != ""
        assert _greedy(llm, "class public Order\n") == first
    finally:
        llm.close()
