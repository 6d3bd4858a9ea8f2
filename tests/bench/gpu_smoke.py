"""GPU smoke run of the trainer: both GPU engines on a random Qwen2 of the real 0.5B shape.

    .venv/bin/python tests/bench/gpu_smoke.py [--work DIR] [--engines unsloth,qlora]
                                              [--shape 0.5b|tiny] [--steps 5] [--out FILE]

For each engine, in its own process (Unsloth must patch transformers before anything else
imports it): a few steps of stage 1 (continued pretraining) and stage 2 (chat + FIM), export
(merged F16 GGUF, Q4_K_M, LoRA GGUF), load the Q4_K_M GGUF with llama-cpp-python and generate
a FIM completion. It prints one JSON line per engine (steps/s per stage, peak GPU memory, the
export's files, the generated text, and the error when a step broke) and a summary table.

The base model is built as the tests build the tiny model: the tiny model's tokenizer (real
Qwen2.5-Coder special tokens) with randomly initialised weights, here at the shape of
Qwen2.5-Coder-0.5B (896 wide, 24 layers, 14/2 heads, 151936-row tied embedding). The scores
mean nothing; the point is that every step runs and how fast and how big it is.
``--shape tiny --engines lora`` runs the same path on a CPU in a minute (a harness check).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

QWEN25_CODER_05B = {
    "hidden_size": 896,
    "intermediate_size": 4864,
    "num_hidden_layers": 24,
    "num_attention_heads": 14,
    "num_key_value_heads": 2,
    "vocab_size": 151936,
    "max_position_embeddings": 32768,
    "rope_theta": 1_000_000.0,
    "rms_norm_eps": 1e-6,
    "tie_word_embeddings": True,
}
TINY = {
    **QWEN25_CODER_05B,
    "hidden_size": 128,
    "intermediate_size": 256,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
}
SHAPES = {"0.5b": QWEN25_CODER_05B, "tiny": TINY}
FIM_PROMPT = (
    "<|repo_name|>workspace\n<|file_sep|>demo.bbj\n<|fim_prefix|>for i = 1 to 10\n"
    "<|fim_suffix|>\nnext i\n<|fim_middle|>"
)

TRAIN_TOML = """\
[train]
base_model = "{base}"
data = "{data}"
out = "{out}"
engine = "{engine}"
max_seq_len = 512
batch_size = 4
gradient_accumulation_steps = 1
logging_steps = 1
eval_steps = {steps}
progress = false
tensorboard = false

[train.cpt]
max_steps = {steps}

