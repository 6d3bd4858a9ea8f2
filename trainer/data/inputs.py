"""Loading every input named in the config: Markdown examples, ChatML files, source trees."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from trainer.data.chatml import load_chatml_file
from trainer.data.config import DataConfig
from trainer.data.markdown import load_markdown_file
from trainer.data.progress import progress_bar
from trainer.data.records import DataError, Example, InputProblem
from trainer.data.sources import SourceScan, scan_sources
from trainer.data.walk import walk_files

DOCUMENT_NAMES = frozenset({"readme.md", "format.md", "contributing.md", "changelog.md"})
"""Markdown files in an example folder that document the folder (as upstream's FORMAT.md)."""


@dataclass
class Inputs:
    examples: list[Example] = field(default_factory=list)
    problems: list[InputProblem] = field(default_factory=list)
    scan: SourceScan = field(default_factory=SourceScan)
    read_paths: list[Path] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)


def load_inputs(config: DataConfig) -> Inputs:
    for kind in ("markdown", "chatml", "sources"):
        for path in getattr(config, kind):
            if not path.exists():
                raise DataError(f"{kind} input {path} does not exist")
    inputs = Inputs()
    _load_markdown(config, inputs)
    _load_chatml(config, inputs)
    inputs.scan = scan_sources(
        config.sources, config.extensions, config.exclude, config.max_file_bytes, config.progress
    )
    inputs.read_paths.extend(inputs.scan.read_paths)
    inputs.problems.extend(inputs.scan.problems)
    inputs.counts["source files kept"] = len(inputs.scan.files)
    if not inputs.examples and not inputs.scan.files:
        raise DataError(_nothing_found(config, inputs))
    return inputs


def _files(roots: tuple[Path, ...], suffix: str, config: DataConfig, inputs: Inputs) -> list[Path]:
    found: list[Path] = []
    skipped: Counter[str] = Counter()
    for root in roots:
        if root.is_file():
            found.append(root)
            continue
        for path, rel in walk_files(root, config.exclude, skipped, inputs.problems):
            if rel.lower().endswith(suffix) and path.name.lower() not in DOCUMENT_NAMES:
                found.append(path)
    return found


def _load_markdown(config: DataConfig, inputs: Inputs) -> None:
    files = _files(config.markdown, ".md", config, inputs)
    inputs.counts["markdown files"] = len(files)
    for path in progress_bar(files, "reading Markdown examples", config.progress):
        example, problems = load_markdown_file(path, len(inputs.examples))
        inputs.read_paths.append(path)
        inputs.problems.extend(problems)
        if example is None:
            inputs.counts["markdown files rejected"] += 1
        else:
            inputs.examples.append(example)
            inputs.counts["markdown examples"] += 1


def _load_chatml(config: DataConfig, inputs: Inputs) -> None:
    files = _files(config.chatml, ".jsonl", config, inputs)
    inputs.counts["chatml files"] = len(files)
    for path in progress_bar(files, "reading ChatML files", config.progress):
        examples, problems = load_chatml_file(path, len(inputs.examples), config.max_line_bytes)
        inputs.read_paths.append(path)
        inputs.problems.extend(problems)
        inputs.examples.extend(examples)
        inputs.counts["chatml records"] += len(examples)
        inputs.counts["chatml lines rejected"] += sum(1 for p in problems if p.skipped)


def _nothing_found(config: DataConfig, inputs: Inputs) -> str:
    named = [str(p) for p in (*config.markdown, *config.chatml, *config.sources)]
    if not named:
        return (
            "nothing to build: name Markdown examples, ChatML files or source trees "
            "(--markdown, --chatml, --sources or the config file)"
        )
    rejected = (
        f"; {len(inputs.problems)} input problem(s), e.g. {inputs.problems[0]}"
        if (inputs.problems)
        else ""
    )
    return f"nothing to build: no usable examples or source files in {', '.join(named)}{rejected}"
