"""FIM training samples from source files, rendered by the same ``fim`` renderer that serves.

A record is ``{"prompt": <PSM prompt>, "completion": <middle> + "<|endoftext|>"}`` (TRL's
prompt/completion layout: loss on the completion only, and the model learns to stop) plus the
pieces for checks: ``prefix``, ``middle``, ``suffix``, ``offset`` (where ``prefix`` starts in
the file), ``truncated``, ``path``, ``file``, ``span_type``, ``repo_level``, ``context_files``
and ``tokens``. ``prefix + middle + suffix == text[offset:offset + len(...)]`` always, and is
the whole file when ``truncated`` is false.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass

from fim.formats import QWEN25_CODER, ContextFile, FimFormat
from trainer.data.keys import stable_hash, stable_unit
from trainer.data.progress import progress_bar
from trainer.data.records import SourceFile, StepReport
from trainer.data.spans import SPAN_CHOOSERS, FileLines
from trainer.data.tokens import TokenCounter
from trainer.data.trim import LineCosts, trim_prefix, trim_suffix

FORMAT: FimFormat = QWEN25_CODER
END_OF_TEXT = "<|endoftext|>"
CONTEXT_SHARE = 0.3
PREFIX_SHARE = 0.75
SAFETY_TOKENS = 4
FIT_ATTEMPTS = 4


@dataclass(frozen=True)
class FimSettings:
    max_seq_len: int
    rate: float
    samples_per_file: int
    span_types: tuple[str, ...]
    repo_rate: float
    repo_max_files: int
    max_middle_tokens: int
    seed: int


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    kind: str


class FimBuilder:
    """Draws the samples of one split; context files come from the same split only."""

    def __init__(self, files: list[SourceFile], settings: FimSettings, counter: TokenCounter):
        self.files = files
        self.settings = settings
        self.counter = counter
        self.costs = LineCosts(counter)
        self.by_project: dict[tuple[str, str], list[SourceFile]] = defaultdict(list)
        for file in files:
            self.by_project[file.root_name, file.project].append(file)
        self.report = StepReport("fim")

    def build(self, label: str, show_progress: bool) -> list[dict]:
        samples: list[dict] = []
        for file in progress_bar(self.files, f"FIM samples ({label})", show_progress):
            if stable_unit(self.settings.seed, "fim-rate", file.key) >= self.settings.rate:
                continue
            self.report.add("files sampled")
            samples.extend(self._file_samples(file))
        return samples

    def _file_samples(self, file: SourceFile) -> list[dict]:
        rng = random.Random(stable_hash(self.settings.seed, "fim", file.key))
        lines = FileLines(file.text)
        used: set[tuple[int, int]] = set()
        samples: list[dict] = []
        for _ in range(self.settings.samples_per_file * 3):
            if len(samples) == self.settings.samples_per_file:
                break
            span = self._middle(lines, rng.choice(self.settings.span_types), rng)
            if span is None or (span.start, span.end) in used:
                continue
            used.add((span.start, span.end))
            sample = self._fit(file, lines, span, self._context_files(file, rng))
            if sample is None:
                self.report.add("samples that did not fit")
                continue
            self.report.add(f"span {sample['span_type']}")
            self.report.add("repo-level" if sample["repo_level"] else "file-level")
            self.report.add("truncated to fit", int(sample["truncated"]))
            samples.append(sample)
        return samples

    def _middle(self, lines: FileLines, kind: str, rng: random.Random) -> Span | None:
        """A span whose text fits ``max_middle_tokens``: a too long block or random span falls
        back to a line, and a too long line is shortened (it then counts as random)."""
        limit = self.settings.max_middle_tokens
        found = SPAN_CHOOSERS[kind](lines, rng)
        if found is not None and kind != "line" and self._cost(lines, *found) > limit:
            found, kind = SPAN_CHOOSERS["line"](lines, rng), "line"
        if found is None:
            return None
        start, end = found
        if self._cost(lines, start, end) <= limit:
            return Span(start, end, kind)
        while end - start > 1 and self._cost(lines, start, end) > limit:
            end = start + (end - start) // 2
        return Span(start, end, "random")

    def _cost(self, lines: FileLines, start: int, end: int) -> int:
        return self.counter.count(lines.text[start:end])

    def _context_files(self, file: SourceFile, rng: random.Random) -> list[SourceFile]:
        others = [f for f in self.by_project[file.root_name, file.project] if f.key != file.key]
        if not others or rng.random() >= self.settings.repo_rate:
            return []
        return rng.sample(others, min(self.settings.repo_max_files, len(others)))

    def _fit(
        self, file: SourceFile, lines: FileLines, span: Span, context_files: list[SourceFile]
    ) -> dict | None:
        middle = lines.text[span.start : span.end]
        completion = middle + END_OF_TEXT
        budget = self.settings.max_seq_len - self.counter.count(completion) - SAFETY_TOKENS
        for _ in range(FIT_ATTEMPTS):
            context = self._context(context_files, int(budget * CONTEXT_SHARE))
            chunks = [chunk for _, chunk in context]
            overhead = self.counter.count(self._render("", "", file, chunks))
            prefix_start, suffix_end = self._window(lines, span, budget - overhead)
            prefix = lines.text[prefix_start : span.start]
            suffix = lines.text[span.end : suffix_end]
            prompt = self._render(prefix, suffix, file, chunks)
            tokens = self._tokens(prompt, completion)
            if tokens <= self.settings.max_seq_len:
                window = Window(
                    prefix_start,
                    prefix,
                    middle,
                    suffix,
                    prefix_start > 0 or suffix_end < len(lines.text),
                )
                return _record(prompt, completion, file, span, window, context, tokens)
            budget -= tokens - self.settings.max_seq_len + SAFETY_TOKENS
            if budget - overhead < 0:
                context_files = []
        return None

    def _tokens(self, prompt: str, completion: str) -> int:
        """Tokens of prompt + completion. The prompt ends with the ``<|fim_middle|>`` special
        token, where every tokenizer splits, so counting the two apart equals counting them
        joined (the two ways trainers tokenise prompt/completion data)."""
        return sum(self.counter.count_many([prompt, completion]))

    def _window(self, lines: FileLines, span: Span, available: int) -> tuple[int, int]:
        """(prefix start, suffix end) within ``available`` tokens; the prefix gets the larger
        share and whatever the suffix does not need."""
        if available <= 0:
            return span.start, span.end
        costs = self.costs.of(lines)
        prefix_need = trim_prefix(lines, costs, self.counter, span.start, available)[1]
        suffix_need = trim_suffix(lines, costs, self.counter, span.end, available)[1]
        prefix_budget = max(int(available * PREFIX_SHARE), available - suffix_need)
        prefix_start, prefix_cost = trim_prefix(
            lines, costs, self.counter, span.start, min(prefix_budget, prefix_need)
        )
        suffix_end, _ = trim_suffix(lines, costs, self.counter, span.end, available - prefix_cost)
        return prefix_start, suffix_end

    def _context(self, files: list[SourceFile], budget: int) -> list[tuple[str, ContextFile]]:
        """(split key, chunk) of each context file, cut at line ends to share ``budget``."""
        chunks: list[tuple[str, ContextFile]] = []
        for file in files:
            budget -= self.counter.count(f"{FORMAT.file_sep_token}{file.project_path}\n")
            if budget <= 0:
                break
            lines = FileLines(file.text)
            end, cost = trim_suffix(lines, self.costs.of(lines), self.counter, 0, budget)
            if end == 0:
                break
            chunks.append((file.key, ContextFile(file.project_path, file.text[:end])))
            budget -= cost
        return chunks

    def _render(
        self, prefix: str, suffix: str, file: SourceFile, context: list[ContextFile]
    ) -> str:
        if not context:
            return FORMAT.render(prefix, suffix)
        return FORMAT.render(
            prefix, suffix, path=file.project_path, context=context, repo_name=file.project
        )


@dataclass(frozen=True)
class Window:
    """The part of the file a sample shows: ``prefix + middle + suffix`` starting at ``offset``."""

    offset: int
    prefix: str
    middle: str
    suffix: str
    truncated: bool


def _record(
    prompt: str,
    completion: str,
    file: SourceFile,
    span: Span,
    window: Window,
    context: list[tuple[str, ContextFile]],
    tokens: int,
) -> dict:
    return {
        "prompt": prompt,
        "completion": completion,
        "prefix": window.prefix,
        "middle": window.middle,
        "suffix": window.suffix,
        "offset": window.offset,
        "truncated": window.truncated,
        "path": file.project_path,
        "file": file.key,
        "span_type": span.kind,
        "repo_level": bool(context),
        "context_files": [key for key, _ in context],
        "tokens": tokens,
    }
