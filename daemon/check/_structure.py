"""The structural half of the built-in checker: block pairs across logical lines.

Blocks are kept on a stack. An entry is *optional* when the parser cannot tell whether the
code needs a closer for it (``if x then rem ...``, an abstract method, a loop that is only
continued conditionally); optional entries close normally when their closer comes and vanish
silently otherwise, so doubt never turns into a false alarm.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from daemon.check._lexer import LogicalLine, Token
from daemon.check._syntax import (
    CLOSER_OF,
    OPENER_OF,
    expression_end,
    has_equals_at_depth_zero,
    jump_targets,
    keyword_at,
    loop_variable,
    only_comments,
    statement_end,
    then_index,
    word_of,
)
from daemon.check._types import Diagnostic

_SIMPLE_OPENERS = frozenset({"for", "while", "repeat", "switch"})
_TYPE_OPENERS = frozenset({"class", "interface"})


@dataclass(frozen=True)
class Block:
    """An open block on the parser's stack."""

    kind: str
    line: int
    indent: int
    logical_line: int
    var: str | None = None
    optional: bool = False
    chained: bool = False
    basic_line: int | None = None
    targets: frozenset[int] = frozenset()


def _ends_with_then(tokens: tuple[Token, ...]) -> bool:
    significant = [t for t in tokens if t.kind != "rem"]
    return bool(significant) and word_of(significant[-1]) == "then"


