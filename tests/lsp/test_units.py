"""The language server's pure parts: settings parsing, text helpers, the fixer's helpers."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types
from pygls.workspace import TextDocument

from fim.next_edit import EditHistory
from lsp.completer import CursorCompletion
from lsp.documents import (
    MAX_PREFIX_CHARS,
    MAX_PREFIX_LINES,
    cursor_at,
    fim_window,
    is_bbj,
    line_range,
)
from lsp.features.code_actions import wants_quickfix
from lsp.features.completion import completion_item
from lsp.fixer import LineSpan, enclosing_block, extract_code, fix_passes, replace_span
from lsp.settings import LspSettings, parse_settings, section_of

# --- settings -------------------------------------------------------------------------------


def parsed(raw: object) -> tuple[LspSettings, list[str]]:
    warnings: list[str] = []
    return parse_settings(raw, warnings.append), warnings


def test_settings_parse_every_field() -> None:
    settings, warnings = parsed(
        {
            "daemonUrl": "http://127.0.0.1:9999/",
            "tokenFile": "~/token",
            "startDaemon": False,
            "daemonStartTimeoutS": 5,
            "inlineCompletion": False,
            "diagnostics": False,
            "debounceMs": 0,
            "maxCompletionTokens": 64,
            "maxFixTokens": 512,
        }
    )
    assert warnings == []
    assert settings == LspSettings(
        daemon_url="http://127.0.0.1:9999",
        token_file=Path("~/token").expanduser(),
        start_daemon=False,
        daemon_start_timeout_s=5.0,
        inline_completion=False,
        diagnostics=False,
        debounce_ms=0,
        max_completion_tokens=64,
        max_fix_tokens=512,
    )


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("daemonUrl", "ftp://example"),
        ("daemonUrl", 11435),
        ("startDaemon", "yes"),
        ("debounceMs", -1),
        ("debounceMs", 1.5),
        ("debounceMs", True),
        ("maxCompletionTokens", 0),
        ("maxCompletionTokens", "many"),
        ("tokenFile", ["a"]),
        ("daemonStartTimeoutS", 0),
    ],
)
def test_invalid_values_warn_and_keep_the_default(key: str, value: object) -> None:
    settings, warnings = parsed({key: value})
    assert settings == LspSettings()
    assert len(warnings) == 1 and key in warnings[0]


def test_missing_and_malformed_settings_keep_the_defaults() -> None:
    assert parsed(None) == (LspSettings(), [])
    assert parsed({}) == (LspSettings(), [])
    settings, warnings = parsed(["not", "an", "object"])
    assert settings == LspSettings() and len(warnings) == 1
    settings, warnings = parsed({"unknownThing": 1, "debounceMs": 10})
    assert settings.debounce_ms == 10 and "unknownThing" in warnings[0]


def test_later_settings_apply_on_top_of_earlier_ones() -> None:
    base = parse_settings({"debounceMs": 10, "startDaemon": False}, print)
    settings = parse_settings({"debounceMs": 20}, print, base=base)
    assert (settings.debounce_ms, settings.start_daemon) == (20, False)


def test_initialization_options_may_nest_the_section() -> None:
    assert section_of({"bbjCoder": {"debounceMs": 1}}) == {"debounceMs": 1}
    assert section_of({"debounceMs": 1}) == {"debounceMs": 1}
    assert section_of(None) == {}


# --- documents ------------------------------------------------------------------------------


def document(text: str, uri: str = "file:///w/a.bbj", language_id: str = "bbj") -> TextDocument:
    return TextDocument(uri, text, version=1, language_id=language_id)


@pytest.mark.parametrize(
    ("uri", "language_id", "expected"),
    [
        ("file:///w/a.bbj", "plaintext", True),
        ("file:///w/A.SRC", None, True),
        ("file:///w/a.bbjt", None, True),
        ("file:///w/a.bbl", None, True),
        ("file:///w/a.bbx", None, True),
        ("file:///w/untitled", "bbj", True),
        ("file:///w/a.py", "python", False),
        ("file:///w/a.txt", "plaintext", False),
    ],
)
def test_bbj_documents_by_language_or_extension(
    uri: str, language_id: str | None, expected: bool
) -> None:
    assert is_bbj(document("x", uri, language_id)) is expected


def test_cursor_counts_utf16_units_and_clamps() -> None:
    text = 'a$ = "😀é"\nprint a$\r\nend'
    doc = document(text)
    inside = cursor_at(doc, types.Position(line=0, character=8))  # after the emoji (2 units)
    assert text[: inside.offset] == 'a$ = "😀'
    past = cursor_at(doc, types.Position(line=1, character=99))
    assert past.position == types.Position(line=1, character=len("print a$"))
    assert text[: past.offset].endswith("print a$")
    below = cursor_at(doc, types.Position(line=7, character=3))
    assert below.position == types.Position(line=2, character=3)
    assert below.offset == len(text)
    assert cursor_at(document(""), types.Position(line=3, character=3)).offset == 0


def test_fim_window_keeps_whole_lines_near_the_cursor() -> None:
    text = "".join(f"line {n}\n" for n in range(1000))
    offset = text.index("line 700\n") + 4
    prefix, suffix = fim_window(text, offset)
    assert prefix.endswith("line 699\nline")
    assert len(prefix.split("\n")) == MAX_PREFIX_LINES
    assert suffix.startswith(" 700\nline 701")
    assert prefix + suffix in text


def test_fim_window_caps_characters_at_a_line_start() -> None:
    text = ("x" * 1000 + "\n") * 100 + "y = "
    prefix, _ = fim_window(text, len(text))
    assert len(prefix) <= MAX_PREFIX_CHARS
    assert prefix.startswith("x") and prefix.endswith("\ny = ")


def test_line_range_starts_at_the_first_non_blank() -> None:
    doc = document("a = 1\n    b = (\n\n")
    assert line_range(doc, 1) == types.Range(
        start=types.Position(line=1, character=4), end=types.Position(line=1, character=9)
    )
    assert line_range(doc, 99).start.line == 3
    assert line_range(doc, -1).start.line == 0


# --- fixer ----------------------------------------------------------------------------------

CLASS = """\
class public Greeter
  field public BBjString name$
  method public void hello()
    for i = 1 to 3
      print i
  methodend
  method public void bye()
    print "bye"
  methodend
