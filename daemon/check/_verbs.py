"""The syntax of each BBj verb, as handlers of the statement parser.

A handler is called with the parser just past the verb and returns NORMAL, PREFIX or DONE
(see :mod:`daemon.check._statements`). Most verbs share one of a few shapes, after the BBj
language server's grammar:

- channel verbs: ``PRINT (ch,ERR=…)'CS',@(x,y),a$:"mask",``; ``READ RECORD (ch,KEY=k$)r$``;
  ``OPEN (ch,MODE="…")name$``; ``CLOSE (ch)``; ``CALLBACK(ON_X,"lbl",ctx)``
- list verbs: ``CALL "pgm",ERR=*NEXT,a$``, ``DIM a$(10),b[5,3],rec$:"tpl"``,
  ``THROW "msg",300``, ``PROCESS_EVENTS,ERR=*SAME``
- label verbs: ``GOTO``, ``GOSUB``, ``EXITTO``, ``SETERR``, ``SETESC``, ``RESTORE``
- bare verbs (``BREAK``, ``END``, ``STOP`` …) and verbs with an optional value (``RETURN x``)
- block verbs and the object system (``CLASS``, ``METHOD``, ``FIELD``, ``DECLARE``, ``USE``)

Verbs with syntax of their own that checking would only get wrong (``TABLE``, ``SELECT``,
``RENAME … TO``) accept the rest of their statement unexamined.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from daemon.check._expressions import Expected, describe, is_word
from fim.language import VERB_SHAPES

if TYPE_CHECKING:
    from daemon.check._statements import LineParser

NORMAL, PREFIX, DONE = 0, 1, 2
"""What a handler returns: a ``;`` or the line's end must follow / a statement follows
directly (after THEN, ELSE) / the rest of the line is used up (a comment, a block IF)."""

Handler = Callable[["LineParser"], int]

MODIFIERS = frozenset({"public", "private", "protected", "static", "abstract", "final"})


# ------------------------------------------------------------------------ shapes
def items(p: LineParser) -> None:
    """A comma-separated list of expressions, options (``ERR=*NEXT``) and ``*``; a trailing
    comma is allowed (PRINT without a line feed)."""
    toks = p.toks
    while not p.at_statement_end():
        p.argument()
        token = toks[p.i]
        if token == ",":
            p.i += 1
            continue
        if p.at_statement_end():
            return
        raise Expected(
            p.i,
            f"expected `,` after {describe(toks[p.i - 1])}, found {describe(token)}",
        )


def channel_verb(p: LineParser) -> int:
    """``PRINT``, ``READ``, ``WRITE``, ``INPUT``, ``EXTRACT``, ``FIND`` (and their RECORD
    forms): an optional channel list, then items."""
    toks = p.toks
    if toks[p.i].lower() == "record":
        p.i += 1
    if toks[p.i] == "(":
        p.arguments(")")
        if toks[p.i] == ",":
            p.i += 1
    items(p)
    return NORMAL


def channel(p: LineParser) -> None:
    """The ``(channel, OPTION=value, …)`` list that some verbs cannot do without."""
    if p.toks[p.i] != "(":
        verb = p.toks[p.statement_start]
        raise Expected(p.i, f"expected `(` after `{verb}`, found {describe(p.toks[p.i])}")
    p.arguments(")")


def channel_only(p: LineParser) -> int:
    """``CLOSE (ch)``, ``REMOVE (ch,KEY=k$)``, ``LOCK (ch)``, ``CALLBACK(ON_X,"lbl",ctx)``."""
    channel(p)
    return NORMAL


def channel_then_value(p: LineParser) -> int:
    """``OPEN (ch,MODE="…")name$``, ``SQLPREP (ch)sql$``, ``CHANOPT (ch)opts$``."""
    channel(p)
    p.expression()
    return NORMAL


def channel_then_items(p: LineParser) -> int:
    """``SQLEXEC (ch)a$,b``: the channel, then optional values."""
    channel(p)
    items(p)
    return NORMAL


def optional_channel(p: LineParser) -> int:
    """``DUMP``, ``SETTRACE (ch)``."""
    if p.toks[p.i] == "(":
        p.arguments(")")
    return NORMAL


def list_verb(p: LineParser) -> int:
    """``CALL``, ``RUN``, ``DIM``, ``THROW``, ``ENTER``, ``WAIT`` …"""
    if p.toks[p.i] == ",":
        p.i += 1
    items(p)
    return NORMAL


def bare_verb(p: LineParser) -> int:
    return NORMAL


def optional_value(p: LineParser) -> int:
    """``RETURN``, ``METHODRET``, ``RELEASE``, ``EXIT``: a value may follow."""
    if not p.at_statement_end():
        p.expression()
    return NORMAL


def unexamined(p: LineParser) -> int:
    """Verbs whose arguments follow rules of their own: the rest of the statement is taken."""
    while not p.at_statement_end():
        p.i += 1
    return NORMAL


def label(p: LineParser, optional: bool = False) -> None:
    token = p.toks[p.i]
    if is_word(token) or token.isdigit():
        p.i += 1
        return
    if optional and p.at_statement_end():
        return
    verb = p.toks[p.statement_start]
    raise Expected(p.i, f"expected a label or line number after `{verb}`, found {describe(token)}")


def label_verb(p: LineParser) -> int:
    label(p)
    return NORMAL


def restore(p: LineParser) -> int:
    label(p, optional=True)
    return NORMAL


def on_goto(p: LineParser) -> int:
    """``ON x GOTO a, b, c`` / ``ON x GOSUB …``."""
    p.expression()
    word = p.toks[p.i].lower()
    if word not in ("goto", "gosub"):
        raise Expected(p.i, f"expected `goto` or `gosub`, found {describe(p.toks[p.i])}")
    p.i += 1
    label(p)
    while p.toks[p.i] == ",":
        p.i += 1
        label(p)
    return NORMAL


# ------------------------------------------------------------------------ blocks
def for_loop(p: LineParser) -> int:
    """``FOR i = 1 TO n STEP 2``."""
    keyword = p.i - 1
    variable = p.toks[p.i]
    p.open_block("for", keyword, var=variable.lower() if is_word(variable) else None)
    p.target()
    p.expect("=", "`=` after the loop variable")
    p.expression()
    if p.toks[p.i].lower() != "to":
        raise Expected(p.i, f"expected `to` in the `for` statement, found {describe(p.toks[p.i])}")
    p.i += 1
    p.expression()
    if p.toks[p.i].lower() == "step":
        p.i += 1
        p.expression()
    return NORMAL


def next_loop(p: LineParser) -> int:
    keyword = p.i - 1
    toks = p.toks
    variable = None
    if is_word(toks[p.i]) and not p.at_statement_end():
        variable = toks[p.i].lower()
        p.i += 1
        while toks[p.i] == "," and is_word(toks[p.i + 1]):  # NEXT I, J
            p.i += 2
    p.close_block("next", keyword, variable)
    return NORMAL


def opener_with_condition(p: LineParser) -> int:
    """``WHILE x``, ``SWITCH x``."""
    keyword = p.i - 1
    p.open_block(p.toks[keyword].lower(), keyword)
    p.expression()
    return NORMAL


def until(p: LineParser) -> int:
    p.close_block("until", p.i - 1)
    p.expression()
    return NORMAL


def repeat(p: LineParser) -> int:
    p.open_block("repeat", p.i - 1)
    return NORMAL


def closer(p: LineParser) -> int:
    """``WEND``, ``SWEND``, ``METHODEND``, ``CLASSEND``, ``INTERFACEEND``, ``FNEND``."""
    keyword = p.i - 1
    p.close_block(p.toks[keyword].lower(), keyword)
    return NORMAL


def case(p: LineParser) -> int:
    """``CASE 1``, ``CASE "a","b"``, ``CASE DEFAULT``."""
    p.middle("switch", "case", p.i - 1)
    if p.toks[p.i].lower() == "default":
        p.i += 1
        return NORMAL
    p.expression()
    while p.toks[p.i] == ",":
        p.i += 1
        p.expression()
    return NORMAL


def default(p: LineParser) -> int:
    p.middle("switch", "default", p.i - 1)
    return NORMAL


def define_function(p: LineParser) -> int:
    """``DEF FNA(X)=X*2`` on one line, or ``DEF FNTOTAL(A,B)`` … ``FNEND``."""
    keyword = p.i - 1
    toks = p.toks
    end = p.i
    while toks[end] and toks[end] != ";":
        end += 1
    single_line = "=" in toks[p.i : end]
    if not single_line:
        p.open_block("def", keyword)
    if p.name("a function name after `def`").lower() == "fn" and is_word(toks[p.i]):
        p.i += 1  # DEF FN A(X)
    if toks[p.i] == "(":
        parameters(p, typed=False)
    if toks[p.i] == "=":
        p.i += 1
        p.expression()
    return NORMAL


# ------------------------------------------------------------------ object system
def modifiers(p: LineParser) -> bool:
    """Skip PUBLIC, STATIC, ABSTRACT …; return whether ABSTRACT was among them."""
    abstract = False
    while p.toks[p.i].lower() in MODIFIERS:
        abstract = abstract or p.toks[p.i].lower() == "abstract"
        p.i += 1
    return abstract


def type_list(p: LineParser) -> None:
    p.type_name()
    while p.toks[p.i] == ",":
        p.i += 1
        p.type_name()


def class_or_interface(p: LineParser) -> int:
    """``CLASS PUBLIC Name EXTENDS A IMPLEMENTS B, C`` / ``INTERFACE PUBLIC Name EXTENDS A``."""
    keyword = p.i - 1
    p.event("open_type", keyword, p.toks[keyword].lower())
    modifiers(p)
    p.name("a class name")
    while p.toks[p.i].lower() in ("extends", "implements"):
        p.i += 1
        type_list(p)
    return NORMAL


def parameters(p: LineParser, typed: bool = True) -> None:
    """``(BBjString name$, BBjNumber[] values!)``, or untyped ``(A, B$)`` for DEF FN."""
    toks = p.toks
    p.expect("(")
    if toks[p.i] == ")":
        p.i += 1
        return
    while True:
        if typed:
            p.type_name()
        p.name("a parameter name")
        if toks[p.i] == ",":
            p.i += 1
            continue
        if toks[p.i] == ")":
            p.i += 1
            return
        raise Expected(
            p.i, f"expected `,` or `)` in the parameter list, found {describe(toks[p.i])}"
        )


def method(p: LineParser) -> int:
    """``METHOD PUBLIC STATIC BBjString[] name(BBjNumber x)``; constructors have no type."""
    keyword = p.i - 1
    toks = p.toks
    abstract = modifiers(p)
    p.event("open_method", keyword, abstract)
    if not (is_word(toks[p.i]) and toks[p.i + 1] == "("):
        p.type_name()
    p.name("a method name")
    parameters(p)
    return NORMAL


def field(p: LineParser) -> int:
    """``FIELD PRIVATE STATIC BBjNumber Count = 0``."""
    modifiers(p)
    p.type_name()
    p.name("a field name")
    if p.toks[p.i] == "=":
        p.i += 1
        p.expression()
    return NORMAL


def declare(p: LineParser) -> int:
    """``DECLARE AUTO BBjTopLevelWindow wnd!``."""
    if p.toks[p.i].lower() == "auto":
        p.i += 1
    p.type_name()
    p.name("a variable name")
    return NORMAL


def use(p: LineParser) -> int:
    """``USE ::lib/util.bbj::Helper`` or ``USE java.util.HashMap``."""
    toks = p.toks
    p.type_name()
    if toks[p.i] == "." and toks[p.i + 1] == "*":
        p.i += 2
    return NORMAL


def let(p: LineParser) -> int:
    p.assignment_or_call()
    return NORMAL


# --------------------------------------------------------------------- the table
_SHAPES: dict[str, Handler] = {
    "channel, items": channel_verb,
    "channel": channel_only,
    "channel, value": channel_then_value,
    "channel, values": channel_then_items,
    "optional channel": optional_channel,
    "values": list_verb,
    "nothing": bare_verb,
    "optional value": optional_value,
    "own syntax": unexamined,
    "label": label_verb,
}
_OWN_HANDLERS: dict[str, Handler] = {
    "restore": restore,
    "on": on_goto,
    "for": for_loop,
    "next": next_loop,
    "while": opener_with_condition,
    "switch": opener_with_condition,
    "until": until,
    "repeat": repeat,
    "case": case,
    "default": default,
    "def": define_function,
    "class": class_or_interface,
    "interface": class_or_interface,
    "method": method,
    "field": field,
    "declare": declare,
    "use": use,
    "let": let,
    "if": lambda p: p.if_statement(),
    "else": lambda p: p.else_statement(),
    "fi": lambda p: p.fi_statement(),
    "endif": lambda p: p.fi_statement(),
    **dict.fromkeys(("wend", "swend", "methodend", "classend", "interfaceend", "fnend"), closer),
}


def _table() -> dict[str, Handler]:
    """A handler for every verb of the language table (fim.language.VERB_SHAPES): its own
    when the verb has one (block keywords, declarations), else its shape's."""
    table: dict[str, Handler] = {}
    for shape, verbs in VERB_SHAPES.items():
        for verb in verbs:
            handler = _OWN_HANDLERS.get(verb) or _SHAPES.get(shape)
            if handler is None:
                raise LookupError(f"no handler for the verb {verb!r} ({shape})")
            table[verb] = handler
    return table


VERBS: dict[str, Handler] = _table()
"""Every verb the parser knows, lower case, with its handler."""
