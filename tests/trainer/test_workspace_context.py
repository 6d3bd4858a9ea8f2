"""The per-project workspace indexes the data build pins FIM signatures from."""

from __future__ import annotations

from pathlib import Path

from trainer.data.records import SourceFile
from trainer.data.workspace_context import OPEN_PROJECTS, PinSettings, ProjectWorkspaces

MAIN = "use ::lib/Customer.bbj::Customer\ndeclare Customer c!\nc!."


def words(text: str) -> int:
    return len(text.split())


def project(n: int) -> list[SourceFile]:
    customer = f"class public Customer\n  method public void call{n}()\n  methodend\nclassend\n"
    return [
        SourceFile("corpus", f"p{n}", f"p{n}/lib/Customer.bbj", customer, "utf-8", f"c{n}"),
        SourceFile("corpus", f"p{n}", f"p{n}/main.bbj", MAIN + "\n", "utf-8", f"m{n}"),
    ]


def test_each_project_pins_its_own_classes_also_after_being_closed() -> None:
    projects = {("corpus", f"p{n}"): project(n) for n in range(OPEN_PROJECTS + 2)}
    workspaces = ProjectWorkspaces(projects, PinSettings(500), words)
    try:
        order = [*range(OPEN_PROJECTS + 2), 0]  # project 0 was closed: indexed again
        for n in order:
            main = projects["corpus", f"p{n}"][1]
            pinned = workspaces.pinned(main, main.text, MAIN, "\n")
            assert pinned.files == (f"corpus/p{n}/lib/Customer.bbj",)
            (chunk,) = pinned.chunks
            assert chunk.path == "lib/Customer.bbj"
            assert f"method public void call{n}()" in chunk.text
        assert len(workspaces._open) == OPEN_PROJECTS
        folder = Path(workspaces._folder.name) if workspaces._folder else None
    finally:
        workspaces.close()
    assert folder is not None and not folder.exists()


def test_a_zero_budget_indexes_nothing() -> None:
    projects = {("corpus", "p0"): project(0)}
    workspaces = ProjectWorkspaces(projects, PinSettings(0), words)
    main = projects["corpus", "p0"][1]
    assert workspaces.pinned(main, main.text, MAIN, "\n").chunks == ()
    assert workspaces._folder is None


def test_files_in_folders_the_daemon_does_not_walk_are_not_indexed() -> None:
    """The daemon's walk skips hidden and build folders: a class only there is not pinned
    (the fallback by class name would find it otherwise)."""
    customer = "class public Customer\n  method public void run()\n  methodend\nclassend\n"
    main = SourceFile("corpus", "p", "p/main.bbj", MAIN + "\n", "utf-8", "m")

    def pinned_with(*folders: str) -> tuple[str, ...]:
        files = [
            SourceFile("corpus", "p", f"p/{folder}Customer.bbj", customer, "utf-8", folder)
            for folder in folders
        ]
        workspaces = ProjectWorkspaces({("corpus", "p"): [*files, main]}, PinSettings(500), words)
        try:
            return workspaces.pinned(main, main.text, MAIN, "\n").files
        finally:
            workspaces.close()

    assert pinned_with("build/lib/", ".cache/lib/") == ()
    assert pinned_with("build/lib/", "other/") == ("corpus/p/other/Customer.bbj",)
