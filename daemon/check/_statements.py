"""BBj statements: each logical line is parsed into syntax errors and structural events.

A line holds statements separated by ``;``; ``REM`` (at a statement's start) comments out the
rest. A verb starts most statements (:mod:`daemon.check._verbs` knows each verb's syntax);
anything else must be an assignment (``x = 1``, ``a$(1,3) = "abc"``, ``#field! = y!``,
``LET a = 1, b = 2``) or a method call (``wnd!.setText("x")``, ``#redraw()``,
``BBjAPI().getSysGui()``). One-line ``IF … THEN … ELSE … FI`` forms are parsed here because
they change where statements end.

Only the first syntax error of a logical line is reported (what follows an error is guesswork);
parsing then resumes at the next ``;`` so that block keywords later on the line still count.
"""

from __future__ import annotations

import difflib

from daemon.check._expressions import Expected, ExpressionParser, describe, is_word
from daemon.check._lexer import LogicalLine, tokenize
from daemon.check._structure import OPENER_OF, Event, Where
from daemon.check._types import Diagnostic
from daemon.check._verbs import DONE, NORMAL, PREFIX, VERBS

_REM_LOOKALIKES = frozenset({"remove", "remove_callback"})
_TYPE_SUFFIXES = frozenset("$%!@")
_TAIL_ENDERS = frozenset({"else", "fi", "endif"})
_CLOSER_WORDS = frozenset(OPENER_OF)
_JUMP_WORDS = frozenset({"goto", "gosub", "then", "else"})
_BRANCH_OPTIONS = frozenset({"err", "dom", "end"})
_SENTINELS = ("", "", "")


def _comment_follows(text: str) -> bool:
    """Does a logical line's statement text start with a REM comment?"""
    if len(text) < 3 or text[:3].lower() != "rem":
        return False
    return len(text) == 3 or not (text[3].isalnum() or text[3] in "_$%!@")


