"""``bbj-coder train eval``: base and fine-tuned models side by side on the held-out data."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from daemon.files import write_atomic
from trainer.evaluate.next_edit import evaluate_next_edit
from trainer.evaluate.report import markdown
from trainer.evaluate.tasks import (
    ChatSettings,
    Checks,
    chat_prompts,
    evaluate_chat,
    evaluate_fim,
    make_checker,
)
from trainer.train.errors import TrainError
from trainer.train.inputs import read_jsonl, resolve_data_dir

EVAL_SPLIT = "test"
"""Validation picked the checkpoint; the table is measured on data nothing was chosen on."""
RESULTS = "eval.json"
REPORT = "eval.md"
ITEMS = "eval_items.jsonl"
NEXT_EDIT_MAX_TOKENS = 512  # the whole updated window (21 lines)


@dataclass(frozen=True)
class EvalOptions:
    models: tuple[tuple[str, Path], ...]
    """(label, path) of each model: a .gguf file or an HF directory."""
    data: Path
    out: Path = Path("eval")
    chat: ChatSettings = field(default_factory=ChatSettings)
    fim_max_tokens: int = 128
    limit: int | None = None
    checker: str = "auto"
    bbjcpl: str | None = None
    n_ctx: int = 4096
    threads: int = 0
    progress: bool = True


def parse_model(text: str) -> tuple[str, Path]:
    """``LABEL=PATH`` or ``PATH`` (labelled by its file or directory name)."""
    label, sep, rest = text.partition("=")
    if sep and label and "/" not in label and os.sep not in label:
        return label, Path(rest)
    path = Path(text)
    return path.stem if path.suffix == ".gguf" else path.name, path


def _ticker(label: str, enabled: bool) -> Callable[[str, int, int], None]:
    def tick(task: str, index: int, total: int) -> None:
        if enabled:
            sys.stderr.write(f"\r\x1b[2K[eval {label}] {task} {index + 1}/{total}")
            sys.stderr.flush()

    return tick


def evaluate_model(
    label: str, path: Path, options: EvalOptions, checks: Checks, held_out: dict[str, list]
) -> tuple[dict[str, Any], list[dict]]:
    from trainer.evaluate.runners import open_runner

    runner = open_runner(path, options.n_ctx, options.threads)
    tick = _ticker(label, options.progress and sys.stderr.isatty())
    try:
        chat, chat_items = evaluate_chat(runner, held_out["chat"], checks.check, options.chat, tick)
        fim, fim_items = evaluate_fim(runner, held_out["fim"], checks, options.fim_max_tokens, tick)
        edit: dict[str, Any] = {}
        edit_items: list[dict] = []
        if held_out.get("next_edit"):
            edit, edit_items = evaluate_next_edit(
                runner, held_out["next_edit"], checks.check, NEXT_EDIT_MAX_TOKENS, tick
            )
    finally:
        runner.close()
        tick("done", -1, 0)
    result = {"label": label, "path": str(path), "kind": runner.kind, "chat": chat, "fim": fim}
    if edit:
        result["next_edit"] = edit
    items = [{"model": label, **item} for item in chat_items + fim_items + edit_items]
    return result, items


def held_out_data(data_dir: Path, limit: int | None) -> dict[str, list]:
    """The test split's chat prompts (those whose reference has code) and FIM samples."""
    names = (f"{EVAL_SPLIT}.jsonl", f"fim_{EVAL_SPLIT}.jsonl")
    missing = [name for name in names if not (data_dir / name).is_file()]
    if missing:
        raise TrainError(
            f"{data_dir} has no {EVAL_SPLIT} split ({', '.join(missing)} missing): rebuild it "
            "with `bbj-coder train data`, which holds out a test split for evaluation."
        )
    prompts = chat_prompts(read_jsonl(data_dir / names[0]))
    fim = read_jsonl(data_dir / names[1])
    if not prompts and not fim:
        raise TrainError(
            f"{data_dir} has no {EVAL_SPLIT} chat prompts with code and no {EVAL_SPLIT} FIM "
            "samples; raise test_fraction in the data build."
        )
    edits_path = data_dir / f"next_edit_{EVAL_SPLIT}.jsonl"
    edits = read_jsonl(edits_path) if edits_path.exists() else []
    return {"chat": prompts[:limit], "fim": fim[:limit], "next_edit": edits[:limit]}


def run_eval(options: EvalOptions, say: Callable[[str], None] = print) -> dict[str, Any]:
    """Evaluate every model; writes eval.json, eval.md and eval_items.jsonl to ``out``."""
    for _label, path in options.models:
        if not path.exists():
            raise TrainError(f"The model {path} does not exist.")
    data_dir = resolve_data_dir(options.data)
    held_out = held_out_data(data_dir, options.limit)
    checks = make_checker(options.checker, options.bbjcpl)
    results, items = [], []
    for label, path in options.models:
        say(f"evaluating {label} ({path})")
        result, model_items = evaluate_model(label, path, options, checks, held_out)
        results.append(result)
        items += model_items
    settings = {
        **asdict(options.chat),
        "fim_max_tokens": options.fim_max_tokens,
        "limit": options.limit,
        "n_ctx": options.n_ctx,
    }
    evaluation = {
        "format": 2,
        "data": str(data_dir),
        "split": EVAL_SPLIT,
        "checker": checks.description,
        "settings": settings,
        "models": results,
    }
    write_outputs(options.out, evaluation, items)
    say(f"wrote {options.out / REPORT} and {options.out / RESULTS}")
    return evaluation


def write_outputs(out: Path, evaluation: dict[str, Any], items: list[dict]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    files = {
        RESULTS: json.dumps(evaluation, indent=2) + "\n",
        REPORT: markdown(evaluation),
        ITEMS: "".join(json.dumps(item) + "\n" for item in items),
    }
    for name, text in files.items():
        write_atomic(out / name, text)
