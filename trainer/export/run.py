"""``bbj-coder train export``: merge, convert to GGUF, quantise, describe — entirely offline.

Outputs (in ``RUN/export`` unless ``--out``): ``NAME.f16.gguf``, one ``NAME.<quant>.gguf`` per
``--quant``, ``NAME.lora.gguf`` (the adapter for llama.cpp's ``lora_path``), ``Modelfile``,
``README.md`` (model card), ``loss.png`` and ``catalogue.json``. Everything is staged and
renamed into place at the end.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trainer.export.catalogue import CATALOGUE, catalogue_text, model_entry
from trainer.export.staging import Staging
from trainer.train.errors import TrainError

CARD = "README.md"
PLOT = "loss.png"
TOKENIZER_FILES: tuple[str, ...] = (
    "tokenizer.json",
    "tokenizer_config.json",
    "vocab.json",
    "merges.txt",
    "special_tokens_map.json",
    "added_tokens.json",
    "chat_template.jinja",
    "chat_template.json",
)


@dataclass(frozen=True)
class ExportOptions:
    run: Path
    quants: tuple[str, ...] = ("Q4_K_M",)
    out: Path | None = None
    name: str | None = None
    dtype: str = "float32"
    lora: bool = True
    save_merged: bool = False
    card_only: bool = False
    context_length: int | None = None


@dataclass
class ExportResult:
    out: Path
    files: list[Path] = field(default_factory=list)
    entries: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _run_info(run: Path) -> dict[str, Any]:
    from trainer.train.runinfo import read_run_info

    info = read_run_info(run)
    if info is None:
        raise TrainError(f"{run} is not a training run (it has no run.json).")
    if info.get("status") != "finished" or not (run / "adapter" / "adapter_config.json").is_file():
        raise TrainError(
            f"The run in {run} has not finished; finish it with `bbj-coder train "
            "run --config ... --resume` before exporting."
        )
    if not (Path(info["base_model"]) / "config.json").is_file():
        raise TrainError(
            f"The run's base model {info['base_model']} is gone; the export needs "
            "its full-precision weights."
        )
    return info


def default_name(run: Path) -> str:
    from daemon.models.store import sanitize_name

    return sanitize_name(f"bbj-coder-{run.resolve().name}")


def run_export(options: ExportOptions, say: Callable[[str], None] = print) -> ExportResult:
    info = _run_info(options.run)
    base = Path(info["base_model"])
    config = json.loads((base / "config.json").read_text(encoding="utf-8"))
    from trainer.export.convert import check_architecture

    check_architecture(config)
    result = ExportResult(out=(options.out or options.run / "export").resolve())
    name = options.name or default_name(options.run)
    if options.card_only:
        return _refresh_card(options, info, name, result)
    with Staging(result.out) as staging:
        _write_models(options, info, config, name, staging, result, say)
        _write_descriptions(options, info, name, staging, result)
        result.files = staging.publish()
    say(f"wrote {len(result.files)} files to {result.out}")
    return result


def _write_models(
    options: ExportOptions,
    info: dict[str, Any],
    config: dict[str, Any],
    name: str,
    staging: Staging,
    result: ExportResult,
    say: Callable[[str], None],
) -> None:
    from trainer.export.convert import write_model_gguf
    from trainer.export.lora import write_lora_gguf
    from trainer.export.merge import load_adapted, lora_alpha, merge
    from trainer.export.quantize import quantize

    base = Path(info["base_model"])
    adapter = options.run / "adapter"
    say(f"merging {adapter} into {base} ({options.dtype})")
    adapted = load_adapted(base, adapter, options.dtype)
    if options.lora:
        result.notes = write_lora_gguf(
            staging.path(f"{name}.lora.gguf"), adapted, config, lora_alpha(adapted), name
        )
    merged = merge(adapted)
    if options.save_merged:
        _save_merged(merged, base, staging.path("merged"))
    f16 = staging.path(f"{name}.f16.gguf")
    say(f"converting to {f16.name}")
    write_model_gguf(f16, config, merged.state_dict(), base, name, options.context_length)
    del merged, adapted
    for quant in [q for q in options.quants if q != "F16"]:
        target = staging.path(f"{name}.{quant.lower()}.gguf")
        say(f"quantising to {target.name}")
        quantize(f16, target, quant)
        result.entries.append(
            model_entry(target, f"{name}-{quant.lower()}", _description(quant), str(options.run))
        )
    # The first quantisation asked for is the main model (Modelfile, card); F16 comes last.
    result.entries.append(model_entry(f16, f"{name}-f16", _description("F16"), str(options.run)))


def _description(quant: str) -> str:
    return f"BBj fine-tune (bbj-coder train), {quant}"


def _save_merged(model: Any, base: Path, target: Path) -> None:
    model.save_pretrained(str(target), safe_serialization=True)
    for file in TOKENIZER_FILES:
        if (base / file).is_file():
            shutil.copy2(base / file, target / file)


def _histories(run: Path) -> dict[str, list[dict[str, Any]]]:
    histories = {}
    for stage in ("cpt", "sft"):
        try:
            summary = json.loads((run / stage / "stage.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        histories[stage] = summary.get("log_history", [])
    return histories


def _evaluation(run: Path) -> dict[str, Any] | None:
    try:
        return json.loads((run / "eval" / "eval.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _write_descriptions(
    options: ExportOptions, info: dict[str, Any], name: str, staging: Staging, result: ExportResult
) -> None:
    from daemon.backends.chatml import DEFAULT_SYSTEM_PROMPT
    from trainer.export.card import model_card
    from trainer.export.ollama import modelfile
    from trainer.export.plots import plot_losses

    plotted = plot_losses(_histories(options.run), staging.path(PLOT))
    card = model_card(
        name,
        info,
        result.entries,
        _evaluation(options.run),
        PLOT if plotted else None,
        result.notes,
    )
    staging.path(CARD).write_text(card, encoding="utf-8")
    staging.path(CATALOGUE).write_text(catalogue_text(result.entries), encoding="utf-8")
    main = result.entries[0]
    staging.path("Modelfile").write_text(
        modelfile(main["file"], DEFAULT_SYSTEM_PROMPT, main["context_length"]), encoding="utf-8"
    )


def _refresh_card(
    options: ExportOptions, info: dict[str, Any], name: str, result: ExportResult
) -> ExportResult:
    catalogue = result.out / CATALOGUE
    try:
        result.entries = json.loads(catalogue.read_text(encoding="utf-8"))["models"]
    except (OSError, ValueError, KeyError):
        raise TrainError(f"{result.out} holds no export to describe; export first.") from None
    from trainer.export.card import model_card
    from trainer.export.plots import plot_losses

    with Staging(result.out) as staging:
        plotted = plot_losses(_histories(options.run), staging.path(PLOT))
        card = model_card(
            name, info, result.entries, _evaluation(options.run), PLOT if plotted else None, []
        )
        staging.path(CARD).write_text(card, encoding="utf-8")
        result.files = staging.publish()
    return result
