"""The pure next-edit parts: window, history coalescing, minimal edits, undo guard, prompt."""

from __future__ import annotations

import pytest

from fim import ContextFile
from fim.next_edit import (
    SWEEP_QWEN,
    CursorOutOfRangeError,
    EditHistory,
    Hunk,
    NextEditState,
    Position,
    apply_edits,
    bounded,
    build_prompt,
    extract_window,
    fit_prompt,
    minimal_edits,
    undoes,
)

PROGRAM = "\n".join(f"line {i}" for i in range(40)) + "\n"


# window ------------------------------------------------------------------------------------
def test_window_is_ten_lines_either_side_and_clamped() -> None:
    window = extract_window(PROGRAM, Position(20, 0), 10, 10)
    assert (window.start, window.end) == (10, 31)
    assert window.lines[0] == "line 10" and window.lines[-1] == "line 30"
    top = extract_window(PROGRAM, Position(2, 3), 10, 10)
    assert (top.start, top.end) == (0, 13)


@pytest.mark.parametrize(
    ("cursor", "words"),
    [(Position(41, 0), "document has 41 lines"), (Position(3, 99), "has 6 characters")],
)
def test_cursor_out_of_range_is_a_sentence(cursor: Position, words: str) -> None:
    with pytest.raises(CursorOutOfRangeError, match=words):
        extract_window(PROGRAM, cursor, 10, 10)


# history -----------------------------------------------------------------------------------
def _typing(history: EditHistory, path: str, text: str, line: int, word: str) -> str:
    """Type ``word`` at the end of ``line`` one character at a time."""
    lines = text.split("\n")
    for ch in word:
        lines[line] += ch
        history.update(path, "\n".join(lines))
    return "\n".join(lines)


def test_keystrokes_on_nearby_lines_coalesce_into_one_hunk() -> None:
    history = EditHistory()
    history.open("a.bbj", PROGRAM)
    text = _typing(history, "a.bbj", PROGRAM, 5, "abc")
    text = _typing(history, "a.bbj", text, 6, "xy")
    hunks = history.hunks()
    assert hunks == [
        Hunk("a.bbj", 5, ("line 5", "line 6"), ("line 5abc", "line 6xy")),
    ]


def test_an_edit_far_away_closes_the_hunk_and_starts_another() -> None:
    history = EditHistory()
    history.open("a.bbj", PROGRAM)
    text = _typing(history, "a.bbj", PROGRAM, 5, "abc")
    _typing(history, "a.bbj", text, 30, "!")
    hunks = history.hunks()
    assert [h.start_line for h in hunks] == [5, 30]
    assert hunks[0].updated == ("line 5abc",) and hunks[1].updated == ("line 30!",)


def test_typing_then_erasing_leaves_no_hunk() -> None:
    history = EditHistory()
    history.open("a.bbj", PROGRAM)
    _typing(history, "a.bbj", PROGRAM, 5, "abc")
    history.update("a.bbj", PROGRAM)
    assert history.hunks() == []


def test_history_is_bounded_in_count_and_hunk_size() -> None:
    history = EditHistory(max_hunks=3, max_hunk_lines=5)
    history.open("a.bbj", PROGRAM)
    text = PROGRAM
    for line in range(0, 40, 5):
        text = _typing(history, "a.bbj", text, line, "x")
    assert [h.start_line for h in history.hunks()] == [25, 30, 35]
    pasted = text + "\n".join(["pasted"] * 50)
    history.update("a.bbj", pasted)
    assert all(h.size <= 10 for h in history.hunks())


def test_hunks_across_documents_are_in_time_order() -> None:
    history = EditHistory()
    history.open("a.bbj", PROGRAM)
    history.open("b.bbj", PROGRAM)
    _typing(history, "a.bbj", PROGRAM, 1, "a")
    _typing(history, "b.bbj", PROGRAM, 2, "b")
    assert [h.path for h in history.hunks()] == ["a.bbj", "b.bbj"]


def test_bounded_keeps_the_newest_that_fit() -> None:
    hunks = [Hunk("a", i, ("x" * 10,), ("y" * 10,)) for i in range(5)]
    assert [h.start_line for h in bounded(hunks, 3, 10_000)] == [2, 3, 4]
    assert [h.start_line for h in bounded(hunks, 9, 50)] == [3, 4]


