"""The undo guard: a suggestion that takes back what the user just did is never shown."""

from __future__ import annotations

from fim.next_edit.history import Hunk
from fim.next_edit.text import common_affixes, split_lines


def _net_change(before: str, after: str) -> tuple[str, str]:
    """(removed, added): what differs once the common prefix and suffix are cut off."""
    prefix, suffix = common_affixes(before, after)
    return before[prefix : len(before) - suffix], after[prefix : len(after) - suffix]


def revert(lines: list[str], hunk: Hunk) -> list[str] | None:
    """``lines`` with ``hunk`` taken back, or None when its lines are no longer there."""
    end = hunk.start_line + len(hunk.updated)
    if tuple(lines[hunk.start_line : end]) != hunk.updated:
        return None
    return [*lines[: hunk.start_line], *hunk.original, *lines[end:]]


def undoes(current: str, suggested: str, last: Hunk | None) -> bool:
    """True when going from ``current`` to ``suggested`` reverses the ``last`` edit: it brings
    back the document as it was, or removes exactly what the edit added and restores exactly
    what it removed."""
    if last is None or current == suggested:
        return False
    reverted = revert(split_lines(current), last)
    if reverted is not None and reverted == split_lines(suggested):
        return True
    removed, added = _net_change("\n".join(last.original), "\n".join(last.updated))
    if not removed and not added:
        return False
    gone, back = _net_change(current, suggested)
    return gone == added and back == removed
