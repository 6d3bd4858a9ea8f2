"""``eval.json`` and ``eval.md``: the models side by side, the last one compared to the first."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Row = tuple[str, Callable[[dict[str, Any]], float | None], bool]
"""(label, value of a model's results, higher is better)."""

FIM_NOTE = (
    "FIM compile rate counts only non-empty completions whose original file passes the checker "
    "(an empty completion would leave such a file passing); read it with the non-empty share. "
    '"adds no error" compares each completion with the empty one, as the daemon\'s gate does.'
)


def _get(*keys: str) -> Callable[[dict[str, Any]], float | None]:
    def read(model: dict[str, Any]) -> float | None:
        value: Any = model
        for key in keys:
            if not isinstance(value, dict) or key not in value:
                return None
            value = value[key]
        return value

    return read


def metric_rows(evaluation: dict[str, Any]) -> list[Row]:
    rows: list[Row] = [
        ("chat compile@1", _get("chat", "compile@1"), True),
        ("chat answers with code", _get("chat", "has_code"), True),
    ]
    ks = sorted(
        {k for m in evaluation["models"] for k in m.get("chat", {}).get("compile@k", {})}, key=int
    )
    rows += [(f"chat compile@{k} (sampled)", _get("chat", "compile@k", k), True) for k in ks]
    rows += [
        ("FIM non-empty share", _get("fim", "non_empty_share"), True),
        ("FIM compile rate (non-empty)", _get("fim", "compile_rate_non_empty"), True),
        ("FIM adds no error", _get("fim", "adds_no_error"), True),
        ("FIM exact match", _get("fim", "exact_match"), True),
        ("FIM edit similarity", _get("fim", "edit_similarity"), True),
        ("chat latency p50 (s)", _get("chat", "latency_s", "p50"), False),
        ("FIM latency p50 (s)", _get("fim", "latency_s", "p50"), False),
        ("FIM latency p95 (s)", _get("fim", "latency_s", "p95"), False),
    ]
    if any("next_edit" in m for m in evaluation["models"]):
        rows += [
            ("next-edit exact match", _get("next_edit", "exact_match"), True),
            ("next-edit no-op accuracy", _get("next_edit", "noop_accuracy"), True),
            ("next-edit compile rate", _get("next_edit", "compile_rate"), True),
            ("next-edit latency p50 (s)", _get("next_edit", "latency_s", "p50"), False),
        ]
    return rows


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _delta(first: float | None, last: float | None, higher_is_better: bool) -> str:
    if first is None or last is None:
        return "-"
    change = last - first
    better = change > 0 if higher_is_better else change < 0
    return f"{change:+.3f}" + (" (better)" if better else " (worse)" if change else "")


def table_caption(evaluation: dict[str, Any]) -> str:
    """What the table was measured on: split, checker and N of each task."""
    models = evaluation["models"]
    first = models[0] if models else {}
    chat, fim = first.get("chat", {}), first.get("fim", {})
    checked = ", ".join(
        f"{m['label']} {m.get('fim', {}).get('compile_checked', 0)}" for m in models
    )
    return (
        f"Split: {evaluation.get('split', 'val')}; checker: {evaluation.get('checker', '?')}; "
        f"N = {chat.get('prompts', 0)} chat prompts, {fim.get('samples', 0)} FIM samples "
        f"(FIM compile rate over N = {checked or 0} non-empty completions)."
    )


def comparison_table(evaluation: dict[str, Any]) -> list[str]:
    """Markdown table: one row per metric, one column per model, plus last-vs-first."""
    models = evaluation["models"]
    header = ["metric", *(m["label"] for m in models)]
    if len(models) > 1:
        header.append(f"{models[-1]['label']} vs {models[0]['label']}")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for label, read, higher in metric_rows(evaluation):
        values = [read(m) for m in models]
        if all(v is None for v in values):
            continue
        cells = [label, *map(_cell, values)]
        if len(models) > 1:
            cells.append(_delta(values[0], values[-1], higher))
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def evaluation_block(evaluation: dict[str, Any]) -> list[str]:
    """Caption (split, checker, N), the comparison table and the FIM note, as Markdown lines."""
    return [table_caption(evaluation), "", *comparison_table(evaluation), "", FIM_NOTE, ""]


def markdown(evaluation: dict[str, Any]) -> str:
    settings = evaluation["settings"]
    lines = [
        "# bbj-coder evaluation",
        "",
        f"Data: `{evaluation['data']}`.",
        "",
        *evaluation_block(evaluation),
        "## Models",
        "",
    ]
    for model in evaluation["models"]:
        chat, fim = model.get("chat", {}), model.get("fim", {})
        lines.append(
            f"- **{model['label']}**: `{model['path']}` ({model['kind']}); "
            f"{chat.get('prompts', 0)} chat prompts, {fim.get('samples', 0)} FIM samples"
        )
    lines += [
        "",
        "## Settings",
        "",
        *(f"- {key}: {value}" for key, value in settings.items()),
        "",
        "compile@1 is greedy; compile@k uses the unbiased estimator over the sampled "
        "answers. Per-item results are in `eval_items.jsonl`.",
        "",
    ]
    return "\n".join(lines)
