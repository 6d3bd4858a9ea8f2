"""FIM post-processing: a chain of small named filters, each ``(completion, ctx) -> str``.

Most filters cut the completion before some line.  Cuts never separate a ``:`` continuation
line from its statement: no filter chooses a continuation line as its cut point.  The same
cutters drive :func:`early_stop_index`, which a streaming generation loop calls to stop as soon
as the chain would cut anyway.

Lines are judged on the *full* cursor line: the completion's first line is appended to the text
before the cursor.

Three layers, each importing only those below it: :mod:`~fim.postprocess.blocks` (BBj block
structure), :mod:`~fim.postprocess.cursor` (:class:`FimContext`, the text around the cursor)
and :mod:`~fim.postprocess.filters` (the filters, the default chain, early stopping).
"""

from fim.postprocess.blocks import (
    BlockEvent,
    OpenBlock,
    block_events,
    find_open_blocks,
    indent_width,
    is_continuation,
)
from fim.postprocess.cursor import MAX_SCAN_LINES, FimContext
from fim.postprocess.filters import (
    DEFAULT_CHAIN,
    LONG_LINE_CHARS,
    Cutter,
    Filter,
    apply_chain,
    drop_closers_in_suffix,
    drop_empty,
    drop_repeat_of_previous_line,
    early_stop_index,
    keep_continuation_lines,
    postprocess,
    single_line_mid_statement,
    stop_at_dedent,
    stop_at_suffix_overlap,
    trim_trailing_whitespace,
)

__all__ = [
    "DEFAULT_CHAIN",
    "LONG_LINE_CHARS",
    "MAX_SCAN_LINES",
    "BlockEvent",
    "Cutter",
    "Filter",
    "FimContext",
    "OpenBlock",
    "apply_chain",
    "block_events",
    "drop_closers_in_suffix",
    "drop_empty",
    "drop_repeat_of_previous_line",
    "early_stop_index",
    "find_open_blocks",
    "indent_width",
    "is_continuation",
    "keep_continuation_lines",
    "postprocess",
    "single_line_mid_statement",
    "stop_at_dedent",
    "stop_at_suffix_overlap",
    "trim_trailing_whitespace",
]
