"""The BBj language table: data shared by FIM post-processing, generation detection and the checker.

Keywords are case-insensitive in BBj; every name here is lower case and callers compare with
``word.lower()``.
"""

from __future__ import annotations

from dataclasses import dataclass

SOURCE_EXTENSIONS: tuple[str, ...] = (".bbj", ".src", ".bbjt", ".bbl", ".bbx")
"""File extensions that hold BBj source."""

COMMENT_KEYWORD = "rem"
"""``REM`` starts a comment that runs to the end of the line (also after a ``;`` separator)."""

STATEMENT_SEPARATOR = ";"
CONTINUATION_CHAR = ":"
"""A physical line that starts with ``:`` continues the previous logical line."""


@dataclass(frozen=True)
class BlockPair:
    """A block opener and the keywords that may close it."""

    opener: str
    closers: tuple[str, ...]
    middles: tuple[str, ...] = ()


BLOCK_PAIRS: tuple[BlockPair, ...] = (
    BlockPair("class", ("classend",)),
    BlockPair("interface", ("interfaceend",)),
    BlockPair("method", ("methodend",)),
    BlockPair("for", ("next",)),
    BlockPair("while", ("wend",)),
    BlockPair("repeat", ("until",)),
    BlockPair("switch", ("swend",), middles=("case", "default")),
    BlockPair("if", ("fi", "endif"), middles=("else", "elseif")),
    BlockPair("def", ("fnend",)),
)

BLOCK_OPENERS: frozenset[str] = frozenset(pair.opener for pair in BLOCK_PAIRS)
BLOCK_CLOSERS: frozenset[str] = frozenset(c for pair in BLOCK_PAIRS for c in pair.closers)
CLOSER_TO_OPENER: dict[str, str] = {c: pair.opener for pair in BLOCK_PAIRS for c in pair.closers}

VERB_SHAPES: dict[str, tuple[str, ...]] = {
    # an optional (channel, OPTION=value, …) list, then items: PRINT (1)'CS',@(0,0),x$
    "channel, items": (
        *("print", "write", "read", "input", "extract", "find", "inpute", "inputn"),
        *("printrecord", "writerecord", "readrecord", "inputrecord", "extractrecord"),
        "findrecord",
    ),
    # the (channel, …) list alone: CLOSE (1), REMOVE (1,KEY=k$), CALLBACK(ON_X,"lbl",ctx)
    "channel": (
        *("close", "remove", "lock", "unlock", "sqlclose", "sqlcommit", "sqlrollback"),
        *("resclose", "lcheckin", "lcheckout", "callback", "remove_callback"),
    ),
    "channel, value": ("open", "chanopt", "sqlopen", "sqlprep"),  # OPEN (1)"file"
    "channel, values": ("sqlexec", "sqlset"),  # SQLEXEC (1)a$,b
    "optional channel": ("dump", "settrace"),
    # comma-separated values and options: CALL "pgm",ERR=*NEXT,a$
    "values": (
        *("call", "run", "enter", "wait", "throw", "execute", "prefix", "setopts", "precision"),
        *("drop", "string", "addr", "direct", "mkeyed", "vkeyed", "xkeyed", "background"),
        *("mkdir", "rmdir", "chdir", "erase", "initfile", "save", "savep", "start", "fnerr"),
        *("clearp", "setday", "settime", "setterm", "fulltext", "indexed", "fileopt", "xcall"),
        *("clipfromstr", "clipfromfile", "cliptofile", "clipclear", "cliplock", "clipunlock"),
        *("updatelic", "process_events", "redim", "dim", "data", "iolist", "setdrive"),
        *("serial", "enable", "disable", "cisam"),
    ),
    "nothing": (
        *("break", "bye", "continue", "end", "escape", "retry", "reset", "stop", "endtrace"),
        *("floatingpoint", "denum", "repeat", "wend", "swend", "methodend", "classend"),
        *("interfaceend", "fnend", "default", "fi", "endif"),
    ),
    "optional value": ("return", "methodret", "release", "exit"),
    # syntax of their own (RENAME a TO b, TABLE ff00aa, SELECT … FROM …)
    "own syntax": (
        *("table", "select", "rename", "file", "xfile", "list", "load", "merge", "edit"),
        *("delete", "sort", "begin", "clear"),
    ),
    "label": ("goto", "gosub", "exitto", "seterr", "setesc", "restore"),
    "structure": (
        *("if", "else", "for", "next", "while", "until", "switch", "case", "def", "on"),
        *("class", "interface", "method", "field", "declare", "use", "let"),
    ),
}
"""Every verb (word that starts a statement), grouped by the shape of what follows it."""

VERBS: frozenset[str] = frozenset(v for verbs in VERB_SHAPES.values() for v in verbs)

KEYWORDS: frozenset[str] = frozenset(
    {
        "rem",
        "let",
        "print",
        "input",
        "if",
        "then",
        "else",
        "elseif",
        "fi",
        "endif",
        "for",
        "to",
        "step",
        "next",
        "while",
        "wend",
        "repeat",
        "until",
        "switch",
        "case",
        "default",
        "swend",
        "break",
        "continue",
        "goto",
        "gosub",
        "return",
        "end",
        "stop",
        "release",
        "dim",
        "def",
        "fn",
        "fnend",
        "enter",
        "exit",
        "escape",
        "seterr",
        "setesc",
        "on",
        "open",
        "close",
        "read",
        "write",
        "record",
        "extract",
        "find",
        "remove",
        "key",
        "ind",
        "err",
        "dom",
        "tbl",
        "siz",
        "iol",
        "mode",
        "class",
        "classend",
        "interface",
        "interfaceend",
        "method",
        "methodend",
        "field",
        "public",
        "private",
        "protected",
        "static",
        "extends",
        "implements",
        "declare",
        "use",
        "new",
        "null",
        "methodret",
        "throw",
        "try",
        "catch",
        "wait",
        "callback",
        "process_events",
        "call",
        "run",
        "and",
        "or",
        "not",
        "sysgui",
        "chr",
        "str",
        "num",
        "len",
        "pos",
        "cvs",
    }
)
"""Reserved words and common verbs (not exhaustive; enough for tokenising and detection)."""


def first_word(line: str) -> str:
    """Return the first keyword-like word of a source line, lower-cased ("" when none).

    Leading line numbers (legacy programs: ``0010 PRINT ...``) and labels are skipped.
    """
    stripped = line.strip()
    parts = stripped.split(None, 1)
    if parts and parts[0].isdigit():
        stripped = parts[1] if len(parts) > 1 else ""
    word = []
    for ch in stripped:
        if ch.isalnum() or ch == "_":
            word.append(ch)
        else:
            break
    return "".join(word).lower()