# minimal edits -----------------------------------------------------------------------------
def _roundtrip(text: str, cursor: Position, updated: list[str]):
    window = extract_window(text, cursor, 10, 10)
    edits = minimal_edits(window, updated)
    expected_lines = text.split("\n")
    expected_lines[window.start : window.end] = updated
    assert apply_edits(text, edits) == "\n".join(expected_lines)
    return edits


def test_a_renamed_word_is_one_small_edit() -> None:
    text = "a = 1\nprint a\nb = a + 1\n"
    edits = _roundtrip(text, Position(0, 0), ["count = 1", "print count", "b = count + 1", ""])
    assert [(e.start, e.end, e.new_text) for e in edits] == [
        (Position(0, 0), Position(0, 1), "count"),
        (Position(1, 6), Position(1, 7), "count"),
        (Position(2, 4), Position(2, 5), "count"),
    ]


def test_inserted_and_deleted_lines() -> None:
    text = "one\ntwo\nthree\nfour"
    edits = _roundtrip(text, Position(1, 0), ["one", "two", "two and a half", "three"])
    assert len(edits) == 2  # an insertion after "two" and the deletion of "four"
    assert edits[0].new_text == "two and a half\n" and edits[0].start == edits[0].end
    _roundtrip(text, Position(1, 0), ["zero", "one", "two", "three", "four", "five"])
    _roundtrip(text, Position(1, 0), [])


def test_no_change_is_no_edit() -> None:
    window = extract_window(PROGRAM, Position(5, 0), 10, 10)
    assert minimal_edits(window, list(window.lines)) == []


# undo guard --------------------------------------------------------------------------------
def test_a_suggestion_that_takes_back_the_last_edit_is_an_undo() -> None:
    before = "x = 1\nprint x\n"
    after = "count = 1\nprint x\n"
    last = Hunk("a.bbj", 0, ("x = 1",), ("count = 1",))
    assert undoes(after, before, last)
    assert undoes(after, "x = 1\nprint x\n", last)
    assert not undoes(after, "count = 1\nprint count\n", last)
    assert not undoes(after, after, last)
    assert not undoes(after, before, None)


def test_removing_just_what_was_typed_is_an_undo_even_elsewhere_in_the_line() -> None:
    last = Hunk("a.bbj", 0, ("print a",), ("print a, b",))
    assert undoes("print a, b\nx\n", "print a\nx\n", last)


# prompt ------------------------------------------------------------------------------------
def test_prompt_layout_follows_the_sweep_format() -> None:
    text = "count = 1\nprint x\n"
    last = Hunk("a.bbj", 0, ("x = 1",), ("count = 1",))
    state = NextEditState(
        "a.bbj", text, Position(1, 0), (last,), (ContextFile("lib.bbj", "rem lib"),)
    )
    built = build_prompt(SWEEP_QWEN, state)
    assert built.prompt == (
        "<|file_sep|>lib.bbj\nrem lib\n"
        "<|file_sep|>a.bbj.diff\noriginal:\nx = 1\nupdated:\ncount = 1\n"
        "<|file_sep|>original/a.bbj\nx = 1\nprint x\n\n"
        "<|file_sep|>current/a.bbj\ncount = 1\nprint x\n\n"
        "<|file_sep|>updated/a.bbj\n"
    )
    output = SWEEP_QWEN.target("count = 1\nprint count\n") + "junk"
    assert SWEEP_QWEN.parse(output) == "count = 1\nprint count\n"


def test_fit_prompt_drops_context_then_oldest_hunks_never_the_window() -> None:
    hunks = tuple(Hunk("a.bbj", 30 + i, (f"old {i}",), (f"new {i}",)) for i in range(3))
    state = NextEditState(
        "a.bbj", PROGRAM, Position(5, 0), hunks, (ContextFile("lib.bbj", "x" * 400),)
    )
    full = build_prompt(SWEEP_QWEN, state)
    fitted = fit_prompt(SWEEP_QWEN, state, len, len(full.prompt) - 1)
    assert fitted.context == () and fitted.hunks == hunks
    small = fit_prompt(SWEEP_QWEN, state, len, 10)
    assert small.context == () and small.hunks == ()
    assert "current/a.bbj\nline 0\n" in small.prompt
