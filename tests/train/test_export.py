"""Export fidelity (tokenizer, weights, LoRA GGUF) and an export that cannot finish."""

from __future__ import annotations

import argparse
import errno
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("trl", reason="the [train] extra is not installed")
llama_cpp = pytest.importorskip("llama_cpp")

from trainer.export import add_export_arguments, export_command_from_args  # noqa: E402
from trainer.export.run import ExportOptions, run_export  # noqa: E402
from trainer.train.errors import TrainError  # noqa: E402

STEM = "bbj-coder-run"
BBJ_SAMPLES = (
    'rem print a table\nfor i = 1 to 10\n    print "row ", i\nnext i\n',
    "class public Order\n    field public BBjString Name$\n    method public void save()\n"
    "    methodend\nclassend\n",
    "<|fim_prefix|>x = 1\n<|fim_suffix|>\nend\n<|fim_middle|>print x<|endoftext|>",
    "<|repo_name|>shop\n<|file_sep|>src/a.bbj\nrem a\n<|file_sep|>src/b.bbj\n",
    "<|im_start|>user\nWrite BBj\u00e9 code<|im_end|>\n<|im_start|>assistant\n",
)
PROMPTS = (
    "<|fim_prefix|>for i = 1 to 10\n<|fim_suffix|>next i\n<|fim_middle|>",
    "<|im_start|>user\nWrite BBj that prints 3.<|im_end|>\n<|im_start|>assistant\n",
    'print "hello"\n',
)


@pytest.fixture(scope="module")
def merged(exported: Path):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(exported / "merged")
    model = AutoModelForCausalLM.from_pretrained(exported / "merged", dtype=torch.float32).eval()
    return tokenizer, model


def _llama(path: Path, **kwargs) -> llama_cpp.Llama:
    return llama_cpp.Llama(model_path=str(path), n_ctx=512, verbose=False, **kwargs)


def _logits(path: Path, ids: list[int], **kwargs) -> np.ndarray:
    llm = _llama(path, logits_all=True, **kwargs)
    try:
        llm.eval(ids)
        return np.array(llm.scores[: len(ids)])
    finally:
        llm.close()


@pytest.mark.parametrize("text", BBJ_SAMPLES)
def test_gguf_tokenizer_matches_the_hf_tokenizer(exported: Path, merged, text: str) -> None:
    tokenizer, _model = merged
    llm = llama_cpp.Llama(
        model_path=str(exported / f"{STEM}.f16.gguf"), vocab_only=True, verbose=False
    )
    try:
        gguf_ids = llm.tokenize(text.encode(), add_bos=False, special=True)
    finally:
        llm.close()
    assert gguf_ids == tokenizer(text, add_special_tokens=False)["input_ids"]


def test_special_and_fim_tokens_survive_with_their_ids(exported: Path, merged) -> None:
    import gguf

    tokenizer, _model = merged
    reader = gguf.GGUFReader(exported / f"{STEM}.f16.gguf")
    tokens = reader.get_field("tokenizer.ggml.tokens").contents()
    for text in (
        "<|endoftext|>",
        "<|im_start|>",
        "<|im_end|>",
        "<|fim_prefix|>",
        "<|fim_suffix|>",
        "<|fim_middle|>",
        "<|repo_name|>",
        "<|file_sep|>",
    ):
        assert tokens[tokenizer.convert_tokens_to_ids(text)] == text
    assert reader.get_field("tokenizer.ggml.pre").contents() == "qwen2"
    eos = reader.get_field("tokenizer.ggml.eos_token_id").contents()
    assert tokens[eos] == "<|endoftext|>"


@pytest.mark.parametrize("prompt", PROMPTS)
def test_merged_hf_model_and_f16_gguf_pick_the_same_tokens(
    exported: Path, merged, prompt: str
) -> None:
    import torch

    tokenizer, model = merged
    ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        hf = model.generate(
            torch.tensor([ids]),
            max_new_tokens=10,
            do_sample=False,
            eos_token_id=None,
            pad_token_id=0,
        )[0, len(ids) :].tolist()
    llm = _llama(exported / f"{STEM}.f16.gguf")
    try:
        gguf_tokens = []
        for token in llm.generate(ids, temp=0.0, top_k=1):
            gguf_tokens.append(token)
            if len(gguf_tokens) == len(hf):
                break
    finally:
        llm.close()
    assert gguf_tokens == hf


