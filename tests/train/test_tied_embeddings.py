"""A base whose lm_head is its embedding matrix (as Qwen2.5-Coder 0.5B-3B): it stays tied."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("trl", reason="the [train] extra is not installed")
llama_cpp = pytest.importorskip("llama_cpp")


@pytest.fixture(scope="module")
def tied_export(tiny_hf, tiny_data: Path, make_toml, tmp_path_factory) -> tuple[Path, Path]:
    from safetensors.numpy import load_file, save_file

    from trainer.export.run import ExportOptions, run_export
    from trainer.train import load_train_config
    from trainer.train.run import run_training

    root = tmp_path_factory.mktemp("tied")
    base = root / "base"
    shutil.copytree(tiny_hf.hf_dir, base)
    config = json.loads((base / "config.json").read_text())
    (base / "config.json").write_text(json.dumps({**config, "tie_word_embeddings": True}))
    weights = load_file(base / "model.safetensors")
    del weights["lm_head.weight"]
    save_file(weights, base / "model.safetensors", metadata={"format": "pt"})
    toml = make_toml(root / "train.toml", base, tiny_data, root / "run", cpt_steps=2, sft_steps=2)
    run_training(load_train_config(toml), say=lambda _t: None)
    result = run_export(
        ExportOptions(run=root / "run", quants=("F16",), save_merged=True), say=lambda _t: None
    )
    return base, result.out


def test_the_merged_model_stays_tied_and_its_embeddings_were_trained(tied_export) -> None:
    import torch
    from transformers import AutoModelForCausalLM

    base_dir, out = tied_export
    merged = AutoModelForCausalLM.from_pretrained(out / "merged")
    base = AutoModelForCausalLM.from_pretrained(base_dir)
    assert merged.lm_head.weight.data_ptr() == merged.model.embed_tokens.weight.data_ptr()
    change = (merged.model.embed_tokens.weight - base.model.embed_tokens.weight).abs().max()
    assert change > 0
    import gguf

    names = {tensor.name for tensor in gguf.GGUFReader(out / "bbj-coder-run.f16.gguf").tensors}
    assert "token_embd.weight" in names and "output.weight" not in names
    ids = [5, 80, 300, 17, 1000, 42]
    with torch.no_grad():
        expected = merged(torch.tensor([ids])).logits[0].numpy()
    llm = llama_cpp.Llama(
        model_path=str(out / "bbj-coder-run.f16.gguf"), n_ctx=64, logits_all=True, verbose=False
    )
    try:
        llm.eval(ids)
        got = np.array(llm.scores[: len(ids)])
    finally:
        llm.close()
    assert np.abs(got - expected).max() < 0.1
    assert (got.argmax(-1) == expected.argmax(-1)).all()


def test_the_card_says_what_the_lora_gguf_cannot_carry(tied_export) -> None:
    _base, out = tied_export
    card = (out / "README.md").read_text()
    assert "The LoRA GGUF leaves out model.embed_tokens (tied to the output layer)" in card
    assert json.loads((out / "catalogue.json").read_text())["models"][0]["quant"] == "F16"
    assert (out / "Modelfile").read_text().startswith("FROM ./bbj-coder-run.f16.gguf\n")
