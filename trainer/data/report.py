"""``report.json`` (every count) and ``report.md`` (the same, for people) of one build."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from trainer.data.config import DataConfig
from trainer.data.inputs import Inputs
from trainer.data.records import Example, SourceFile, StepReport

PROBLEM_LIMIT = 200
HISTOGRAM_NAME = "token_lengths.png"


@dataclass
class BuildFacts:
    """Everything a build learned, gathered for the report."""

    config: DataConfig
    tokenizer: str
    inputs: Inputs
    steps: list[StepReport] = field(default_factory=list)
    train: list[Example] = field(default_factory=list)
    val: list[Example] = field(default_factory=list)
    test: list[Example] = field(default_factory=list)
    chat_tokens: list[int] = field(default_factory=list)
    train_files: list[SourceFile] = field(default_factory=list)
    val_files: list[SourceFile] = field(default_factory=list)
    test_files: list[SourceFile] = field(default_factory=list)
    fim: StepReport = field(default_factory=lambda: StepReport("fim"))
    fim_counts: dict[str, int] = field(default_factory=dict)
    fim_tokens: list[int] = field(default_factory=list)
    cpt: list[StepReport] = field(default_factory=list)


def length_stats(lengths: list[int], limit: int) -> dict[str, int | float]:
    if not lengths:
        return {"count": 0}
    ordered = sorted(lengths)
    return {
        "count": len(ordered),
        "min": ordered[0],
        "median": ordered[len(ordered) // 2],
        "p95": ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))],
        "max": ordered[-1],
        "mean": round(sum(ordered) / len(ordered), 1),
        "over_max_seq_len": sum(1 for n in ordered if n > limit),
    }


def report_document(facts: BuildFacts) -> dict[str, object]:
    chat = facts.train + facts.val + facts.test
    problems = facts.inputs.problems
    return {
        "format": 1,
        "tokenizer": facts.tokenizer,
        "max_seq_len": facts.config.max_seq_len,
        "drop_failing": facts.config.drop_failing,
        "inputs": dict(sorted(facts.inputs.counts.items())),
        "problems": {
            "count": len(problems),
            "skipped": sum(1 for p in problems if p.skipped),
            "items": [p.as_dict() for p in problems[:PROBLEM_LIMIT]],
        },
        "cleaning": [_step(step) for step in facts.steps],
        "chat": {
            "train": len(facts.train),
            "val": len(facts.val),
            "test": len(facts.test),
            "by_type": _distribution(e.kind for e in chat),
            "by_generation": _distribution(g for e in chat for g in e.generations),
            "flagged_no_code": sum(1 for e in chat if "no-code" in e.flags),
            "tokens": length_stats(facts.chat_tokens, facts.config.max_seq_len),
        },
        "sources": {
            "kept": len(facts.inputs.scan.files),
            "train_files": len(facts.train_files),
            "val_files": len(facts.val_files),
            "test_files": len(facts.test_files),
            "example_project_files": sum(
                1
                for f in facts.train_files + facts.val_files + facts.test_files
                if f.root_name == "examples"
            ),
            "skipped": dict(sorted(facts.inputs.scan.skipped.items())),
            "encodings": dict(sorted(facts.inputs.scan.encodings.items())),
        },
        "fim": {
            **facts.fim_counts,
            **dict(sorted(facts.fim.counts.items())),
            "tokens": length_stats(facts.fim_tokens, facts.config.max_seq_len),
        },
        "cpt": {step.name: dict(sorted(step.counts.items())) for step in facts.cpt},
        "histogram": HISTOGRAM_NAME,
    }


def _step(step: StepReport) -> dict[str, object]:
    return {
        "step": step.name,
        "counts": dict(sorted(step.counts.items())),
        **step.tables,
        "examples": step.details,
    }


def _distribution(values: object) -> dict[str, int]:
    return dict(sorted(Counter(values).items()))  # type: ignore[arg-type]


def report_markdown(document: dict) -> str:
    """A readable summary of ``report.json``."""
    sections = [
        _header(document),
        _inputs(document),
        _problems(document["problems"]),
        ["## Cleaning", ""],
        *(_cleaning_step(step) for step in document["cleaning"]),
        _distribution_section(document["chat"]),
        _sources(document["sources"]),
        _fim(document["fim"]),
        _token_lengths(document),
    ]
    return "\n".join(line for section in sections for line in section) + "\n"


def _header(document: dict) -> list[str]:
    chat, fim = document["chat"], document["fim"]
    rows = [
        [
            "train.jsonl / val.jsonl / test.jsonl (chat)",
            f"{chat['train']} / {chat['val']} / {chat.get('test', 0)}",
        ],
        [
            "fim_train.jsonl / fim_val.jsonl / fim_test.jsonl",
            f"{fim.get('train', 0)} / {fim.get('val', 0)} / {fim.get('test', 0)}",
        ],
        *[[name, str(counts.get("records", 0))] for name, counts in document["cpt"].items()],
    ]
    return [
        "# Data build report",
        "",
        f"Tokenizer: {document['tokenizer']}; max_seq_len {document['max_seq_len']}; "
        f"drop_failing {'on' if document.get('drop_failing') else 'off'}.",
        "",
        "## Outputs",
        "",
        *_table(["file", "records"], rows),
        "",
    ]


def _inputs(document: dict) -> list[str]:
    return ["## Inputs", "", *_table(["input", "count"], _pairs(document["inputs"])), ""]


def _distribution_section(chat: dict) -> list[str]:
    return [
        "## Distribution",
        "",
        "By type:",
        "",
        *_table(["type", "examples"], _pairs(chat["by_type"])),
        "",
        "By generation:",
        "",
        *_table(["generation", "examples"], _pairs(chat["by_generation"])),
        "",
        f"Answers flagged for missing code: {chat['flagged_no_code']}.",
        "",
    ]


def _sources(sources: dict) -> list[str]:
    return [
        "## Source files",
        "",
        f"Kept {sources['kept']} ({sources['train_files']} train, "
        f"{sources['val_files']} validation, {sources.get('test_files', 0)} test; "
        f"{sources.get('example_project_files', 0)} of them files of multi-file examples).",
        "",
        "Skipped:",
        "",
        *_table(["reason", "files"], _pairs(sources["skipped"])),
        "",
        "Encodings:",
        "",
        *_table(["encoding", "files"], _pairs(sources["encodings"])),
        "",
    ]


def _fim(fim: dict) -> list[str]:
    counts = {k: v for k, v in fim.items() if k != "tokens"}
    return ["## FIM samples", "", *_table(["count", "value"], _pairs(counts)), ""]


def _token_lengths(document: dict) -> list[str]:
    rows = [
        ["chat", *_stat_row(document["chat"]["tokens"])],
        ["FIM", *_stat_row(document["fim"]["tokens"])],
    ]
    return [
        "## Token lengths",
        "",
        f"![token length histogram]({document['histogram']})",
        "",
        *_table(["data", *_STAT_KEYS], rows),
    ]


_STAT_KEYS = ("count", "min", "median", "p95", "max", "over_max_seq_len")


def _stat_row(stats: dict) -> list[str]:
    return [str(stats.get(key, "-")) for key in _STAT_KEYS]


def _problems(problems: dict) -> list[str]:
    lines = [
        "## Input problems",
        "",
        f"{problems['count']} problem(s); {problems['skipped']} input(s) skipped.",
        "",
    ]
    for item in problems["items"][:20]:
        where = item["path"] + (f", line {item['line']}" if item["line"] else "")
        where += f", field '{item['field']}'" if item["field"] else ""
        lines.append(f"- {where}: {item['message']}")
    if problems["count"] > 20:
        lines.append(f"- … and {problems['count'] - 20} more in report.json")
    return [*lines, ""]


def _cleaning_step(step: dict) -> list[str]:
    counts = _table(["count", "value"], _pairs(step["counts"])) if step["counts"] else ["(none)"]
    lines = [f"### {step['step']}", "", *counts]
    rates = step.get("pass_rate_by_generation")
    if rates:
        rows = [
            [g, str(r["checked"]), str(r["passed"]), f"{r['pass_rate']:.1%}"]
            for g, r in rates.items()
        ]
        lines += [
            "",
            "Checker pass rate by generation:",
            "",
            *_table(["generation", "checked", "passed", "pass rate"], rows),
        ]
    if step["examples"]:
        lines += ["", "Some cases:", ""]
    lines += [
        "- " + ", ".join(f"{k}: {v}" for k, v in item.items()) for item in step["examples"][:10]
    ]
    return [*lines, ""]


def _pairs(mapping: dict) -> list[list[str]]:
    return [[str(k), str(v)] for k, v in mapping.items()]


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    if not rows:
        return ["(none)"]
    escaped = [[cell.replace("|", "\\|").replace("\n", " ") for cell in row] for row in rows]
    return [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *["| " + " | ".join(row) + " |" for row in escaped],
    ]
