"""Train/serve identity: a FIM training sample's prompt is, byte for byte, the prompt the
daemon's FimService sends to its backend for the same file and cursor as the LSP sends them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from daemon.backends.base import BackendInfo, SamplingParams, TextStream
from daemon.config import FimSettings as ServeFim
from daemon.services.fim import FimRequest, FimService
from daemon.workspace import Workspace
from fim import QWEN25_CODER
from fim.ring import ContextRing
from fim.window import fim_window
from trainer.data.fim_samples import FimBuilder, FimSettings
from trainer.data.records import SourceFile
from trainer.data.tokens import HFTokenCounter
from trainer.data.workspace_context import NO_WORKSPACE, PinSettings

N_CTX = 1024
MAX_TOKENS = 48


class RecordingBackend:
    """Counts tokens as ``count`` does and records every FIM prompt it is sent."""

    name = "recording"

    def __init__(self, count: Callable[[str], int]) -> None:
        self.count = count
        self.prompts: list[str] = []

    def fim(self, prompt: str, params: SamplingParams) -> TextStream:
        self.prompts.append(prompt)
        stream = TextStream()
        stream.finish()
        return stream

    def chat(self, messages: object, params: SamplingParams) -> TextStream:
        raise AssertionError("not used")

    def count_tokens(self, text: str) -> int:
        return self.count(text)

    def in_flight(self) -> dict[str, int]:
        return {}

    def info(self) -> BackendInfo:
        return BackendInfo("recording", "recording", "", N_CTX, "qwen2.5-coder", "F16")

    async def start(self) -> None: ...

    async def close(self) -> None: ...


def editor_document(sample: dict, files: dict[str, SourceFile]) -> tuple[str, int]:
    """The buffer the editor holds for the sample (its file without the middle) and the
    cursor's offset in it."""
    file = files[sample["file"]]
    start = sample["offset"] + len(sample["prefix"])
    return file.text[:start] + file.text[start + len(sample["middle"]) :], start


def served_prompt(
    count: Callable[[str], int],
    sample: dict,
    files: dict[str, SourceFile],
    wire: Callable[[FimService], FimService] | None = None,
) -> str:
    """What the daemon renders when the LSP asks for a completion at the sample's cursor: the
    document (the file without the middle), the window around the cursor, the file's path in
    the workspace and the ring's chunks of the files the user opened before. ``wire`` hands
    the service to the daemon's runtime (which gives it the workspace index)."""
    file = files[sample["file"]]
    document, start = editor_document(sample, files)
    prefix, suffix = fim_window(document, start)
    ring = ContextRing()
    for key in sample["context_files"]:
        ring.add(files[key].project_path, files[key].text)
    ring.reshuffle()
    backend = RecordingBackend(count)
    settings = replace(ServeFim(), max_tokens=MAX_TOKENS, cache_size=0)
    service = FimService(backend, QWEN25_CODER, settings, N_CTX)
    if wire is not None:
        service = wire(service)
    request = FimRequest(
        prefix=prefix, suffix=suffix, path=file.project_path, context=ring.snapshot()
    )
    asyncio.run(service.complete(request))
    (prompt,) = backend.prompts
    return prompt


def samples(
    files: list[SourceFile],
    counter: HFTokenCounter,
    repo_rate: float,
    workspace: PinSettings = NO_WORKSPACE,
    samples_per_file: int = 3,
) -> list[dict]:
    settings = FimSettings(
        max_seq_len=2048,
        rate=1.0,
        samples_per_file=samples_per_file,
        span_types=("line", "block", "random"),
        repo_rate=repo_rate,
        repo_max_files=2,
        max_middle_tokens=64,
        seed=3,
        prompt_budget=N_CTX - MAX_TOKENS,
        workspace=workspace,
    )
    return FimBuilder(files, settings, counter).build("train", False)


def project(bbj_source: Callable) -> list[SourceFile]:
    return [
        SourceFile("corpus", "app", f"app/src/p{i}.bbj", bbj_source(i, lines), "utf-8", f"s{i}")
        for i, lines in enumerate((12, 20, 300, 16))
    ]


