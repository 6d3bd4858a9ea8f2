"""Fenced code blocks as CommonMark reads them: the one parser the daemon, LSP and trainer use."""

from __future__ import annotations

from fim.fences import code_blocks, fence, is_bbj_block, split_segments


def test_segments_join_back_to_the_text_and_know_where_they_start() -> None:
    text = "Intro\n```bbj\nprint 1\n```\nmiddle\n~~~~\nx = 1\n~~~~\ntail"
    segments = split_segments(text)
    assert "".join(s.raw for s in segments) == text
    assert [s.is_code for s in segments] == [False, True, False, True, False]
    for segment in segments:
        assert text[segment.start : segment.end] == segment.raw


def test_longer_tilde_and_indented_fences() -> None:
    text = "````bbj\n```\nprint 1\n```\n````\n  ~~~\n  print 2\n  ~~~\n"
    first, second = code_blocks(text)
    assert (first.language, first.body) == ("bbj", "```\nprint 1\n```\n")
    assert (second.marker, second.body) == ("~~~", "print 2\n")


def test_a_block_cut_off_at_the_end_is_open() -> None:
    (block,) = code_blocks("Here:\n```BBj title\nprint 1\n")
    assert not block.closed and block.language == "bbj" and block.body == "print 1\n"


def test_backticks_in_a_backtick_info_string_do_not_open_a_fence() -> None:
    assert code_blocks("```not `a` fence\ntext\n") == []


def test_bbj_blocks_are_labelled_or_look_like_bbj() -> None:
    labelled, unlabelled, python = code_blocks(
        "```vpro5\na=1\n```\n```\nprint 1\n```\n```python\nprint(1)\n```\n"
    )
    assert is_bbj_block(labelled, lambda code: False)
    assert is_bbj_block(unlabelled, lambda code: code.startswith("print"))
    assert not is_bbj_block(unlabelled, lambda code: False)
    assert not is_bbj_block(python, lambda code: True)


def test_fence_is_longer_than_any_fence_inside() -> None:
    wrapped = fence("a\n```\nb\n```")
    assert wrapped.startswith("````bbj\n") and wrapped.endswith("\n````")
    (block,) = code_blocks(wrapped)
    assert block.body == "a\n```\nb\n```\n"
