"""FimContext derivation, early stopping while streaming, and chain plumbing."""

from __future__ import annotations

from fim.postprocess import (
    DEFAULT_CHAIN,
    MAX_SCAN_LINES,
    FimContext,
    OpenBlock,
    apply_chain,
    drop_empty,
    early_stop_index,
    postprocess,
    trim_trailing_whitespace,
)

METHOD_PREFIX = "class public A\n    method public void run()\n        "
METHOD_SUFFIX = "\n    methodend\nclassend\n"


def test_context_finds_open_blocks_innermost_first_and_what_the_suffix_closes() -> None:
    prefix = "class public A\n    method public void run()\n        for i = 1 to 3\n            "
    ctx = FimContext.build(prefix, "\n    methodend\nclassend\n")
    assert ctx.open_blocks == (
        OpenBlock("for", 8, closed_in_suffix=False),
        OpenBlock("method", 4, closed_in_suffix=True),
        OpenBlock("class", 0, closed_in_suffix=True),
    )


def test_context_ignores_closed_blocks_and_one_line_forms() -> None:
    prefix = (
        "while 1\n"
        "    for i = 1 to 3; PRINT i; next i\n"
        "    if x then y = 1\n"
        "    def fnsq(x) = x * x\n"
        "    for j = 1 to 2\n"
        "    next j\n"
        "    "
    )
    assert FimContext.build(prefix, "").open_blocks == (OpenBlock("while", 0),)


def test_context_interface_methods_are_declarations() -> None:
    prefix = "interface public Shape\n    method public BBjNumber area()\n    "
    ctx = FimContext.build(prefix, "\ninterfaceend\n")
    assert ctx.open_blocks == (OpenBlock("interface", 0, closed_in_suffix=True),)
    closed = "interface public I\n    method public void a()\ninterfaceend\n"
    assert FimContext.build(closed, "").open_blocks == ()


def test_context_if_then_followed_by_continuation_is_not_a_block() -> None:
    prefix = "while 1\n    if x then\n:       y = 1\n    "
    assert FimContext.build(prefix, "").open_blocks == (OpenBlock("while", 0),)


def test_context_cursor_line_and_neighbours() -> None:
    ctx = FimContext.build("    a = 1\n\n    b = f(", "x)\n\n    PRINT b\n    PRINT a\n")
    assert (ctx.line_prefix, ctx.line_suffix) == ("    b = f(", "x)")
    assert ctx.previous_line == "a = 1"
    assert ctx.suffix_lines == ("x)", "PRINT b")
    assert not ctx.multiline
    assert FimContext.build("x = 1\n    ", "").multiline


def test_context_knows_when_the_statement_continues_after_the_cursor() -> None:
    assert FimContext.build('PRINT "a",', '\n:   "b"\n').continues_after_cursor
    assert FimContext.build('PRINT "a",\n', ':   "b"\n').continues_after_cursor
    assert not FimContext.build('PRINT "a"', '\nPRINT "b"\n').continues_after_cursor


def test_context_scan_is_bounded_on_huge_prefixes() -> None:
    prefix = "for i = 1 to 2\n" * (MAX_SCAN_LINES * 3)
    ctx = FimContext.build(prefix, "")
    assert 0 < len(ctx.open_blocks) <= MAX_SCAN_LINES


def test_early_stop_waits_for_the_dedented_line_to_complete() -> None:
    ctx = FimContext.build(METHOD_PREFIX, METHOD_SUFFIX)
    assert early_stop_index("x = 1\n", ctx) is None
    assert early_stop_index("x = 1\n    method", ctx) is None
    assert early_stop_index("x = 1\n    methodend\n", ctx) == len("x = 1")


def test_early_stop_keeps_going_while_nothing_would_be_cut() -> None:
    ctx = FimContext.build(METHOD_PREFIX, METHOD_SUFFIX)
    assert early_stop_index("x = 1\n        y = 2\n        PRINT x + y\n", ctx) is None


def test_early_stop_single_line_waits_for_the_first_character_of_the_next_line() -> None:
    ctx = FimContext.build("    PRINT fnA(", "\n")
    assert early_stop_index("1)\n", ctx) is None
    assert early_stop_index("1)\n    ", ctx) is None
    assert early_stop_index("1)\n    x", ctx) == len("1)")
    assert early_stop_index("1),\n:   2\n", ctx) is None
    assert early_stop_index("1),\n:   2\nPRINT", ctx) == len("1),\n:   2")


def test_early_stop_short_suffix_line_needs_the_next_line() -> None:
    prefix = "    switch c\n        case 1\n            "
    ctx = FimContext.build(prefix, "\n            break\n        case 2\n")
    assert early_stop_index("gosub a\n            break\n", ctx) is None
    assert early_stop_index("gosub a\n            break\n        case 2\n", ctx) == len("gosub a")


def test_early_stop_then_postprocess_matches_postprocess_of_the_whole() -> None:
    ctx = FimContext.build(METHOD_PREFIX, METHOD_SUFFIX)
    whole = "x = 1\n        y = 2\n    methodend\nclassend\n"
    stop = early_stop_index(whole, ctx)
    assert stop is not None
    assert apply_chain(whole[:stop], ctx) == apply_chain(whole, ctx) == "x = 1\n        y = 2"


def test_postprocess_accepts_a_custom_chain() -> None:
    raw = "PRINT x   \n\n"
    assert postprocess(raw, "    ", "\n", chain=(drop_empty,)) == raw
    assert postprocess(raw, "    ", "\n", chain=(trim_trailing_whitespace,)) == "PRINT x"
    assert postprocess(raw, "    ", "\n") == postprocess(raw, "    ", "\n", chain=DEFAULT_CHAIN)