@pytest.mark.parametrize("repo_rate", [0.0, 1.0], ids=["single-file", "repo-level"])
def test_training_prompt_is_the_served_prompt(
    bbj_source: Callable, counter: HFTokenCounter, repo_rate: float
) -> None:
    files = project(bbj_source)
    built = samples(files, counter, repo_rate)
    assert built
    assert {s["repo_level"] for s in built} == {bool(repo_rate)}
    assert any(s["truncated"] for s in built), "no sample was cut to the budget"
    by_key = {f.key: f for f in files}
    for sample in built:
        assert sample["prompt"] == served_prompt(counter.count, sample, by_key)
        assert sample["path"].startswith("src/")


def test_the_daemons_llama_backend_counts_as_the_trainer_does(
    bbj_source: Callable, counter: HFTokenCounter, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The budget cut depends on token counts: the daemon's llama.cpp backend must count a
    rendered prompt (markers as single tokens) exactly as the trainer's tokenizer does, or the
    served prompt of a long file keeps other lines than the training sample."""
    pytest.importorskip("llama_cpp")
    from daemon.backends.llama import LlamaBackend, LlamaOptions
    from daemon.models.tinymodel import build_tiny_model

    tiny = build_tiny_model(tmp_path_factory.mktemp("tiny-gguf"))
    backend = LlamaBackend(LlamaOptions(model_path=tiny.gguf_path, n_ctx=N_CTX))
    loop = asyncio.new_event_loop()
    loop.run_until_complete(backend.start())
    try:
        files = project(bbj_source)
        by_key = {f.key: f for f in files}
        built = samples(files, counter, 1.0)
        assert any(s["truncated"] for s in built)
        for sample in built:
            assert backend.count_tokens(sample["prompt"]) == counter.count(sample["prompt"])
            assert sample["prompt"] == served_prompt(backend.count_tokens, sample, by_key)
    finally:
        loop.run_until_complete(backend.close())
        loop.close()


CUSTOMER = """\
rem /** A customer of the shop. */
class public Customer
  field private BBjString Name$
  field public BBjNumber Credit
  rem /** The customer's display name. */
  method public BBjString getName()
    methodret #Name$
  methodend
  method public void setCredit(BBjNumber limit)
    #Credit = limit
  methodend
classend
"""

MONEY = """\
class public Money
  method public BBjNumber round(BBjNumber amount)
    methodret int(amount * 100 + .5) / 100
  methodend
classend
"""

INVOICE = """\
class public Invoice
  method public void addLine(BBjString item$)
  methodend
  method public BBjNumber total()
    methodret 0
  methodend
  method public void send(BBjString to$)
  methodend
classend
declare Invoice inv!
inv! = new Invoice()
inv!.addLine("x")
print inv!.total()
"""


def orders(lines: int) -> str:
    """A program that uses Customer beside it (relative path) and Money from the PREFIX."""
    body = [
        "use ::../lib/Customer.bbj::Customer",
        "use ::Money.bbj::Money",
        "declare Customer c!",
        "declare Money m!",
        "c! = new Customer()",
        "m! = new Money()",
    ]
    while len(body) < lines:
        n = len(body)
        body += [
            f"for i = 1 to {n}",
            f'    print "order {n}: ", c!.getName(), i',
            "next i",
            f"c!.setCredit(m!.round({n} * 1.5))",
        ]
    return "\n".join(body[:lines]) + "\nend\n"


def workspace_project() -> list[SourceFile]:
    texts = {
        "app/src/orders.bbj": orders(40),
        "app/src/invoice.bbj": INVOICE,
        "app/src/report.bbj": orders(120).replace("order ", "report "),
        "app/lib/Customer.bbj": CUSTOMER,
        "app/lib/Money.bbj": MONEY,
    }
    return [
        SourceFile("corpus", "app", rel, text, "utf-8", f"ws{i}")
        for i, (rel, text) in enumerate(texts.items())
    ]


def test_training_prompt_is_the_served_prompt_with_the_workspace_index_on(
    counter: HFTokenCounter, tmp_path: Path
) -> None:
    """A daemon with ``[workspace]`` on pins the signatures of the classes a file uses at the
    front of its prompt: training samples carry exactly those, built by the same code."""
    from daemon.config import Config, WorkspaceSettings
    from daemon.paths import AppPaths
    from daemon.server.loader import ModelSlot
    from daemon.server.runtime import Runtime
    from daemon.workspace import open_workspace

    files = workspace_project()
    budget, prefix = 200, ("lib",)
    built = samples(files, counter, 1.0, PinSettings(budget, prefix), samples_per_file=6)

    # The daemon: the project on disk as its workspace root, `lib` on the PREFIX path.
    root = tmp_path / "project"
    for file in files:
        (root / file.project_path).parent.mkdir(parents=True, exist_ok=True)
        (root / file.project_path).write_text(file.text, encoding="utf-8")
    settings = WorkspaceSettings(
        roots=(str(root),), prefix=tuple(str(root / p) for p in prefix), budget_tokens=budget
    )
    config = replace(Config(), workspace=settings)
    paths = AppPaths(*(tmp_path / name for name in ("c", "m", "l", "cache", "s", "r")))
    workspace = open_workspace(config.workspace, paths.cache_dir)
    assert workspace is not None
    asyncio.run(workspace.build())

    def wire(service: FimService) -> FimService:
        slot = ModelSlot("test", None, backend=service.backend, fim=service)
        runtime = Runtime(config, paths, "token", slot=slot, workspace=workspace)
        return runtime.require_fim()

    by_key = {f.key: f for f in files}
    try:
        for sample in built:
            file = by_key[sample["file"]]
            # The LSP sends the buffer being edited to the index, then re-reads it on close.
            document, _ = editor_document(sample, by_key)
            workspace.index.update(root / file.project_path, document)
            try:
                assert sample["prompt"] == served_prompt(counter.count, sample, by_key, wire)
            finally:
                workspace.index.update(root / file.project_path)
    finally:
        workspace.close()

    using = [s for s in built if s["path"] == "src/orders.bbj"]
    assert using and all(
        s["workspace_files"] == ["corpus/app/lib/Customer.bbj", "corpus/app/lib/Money.bbj"]
        for s in using
    )
    for sample in using:
        # Pinned first, as outlines (members indented by the index, never their bodies).
        head = "<|repo_name|>workspace\n<|file_sep|>lib/Customer.bbj\n"
        assert sample["prompt"].startswith(head)
        assert "\n    method public void setCredit(BBjNumber limit)\n" in sample["prompt"]
        assert "<|file_sep|>lib/Money.bbj\nclass public Money\n" in sample["prompt"]
    # A class of the file being edited is pinned as the editor's buffer holds it: without
    # the middle, which the user has not typed yet.
    own = [s for s in built if s["workspace_files"] == ["corpus/app/src/invoice.bbj"]]
    assert any("method" in s["middle"] and s["middle"] not in s["prompt"] for s in own)
    assert any(s["truncated"] for s in built), "no sample was cut to the budget"


def test_real_projects_render_as_the_daemon_indexes_them_from_disk(
    counter: HFTokenCounter, tmp_path: Path
) -> None:
    """The shared corpus (skipped when absent): every sample of every real project, rendered
    with the workspace index the daemon builds from the project's folder on disk."""
    from collections import defaultdict

    from daemon.config import WorkspaceSettings
    from daemon.workspace import open_workspace
    from tests.check.real_corpus import CORPUS
    from trainer.data.config import DataConfig
    from trainer.data.inputs import load_inputs

    if not CORPUS.is_dir():
        pytest.skip(f"no shared corpus at {CORPUS}")
    config = replace(DataConfig(), sources=(CORPUS,), check_code=False, progress=False)
    files = load_inputs(config).scan.files
    budget = WorkspaceSettings().budget_tokens
    built = samples(files, counter, 0.0, PinSettings(budget), samples_per_file=1)
    by_key = {f.key: f for f in files}
    by_project: dict[str, list[dict]] = defaultdict(list)
    for sample in built:
        by_project[by_key[sample["file"]].project].append(sample)
    for project, group in sorted(by_project.items()):
        root = CORPUS / project
        settings = WorkspaceSettings(roots=(str(root),), budget_tokens=budget)
        workspace = open_workspace(settings, tmp_path / project)
        assert workspace is not None
        asyncio.run(workspace.build())

        def wire(service: FimService, workspace: Workspace = workspace) -> FimService:
            service.pinned_context = workspace.pinned  # as Runtime.require_fim does
            return service

        try:
            for sample in group:
                path = root / by_key[sample["file"]].project_path
                workspace.index.update(path, editor_document(sample, by_key)[0])
                assert sample["prompt"] == served_prompt(counter.count, sample, by_key, wire)
                workspace.index.update(path)
        finally:
            workspace.close()
    assert sum(bool(s["workspace_files"]) for s in built) > len(built) // 3