def test_the_lora_gguf_on_the_base_reproduces_the_merged_model(exported: Path, tiny_hf) -> None:
    ids = _llama(exported / f"{STEM}.f16.gguf", vocab_only=True).tokenize(
        PROMPTS[0].encode(), add_bos=False, special=True
    )
    merged = _logits(exported / f"{STEM}.f16.gguf", ids)
    base = _logits(tiny_hf.gguf_path, ids)
    adapted = _logits(tiny_hf.gguf_path, ids, lora_path=str(exported / f"{STEM}.lora.gguf"))
    training_changed = np.abs(merged - base).max()
    assert training_changed > 0.05  # the adapter (embeddings included) really matters
    assert np.abs(merged - adapted).max() < training_changed / 20


def test_card_only_adds_the_eval_table(finished_run: Path, exported: Path) -> None:
    evaluation = {
        "format": 1,
        "data": "d",
        "checker": "built-in checker",
        "settings": {},
        "models": [
            {
                "label": "base",
                "path": "b",
                "kind": "gguf",
                "chat": {"compile@1": 0.25},
                "fim": {"exact_match": 0.1},
            },
            {
                "label": "tuned",
                "path": "t",
                "kind": "gguf",
                "chat": {"compile@1": 0.75},
                "fim": {"exact_match": 0.4},
            },
        ],
    }
    (finished_run / "eval").mkdir(exist_ok=True)
    (finished_run / "eval" / "eval.json").write_text(json.dumps(evaluation))
    try:
        run_export(ExportOptions(run=finished_run, card_only=True), say=lambda _t: None)
        card = (exported / "README.md").read_text()
        assert "| chat compile@1 | 0.250 | 0.750 | +0.500 (better) |" in card
        assert (exported / f"{STEM}.q4_k_m.gguf").is_file()
    finally:
        shutil.rmtree(finished_run / "eval")


def _no_leftovers(out: Path) -> None:
    assert not list(out.glob("*.gguf")), "a GGUF was left behind"
    assert not list(out.glob(".export-*")), "the staging folder was left behind"


def test_a_full_disk_is_reported_and_leaves_nothing(
    finished_run: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
) -> None:
    import gguf

    def disk_full(self, tensor, *args, **kwargs) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(gguf.GGUFWriter, "write_tensor_data", disk_full)
    parser = argparse.ArgumentParser()
    add_export_arguments(parser)
    args = parser.parse_args(["--run", str(finished_run), "--out", str(tmp_path / "out")])
    assert export_command_from_args(args) == 1
    error = capsys.readouterr().err
    assert "disk holding" in error and "is full" in error and "free some space" in error
    _no_leftovers(tmp_path / "out")


def test_an_interrupted_export_leaves_no_half_written_gguf(
    finished_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import trainer.export.quantize as quantize

    def interrupted(llama, source: Path, target: Path, quant: str, threads: int) -> int:
        target.write_bytes(source.read_bytes()[:1000])  # llama.cpp was part way through
        raise KeyboardInterrupt

    monkeypatch.setattr(quantize, "_quantize", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_export(ExportOptions(run=finished_run, out=tmp_path / "out"), say=lambda _t: None)
    _no_leftovers(tmp_path / "out")


def test_an_unsupported_architecture_is_refused(finished_run: Path, tmp_path: Path) -> None:
    info = json.loads((finished_run / "run.json").read_text())
    base = tmp_path / "llama-base"
    shutil.copytree(info["base_model"], base)
    config = json.loads((base / "config.json").read_text())
    config.update(architectures=["LlamaForCausalLM"], model_type="llama")
    (base / "config.json").write_text(json.dumps(config))
    run = tmp_path / "run"
    shutil.copytree(finished_run, run, ignore=shutil.ignore_patterns("checkpoint-*", "export"))
    (run / "run.json").write_text(json.dumps({**info, "base_model": str(base)}))
    with pytest.raises(TrainError, match=r"supports Qwen2ForCausalLM.*LlamaForCausalLM"):
        run_export(ExportOptions(run=run), say=lambda _t: None)
    assert not (run / "export").exists()
