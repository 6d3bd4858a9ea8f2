"""The workspace index: build, ``use``/``CALL`` resolution, confinement, incremental updates."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from daemon.workspace import OutsideWorkspaceError, WorkspaceError, WorkspaceIndex

from .conftest import Tree


def names(index: WorkspaceIndex, query: str) -> list[tuple[str, str]]:
    return [(row.kind, row.name) for row in index.search(query, 50)]


def test_build_indexes_roots_and_prefix_folders(tree: Tree) -> None:
    index = tree.index()
    assert tree.db.stat().st_mode & 0o777 == 0o600  # outlines of the user's code stay private
    assert index.status()["files"] == 5
    assert names(index, "total") == [("method", "total")]
    row = index.search("getname", 5)[0]
    assert row.path == str(tree.customer.resolve())
    assert row.to_dict() == {
        "name": "getName",
        "kind": "method",
        "path": str(tree.customer.resolve()),
        "line": 6,
        "signature": "method public BBjString getName()",
        "container": "Customer",
        "doc": "The customer's display name.",
    }


def test_search_ranks_exact_then_prefix_then_substring(tree: Tree) -> None:
    index = tree.index()
    (tree.root / "more.bbj").write_text(
        "class public XOrderList\nclassend\nclass public OrderBook\nclassend\n"
    )
    index.build()
    assert [name for _kind, name in names(index, "order")] == ["Order", "OrderBook", "XOrderList"]
    assert names(index, "%") == []  # LIKE wildcards are matched literally


def test_use_resolves_beside_the_file_first_then_prefix(tree: Tree) -> None:
    index = tree.index()
    assert index.resolve("lib/Customer.bbj", tree.main) == str(tree.customer.resolve())
    assert index.resolve("Order.bbj", tree.main) == str(tree.order.resolve())
    # from a file elsewhere the same relative path finds the root's own lib/
    assert index.resolve("lib/Customer.bbj", tree.root / "top.bbj") == str(tree.decoy.resolve())
    assert index.resolve("missing.bbj", tree.main) is None
    assert index.resolve(str(tree.order), None) == str(tree.order.resolve())  # absolute


def test_paths_outside_the_roots_are_refused(tree: Tree, tmp_path: Path) -> None:
    index = tree.index()
    outside = tmp_path / "elsewhere.bbj"
    outside.write_text("class public Secret\nclassend\n")
    with pytest.raises(OutsideWorkspaceError):
        index.update(outside)
    with pytest.raises(OutsideWorkspaceError):
        index.update(tree.root / ".." / "elsewhere.bbj")
    assert index.resolve("../elsewhere.bbj", tree.main.parent.parent.parent / "x.bbj") is None
    with pytest.raises(WorkspaceError, match="not a BBj source file"):
        index.update(tree.root / "notes.txt", "class public X\nclassend\n")
    assert names(index, "secret") == []


def test_change_delete_and_rename_update_the_index(tree: Tree) -> None:
    index = tree.index()
    generation = index.generation
    tree.order.write_text(
        "class public Order\n  method public void ship()\n  methodend\nclassend\n"
    )
    assert index.update(tree.order) == 2
    assert names(index, "ship") == [("method", "ship")] and names(index, "total") == []
    assert index.generation > generation

    renamed = tree.prefix / "Orders2.bbj"
    os.rename(tree.order, renamed)
    index.apply([renamed], [tree.order])
    assert [row.path for row in index.search("ship", 5)] == [str(renamed.resolve())]

    renamed.unlink()
    index.apply([], [renamed])
    assert names(index, "ship") == []
    assert index.status()["files"] == 4


def test_editor_text_wins_until_the_disk_changes(tree: Tree) -> None:
    index = tree.index()
    unsaved = "class public Customer\n  method public void draft()\n  methodend\nclassend\n"
    index.update(tree.customer, unsaved)
    assert names(index, "draft") == [("method", "draft")]
    report = index.build()  # the buffer was never saved: the disk's version comes back
    assert report.parsed == 1
    assert names(index, "draft") == [] and names(index, "setname") == [("method", "setName")]


def test_rebuild_reads_only_changed_files_and_drops_vanished_ones(tree: Tree) -> None:
    index = tree.index()
    assert index.build().parsed == 0
    tree.tax.unlink()
    tree.decoy.write_text(tree.decoy.read_text() + "\n")
    report = index.build()
    assert (report.parsed, report.removed) == (1, 1)
    reopened = WorkspaceIndex(index.roots, tree.db)  # the SQLite file survives a restart
    assert reopened.build().parsed == 0
    assert names(reopened, "legacyonly") == [("method", "legacyOnly")]


def test_max_files_cuts_the_walk_and_says_so(tree: Tree) -> None:
    index = tree.index(max_files=2)
    assert index.last_build is not None and index.last_build.truncated
    assert index.status()["files"] == 2


def test_index_needs_a_root(tree: Tree) -> None:
    from daemon.workspace import Roots

    with pytest.raises(WorkspaceError, match=r"workspace\.roots"):
        WorkspaceIndex(Roots([]), tree.db)


def test_a_damaged_index_file_is_rebuilt(tree: Tree) -> None:
    tree.index().close()
    tree.db.write_bytes(b"this is not a SQLite database" * 100)
    index = tree.index()
    assert index.status()["files"] == 5 and names(index, "total") == [("method", "total")]


def test_a_symlinked_file_is_indexed_once_and_a_link_out_of_the_workspace_not_at_all(
    tree: Tree, tmp_path: Path
) -> None:
    (tree.root / "alias.bbj").symlink_to(tree.customer)
    outside = tmp_path / "elsewhere" / "Secret.bbj"
    outside.parent.mkdir()
    outside.write_text("class public Secret\nclassend\n")
    (tree.root / "secret.bbj").symlink_to(outside)
    index = tree.index()
    assert index.status()["files"] == 5
    assert names(index, "getname") == [("method", "getName")]
    assert names(index, "secret") == []
