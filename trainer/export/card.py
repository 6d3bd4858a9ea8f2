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
    report = _read_json(data_dir / "report.json")
    lines = ["## Training data", "", f"Build: `{data_dir}`", ""]
    if report is None:
        return [*lines, "(no report.json found)", ""]
    chat, fim, cpt = report.get("chat", {}), report.get("fim", {}), report.get("cpt", {})
    rows = [
        ("conversations", chat.get("train", 0), chat.get("val", 0)),
        ("FIM samples", fim.get("train", 0), fim.get("val", 0)),
        (
            "pretraining records",
            cpt.get("cpt train", {}).get("records", 0),
            cpt.get("cpt val", {}).get("records", 0),
        ),
    ]
    return [*lines, *_table(("kind", "train", "validation"), rows)]


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
    from trainer.evaluate.report import comparison_table

    return ["## Evaluation", "", *comparison_table(evaluation), ""]


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
    lines += _data_section(Path(info.get("data", "")))
    lines += _hyper_section(info)
    lines += _results_section(info, plot)
    lines += _eval_section(evaluation)
    lines += _files_section(entries, notes)
    lines += _usage(entries)
    return "\n".join(lines)
