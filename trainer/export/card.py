"""The model card (``README.md`` of the export): data, hyper-parameters, losses, eval, files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HYPER_PARAMETERS: tuple[str, ...] = (
    "engine",
    "lora_r",
    "lora_alpha",
    "lora_dropout",
    "target_modules",
    "train_embeddings",
    "max_seq_len",
    "batch_size",
    "gradient_accumulation_steps",
    "lr_scheduler",
    "warmup_ratio",
    "fim_ratio",
    "seed",
)
STAGE_KEYS: tuple[str, ...] = (
    "epochs",
    "max_steps",
    "learning_rate",
    "embedding_learning_rate",
    "packing",
)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _table(header: tuple[str, ...], rows: list[tuple[Any, ...]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return [*lines, ""]


def _data_section(data_dir: Path) -> list[str]:
    """The data report's key counts; the build is named by its version and manifest hash,
    never by a path on the machine that trained."""
    report = _read_json(data_dir / "report.json")
    manifest = _read_json(data_dir / "manifest.json") or {}
    build = f"`{data_dir.name}`" + (f" (manifest {_short(manifest)})" if manifest else "")
    lines = ["## Training data", "", f"Build: {build}", ""]
    if report is None:
        return [*lines, "(no report.json found)", ""]
    chat, fim, cpt = report.get("chat", {}), report.get("fim", {}), report.get("cpt", {})
    rows = [
        ("conversations", chat.get("train", 0), chat.get("val", 0), chat.get("test", "-")),
        ("FIM samples", fim.get("train", 0), fim.get("val", 0), fim.get("test", "-")),
        (
            "pretraining records",
            cpt.get("cpt train", {}).get("records", 0),
            cpt.get("cpt val", {}).get("records", 0),
            "-",
        ),
    ]
    return [
        *lines,
        *_table(("kind", "train", "validation", "test"), rows),
        *_table(("data report count", "value"), _key_counts(report)),
    ]


def _short(manifest: dict[str, Any]) -> str:
    import hashlib

    text = json.dumps(manifest.get("outputs", manifest), sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def _key_counts(report: dict[str, Any]) -> list[tuple[str, Any]]:
    steps = {step.get("step"): step.get("counts", {}) for step in report.get("cleaning", [])}
    checker, dedup = steps.get("checker", {}), steps.get("duplicates", {})
    fences, escapes = steps.get("fences", {}), steps.get("escapes", {})
    inputs, problems = report.get("inputs", {}), report.get("problems", {})
    sources = report.get("sources", {})
    rows = [
        ("tokenizer", report.get("tokenizer", "?")),
        ("max_seq_len", report.get("max_seq_len", "?")),
        (
            "Markdown examples (rejected)",
            _pair(inputs, "markdown examples", "markdown files rejected"),
        ),
        (
            "ChatML records (lines rejected)",
            _pair(inputs, "chatml records", "chatml lines rejected"),
        ),
        ("input problems", problems.get("count", 0)),
        ("checker passed / failed", f"{checker.get('passed', 0)} / {checker.get('failed', 0)}"),
        (
            "failing examples dropped"
            + ("" if report.get("drop_failing", True) else " (drop_failing off)"),
            checker.get("dropped", 0),
        ),
        ("raw code answers fenced", fences.get("raw code answers fenced", 0)),
        ("escape sequences repaired", escapes.get("sequences repaired", 0)),
        (
            "duplicates removed (exact / near)",
            _split(dedup, "exact duplicates removed", "near duplicates removed"),
        ),
        (
            "near duplicates kept (numbers or identifiers differ)",
            dedup.get("near duplicates kept (numbers or identifiers differ)", 0),
        ),
        (
            "source files (train / validation / test)",
            _split(sources, "train_files", "val_files", "test_files"),
        ),
    ]
    return rows


def _pair(counts: dict[str, Any], kept: str, rejected: str) -> str:
    return f"{counts.get(kept, 0)} ({counts.get(rejected, 0)})"


def _split(counts: dict[str, Any], *keys: str) -> str:
    return " / ".join(str(counts.get(key, 0)) for key in keys)


def _hyper_section(info: dict[str, Any]) -> list[str]:
    config = info.get("config", {})
    engine = info.get("engine", {})
    rows = [(key, config.get(key)) for key in HYPER_PARAMETERS if key in config]
    rows.insert(
        0,
        (
            "engine used",
            f"{engine.get('name')} on {engine.get('device')} "
            f"({engine.get('precision')}): {engine.get('reason')}",
        ),
    )
    stage_rows = [
        (key, config.get("cpt", {}).get(key), config.get("sft", {}).get(key)) for key in STAGE_KEYS
    ]
    return [
        "## Hyper-parameters",
        "",
        *_table(("setting", "value"), rows),
        *_table(("stage setting", "stage 1 (cpt)", "stage 2 (sft)"), stage_rows),
    ]


def _results_section(info: dict[str, Any], plot: str | None) -> list[str]:
    rows = []
    for name, stage in info.get("stages", {}).items():
        best = stage.get("best_eval_loss")
        rows.append(
            (name, stage.get("steps"), "-" if best is None else f"{best:.4f}", stage.get("seconds"))
        )
    lines = [
        "## Training",
        "",
        *_table(("stage", "steps", "best validation loss", "seconds"), rows),
    ]
    if plot:
        lines += [f"![loss curves]({plot})", ""]
    return lines


def _eval_section(evaluation: dict[str, Any] | None) -> list[str]:
    if not evaluation:
        return [
            "## Evaluation",
            "",
            "Not evaluated yet: run `bbj-coder train eval`, then "
            "`bbj-coder train export --run RUN --card-only` to add the table here.",
            "",
        ]
    from trainer.evaluate.report import evaluation_block

    return ["## Evaluation", "", *evaluation_block(evaluation)]


def _files_section(entries: list[dict[str, Any]], notes: list[str]) -> list[str]:
    rows = [
        (f"`{e['file']}`", e["quant"], f"{e['size'] / 1e6:.1f} MB", f"`{e['sha256']}`")
        for e in entries
    ]
    lines = ["## Files", "", *_table(("file", "quant", "size", "sha256"), rows)]
    if notes:
        lines += [
            "The LoRA GGUF leaves out " + ", ".join(notes) + "; use a merged GGUF for "
            "the exact fine-tuned model.",
            "",
        ]
    return lines


def _usage(entries: list[dict[str, Any]]) -> list[str]:
    if not entries:
        return []
    first = entries[0]
    return [
        "## Use",
        "",
        "```sh",
        f"bbj-coder model import {first['file']} --sha256 {first['sha256']}",
        f"ollama create {first['name']} -f Modelfile",
        "```",
        "",
    ]


def _base_warning(info: dict[str, Any]) -> list[str]:
    signals = info.get("base_model_warnings")
    if signals is None and info.get("base_model"):
        from trainer.train.inputs import instruct_signals

        signals = instruct_signals(Path(info["base_model"]))
    if not signals:
        return []
    return [
        f"> **Warning:** the base model looks like an Instruct model ({'; '.join(signals)}). "
        "bbj-coder fine-tunes a base model: an Instruct model was tuned for chat without FIM, "
        "so completions and chat can both suffer.",
        "",
    ]


def model_card(
    name: str,
    info: dict[str, Any],
    entries: list[dict[str, Any]],
    evaluation: dict[str, Any] | None,
    plot: str | None,
    notes: list[str],
) -> str:
    lines = [
        f"# {name}",
        "",
        f"BBj fine-tune of `{Path(info.get('base_model', '?')).name}` made with "
        "bbj-coder's two-stage (continued pretraining, then chat + FIM) LoRA training.",
        "",
    ]
    lines += _base_warning(info)
    lines += _data_section(Path(info.get("data", "")))
    lines += _hyper_section(info)
    lines += _results_section(info, plot)
    lines += _eval_section(evaluation)
    lines += _files_section(entries, notes)
    lines += _usage(entries)
    return "\n".join(lines)
