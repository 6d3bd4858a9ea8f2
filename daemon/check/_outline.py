"""The outline of a BBj program: what other files can use from it, and what it uses.

Built on the checker's tokenizer and logical lines (continuation lines joined, line numbers and
labels taken off), so what the workspace index sees is what the checker parses: classes and
interfaces, their fields and methods with signatures and ``rem /** … */`` doc comments, labels,
``DEF FN`` functions, ``use`` statements, programs run with ``CALL "prog.bbj"`` and the
``ENTER`` parameter lists, plus the types of object variables (``declare`` and ``= new``) that
FIM context needs for the object before the cursor. Bodies are never kept.

Only lines whose first word is a declaration keyword (or that mention ``new``) are tokenized, so
an outline costs a fraction of a full check.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from daemon.check._lexer import LogicalLine, logical_lines, token_starts, tokenize

_FIRST_WORD = re.compile(r"[ \t]*([A-Za-z_]\w*[$%!@]?)")
_KEYWORDS = frozenset(
    {
        "class",
        "interface",
        "classend",
        "interfaceend",
        "field",
        "method",
        "methodend",
        "def",
        "use",
        "call",
        "enter",
        "declare",
        "rem",
    }
)
_MODIFIERS = frozenset(
    {"public", "private", "protected", "static", "abstract", "final", "override", "native"}
)
_OPTION_WORDS = frozenset({"err", "end", "dom", "key", "ind", "tbl", "mode", "siz", "tim"})


@dataclass(frozen=True)
class OutlineSymbol:
    """One named thing a program defines.

    ``kind`` is class, interface, field, method, label or function; ``container`` the class
    a field or method belongs to; ``type_name`` a field's type or a method's return type.
    """

    name: str
    kind: str
    line: int
    signature: str
    container: str | None = None
    doc: str = ""
    type_name: str = ""


@dataclass(frozen=True)
class UseRef:
    """``use ::path::Name`` (``path`` set) or ``use java.pkg.Name`` (``path`` None)."""

    name: str
    path: str | None
    line: int


@dataclass(frozen=True)
class CallRef:
    """``CALL "program.bbj"`` or ``CALL "program.bbj::label"`` with a literal program name."""

    program: str
    label: str | None
    line: int


@dataclass(frozen=True)
class EnterRef:
    """An ``ENTER`` parameter list; ``label`` is the label it follows (None: the program's)."""

    params: tuple[str, ...]
    label: str | None
    line: int


@dataclass(frozen=True)
class Outline:
    symbols: tuple[OutlineSymbol, ...] = ()
    uses: tuple[UseRef, ...] = ()
    calls: tuple[CallRef, ...] = ()
    enters: tuple[EnterRef, ...] = ()
    variables: tuple[tuple[str, str], ...] = ()
    """``(variable, type)`` from ``declare`` and ``var! = new Type(…)``, in source order."""

    def classes(self) -> tuple[OutlineSymbol, ...]:
        return tuple(s for s in self.symbols if s.kind in ("class", "interface"))

    def members(self, container: str) -> tuple[OutlineSymbol, ...]:
        return tuple(s for s in self.symbols if s.container == container)


def outline(code: str) -> Outline:
    """The outline of ``code`` (never raises on broken code: what parses is kept)."""
    builder = _Builder()
    for line in logical_lines(code):
        builder.feed(line)
    return builder.result()


_NOT_A_DECLARATION = re.compile(
    r"^(?![ \t]*(?:\d+[ \t]+)?(?:[A-Za-z_]\w*:(?!:)|:|(?:class|interface|classend|interfaceend"
    r"|field|method|def|use|call|enter|rem)\b))[^\n]*",
    re.IGNORECASE | re.MULTILINE,
)


def declarations(code: str) -> Outline:
    """:func:`outline` without object variable types, for the workspace index: every other
    line is blanked first in one regex pass (line numbers stay), so only declarations, labels,
    comments and continuation lines reach the tokenizer."""
    return outline(_NOT_A_DECLARATION.sub("", code))


class _Builder:
    def __init__(self) -> None:
        self.symbols: list[OutlineSymbol] = []
        self.uses: list[UseRef] = []
        self.calls: list[CallRef] = []
        self.enters: list[EnterRef] = []
        self.variables: list[tuple[str, str]] = []
        self.classes: list[str] = []
        self.label: str | None = None
        self.doc: list[str] | None = None
        self.doc_done = ""

    def result(self) -> Outline:
        return Outline(
            tuple(self.symbols),
            tuple(self.uses),
            tuple(self.calls),
            tuple(self.enters),
            tuple(self.variables),
        )

    def feed(self, line: LogicalLine) -> None:
        if line.label is not None and not self.classes:
            self.label = line.label
            self.symbols.append(OutlineSymbol(line.label, "label", line.line, line.label + ":"))
        match = _FIRST_WORD.match(line.text)
        first = match.group(1).lower() if match else ""
        if first == "rem":
            self._doc_line(line.text[match.end() :] if match else "")
            return
        doc, self.doc_done, self.doc = self.doc_done, "", None
        if first in _KEYWORDS:
            tokens, text = _statement(line.text)
            getattr(self, "_" + first)(tokens, text, line.line, doc)
        elif "new" in line.text.lower():
            self._assignment(_statement(line.text)[0])

    # doc comments -------------------------------------------------------------------------
    def _doc_line(self, rest: str) -> None:
        body = rest.strip()
        if self.doc is None:
            if not body.startswith("/**"):
                return
            self.doc, body = [], body[3:]
        ended = body.endswith("*/")
        body = body[:-2] if ended else body
        text = body.strip().lstrip("*").strip()
        if text:
            self.doc.append(text)
        if ended:
            self.doc_done, self.doc = " ".join(self.doc), None

    # declarations ---------------------------------------------------------------------------
    def _class(
        self, tokens: list[str], text: str, line: int, doc: str, kind: str = "class"
    ) -> None:
        words = _skip_modifiers(tokens[1:])
        if not words or not words[0][0].isalpha():
            return
        name = words[0]
        container = self.classes[-1] if self.classes else None
        self.symbols.append(OutlineSymbol(name, kind, line, text, container, doc))
        self.classes.append(name)

    def _interface(self, tokens: list[str], text: str, line: int, doc: str) -> None:
        self._class(tokens, text, line, doc, "interface")

    def _classend(self, tokens: list[str], text: str, line: int, doc: str) -> None:
        if self.classes:
            self.classes.pop()

    _interfaceend = _classend

    def _field(self, tokens: list[str], text: str, line: int, doc: str) -> None:
        words = _skip_modifiers(tokens[1:])
        if "=" in words:
            words = words[: words.index("=")]
        if len(words) < 2 or not self.classes:
            return
        name, type_name = words[-1], "".join(words[:-1])
        self.symbols.append(
            OutlineSymbol(name, "field", line, text, self.classes[-1], doc, type_name)
        )

    def _method(self, tokens: list[str], text: str, line: int, doc: str) -> None:
        words = _skip_modifiers(tokens[1:])
        head = words[: words.index("(")] if "(" in words else words
        if not head or not head[-1][0].isalpha() or not self.classes:
            return
        name, type_name = head[-1], "".join(head[:-1])
        self.symbols.append(
            OutlineSymbol(name, "method", line, text, self.classes[-1], doc, type_name)
        )

    def _methodend(self, tokens: list[str], text: str, line: int, doc: str) -> None:
        return

    def _def(self, tokens: list[str], text: str, line: int, doc: str) -> None:
        rest = tokens[1:]
        if len(rest) >= 2 and rest[0].lower() == "fn":
            rest = [rest[0] + rest[1], *rest[2:]]
        if not rest or not rest[0].lower().startswith("fn") or len(rest[0]) < 3:
            return
        signature = text.split("=", 1)[0].rstrip()
        self.symbols.append(OutlineSymbol(rest[0], "function", line, signature, None, doc))

    def _use(self, tokens: list[str], text: str, line: int, doc: str) -> None:
        if len(tokens) >= 3 and tokens[1].startswith("::") and tokens[1].endswith("::"):
            path = tokens[1][2:-2].strip()
            if path and tokens[2][0].isalpha():
                self.uses.append(UseRef(tokens[2], path, line))
        elif len(tokens) >= 2 and tokens[1][0].isalpha():
            qualified = "".join(tokens[1:])
            self.uses.append(UseRef(qualified.rsplit(".", 1)[-1], None, line))

    def _call(self, tokens: list[str], text: str, line: int, doc: str) -> None:
        if len(tokens) < 2 or not tokens[1].startswith('"') or len(tokens[1]) < 2:
            return
        target = tokens[1][1:-1]
        program, _, label = target.partition("::")
        if program:
            self.calls.append(CallRef(program, label or None, line))

    def _enter(self, tokens: list[str], text: str, line: int, doc: str) -> None:
        params = []
        for part in _split_commas(tokens[1:]):
            if not part or (len(part) > 1 and part[0].lower() in _OPTION_WORDS and part[1] == "="):
                continue
            params.append("".join(part))
        self.enters.append(EnterRef(tuple(params), self.label, line))

    def _declare(self, tokens: list[str], text: str, line: int, doc: str) -> None:
        words = tokens[1:]
        if words and words[0].lower() == "auto":
            words = words[1:]
        if len(words) >= 2 and words[-1][0].isalpha():
            self.variables.append((words[-1], "".join(words[:-1])))

    def _assignment(self, tokens: list[str]) -> None:
        start = 1 if tokens[:1] == ["#"] else 0
        if start and len(tokens) > 1:
            tokens = ["#" + tokens[1], *tokens[2:]]
        if tokens[:1] and tokens[0].lower() == "let":
            tokens = tokens[1:]
        if len(tokens) < 4 or tokens[1] != "=" or tokens[2].lower() != "new":
            return
        type_tokens = []
        for token in tokens[3:]:
            if token in ("(", "[") or token == ";":
                break
            type_tokens.append(token)
        if type_tokens:
            self.variables.append((tokens[0], "".join(type_tokens)))


def _statement(text: str) -> tuple[list[str], str]:
    """The tokens of the first statement of a line (up to ``;``) and its text, blanks squeezed."""
    tokens = tokenize(text)
    if ";" in tokens:
        cut = tokens.index(";")
        text = text[: token_starts(text)[cut]]
        tokens = tokens[:cut]
    return tokens, " ".join(text.split())


def _skip_modifiers(words: list[str]) -> list[str]:
    index = 0
    while index < len(words) and words[index].lower() in _MODIFIERS:
        index += 1
    return words[index:]


def _split_commas(tokens: list[str]) -> list[list[str]]:
    parts: list[list[str]] = [[]]
    depth = 0
    for token in tokens:
        if token in ("(", "["):
            depth += 1
        elif token in (")", "]"):
            depth -= 1
        if token == "," and depth == 0:
            parts.append([])
        else:
            parts[-1].append(token)
    return parts


def declared_type(variables: tuple[tuple[str, str], ...], name: str) -> str | None:
    """The last type recorded for variable ``name`` (exact spelling first, then any case)."""
    for var, type_name in reversed(variables):
        if var == name:
            return type_name
    folded = name.casefold()
    for var, type_name in reversed(variables):
        if var.casefold() == folded:
            return type_name
    return None


__all__ = [
    "CallRef",
    "EnterRef",
    "Outline",
    "OutlineSymbol",
    "UseRef",
    "declarations",
    "declared_type",
    "outline",
]
