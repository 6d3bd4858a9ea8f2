"""The one Qwen2 GGUF writer, as ``train export`` uses it: from an HF folder."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from daemon.models.gguf_writer import (
    GGUFConversionError,
    Qwen2Hparams,
    gguf_architecture,
    read_vocabulary,
    write_qwen2_gguf,
)
from daemon.models.tinymodel import TinyModel

gguf = pytest.importorskip("gguf")


def _config(hf_dir: Path, **changes: Any) -> dict[str, Any]:
    return {**json.loads((hf_dir / "config.json").read_text(encoding="utf-8")), **changes}


def _weights(hf_dir: Path) -> dict[str, np.ndarray]:
    safetensors_numpy = pytest.importorskip("safetensors.numpy")
    return safetensors_numpy.load_file(hf_dir / "model.safetensors")


def _convert(hf_dir: Path, out: Path, config: dict[str, Any], weights: dict[str, Any]) -> Any:
    hp = Qwen2Hparams.from_config(config)
    vocab = read_vocabulary(hf_dir, hp.vocab_size)
    write_qwen2_gguf(out, hp, vocab, weights, "bbj-coder-tiny")
    return gguf.GGUFReader(out)


def _fields(reader: Any) -> dict[str, Any]:
    return {k: f.contents() for k, f in reader.fields.items() if not k.startswith("GGUF.")}


def _tensors(reader: Any) -> dict[str, np.ndarray]:
    return {t.name: np.asarray(t.data) for t in reader.tensors}


def test_the_hf_folder_converts_to_the_tiny_models_own_gguf(
    hf_dir: Path, tiny_model: TinyModel, tmp_path: Path
) -> None:
    converted = _convert(hf_dir, tmp_path / "c.gguf", _config(hf_dir), _weights(hf_dir))
    built = gguf.GGUFReader(tiny_model.gguf_path)
    assert _fields(converted) == _fields(built)
    expected = _tensors(built)
    got = _tensors(converted)
    assert got.keys() == expected.keys()
    for name, data in expected.items():
        np.testing.assert_array_equal(got[name], data, err_msg=name)


def test_an_embedding_wider_than_the_tokenizer_gets_unused_pad_tokens(hf_dir: Path) -> None:
    vocab = read_vocabulary(hf_dir, 1400)
    added = json.loads((hf_dir / "tokenizer.json").read_text())["added_tokens"]
    n_tokens = max(token["id"] for token in added) + 1
    assert len(vocab.tokens) == 1400
    assert vocab.tokens[n_tokens:] == tuple(f"[PAD{i}]" for i in range(n_tokens, 1400))
    assert set(vocab.token_types[n_tokens:]) == {gguf.TokenType.UNUSED}
    with pytest.raises(GGUFConversionError, match=r"has id \d+ but the model embeds only 100"):
        read_vocabulary(hf_dir, 100)


def test_a_tied_lm_head_is_left_to_token_embd(hf_dir: Path, tmp_path: Path) -> None:
    weights = _weights(hf_dir)
    weights["lm_head.weight"] = weights["model.embed_tokens.weight"]
    config = _config(hf_dir, tie_word_embeddings=True)
    names = set(_tensors(_convert(hf_dir, tmp_path / "t.gguf", config, weights)))
    assert "token_embd.weight" in names and "output.weight" not in names


def test_yarn_rope_scaling_is_written_and_other_kinds_are_refused(
    hf_dir: Path, tmp_path: Path
) -> None:
    weights = _weights(hf_dir)
    yarn = {"type": "yarn", "factor": 4.0, "original_max_position_embeddings": 512}
    fields = _fields(_convert(hf_dir, tmp_path / "y.gguf", _config(hf_dir, rope_scaling=yarn), {}))
    assert fields["qwen2.rope.scaling.type"] == "yarn"
    assert fields["qwen2.rope.scaling.factor"] == pytest.approx(4.0)
    assert fields["qwen2.rope.scaling.original_context_length"] == 512
    dynamic = _config(hf_dir, rope_scaling={"type": "dynamic", "factor": 2.0})
    with pytest.raises(GGUFConversionError, match="does not support rope scaling 'dynamic'"):
        _convert(hf_dir, tmp_path / "d.gguf", dynamic, weights)


def test_only_qwen2_is_accepted(hf_dir: Path) -> None:
    assert gguf_architecture(_config(hf_dir)) == "qwen2"
    with pytest.raises(GGUFConversionError, match=r"supports Qwen2ForCausalLM.*MistralForCausal"):
        gguf_architecture(_config(hf_dir, architectures=["MistralForCausalLM"]))


def test_a_tokenizer_that_is_not_byte_level_bpe_is_refused(hf_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "wordpiece"
    shutil.copytree(hf_dir, folder)
    document = json.loads((folder / "tokenizer.json").read_text())
    document["model"]["type"] = "WordPiece"
    (folder / "tokenizer.json").write_text(json.dumps(document))
    with pytest.raises(GGUFConversionError, match="not a byte-level BPE tokenizer"):
        read_vocabulary(folder, 1400)