class LineParser(ExpressionParser):
    """Parses logical lines one by one; collects ``errors`` and structural ``events``."""

    def __init__(self, *, numbered: bool = False) -> None:
        super().__init__()
        self.numbered = numbered
        self.errors: list[Diagnostic] = []
        self.events: list[Event] = []
        self.line = LogicalLine(0, 0, "", ((0, 0, 0),))
        self.previous_single_if = False
        self.single_if = False
        self.tail_ifs = 0
        self.local: list[str] = []
        self.after_else = False
        self.else_before = False
        self.failed = False
        self.statement_start = 0

    # ------------------------------------------------------------------ lines
    def parse(self, line: LogicalLine) -> None:
        text = line.text
        if _comment_follows(text):
            return
        self.line = line
        self.toks = tokenize(text)
        self.toks += _SENTINELS
        self.i = 0
        self.depth = 0
        self.single_if = self.after_else = self.failed = False
        self.tail_ifs = 0
        if self.local:
            self.local.clear()
        self.statements()
        if self.numbered:
            self._record_jumps()
        self.previous_single_if = self.single_if

    def statements(self) -> None:
        toks = self.toks
        while True:
            token = toks[self.i]
            if not token:
                return
            if token == ";":
                self.i += 1
                continue
            try:
                outcome = self.statement(token)
                if outcome == DONE:
                    return
                if outcome == NORMAL:
                    self.end_of_statement()
            except Expected as error:
                self.report(error)
                self.recover()

    def statement(self, token: str) -> int:
        self.statement_start = self.i
        self.else_before, self.after_else = self.after_else, False
        if is_word(token):
            lower = token.lower()
            following = self.toks[self.i + 1]
            if lower[:3] == "rem" and self._starts_comment(lower, following):
                return DONE
            if lower == "new" and following != "=":
                self.operand()  # new Thread(r!).start()
                return NORMAL
            handler = VERBS.get(lower)
            if (
                handler is None
                or following in ("=", "[", ".")
                or (following == "(" and lower in _CLOSER_WORDS)
            ):
                return self.assignment_or_call()
            self.i += 1
            return handler(self)
        if token == "?":
            self.i += 1
            return VERBS["print"](self)
        if token == "#":
            return self.assignment_or_call()
        raise Expected(self.i, f"expected a statement, found {describe(token)}")

    def _starts_comment(self, lower: str, following: str) -> bool:
        if lower == "rem":
            return True
        if lower in _REM_LOOKALIKES or lower[-1] in _TYPE_SUFFIXES:
            return False
        return not following or following[0] not in "=([.:"

    def at_statement_end(self) -> bool:
        token = self.toks[self.i]
        if not token or token == ";":
            return True
        return bool(self.tail_ifs) and token.lower() in _TAIL_ENDERS

    def end_of_statement(self) -> None:
        if self.at_statement_end():
            return
        index = self.i
        previous = self.toks[index - 1]
        if self.toks[index] in (")", "]"):
            opener = "(" if self.toks[index] == ")" else "["
            raise Expected(index, f"`{self.toks[index]}` has no matching `{opener}`")
        what = "an operator, `;`" if index - 1 > self.statement_start else "`;`"
        raise Expected(
            index,
            f"expected {what} or the end of the line after {describe(previous)}, "
            f"found {describe(self.toks[index])}",
        )

    def recover(self) -> None:
        """Skip to the next ``;`` (or the end of the line) after an error."""
        toks = self.toks
        while toks[self.i] and toks[self.i] != ";":
            self.i += 1

    def report(self, error: Expected) -> None:
        if self.failed:
            return
        self.failed = True
        line, col = self.line.locate(error.index)
        basic = self.line.basic_line if line == self.line.line else None
        self.errors.append(Diagnostic(line, error.message, basic_line=basic, col=col))

    # ------------------------------------------------------------- structure
    def where(self, index: int) -> Where:
        line = self.line
        return Where(line.line_of(index), line.indent, line.line, line.basic_line, line, index)

    def open_block(
        self, kind: str, index: int, var: str | None = None, optional: bool = False
    ) -> None:
        if self.tail_ifs:
            self.local.append(kind)
            return
        chained = kind == "if" and self.else_before
        self.events.append(Event("open", self.where(index), (kind, var, optional, chained)))

    def close_block(self, closer: str, index: int, var: str | None = None) -> None:
        if not self.tail_ifs:
            self.events.append(Event("close", self.where(index), (closer, var)))
            return
        # Block words inside a one-line IF pair up among themselves, except NEXT.
        local = self.local
        if local and local[-1] == OPENER_OF[closer]:
            local.pop()
        elif closer == "next":
            self.events.append(Event("conditional_next", self.where(index), (var,)))

    def middle(self, needed: str, word: str, index: int) -> None:
        if not self.tail_ifs:
            args = (needed, word, self.previous_single_if)
            self.events.append(Event("middle", self.where(index), args))

    def event(self, op: str, index: int, *args: object) -> None:
        self.events.append(Event(op, self.where(index), args))

    def _record_jumps(self) -> None:
        """``GOTO 100``, ``THEN 100``, ``ERR=100``, ``ON X GOTO 100,200``: where the line may
        jump (legacy code gives a loop a second exit that way)."""
        toks = self.toks
        found: set[int] = set()
        after_jump_word = False
        for index, token in enumerate(toks):
            if token.isdigit():
                branch = (
                    index >= 2
                    and toks[index - 1] == "="
                    and (toks[index - 2].lower() in _BRANCH_OPTIONS)
                )
                if after_jump_word or branch:
                    found.add(int(token))
                continue
            if token.lower() in _JUMP_WORDS:
                after_jump_word = True
            elif token != ",":
                after_jump_word = False
        if found:
            self.event("jumps", 0, frozenset(found))

    # ------------------------------------------------------- if / then / else
    def if_statement(self) -> int:
        keyword = self.i - 1
        toks = self.toks
        try:
            self.expression()
        except Expected as error:
            self.report(error)
            then = self._find_then(error.index)
            if then is None:
                self.open_block("if", keyword, optional=True)
                return DONE
            self.i = then
        token = toks[self.i]
        if token[:1] in "tT" and token.lower() == "then":
            self.i += 1
            token = toks[self.i]
        if not token or (is_word(token) and self._is_comment_at(self.i)):
            self._open_if_block(keyword, optional=bool(token))
            return DONE
        self.single_if = True
        self.tail_ifs += 1
        if token.isdigit():  # IF A THEN 100
            self.i += 1
            return NORMAL
        return PREFIX

    def _open_if_block(self, keyword: int, optional: bool) -> None:
        nested = self.tail_ifs
        if not nested:
            self.open_block("if", keyword, optional=optional)
            return
        # ``IF A THEN IF B THEN`` at the end of a line opens blocks closed by FI lines.
        self.tail_ifs = 0
        self.local.clear()
        for _ in range(nested + 1):
            self.open_block("if", keyword, optional=True)

    def _is_comment_at(self, index: int) -> bool:
        token = self.toks[index]
        return token.lower()[:3] == "rem" and self._starts_comment(
            token.lower(), self.toks[index + 1]
        )

    def _find_then(self, start: int) -> int | None:
        toks = self.toks
        for index in range(start, len(toks)):
            if toks[index].lower() == "then":
                return index
        return None

    def else_statement(self) -> int:
        keyword = self.i - 1
        if not self.tail_ifs:
            self.middle("if", "else", keyword)
        if self.toks[self.i].isdigit():  # ELSE 100
            self.i += 1
            return NORMAL
        self.after_else = True
        return PREFIX

    def fi_statement(self) -> int:
        if self.tail_ifs:
            self.tail_ifs -= 1
            if not self.tail_ifs:
                self.local.clear()
            return NORMAL
        keyword = self.i - 1
        self.close_block(self.toks[keyword].lower(), keyword)
        return NORMAL

    # ------------------------------------------------- assignments and calls
    def assignment_or_call(self, require_assignment: bool = False) -> int:
        toks = self.toks
        start = self.i
        member, called = self.target()
        if toks[self.i] == "=":
            self.i += 1
            self.expression()
            while toks[self.i] == "," and not require_assignment:
                self.i += 1  # LET A=1, B=2 (LET is optional)
                self.target()
                self.expect("=", "`=` in the assignment")
                self.expression()
            return NORMAL
        if member and called and not require_assignment:
            return NORMAL
        first = toks[start]
        bare = self.i == start + 1 or (called and not member)
        if bare and is_word(first) and first[-1] not in _TYPE_SUFFIXES:
            raise Expected(start, self._not_a_verb(first))
        found = describe(toks[self.i])
        what = "`=`" if require_assignment or not member else "`=` or a method call"
        raise Expected(self.i, f"expected {what} after {describe(toks[self.i - 1])}, found {found}")

    def target(self) -> tuple[bool, bool]:
        """An assignable name or call chain; returns (has a member or #field, ends in a call)."""
        toks = self.toks
        member = called = False
        if toks[self.i] == "#":
            self.i += 1
            member = True
        self.name("a variable name")
        while True:
            token = toks[self.i]
            if token == "(":
                self.arguments(")")
                called = True
            elif token == "[":
                self.arguments("]")
                called = False
            elif token == ".":
                self.i += 1
                self.name("a member name")
                member, called = True, False
            else:
                return member, called

    def _not_a_verb(self, word: str) -> str:
        message = f"`{word}` is not a BBj verb: expected a statement"
        guess = difflib.get_close_matches(word.lower(), list(VERBS), n=1, cutoff=0.75)
        return f"{message} (`{guess[0]}`?)" if guess else message