classend
"""


def test_the_block_is_the_enclosing_method() -> None:
    lines = CLASS.split("\n")
    assert enclosing_block(lines, 3) == LineSpan(2, 5)
    assert enclosing_block(lines, 7) == LineSpan(6, 8)
    assert enclosing_block(lines, 5) == LineSpan(2, 5)


def test_outside_methods_the_block_is_the_class() -> None:
    lines = CLASS.split("\n")
    assert enclosing_block(lines, 1) == LineSpan(0, 9)


def test_an_unclosed_method_ends_before_the_next_one() -> None:
    lines = CLASS.replace("  methodend\n  method public void bye()", "  method public void bye()")
    assert enclosing_block(lines.split("\n"), 3) == LineSpan(2, 4)


def test_without_blocks_small_programs_are_whole_and_big_ones_a_window() -> None:
    small = ["print 1", "for i = 1 to 2", "print i", "", ""]
    assert enclosing_block(small, 1) == LineSpan(0, 2)
    big = [f"print {n}" for n in range(500)]
    assert enclosing_block(big, 250) == LineSpan(230, 270)
    assert enclosing_block(big, 3) == LineSpan(0, 23)


def test_extract_code_prefers_the_bbj_block() -> None:
    answer = "Look:\n```text\nnot this\n```\nand\n```BBj\nprint 1\nnext i\n```\n"
    assert extract_code(answer) == "print 1\nnext i"
    assert extract_code("```\nprint 2\n```") == "print 2"
    assert extract_code("no code here") is None
    assert extract_code("```bbj\nunterminated fence") is None


def test_replace_span_reports_where_the_new_code_lies() -> None:
    patched, span = replace_span(["a", "b", "c", "d"], LineSpan(1, 2), "x\ny\nz")
    assert patched == "a\nx\ny\nz\nd"
    assert span == LineSpan(1, 3)


def test_fix_passes_only_without_errors_in_the_fix_and_with_fewer_overall() -> None:
    patched = LineSpan(4, 9)
    assert fix_passes([5], [], patched)
    assert fix_passes([5, 30], [30], patched)  # an unrelated error elsewhere remains
    assert not fix_passes([5], [6], patched)  # line 6 (1-based) is inside the fix
    assert not fix_passes([30], [30], patched)  # nothing got better
    assert not fix_passes([5], [0], patched)  # an error without a line counts as inside


# --- code actions and completion items ------------------------------------------------------


def test_quickfix_kinds() -> None:
    assert wants_quickfix(None)
    assert wants_quickfix([types.CodeActionKind.QuickFix])
    assert wants_quickfix([""])
    assert not wants_quickfix([types.CodeActionKind.Refactor, types.CodeActionKind.Source])


def test_completion_item_label_and_edit() -> None:
    position = types.Position(line=2, character=4)
    item = completion_item(CursorCompletion("\n  print x$\nnext i", position))
    assert item.label == "print x$"
    assert item.insert_text_format == types.InsertTextFormat.PlainText
    assert isinstance(item.text_edit, types.TextEdit)
    assert item.text_edit.range == types.Range(start=position, end=position)
    assert item.text_edit.new_text == "\n  print x$\nnext i"


def test_wire_hunks_keep_the_newest_within_the_daemons_character_limit() -> None:
    from daemon.config import NextEditSettings
    from lsp.features.next_edit import wire_hunks

    history = EditHistory()
    for name in "abc":
        history.open(f"{name}.bbj", "x = 1\n")
        history.update(f"{name}.bbj", f"rem {name * 7000}\n")
    sent = wire_hunks(history)
    chars = sum(len(h["original"]) + len(h["updated"]) for h in sent)
    assert chars <= NextEditSettings().max_history_chars
    assert [h["path"] for h in sent] == ["b.bbj", "c.bbj"]


def test_file_path_of_a_windows_uri_has_no_leading_slash() -> None:
    from lsp.features.workspace import file_path

    path = file_path("file:///c%3A/Users/me/My%20App/Order.bbj")
    assert path is not None and not path.startswith("/")
    assert path.replace("\\", "/").lower() == "c:/users/me/my app/order.bbj"
    assert file_path("file:///home/me/Order.bbj") == "/home/me/Order.bbj"
    assert file_path("untitled:Untitled-1") is None
