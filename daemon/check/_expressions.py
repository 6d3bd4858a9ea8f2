"""BBj expressions: a recognizer over one logical line's tokens.

Grammar (after the BBj language server's ``bbj.langium``)::

    expression := operand (binary-operator operand)* ; ':' is the lowest: masks, verify lists
    operand    := ('-' | '+' | '!')* primary postfix*
    primary    := number | string | $hex$ | 'mnemonic' ['(' args ')'] | '@' '(' args ')'
                | '(' expression ')' | ['#'] name | 'new' type ('(' args ')' | '[' args ']')
                | ::file.bbj::Class
    postfix    := '(' args ')' | '[' args ']' | '.' name
    args       := [arg (',' arg)*]    arg := name '=' '*'label | '*' | expression

BBj's precedence (AND/OR, then relations, +/-, * and /, ^, prefix signs) decides how a valid
expression is evaluated, never whether a token sequence is one, so the recognizer checks the
operand/operator alternation and bracket pairing and builds no tree. Errors are raised as
:class:`Expected` with the index of the offending token.
"""

from __future__ import annotations

from daemon.check._lexer import is_terminated
from daemon.check._types import CheckError

BINARY_OPERATORS = frozenset(
    {"+", "-", "*", "/", "^", "=", "<", ">", "<>", "<=", ">=", "=<", "=>", "><", ":"}
)
BINARY_WORDS = frozenset({"and", "or"})
PREFIX_OPERATORS = frozenset({"-", "+", "!"})
NOT_AN_OPERAND = frozenset(
    {"then", "else", "goto", "gosub", "and", "or", "fi", "endif", "rem", "methodend"}
)
"""Words that can never start an operand: finding one means the operand is missing."""
MAX_NESTING = 120
_WORD_START = frozenset("_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_OTHER_OPERAND_START = frozenset("0123456789\"$'.(@#:")
_CLOSERS = {"(": ")", "[": "]"}
_UNTERMINATED = {
    '"': 'unterminated string: expected a closing `"`',
    "$": "unterminated hex string: expected a closing `$`",
    "'": "unterminated mnemonic: expected a closing `'`",
    ":": "unterminated file path: expected a closing `::`",
}


class Expected(CheckError):
    """A syntax error at token ``index``; the message says what was expected there."""

    def __init__(self, index: int, message: str) -> None:
        super().__init__(message)
        self.index = index
        self.message = message


def describe(token: str) -> str:
    """A token as messages show it."""
    if not token:
        return "the end of the line"
    if len(token) > 24:
        token = token[:20] + "…"
    return f"`{token}`"


def is_word(token: str) -> bool:
    return bool(token) and (token[0] in _WORD_START or token[0].isalpha())


def starts_operand(token: str) -> bool:
    """Could ``token`` begin an expression? (Used where an expression is optional.)"""
    if not token:
        return False
    first = token[0]
    if first in _WORD_START or first.isalpha():
        return token.lower() not in NOT_AN_OPERAND
    return first in _OTHER_OPERAND_START or token in PREFIX_OPERATORS


