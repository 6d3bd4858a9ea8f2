"""Next-edit suggestions, pure: the prompt format, the window around the cursor, edit-history
hunks, the diff of the model's window into minimal edits, and the undo guard.

Nothing here does I/O; the daemon serves with it and the trainer builds samples with it.
"""

from fim.next_edit.diffing import minimal_edits
from fim.next_edit.format import NEXT_EDIT_FORMATS, SWEEP_QWEN, NextEditFormat
from fim.next_edit.history import EditHistory, Hunk, Region, bounded, changed_region, diff_hunk
from fim.next_edit.prompt import (
    NextEditPrompt,
    NextEditState,
    build_prompt,
    fit_prompt,
    last_hunk_of,
)
from fim.next_edit.text import (
    CursorOutOfRangeError,
    NextEditInputError,
    Position,
    TextEdit,
    apply_edits,
    split_lines,
)
from fim.next_edit.undo import revert, undoes
from fim.next_edit.window import Window, extract_window

__all__ = [
    "NEXT_EDIT_FORMATS",
    "SWEEP_QWEN",
    "CursorOutOfRangeError",
    "EditHistory",
    "Hunk",
    "NextEditFormat",
    "NextEditInputError",
    "NextEditPrompt",
    "NextEditState",
    "Position",
    "Region",
    "TextEdit",
    "Window",
    "apply_edits",
    "bounded",
    "build_prompt",
    "changed_region",
    "diff_hunk",
    "extract_window",
    "fit_prompt",
    "last_hunk_of",
    "minimal_edits",
    "revert",
    "split_lines",
    "undoes",
]
