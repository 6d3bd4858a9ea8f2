"""The file watcher keeps the index current; chat questions get the definitions they name."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path

from daemon.backends.base import ChatMessage, SamplingParams
from daemon.check import BuiltinChecker
from daemon.config import CheckSettings, WorkspaceSettings
from daemon.services.chat import ChatService
from daemon.workspace import open_workspace
from tests.daemon.test_chat_check import ScriptedBackend

from .conftest import Tree


def invoice(method: str) -> str:
    return f"class public Invoice\n  method public void {method}()\n  methodend\nclassend\n"


async def eventually(check: Callable[[], object], timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "the watcher never caught up"
        await asyncio.sleep(0.05)


def test_watcher_follows_create_change_rename_and_delete(tree: Tree, tmp_path: Path) -> None:
    settings = WorkspaceSettings(roots=(str(tree.root),), prefix=(str(tree.prefix),))
    workspace = open_workspace(settings, tmp_path / "cache")
    assert workspace is not None

    def found(name: str) -> list[str]:
        return [row.path for row in workspace.index.search(name, 5)]

    async def go() -> None:
        await workspace.build()
        watching = asyncio.create_task(workspace.watch())
        try:
            await asyncio.sleep(0.3)  # let the watcher start
            new = tree.root / "Invoice.bbj"
            new.write_text(
                "class public Invoice\n  method public void post()\n  methodend\nclassend\n"
            )
            await eventually(lambda: found("post"))
            new.write_text(
                "class public Invoice\n  method public void book()\n  methodend\nclassend\n"
            )
            await eventually(lambda: found("book") and not found("post"))
            moved = tree.root / "app" / "Bill.bbj"
            os.rename(new, moved)
            await eventually(lambda: found("book") == [str(moved.resolve())])
            moved.unlink()
            await eventually(lambda: not found("book"))
        finally:
            watching.cancel()
            workspace.close()

    asyncio.run(go())


def test_chat_system_prompt_carries_the_definitions_a_question_names(tree: Tree) -> None:
    index = tree.index()
    from daemon.workspace import WorkspaceContext

    backend = ScriptedBackend(["Call it like this."])
    service = ChatService(backend, BuiltinChecker(), CheckSettings(chat="off"))
    service.workspace_note = WorkspaceContext(index, 2000).chat_note

    async def ask(question: str) -> list[ChatMessage]:
        run = await service.start([ChatMessage("user", question)], SamplingParams(max_tokens=8))
        "".join([chunk async for chunk in run])
        return backend.calls[-1]

    system = asyncio.run(ask("How do I add a line to an Order?"))[0]
    assert system.role == "system"
    assert "rem file: Order.bbj" in system.content
    assert "method public void addLine(BBjString item$, BBjNumber qty)" in system.content
    plain = asyncio.run(ask("What does PRINT do?"))[0]
    assert "Definitions from the user's workspace" not in plain.content


def test_fim_service_prompt_is_the_one_renderer_with_pinned_context_first(tree: Tree) -> None:
    from dataclasses import replace

    from daemon.config import FimSettings
    from daemon.services.fim import FimRequest, FimService
    from daemon.workspace import WorkspaceContext
    from fim import QWEN25_CODER, ContextFile

    from .conftest import MAIN

    context = WorkspaceContext(tree.index(), 2000)
    backend = ScriptedBackend(["getName()"])
    service = FimService(backend, QWEN25_CODER, replace(FimSettings(), cache_size=0), 8192)
    service.pinned_context = context.pinned
    ring = (ContextFile("recent.bbj", "print 1\n"),)
    request = FimRequest(prefix=MAIN + "c!.", suffix="\n", path="app/main.bbj", context=ring)
    asyncio.run(service.complete(request))
    (prompt,) = backend.calls
    pinned = context.pinned("app/main.bbj", request.prefix, request.suffix, backend.count_tokens)
    assert [c.path for c in pinned] == ["app/lib/Customer.bbj", "Order.bbj", "tax.bbj"]
    # Exactly what the trainer's renderer makes of the same pieces: no train/serve skew.
    assert prompt == QWEN25_CODER.render(
        request.prefix, request.suffix, path="app/main.bbj", context=pinned + ring
    )