class ExpressionParser:
    """Walks ``self.toks`` (the line's tokens plus a final ``""``) from ``self.i``."""

    toks: list[str]
    i: int

    def __init__(self) -> None:
        self.toks = [""]
        self.i = 0
        self.depth = 0

    # ---------------------------------------------------------------- helpers
    def expected_operand(self) -> Expected:
        index = self.i
        token = self.toks[index]
        previous = self.toks[index - 1] if index > 0 else ""
        after = f" after {describe(previous)}" if previous else ""
        found = f", found {describe(token)}" if token else ""
        return Expected(index, f"expected an expression{after}{found}")

    def unterminated(self, index: int) -> Expected:
        return Expected(index, _UNTERMINATED[self.toks[index][0]])

    def expect(self, token: str, what: str | None = None) -> None:
        if self.toks[self.i] != token:
            found = self.toks[self.i]
            raise Expected(self.i, f"expected {what or describe(token)}, found {describe(found)}")
        self.i += 1

    def name(self, what: str = "a name") -> str:
        """Consume one word and return it."""
        token = self.toks[self.i]
        if not is_word(token):
            previous = self.toks[self.i - 1] if self.i else ""
            after = f" after {describe(previous)}" if previous else ""
            raise Expected(self.i, f"expected {what}{after}, found {describe(token)}")
        self.i += 1
        return token

    # ------------------------------------------------------------ expressions
    def expression(self) -> None:
        """One expression; stops at the first token that cannot continue it."""
        toks = self.toks
        self.operand()
        while True:
            token = toks[self.i]
            if token in BINARY_OPERATORS:
                self.i += 1
                if token == ":" and toks[self.i] == "(":
                    self.arguments(")")  # INPUT verify list x$:("Y"=yes,LEN=1,3)
                    continue
                self.operand()
            elif token and token[0] in "aAoO" and token.lower() in BINARY_WORDS:
                self.i += 1
                self.operand()
            else:
                return

    def operand(self) -> None:
        toks = self.toks
        token = toks[self.i]
        while token in PREFIX_OPERATORS:
            self.i += 1
            token = toks[self.i]
        if not token:
            raise self.expected_operand()
        first = token[0]
        if first in _WORD_START or first.isalpha():
            lower = token.lower()
            if lower in NOT_AN_OPERAND and not (lower in BINARY_WORDS and toks[self.i + 1] == "("):
                raise self.expected_operand()  # AND(a$,b$) and OR(…) are also functions
            self.i += 1
            following = toks[self.i]
            if lower == "new" and (
                following[:2] == "::"
                or (is_word(following) and following.lower() not in NOT_AN_OPERAND)
            ):
                self.constructor()
                return
            self.postfix()
            return
        if first == '"' or first == "'" or first == "$":
            if not is_terminated(token):
                raise self.unterminated(self.i)
            self.i += 1
            if first == "'" and toks[self.i] == "(":
                self.arguments(")")
            elif first == '"':
                self.postfix()  # "abc"(2,1) takes a substring
            return
        if first in "0123456789" or (first == "." and len(token) > 1):
            self.i += 1
            return
        if token == "(":
            self.nested(self.parenthesized)
            self.postfix()
            return
        if token == "#":
            self.i += 1
            self.name("a field or method name")
            self.postfix()
            return
        if token == "@":
            self.i += 1
            if toks[self.i] != "(":
                raise Expected(self.i, f"expected `(` after `@`, found {describe(toks[self.i])}")
            self.arguments(")")
            return
        if first == ":" and len(token) > 1:  # ::lib/util.bbj::Helper.create()
            self.type_name()
            self.postfix()
            return
        raise self.expected_operand()

    def parenthesized(self) -> None:
        self.i += 1
        self.expression()
        if self.toks[self.i] != ")":
            raise self.unclosed(")")
        self.i += 1

    def constructor(self) -> None:
        """After ``new``: a class name, then ``(args)`` or ``[size]``."""
        self.type_name()
        if self.toks[self.i] == "(":
            self.arguments(")")
        elif self.toks[self.i] == "[":
            self.arguments("]", allow_empty=True)
        else:
            raise Expected(
                self.i, f"expected `(` after the class name, found {describe(self.toks[self.i])}"
            )
        self.postfix()

    def type_name(self) -> None:
        """``BBjString``, ``java.util.HashMap``, ``::lib.bbj::Class``; ``[]`` for arrays."""
        toks = self.toks
        token = toks[self.i]
        if token[:2] == "::":
            if not is_terminated(token):
                raise self.unterminated(self.i)
            self.i += 1
        name = self.name("a class name")
        while True:
            if toks[self.i] == "." and is_word(toks[self.i + 1]):
                name = toks[self.i + 1]
                self.i += 2
            elif name[-1] == "$" and is_word(toks[self.i]):  # java.util.Map$Entry
                name = toks[self.i]
                self.i += 1
            else:
                break
        while toks[self.i] == "[" and toks[self.i + 1] == "]":
            self.i += 2

    def postfix(self) -> None:
        toks = self.toks
        while True:
            token = toks[self.i]
            if token == "(":
                self.arguments(")")
            elif token == "[":
                self.arguments("]", allow_empty=True)
            elif token == ".":
                self.i += 1
                self.name("a member name")
            else:
                return

    def arguments(self, close: str, allow_empty: bool = True) -> None:
        """``(a, b, ERR=*NEXT)`` or ``[i, j]``, starting at the opening bracket."""
        self.nested(self._arguments, close, allow_empty)

    def _arguments(self, close: str, allow_empty: bool) -> None:
        toks = self.toks
        self.i += 1
        if toks[self.i] == close and allow_empty:
            self.i += 1
            return
        while True:
            self.argument()
            token = toks[self.i]
            if token == ",":
                self.i += 1
                continue
            if token == close:
                self.i += 1
                return
            if token in (")", "]") or not token or token == ";":
                raise self.unclosed(close)
            raise Expected(
                self.i,
                f"expected `,` or `{close}` after the argument, found {describe(token)}",
            )

    def argument(self) -> None:
        toks = self.toks
        token = toks[self.i]
        if toks[self.i + 1] == "=" and toks[self.i + 2] == "*" and is_word(token):
            self.i += 3  # ERR=*NEXT, DOM=*SAME: a symbolic label
            self.name("a label")
            return
        if token == "*" and toks[self.i + 1] in (",", ")", ""):
            self.i += 1
            return
        self.expression()

    def unclosed(self, close: str) -> Expected:
        token = self.toks[self.i]
        opener = "(" if close == ")" else "["
        if token in (")", "]"):
            message = f"`{token}` does not match `{opener}`: expected `{close}`"
        else:
            message = f"expected `{close}` to close `{opener}`, found {describe(token)}"
        return Expected(self.i, message)

    def nested(self, parse, *args) -> None:  # type: ignore[no-untyped-def]
        self.depth += 1
        if self.depth > MAX_NESTING:
            self.depth -= 1
            raise Expected(self.i, f"expressions nested more than {MAX_NESTING} deep")
        try:
            parse(*args)
        finally:
            self.depth -= 1
