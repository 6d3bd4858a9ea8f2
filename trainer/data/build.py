"""The data build: load, clean, split, sample FIM, pack, check for leakage, write, publish."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path

from daemon.services.fim_prompt import fim_max_tokens, fim_prompt_budget
from trainer.data.checking import CheckFn, builtin_checker, check_examples
from trainer.data.cleaning import (
    assign_system_prompts,
    flag_missing_code,
    normalise_code_fences,
    repair_escapes,
)
from trainer.data.config import DataConfig
from trainer.data.cpt import pack_corpus
from trainer.data.dedup import deduplicate
from trainer.data.fim_samples import FimBuilder, FimSettings
from trainer.data.histogram import write_histogram
from trainer.data.inputs import load_inputs
from trainer.data.manifest import MANIFEST_NAME, build_manifest
from trainer.data.next_edit_samples import next_edit_outputs
from trainer.data.output import publish, staging_directory, write_json, write_jsonl
from trainer.data.records import Example, SourceFile, StepReport
from trainer.data.report import HISTOGRAM_NAME, BuildFacts, report_document, report_markdown
from trainer.data.split import SPLIT_NAMES, check_leakage, split_examples, split_files
from trainer.data.tokens import TokenCounter, load_token_counter, require_fim_tokens
from trainer.data.workspace_context import PinSettings

EXAMPLE_ROOT = "examples"
"""The root name of the projects made from multi-file Markdown examples."""


@dataclass(frozen=True)
class BuildResult:
    directory: Path
    report: dict
    seconds: float


def build_dataset(
    config: DataConfig, *, checker: CheckFn | None = None, counter: TokenCounter | None = None
) -> BuildResult:
    """Build one versioned data directory under ``config.out`` and return where it is.

    ``checker`` defaults to the daemon's built-in checker, ``counter`` to the configured
    tokenizer. Raises ``DataError`` (with a readable sentence) on bad configuration or leakage.
    """
    started = time.perf_counter()
    counter = counter or load_token_counter(config.tokenizer)
    if config.check_code and checker is None:
        checker = builtin_checker()
    facts = BuildFacts(config=config, tokenizer=counter.name, inputs=load_inputs(config))
    if facts.inputs.scan.files:
        require_fim_tokens(counter)
    examples = _clean(facts.inputs.examples, config, checker, facts.steps)
    chat = split_examples(examples, config.val_fraction, config.seed, config.test_fraction)
    facts.train, facts.val, facts.test = chat
    facts.chat_tokens = counter.count_many([_chatml_text(e) for e in examples])
    files = split_files(
        facts.inputs.scan.files, config.val_fraction, config.seed, config.test_fraction
    )
    facts.train_files, facts.val_files, facts.test_files = (
        [*found, *example_projects(part)] for found, part in zip(files, chat, strict=True)
    )
    fim = _fim(facts, counter)
    cpt = {
        label: _cpt(facts, chosen, counter, label)
        for label, chosen in (("train", facts.train_files), ("val", facts.val_files))
    }
    check_leakage(
        dict(zip(SPLIT_NAMES, chat, strict=True)),
        {"train": facts.train_files, "val": facts.val_files, "test": facts.test_files},
        fim,
    )
    outputs = {
        "train.jsonl": [_chat_record(e) for e in facts.train],
        "val.jsonl": [_chat_record(e) for e in facts.val],
        "test.jsonl": [_chat_record(e) for e in facts.test],
        "fim_train.jsonl": fim["train"],
        "fim_val.jsonl": fim["val"],
        "fim_test.jsonl": fim["test"],
        "cpt_train.jsonl": cpt["train"],
        "cpt_val.jsonl": cpt["val"],
    }
    if config.next_edit_repos:
        outputs.update(next_edit_outputs(config, counter.count))
    directory = _write(facts, outputs)
    return BuildResult(directory, report_document(facts), time.perf_counter() - started)


def _clean(
    examples: list[Example], config: DataConfig, checker: CheckFn | None, steps: list[StepReport]
) -> list[Example]:
    examples, step = repair_escapes(examples)
    steps.append(step)
    examples, step = normalise_code_fences(examples)
    steps.append(step)
    if checker is not None:
        examples, step = check_examples(examples, checker, config.drop_failing, config.progress)
        steps.append(step)
    examples, step = flag_missing_code(examples, config.drop_no_code)
    steps.append(step)
    examples, step = deduplicate(examples, config.near_duplicate_threshold)
    steps.append(step)
    examples, step = assign_system_prompts(examples, config.system_prompts, config.seed)
    steps.append(step)
    return examples


def example_projects(examples: list[Example]) -> list[SourceFile]:
    """The files of multi-file examples, each example one project (so its FIM samples are
    repo-level, with the example's other files as context); they stay in the example's split."""
    projects = []
    for example in examples:
        if not example.files:
            continue
        project = Path(example.source).stem
        for name, code in example.files:
            digest = hashlib.sha256(code.encode("utf-8")).hexdigest()
            rel = f"{project}/{name}"
            projects.append(SourceFile(EXAMPLE_ROOT, project, rel, code, "utf-8", digest))
    return projects


def _fim(facts: BuildFacts, counter: TokenCounter) -> dict[str, list[dict]]:
    config = facts.config
    settings = FimSettings(
        max_seq_len=config.max_seq_len,
        rate=config.fim_rate,
        samples_per_file=config.fim_samples_per_file,
        span_types=config.fim_span_types,
        repo_rate=config.fim_repo_rate,
        repo_max_files=config.fim_repo_max_files,
        max_middle_tokens=min(config.fim_max_middle_tokens, config.max_seq_len // 4),
        seed=config.seed,
        prompt_budget=fim_prompt_budget(
            config.serve_n_ctx,
            fim_max_tokens(None, config.serve_fim_max_tokens, config.serve_n_ctx),
            config.serve_fim_max_prompt_tokens,
        ),
        prefix_share=config.serve_fim_prefix_share,
        workspace=PinSettings(
            config.serve_workspace_budget_tokens if config.fim_workspace_context else 0,
            config.serve_workspace_prefix,
        ),
    )
    samples = {}
    splits = (("train", facts.train_files), ("val", facts.val_files), ("test", facts.test_files))
    for label, files in splits:
        builder = FimBuilder(files, settings, counter)
        samples[label] = builder.build(label, config.progress)
        for name, value in builder.report.counts.items():
            facts.fim.add(name, value)
    facts.fim_counts = {label: len(found) for label, found in samples.items()}
    facts.fim_tokens = [s["tokens"] for found in samples.values() for s in found]
    return samples


def _cpt(facts: BuildFacts, files: list, counter: TokenCounter, label: str) -> list[dict]:
    config = facts.config
    records, step = pack_corpus(
        files, config.max_seq_len, counter, config.seed, label, config.progress
    )
    facts.cpt.append(step)
    return records


def _chatml_text(example: Example) -> str:
    """The conversation as Qwen's ChatML template lays it out (for token counts)."""
    return "".join(f"<|im_start|>{m.role}\n{m.content}<|im_end|>\n" for m in example.messages)


def _chat_record(example: Example) -> dict:
    return {
        "messages": [{"role": m.role, "content": m.content} for m in example.messages],
        "meta": {
            "source": example.source,
            "origin": example.origin,
            "type": example.kind,
            "generation": list(example.generations),
            "title": example.title,
            "check_ok": example.check_ok,
            "flags": list(example.flags),
        },
    }


def _write(facts: BuildFacts, outputs: dict[str, list[dict]]) -> Path:
    from daemon import __version__

    root = facts.config.out
    with staging_directory(root) as stage:
        for name, records in outputs.items():
            write_jsonl(stage / name, records)
        document = report_document(facts)
        write_json(stage / "report.json", document)
        (stage / "report.md").write_text(report_markdown(document), encoding="utf-8", newline="\n")
        write_histogram(
            stage / HISTOGRAM_NAME,
            {"chat": facts.chat_tokens, "FIM": facts.fim_tokens},
            facts.config.max_seq_len,
        )
        inputs = list(facts.inputs.read_paths)
        if facts.config.tokenizer is not None:
            tokenizer = Path(facts.tokenizer)
            inputs.append(tokenizer)
        manifest = build_manifest(facts.config, inputs, stage, facts.tokenizer, __version__)
        write_json(stage / MANIFEST_NAME, manifest)
        return publish(stage, root)
