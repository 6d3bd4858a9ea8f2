"""FIM training samples, rendered through the daemon's own prompt assembly.

Each sample is what the editor would send for a cursor at the start of the middle: the file
without the middle, cut by the LSP's window (``fim.window``), with the path relative to the
project (the LSP sends it relative to the workspace root), the ring's chunks of other files of
the same project (``fim.ring``, as the LSP's context ring makes them), assembled by
``daemon.services.fim_prompt.assemble_fim_prompt`` within the daemon's prompt budget. The
train/serve identity is tested in ``tests/trainer/test_fim_identity.py``.

A record is ``{"prompt": <prompt>, "completion": <middle> + "<|endoftext|>"}`` (TRL's
prompt/completion layout: loss on the completion only, and the model learns to stop) plus the
pieces for checks: ``prefix``, ``middle``, ``suffix``, ``offset`` (where ``prefix`` starts in
the file), ``truncated``, ``path``, ``file``, ``span_type``, ``repo_level``, ``context_files``
(offered, in order), ``workspace_files`` (those whose signatures are pinned first, as the daemon
pins them with ``[workspace]`` on: ``trainer.data.workspace_context``) and ``tokens``.
``prefix + middle + suffix == text[offset:offset + len(...)]`` always, and is the whole file
when ``truncated`` is false.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass

from daemon.config import FimSettings as ServeFim
from daemon.services.fim_prompt import assemble_fim_prompt
from fim.formats import QWEN25_CODER, FimFormat
from fim.ring import ContextRing
from fim.window import fim_window
from trainer.data.keys import stable_hash, stable_unit
from trainer.data.progress import progress_bar
from trainer.data.records import SourceFile, StepReport
from trainer.data.spans import SPAN_CHOOSERS, FileLines
from trainer.data.tokens import TokenCounter
from trainer.data.workspace_context import NO_WORKSPACE, PinSettings, ProjectWorkspaces

FORMAT: FimFormat = QWEN25_CODER
END_OF_TEXT = "<|endoftext|>"
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
    prompt_budget: int = 1_000_000
    """The daemon's prompt budget (``fim_prompt_budget`` of the serving settings); a sample
    whose completion leaves less room within ``max_seq_len`` gets a smaller one."""
    prefix_share: float = ServeFim().prefix_share
    """The daemon's ``[fim] prefix_share``."""
    workspace: PinSettings = NO_WORKSPACE
    """The daemon's ``[workspace]`` settings; a budget of 0 renders no workspace context."""


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
        self.by_project: dict[tuple[str, str], list[SourceFile]] = defaultdict(list)
        for file in files:
            self.by_project[file.root_name, file.project].append(file)
        self.report = StepReport("fim")
        self.workspaces = ProjectWorkspaces(self.by_project, settings.workspace, counter.count)

    def build(self, label: str, show_progress: bool) -> list[dict]:
        samples: list[dict] = []
        try:
            for file in progress_bar(self.files, f"FIM samples ({label})", show_progress):
                if stable_unit(self.settings.seed, "fim-rate", file.key) >= self.settings.rate:
                    continue
                self.report.add("files sampled")
                samples.extend(self._file_samples(file))
        finally:
            self.workspaces.close()
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
            self.report.add("with workspace signatures", int(bool(sample["workspace_files"])))
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
        room = self.settings.max_seq_len - self.counter.count(completion) - SAFETY_TOKENS
        budget = min(self.settings.prompt_budget, room)
        chunks = editor_context(context_files)
        document = lines.text[: span.start] + lines.text[span.end :]
        before, after = fim_window(document, span.start)
        pinned = self.workspaces.pinned(file, document, before, after)
        for _ in range(FIT_ATTEMPTS):
            if budget < 1:
                return None
            try:
                assembled = assemble_fim_prompt(
                    before,
                    after,
                    fmt=FORMAT,
                    count_tokens=self.counter.count,
                    budget=budget,
                    path=file.project_path,
                    context=chunks,
                    prefix_share=self.settings.prefix_share,
                    pinned=pinned.chunks,
                )
            except ValueError:
                return None
            tokens = self._tokens(assembled.prompt, completion)
            if tokens <= self.settings.max_seq_len:
                offset = span.start - len(assembled.prefix)
                suffix_end = span.end + len(assembled.suffix)
                window = Window(
                    offset,
                    assembled.prefix,
                    middle,
                    assembled.suffix,
                    offset > 0 or suffix_end < len(lines.text),
                )
                kept = assembled.pinned_kept
                context = [f.key for f in context_files] if assembled.context[kept:] else []
                workspace = list(dict.fromkeys(pinned.files[:kept]))
                cut = window.truncated or assembled.context_dropped > 0
                if cut and budget < self.settings.prompt_budget:
                    self.report.add("cut shorter than the daemon would (long middle)")
                return _record(
                    assembled.prompt, completion, file, span, window, context, workspace, tokens
                )
            budget -= tokens - self.settings.max_seq_len + SAFETY_TOKENS
        return None

    def _tokens(self, prompt: str, completion: str) -> int:
        """Tokens of prompt + completion. The prompt ends with the ``<|fim_middle|>`` special
        token, where every tokenizer splits, so counting the two apart equals counting them
        joined (the two ways trainers tokenise prompt/completion data)."""
        return sum(self.counter.count_many([prompt, completion]))


def editor_context(files: list[SourceFile]) -> tuple:
    """The chunks the LSP's context ring would send after the user opened ``files`` in order
    (each chunk the top of its file, named by its path inside the project)."""
    ring = ContextRing()
    for file in files:
        ring.add(file.project_path, file.text)
    ring.reshuffle()
    return ring.snapshot()


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
    context_files: list[str],
    workspace_files: list[str],
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
        "repo_level": bool(context_files),
        "context_files": context_files,
        "workspace_files": workspace_files,
        "tokens": tokens,
    }
