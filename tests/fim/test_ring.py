"""The context ring: chunking, near-duplicate eviction, stable snapshots."""

from __future__ import annotations

import pytest

from fim.formats import ContextFile
from fim.ring import ContextRing, jaccard


def program(name: str, lines: int) -> str:
    return "".join(f"{name}_{n} = {n}\n" for n in range(lines))


def published(ring: ContextRing) -> tuple[ContextFile, ...]:
    ring.reshuffle()
    return ring.snapshot()


def test_snapshot_changes_only_on_reshuffle() -> None:
    ring = ContextRing()
    ring.add("a.bbj", program("a", 10))
    assert ring.snapshot() == ()
    first = published(ring)
    assert [c.path for c in first] == ["a.bbj"]
    ring.add("b.bbj", program("b", 10))
    assert ring.snapshot() == first
    assert [c.path for c in published(ring)] == ["a.bbj", "b.bbj"]


def test_chunk_is_taken_around_the_cursor_line() -> None:
    ring = ContextRing(chunk_lines=64)
    ring.add("big.bbj", program("v", 200), cursor_line=100)
    (chunk,) = published(ring)
    lines = chunk.text.splitlines()
    assert len(lines) == 64
    assert lines[0] == "v_68 = 68"
    assert "v_100 = 100" in lines


@pytest.mark.parametrize(("cursor", "first"), [(None, 0), (0, 0), (3, 0), (199, 136), (500, 136)])
def test_chunk_window_stays_inside_the_file(cursor: int | None, first: int) -> None:
    ring = ContextRing(chunk_lines=64)
    ring.add("big.bbj", program("v", 200), cursor_line=cursor)
    (chunk,) = published(ring)
    assert chunk.text.splitlines()[0] == f"v_{first} = {first}"
    assert len(chunk.text.splitlines()) == 64


def test_near_duplicate_evicts_the_older_chunk() -> None:
    ring = ContextRing()
    text = program("x", 40)
    ring.add("copy1.bbj", text)
    ring.add("copy2.bbj", text.replace("x_7 = 7", "x_7 = 70"))
    assert [c.path for c in published(ring)] == ["copy2.bbj"]


def test_different_chunks_are_both_kept() -> None:
    ring = ContextRing()
    ring.add("one.bbj", program("x", 20))
    ring.add("two.bbj", program("x", 10) + program("y", 10))
    assert len(published(ring)) == 2


def test_a_new_version_of_the_same_region_replaces_the_old() -> None:
    ring = ContextRing(chunk_lines=64)
    ring.add("edit.bbj", program("old", 100), cursor_line=50)
    ring.add("edit.bbj", program("new", 100), cursor_line=60)
    ring.add("edit.bbj", program("far", 400), cursor_line=300)
    chunks = published(ring)
    assert [c.text.split(" ")[0] for c in chunks] == ["new_28", "far_268"]


def test_full_ring_drops_the_oldest_and_lists_oldest_first() -> None:
    ring = ContextRing(max_chunks=3)
    for name in "abcde":
        ring.add(f"{name}.bbj", program(name, 5))
    assert len(ring) == 3
    assert [c.path for c in published(ring)] == ["c.bbj", "d.bbj", "e.bbj"]


def test_blank_text_is_ignored() -> None:
    ring = ContextRing()
    ring.add("empty.bbj", "\n   \n\n")
    assert len(ring) == 0


def test_invalid_sizes_are_refused() -> None:
    with pytest.raises(ValueError):
        ContextRing(max_chunks=0)


def test_jaccard() -> None:
    assert jaccard(frozenset("ab"), frozenset("ab")) == 1.0
    assert jaccard(frozenset("ab"), frozenset("bc")) == pytest.approx(1 / 3)
    assert jaccard(frozenset(), frozenset()) == 1.0
