"""The model's updated window → the smallest edits that turn the current window into it."""

from __future__ import annotations

import difflib

from fim.next_edit.text import Position, TextEdit, advance, common_affixes
from fim.next_edit.window import Window


def _trimmed(start: Position, old: str, new: str) -> TextEdit | None:
    """One edit replacing ``old`` (read from ``start``) by ``new``, less what they share."""
    if old == new:
        return None
    prefix, suffix = common_affixes(old, new)
    begin = advance(start, old[:prefix])
    end = advance(begin, old[prefix : len(old) - suffix])
    return TextEdit(begin, end, new[prefix : len(new) - suffix])


def _line_pairs(
    opcodes: list[tuple[str, int, int, int, int]],
) -> list[tuple[str, int, int, int, int]]:
    """A replacement of n lines by n lines as n one-line replacements, so each is trimmed on
    its own (a rename on three lines is three small edits, not one block)."""
    pairs: list[tuple[str, int, int, int, int]] = []
    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "replace" and i2 - i1 == j2 - j1:
            pairs += [("replace", i1 + k, i1 + k + 1, j1 + k, j1 + k + 1) for k in range(i2 - i1)]
        else:
            pairs.append((tag, i1, i2, j1, j2))
    return pairs


def minimal_edits(window: Window, updated_lines: list[str]) -> list[TextEdit]:
    """Edits in document coordinates, in order, none overlapping; empty when nothing changed."""
    old = list(window.lines)
    matcher = difflib.SequenceMatcher(None, old, updated_lines, autojunk=False)
    edits: list[TextEdit] = []
    for tag, i1, i2, j1, j2 in _line_pairs(matcher.get_opcodes()):
        if tag == "equal":
            continue
        old_lines, new_lines = old[i1:i2], updated_lines[j1:j2]
        if i2 < len(old):
            # Replace whole lines including their newlines: [i1, 0) .. (i2, 0).
            start = Position(window.start + i1, 0)
            old_text = "".join(line + "\n" for line in old_lines)
            new_text = "".join(line + "\n" for line in new_lines)
        elif i1 > 0:
            # At the window's end: take the newline before the block instead.
            start = Position(window.start + i1 - 1, len(old[i1 - 1]))
            old_text = "".join("\n" + line for line in old_lines)
            new_text = "".join("\n" + line for line in new_lines)
        else:
            start = Position(window.start, 0)
            old_text, new_text = "\n".join(old_lines), "\n".join(new_lines)
        edit = _trimmed(start, old_text, new_text)
        if edit is not None:
            edits.append(edit)
    return edits
