"""Data -> stage 1 -> stage 2 -> GGUF export -> llama.cpp -> model import -> daemon -> eval."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import httpx
import pytest

from tests.conftest import run_cli, start_daemon

pytest.importorskip("trl", reason="the [train] extra is not installed")
llama_cpp = pytest.importorskip("llama_cpp")


def _catalogue(exported: Path) -> dict[str, dict]:
    entries = json.loads((exported / "catalogue.json").read_text())["models"]
    return {entry["quant"]: entry for entry in entries}


def test_both_stages_ran_with_a_recorded_engine(finished_run: Path) -> None:
    info = json.loads((finished_run / "run.json").read_text())
    assert info["status"] == "finished"
    assert set(info["stages"]) == {"cpt", "sft"}
    assert info["stages"]["cpt"]["steps"] == 4 and info["stages"]["sft"]["steps"] == 6
    engine = info["engine"]
    assert engine["device"] == "cpu" and engine["precision"] == "fp32" and engine["reason"]
    from trainer.train.engine import installed

    assert engine["name"] == ("qlora" if installed("bitsandbytes") else "lora")
    assert "trl" in info["versions"] and "torch" in info["versions"]
    assert (finished_run / "adapter" / "adapter_config.json").is_file()
    assert any((finished_run / "logs" / "sft").rglob("events.out.tfevents.*"))


def test_the_adapter_trained_every_linear_layer_and_the_embeddings(finished_run: Path) -> None:
    config = json.loads((finished_run / "adapter" / "adapter_config.json").read_text())
    assert config["r"] == 8 and config["lora_alpha"] == 16
    assert set(config["modules_to_save"]) >= {"embed_tokens", "lm_head"}
    from safetensors import safe_open

    with safe_open(finished_run / "adapter" / "adapter_model.safetensors", "pt") as handle:
        names = list(handle.keys())
    for module in ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"):
        assert any(f"{module}.lora_A" in name for name in names), module
    assert any("embed_tokens" in name for name in names)


def test_validation_loss_is_recorded_at_the_configured_interval(finished_run: Path) -> None:
    for stage, steps in (("cpt", 4), ("sft", 6)):
        summary = json.loads((finished_run / stage / "stage.json").read_text())
        evals = [entry["step"] for entry in summary["log_history"] if "eval_loss" in entry]
        assert evals == list(range(2, steps + 1, 2)), stage
        assert summary["best_eval_loss"] == min(
            entry["eval_loss"] for entry in summary["log_history"] if "eval_loss" in entry
        )
        assert Path(summary["best_checkpoint"]).is_dir()  # never rotated away


def test_the_run_ends_with_the_best_checkpoints_adapter(finished_run: Path) -> None:
    from safetensors.torch import load_file

    summary = json.loads((finished_run / "sft" / "stage.json").read_text())
    best = load_file(Path(summary["best_checkpoint"]) / "adapter_model.safetensors")
    final = load_file(finished_run / "adapter" / "adapter_model.safetensors")
    assert best.keys() == final.keys()
    assert all(bool((best[name] == final[name]).all()) for name in best)


def test_the_export_writes_every_output(exported: Path) -> None:
    names = {path.name for path in exported.iterdir()}
    stem = "bbj-coder-run"
    assert {
        f"{stem}.f16.gguf",
        f"{stem}.q4_k_m.gguf",
        f"{stem}.lora.gguf",
        "Modelfile",
        "README.md",
        "loss.png",
        "catalogue.json",
        "merged",
    } <= names
    assert not [name for name in names if name.startswith(".")]
    assert (exported / "loss.png").read_bytes().startswith(b"\x89PNG")
    modelfile = (exported / "Modelfile").read_text()
    assert modelfile.startswith(f"FROM ./{stem}.q4_k_m.gguf\n")
    assert "{{ .Suffix }}" in modelfile and 'PARAMETER stop "<|im_end|>"' in modelfile
    card = (exported / "README.md").read_text()
    assert "lora_r | 8" in card and "![loss curves](loss.png)" in card
    assert "conversations" in card and _catalogue(exported)["Q4_K_M"]["sha256"] in card


def test_llama_cpp_loads_both_ggufs_and_generates(exported: Path) -> None:
    for entry in _catalogue(exported).values():
        llm = llama_cpp.Llama(model_path=str(exported / entry["file"]), n_ctx=512, verbose=False)
        try:
            assert llm.metadata["tokenizer.ggml.pre"] == "qwen2"
            out = llm("for i = 1 to 10\n", max_tokens=8, temperature=0.0, top_k=1)
            assert out["usage"]["completion_tokens"] > 0
        finally:
            llm.close()


def test_the_manifest_entries_are_accepted_by_the_tui_and_the_store(exported: Path) -> None:
    from daemon.files import sha256_file
    from daemon.models.catalogue import parse_catalogue
    from daemon.models.store import ModelEntry

    catalogue = parse_catalogue((exported / "catalogue.json").read_text(), base=str(exported))
    assert {entry.quant for entry in catalogue.entries} == {"Q4_K_M", "F16"}
    for raw in _catalogue(exported).values():
        entry = ModelEntry(
            **{key: raw[key] for key in ModelEntry.__dataclass_fields__ if key in raw}
        )
        assert entry.sha256 == sha256_file(exported / entry.file)
        assert entry.fim_format == "qwen2.5-coder" and entry.context_length == 2048


def test_model_import_accepts_it_and_the_daemon_serves_it(exported: Path, tmp_path: Path) -> None:
    entry = _catalogue(exported)["Q4_K_M"]
    imported = run_cli(
        tmp_path,
        "model",
        "import",
        str(exported / entry["file"]),
        "--sha256",
        entry["sha256"],
        "--name",
        entry["name"],
    )
    assert imported.returncode == 0, imported.stderr
    daemon = start_daemon(
        tmp_path, BBJ_CODER_CHECK_FIM="false", BBJ_CODER_FIM_TIME_BUDGET_MS="20000"
    )
    try:
        health = httpx.get(f"{daemon.url}/health").json()
        assert health["model"]["name"] == entry["name"]
        with daemon.client() as client:
            response = client.post(
                "/v1/bbj/fim",
                json={"prefix": "for i = 1 to 10\n", "suffix": "next i\n", "max_tokens": 8},
            )
        assert response.status_code == 200, response.text
        assert response.json()["timings"]["prompt_tokens"] > 0
    finally:
        daemon.stop()


def test_eval_compares_base_and_fine_tuned(
    exported: Path, tiny_hf, tiny_data: Path, tmp_path: Path
) -> None:
    from trainer.evaluate import add_eval_arguments, eval_command_from_args

    parser = argparse.ArgumentParser()
    add_eval_arguments(parser)
    tuned = exported / _catalogue(exported)["Q4_K_M"]["file"]
    args = parser.parse_args(
        [
            "--model",
            f"base={tiny_hf.gguf_path}",
            "--model",
            f"tuned={tuned}",
            "--data",
            str(tiny_data),
            "--out",
            str(tmp_path / "eval"),
            "--limit",
            "3",
            "--max-new-tokens",
            "24",
            "--fim-max-tokens",
            "16",
            "--no-progress",
        ]
    )
    assert eval_command_from_args(args) == 0
    report = json.loads((tmp_path / "eval" / "eval.json").read_text())
    assert [m["label"] for m in report["models"]] == ["base", "tuned"]
    for model in report["models"]:
        assert model["kind"] == "gguf"
        assert model["chat"]["prompts"] == 3 and model["fim"]["samples"] == 3
        assert 0.0 <= model["fim"]["edit_similarity"] <= 1.0
        assert model["fim"]["latency_s"]["p50"] > 0
    table = (tmp_path / "eval" / "eval.md").read_text()
    assert "| metric | base | tuned | tuned vs base |" in table
    assert "chat compile@1" in table and "FIM exact match" in table
    items = (tmp_path / "eval" / "eval_items.jsonl").read_text().splitlines()
    assert len(items) == 2 * (3 + 3)