[train.sft]
max_steps = {steps}
"""


def prepare(work: Path, shape: str) -> tuple[Path, Path]:
    """The random base model (HF directory) and a small data build for its tokenizer."""
    base, data = work / f"base-{shape}", work / "data"
    if not (base / "config.json").is_file():
        build_base(base, SHAPES[shape])
    if not (data / "LATEST").is_file():
        build_data(work / "inputs", data, base)
    return base, data


def build_base(target: Path, shape: dict[str, Any]) -> None:
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    from daemon.models.tinymodel import build_tiny_model

    tiny = build_tiny_model(target.parent / "tiny", write_hf=True)
    assert tiny.hf_dir is not None
    tiny_config = json.loads((tiny.hf_dir / "config.json").read_text())
    config = Qwen2Config(
        **shape,
        hidden_act="silu",
        bos_token_id=tiny_config["bos_token_id"],
        eos_token_id=tiny_config["eos_token_id"],
        use_sliding_window=False,
        torch_dtype="bfloat16",
    )
    config.architectures = ["Qwen2ForCausalLM"]
    torch.manual_seed(0)
    model = Qwen2ForCausalLM(config).to(torch.bfloat16)
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    model.save_pretrained(str(staging), safe_serialization=True)
    for item in tiny.hf_dir.iterdir():
        if item.name.startswith(("tokenizer", "vocab", "merges", "special_tokens", "generation")):
            shutil.copy(item, staging / item.name)
    staging.rename(target)


def build_data(inputs: Path, out: Path, tokenizer: Path) -> None:
    from trainer.data.build import build_dataset
    from trainer.data.config import DataConfig

    chat = inputs / "chat.jsonl"
    chat.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    for i in range(64):
        answer = f"```bbj\nfor i = 1 to {i + 2}\n    print i * {i}\nnext i\n```\nPrints {i}."
        messages = [
            {"role": "user", "content": f"Write BBj that prints the multiples of {i}."},
            {"role": "assistant", "content": answer},
        ]
        lines.append(json.dumps({"messages": messages}))
    chat.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for project in range(2):
        for index in range(12):
            body = [f"rem program {project}-{index}"]
            for k in range(8):
                body += [f"for i = 1 to {k + index}", '    print "v ", i', "next i"]
            path = inputs / "src" / f"proj{project}" / f"m{index}.bbj"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("\n".join(body) + "\nend\n", encoding="utf-8")
    config = DataConfig(
        chatml=(chat,),
        sources=(inputs / "src",),
        out=out,
        tokenizer=tokenizer,
        max_seq_len=512,
        fim_rate=1.0,
        progress=False,
    )
    build_dataset(config)


def run_engine(work: Path, shape: str, engine: str, steps: int) -> dict[str, Any]:
    """Train, export, load and generate with one engine; never raises (the error is reported)."""
    result: dict[str, Any] = {"engine": engine, "shape": shape, "stage": "prepare"}
    try:
        if engine == "unsloth":
            import unsloth  # noqa: F401  (before transformers, as train run does)
        base, data = prepare(work, shape)
        import torch

        gpu = torch.cuda.is_available()
        result["device"] = torch.cuda.get_device_name(0) if gpu else "cpu"
        result["versions"] = _versions()
        run = work / f"run-{engine}"
        shutil.rmtree(run, ignore_errors=True)
        toml = work / f"train-{engine}.toml"
        toml.write_text(
            TRAIN_TOML.format(base=base, data=data, out=run, engine=engine, steps=steps),
            encoding="utf-8",
        )
        result["stage"] = "train"
        _train(toml, result, gpu)
        result["stage"] = "export"
        _export(run, result)
        result["stage"] = "generate"
        _generate(run / "export", result)
        result["stage"] = "done"
    except BaseException as exc:  # the report says what broke, and where
        result["error"] = f"{type(exc).__name__}: {exc}"
        result["traceback"] = traceback.format_exc()[-4000:]
    return result


def _train(toml: Path, result: dict[str, Any], gpu: bool) -> None:
    import torch

    from trainer.train.config import load_train_config
    from trainer.train.run import run_training

    if gpu:
        torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    info = run_training(load_train_config(toml), say=lambda text: print(text, file=sys.stderr))
    result["train_seconds"] = round(time.perf_counter() - started, 1)
    result["engine_used"] = info.get("engine", {})
    result["stages"] = {
        name: {
            "steps": stage.get("steps"),
            "seconds": stage.get("seconds"),
            "steps_per_s": round(stage["steps"] / stage["seconds"], 3)
            if stage.get("seconds")
            else None,
            "best_eval_loss": stage.get("best_eval_loss"),
        }
        for name, stage in info.get("stages", {}).items()
    }
    if gpu:
        result["peak_gpu_memory_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
        result["peak_gpu_reserved_gib"] = round(torch.cuda.max_memory_reserved() / 2**30, 2)


def _export(run: Path, result: dict[str, Any]) -> None:
    from trainer.export.run import ExportOptions, run_export

    started = time.perf_counter()
    exported = run_export(ExportOptions(run=run, quants=("Q4_K_M",)), say=lambda _t: None)
    result["export_seconds"] = round(time.perf_counter() - started, 1)
    result["files"] = {p.name: p.stat().st_size for p in exported.files if p.suffix == ".gguf"}


def _generate(export: Path, result: dict[str, Any]) -> None:
    from llama_cpp import Llama

    gguf = next(export.glob("*.q4_k_m.gguf"), None) or next(export.glob("*.gguf"))
    llm = Llama(model_path=str(gguf), n_ctx=512, n_gpu_layers=-1, verbose=False)
    try:
        started = time.perf_counter()
        out = llm.create_completion(FIM_PROMPT, max_tokens=16, temperature=0.0)
        result["generate_seconds"] = round(time.perf_counter() - started, 2)
        result["generated"] = out["choices"][0]["text"]
        result["gguf_loaded"] = gguf.name
    finally:
        llm.close()


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in (
        "torch",
        "transformers",
        "trl",
        "peft",
        "bitsandbytes",
        "unsloth",
        "llama_cpp_python",
    ):
        try:
            found[name] = version(name.replace("_", "-"))
        except PackageNotFoundError:
            found[name] = "-"
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--work", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "gpu-smoke"
    )
    parser.add_argument("--engines", default="unsloth,qlora")
    parser.add_argument("--shape", choices=sorted(SHAPES), default="0.5b")
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument(
        "--out", type=Path, default=None, help="Also write the results here (JSON)."
    )
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    if args.child:
        print(json.dumps(run_engine(args.work, args.shape, args.child, args.steps)))
        return 0
    results = []
    for engine in args.engines.split(","):
        command = [sys.executable, __file__, "--work", str(args.work), "--shape", args.shape]
        command += ["--steps", str(args.steps), "--child", engine]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        sys.stderr.write(done.stderr[-3000:])
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        result = (
            json.loads(lines[-1])
            if lines
            else {
                "engine": engine,
                "error": f"the child process exited {done.returncode} without a result",
            }
        )
        results.append(result)
        print(json.dumps(result), flush=True)
    _summary(results)
    if args.out is not None:
        args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0 if all("error" not in r for r in results) else 1


def _summary(results: list[dict[str, Any]]) -> None:
    header = ("engine", "cpt steps/s", "sft steps/s", "peak GPU GiB", "export s", "GGUF ran")
    print("\n| " + " | ".join((*header, "broke at")) + " |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        stages = r.get("stages", {})
        cells = [
            r["engine"],
            str(stages.get("cpt", {}).get("steps_per_s", "-")),
            str(stages.get("sft", {}).get("steps_per_s", "-")),
            str(r.get("peak_gpu_memory_gib", "-")),
            str(r.get("export_seconds", "-")),
            "yes" if "generated" in r else "no",
            "-" if "error" not in r else f"{r.get('stage')}: {r['error'][:80]}",
        ]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    raise SystemExit(main())