class BlockParser:
    """Feeds logical lines through a block stack and collects structural diagnostics.

    ``prefer_indent`` is used for a second pass over files already known to be broken: a
    closer then matches the open block of its own indentation, which names the block that
    really lost its closer instead of the outermost one.
    """

    def __init__(self, *, numbered: bool, indented: bool, prefer_indent: bool = False) -> None:
        self.numbered = numbered
        self.indented = indented
        self.prefer_indent = prefer_indent
        self.stack: list[Block] = []
        self.diagnostics: list[Diagnostic] = []
        # loop variable -> (BASIC line of the loop's NEXT, lines its body jumped to)
        self.loop_exits: dict[str | None, tuple[int, frozenset[int]]] = {}
        self.previous_line_had_single_if = False
        self.current: LogicalLine = LogicalLine(0, 0, ())
        self.line_had_single_if = False

    # ----------------------------------------------------------------- driving
    def feed(self, line: LogicalLine) -> None:
        self.current = line
        if self.numbered and any(block.kind == "for" for block in self.stack):
            self._collect_jump_targets(line.tokens)
        self.line_had_single_if = False
        tokens = line.tokens
        index = 0
        while index < len(tokens):
            token = tokens[index]
            if token.kind == "rem" or token.text == ";":
                index += 1
                continue
            resume = self._statement(tokens, index)
            if resume is None:
                break
            index = resume
        self.previous_line_had_single_if = self.line_had_single_if

    def finish(self) -> list[Diagnostic]:
        for block in reversed(self.stack):
            if not block.optional:
                self._report_unclosed(block)
        self.stack.clear()
        return self.diagnostics

    def _statement(self, tokens: tuple[Token, ...], index: int) -> int | None:
        """Handle the statement at ``index``; return where the next one starts (None: line done)."""
        keyword = keyword_at(tokens, index)
        if keyword == "if":
            chained = index > 0 and word_of(tokens[index - 1]) == "else"
            return self._if_statement(tokens, index, chained)
        end = statement_end(tokens, index)
        if keyword == "else":
            self._middle("if", "else", tokens[index])
            return index + 1  # statements may follow ELSE directly
        if keyword:
            self._structural(keyword, tokens, index, end)
        return end + 1

    def _structural(self, keyword: str, tokens: tuple[Token, ...], index: int, end: int) -> None:
        token = tokens[index]
        if keyword in _SIMPLE_OPENERS:
            var = loop_variable(tokens, index + 1) if keyword == "for" else None
            self._push(keyword, token, var=var)
        elif keyword in _TYPE_OPENERS:
            self._open_type(keyword, token)
        elif keyword == "method":
            self._open_method(tokens, index, end)
        elif keyword == "def":
            if not has_equals_at_depth_zero(tokens, index + 1, end):
                self._push("def", token)
        elif keyword in ("case", "default"):
            self._middle("switch", keyword, token)
        elif keyword in OPENER_OF:
            var = loop_variable(tokens, index + 1) if keyword == "next" else None
            self._close(keyword, token, var)

    # ---------------------------------------------------------------- if / then
    def _if_statement(
        self, tokens: tuple[Token, ...], index: int, chained: bool = False
    ) -> int | None:
        end = statement_end(tokens, index)
        then = then_index(tokens, index + 1, end)
        if then is None:
            condition_end = expression_end(tokens, index + 1, len(tokens))
            if condition_end >= len(tokens):
                self._push("if", tokens[index], chained=chained)
                return None
            if not only_comments(tokens, condition_end):
                return self._single_line_if(tokens, index + 1)
            self._push("if", tokens[index], optional=True, chained=chained)
            return None
        if then + 1 >= len(tokens):
            self._push("if", tokens[index], chained=chained)
            return None
        if only_comments(tokens, then + 1):
            self._push("if", tokens[index], optional=True, chained=chained)
            return None
        return self._single_line_if(tokens, then + 1)

    def _single_line_if(self, tokens: tuple[Token, ...], start: int) -> int | None:
        """Walk the conditional tail of a one-line IF; it ends at FI/ENDIF or the line's end."""
        self.line_had_single_if = True
        open_ifs = 1
        local: list[str] = []
        at_start = True
        for index in range(start, len(tokens)):
            token = tokens[index]
            word = word_of(token)
            if word in ("fi", "endif"):
                open_ifs -= 1
                if open_ifs == 0:
                    return index + 1
                at_start = False
                continue
            keyword = keyword_at(tokens, index) if at_start else ""
            if keyword == "if":
                open_ifs += 1
            elif keyword:
                self._tail_keyword(keyword, tokens, index, local)
            at_start = token.text == ";" or token.kind == "rem" or word in ("then", "else")
        if at_start and _ends_with_then(tokens):
            # ``IF A THEN IF B THEN`` at the end of a line opens blocks closed by FI lines.
            for _ in range(open_ifs):
                self._push("if", tokens[start - 1], optional=True)
        return None

    def _tail_keyword(
        self, keyword: str, tokens: tuple[Token, ...], index: int, local: list[str]
    ) -> None:
        """Block words inside a one-line IF only pair up among themselves, except NEXT."""
        if keyword in _SIMPLE_OPENERS:
            local.append(keyword)
            return
        opener = OPENER_OF.get(keyword)
        if opener is None or opener == "if":
            return
        if local and local[-1] == opener:
            local.pop()
        elif keyword == "next":
            self._conditional_next(loop_variable(tokens, index + 1))

    def _conditional_next(self, var: str | None) -> None:
        """``IF ... THEN NEXT I``: closes a FOR opened on this same line, else 'continue'."""
        position = self._find("for", var, indent=None)
        if position is None:
            return
        block = self.stack[position]
        if block.logical_line == self.current.line:
            del self.stack[position:]
        else:
            self.stack[position] = replace(block, optional=True)

    # ------------------------------------------------------------ class/method
    def _open_type(self, kind: str, token: Token) -> None:
        for block in reversed(self.stack):
            if not block.optional:
                self._report_unclosed(block)
        self.stack.clear()
        self._push(kind, token)

    def _open_method(self, tokens: tuple[Token, ...], index: int, end: int) -> None:
        token = tokens[index]
        owner = self._find_any(("class", "interface"))
        if owner is None:
            self._report(token, f"`method` outside a class on line {token.line}")
            self._push("method", token)
            return
        self._unwind_to(owner)
        if self.stack[owner].kind == "interface":
            return
        abstract = any(word_of(t) == "abstract" for t in tokens[index + 1 : end])
        self._push("method", token, optional=abstract)

    # ----------------------------------------------------------- middles/closers
    def _middle(self, needed: str, word: str, token: Token) -> None:
        position = self._find(needed, None, indent=None)
        if position is None:
            if word == "else" and self.previous_line_had_single_if:
                return
            where = "an `if` block" if needed == "if" else "a `switch`"
            self._report(token, f"`{word}` outside {where} on line {token.line}")
            return
        self._unwind_to(position)
        block = self.stack[position]
        if block.optional and needed == "if":
            self.stack[position] = replace(block, optional=False)

    def _close(self, closer: str, token: Token, var: str | None) -> None:
        opener = OPENER_OF[closer]
        indent = self.current.indent
        position = self._find(opener, var, indent if self.prefer_indent else None)
        if position is None:
            self._report_unmatched(closer, opener, token, var)
            return
        blocking = self._real_blocks_above(position)
        if blocking and self._looks_stray(blocking[-1], self.stack[position], indent):
            top = blocking[-1]
            self._report(
                token,
                f"`{closer}` on line {token.line} does not close `{top.kind}` from line {top.line}",
            )
            return
        if self._deeper_than_its_opener(position, indent):
            self._report_unmatched(closer, opener, token, var)
            return
        self._unwind_to(position)
        closed = self.stack.pop()
        if closed.kind == "for" and self.current.basic_line is not None:
            self.loop_exits[closed.var] = (self.current.basic_line, closed.targets)
        if closed.chained:
            self._relax_if_chain(position)

    def _report_unmatched(self, closer: str, opener: str, token: Token, var: str | None) -> None:
        if opener == "for" and self._second_exit_of_loop(var):
            return
        if var is not None:
            message = f"`{closer} {var}` without a matching `{opener}` on line {token.line}"
        else:
            message = f"`{closer}` without `{opener}` on line {token.line}"
        self._report(token, message)

    def _deeper_than_its_opener(self, position: int, indent: int) -> bool:
        """Second pass only: a closer indented deeper than the block it would close is stray."""
        return self.prefer_indent and self.indented and indent > self.stack[position].indent

    def _collect_jump_targets(self, tokens: tuple[Token, ...]) -> None:
        targets = jump_targets(tokens)
        if not targets:
            return
        for index, block in enumerate(self.stack):
            if block.kind == "for":
                self.stack[index] = replace(block, targets=block.targets | targets)

    def _second_exit_of_loop(self, var: str | None) -> bool:
        """Old line-numbered code may give a loop a second NEXT that its body jumps to (BBx
        keeps FOR loops on a run-time stack). Accept a NEXT without an open FOR when the last
        loop on that variable jumped to a line between its own NEXT and this one."""
        exits = self.loop_exits.get(var)
        here = self.current.basic_line
        if exits is None or here is None:
            return False
        first_next, targets = exits
        return any(first_next < target <= here for target in targets)

    def _looks_stray(self, top: Block, match: Block, indent: int) -> bool:
        """A closer indented like the blocks it would skip, not like its own opener, is stray."""
        return self.indented and indent != match.indent and indent >= top.indent

    def _relax_if_chain(self, position: int) -> None:
        """``else if ... then`` chains may be closed by one FI or by one per IF: accept both."""
        for index in range(position - 1, -1, -1):
            block = self.stack[index]
            if block.kind != "if":
                continue
            self.stack[index] = replace(block, optional=True)
            if not block.chained:
                return

    # ------------------------------------------------------------------ stack
    def _push(
        self,
        kind: str,
        token: Token,
        *,
        var: str | None = None,
        optional: bool = False,
        chained: bool = False,
    ) -> None:
        self.stack.append(
            Block(
                kind=kind,
                line=token.line,
                indent=self.current.indent,
                logical_line=self.current.line,
                var=var,
                optional=optional,
                chained=chained,
                basic_line=self.current.basic_line,
            )
        )

    def _find(self, kind: str, var: str | None, indent: int | None) -> int | None:
        """Index of the nearest open ``kind`` block (matching ``var`` and ``indent`` if given)."""
        fallback: int | None = None
        for index in range(len(self.stack) - 1, -1, -1):
            block = self.stack[index]
            if block.kind != kind:
                continue
            if var is not None and block.var is not None and block.var != var:
                continue
            if indent is None or block.indent == indent:
                return index
            if fallback is None:
                fallback = index
        return fallback

    def _find_any(self, kinds: tuple[str, ...]) -> int | None:
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index].kind in kinds:
                return index
        return None

    def _real_blocks_above(self, position: int) -> list[Block]:
        return [b for b in self.stack[position + 1 :] if not b.optional]

    def _unwind_to(self, position: int) -> None:
        """Drop every block above ``position``, reporting the ones that needed a closer."""
        for block in reversed(self.stack[position + 1 :]):
            if not block.optional:
                self._report_unclosed(block)
        del self.stack[position + 1 :]

    # -------------------------------------------------------------- reporting
    def _report_unclosed(self, block: Block) -> None:
        self.diagnostics.append(
            Diagnostic(
                block.line,
                f"`{block.kind}` on line {block.line} is never closed by `{CLOSER_OF[block.kind]}`",
                basic_line=block.basic_line,
            )
        )

    def _report(self, token: Token, message: str) -> None:
        basic = self.current.basic_line if token.line == self.current.line else None
        self.diagnostics.append(Diagnostic(token.line, message, basic_line=basic))
