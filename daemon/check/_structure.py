"""The structural half of the built-in checker: block pairs across logical lines.

The statement parser reports what each line does to the block structure as :class:`Event`
tuples (open a block, close one, a middle such as ``else``, a method, a class); this module
pairs them. Events are plain data, so a broken file can be paired a second time with another
strategy without parsing it again.

Blocks are kept on a stack. An entry is *optional* when the parser cannot tell whether the
code needs a closer for it (``if x then rem ...``, an abstract method, a loop that is only
continued conditionally); optional entries close normally when their closer comes and vanish
silently otherwise, so doubt never turns into a false alarm.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, NamedTuple

from daemon.check._types import Diagnostic
from fim.language import BLOCK_PAIRS, CLOSER_TO_OPENER

if TYPE_CHECKING:
    from daemon.check._lexer import LogicalLine

CLOSER_OF: dict[str, str] = {pair.opener: pair.closers[0] for pair in BLOCK_PAIRS}
"""The closer named in messages ("`if` ... expected `fi`")."""
OPENER_OF: dict[str, str] = dict(CLOSER_TO_OPENER)


class Where(NamedTuple):
    """Where an event happened: the keyword's line, its logical line's layout, and the token
    (``source``, ``index``) whose column is worked out only when a diagnostic needs it."""

    line: int
    indent: int
    logical: int
    basic_line: int | None
    source: LogicalLine | None = None
    token_index: int = 0

    @property
    def col(self) -> int | None:
        return None if self.source is None else self.source.locate(self.token_index)[1]


class Event(NamedTuple):
    """One structural fact about a line; ``op`` names the :class:`BlockParser` method."""

    op: str
    where: Where
    args: tuple[object, ...] = ()


@dataclass(frozen=True)
class Block:
    """An open block on the parser's stack."""

    kind: str
    where: Where = field(compare=False)
    var: str | None = None
    optional: bool = False
    chained: bool = False
    targets: frozenset[int] = frozenset()

    @property
    def line(self) -> int:
        return self.where.line

    @property
    def indent(self) -> int:
        return self.where.indent

    @property
    def logical_line(self) -> int:
        return self.where.logical

    @property
    def basic_line(self) -> int | None:
        return self.where.basic_line


class BlockParser:
    """Pairs the structural events of a program and collects structural diagnostics.

    ``prefer_indent`` is used for a second pass over files already known to be broken: a
    closer then matches the open block of its own indentation, which names the block that
    really lost its closer instead of the outermost one.
    """

    def __init__(
        self,
        *,
        numbered: bool,
        indented: bool,
        prefer_indent: bool = False,
        context: tuple[Block, ...] = (),
    ) -> None:
        self.numbered = numbered
        self.indented = indented
        self.prefer_indent = prefer_indent
        self.stack: list[Block] = list(context)
        self.diagnostics: list[Diagnostic] = []
        # loop variable -> (BASIC line of the loop's NEXT, lines its body jumped to)
        self.loop_exits: dict[str | None, tuple[int, frozenset[int]]] = {}
        self.where = Where(0, 0, 0, None)

    # ----------------------------------------------------------------- driving
    def feed(self, events: list[Event]) -> BlockParser:
        for event in events:
            self.where = event.where
            getattr(self, event.op)(*event.args)
        return self

    def finish(self, before: str = "the end of the program") -> list[Diagnostic]:
        for block in reversed(self.stack):
            if not block.optional:
                self._report_unclosed(block, before)
        self.stack.clear()
        return self.diagnostics

    def state(self) -> tuple[object, ...]:
        """What the rest of a program's pairing depends on, without line numbers (which move
        when lines are inserted above)."""
        blocks = tuple(
            (b.kind, b.indent, b.var, b.optional, b.chained, b.basic_line, b.targets)
            for b in self.stack
        )
        return blocks, tuple(sorted(self.loop_exits.items(), key=repr))

    # ------------------------------------------------------------------ events
    def open(self, kind: str, var: str | None, optional: bool, chained: bool) -> None:
        self._push(kind, var=var, optional=optional, chained=chained)

    def open_type(self, kind: str) -> None:
        """``class`` / ``interface``: whatever is still open before it is reported."""
        before = f"`{kind}` on line {self.where.line}"
        for block in reversed(self.stack):
            if not block.optional:
                self._report_unclosed(block, before)
        self.stack.clear()
        self._push(kind)

    def open_method(self, abstract: bool) -> None:
        owner = self._find_any(("class", "interface"))
        if owner is None:
            self._report("`method` outside a class: expected `class` before it")
            self._push("method")
            return
        self._unwind_to(owner, f"`method` on line {self.where.line}")
        if self.stack[owner].kind == "interface":
            return
        self._push("method", optional=abstract)

    def jumps(self, targets: frozenset[int]) -> None:
        """Line numbers this line may jump to (legacy code: a loop's second exit)."""
        if not self.numbered:
            return
        for index, block in enumerate(self.stack):
            if block.kind == "for":
                self.stack[index] = replace(block, targets=block.targets | targets)

    def middle(self, needed: str, word: str, after_single_if: bool) -> None:
        position = self._find(needed, None, indent=None)
        if position is None:
            if word == "else" and after_single_if:
                return
            where = "an `if` block" if needed == "if" else "a `switch`"
            self._report(f"`{word}` outside {where}")
            return
        self._unwind_to(position, f"`{word}` on line {self.where.line}")
        block = self.stack[position]
        if block.optional and needed == "if":
            self.stack[position] = replace(block, optional=False)

    def close(self, closer: str, var: str | None) -> None:
        opener = OPENER_OF[closer]
        indent = self.where.indent
        position = self._find(opener, var, indent if self.prefer_indent else None)
        if position is None:
            self._report_unmatched(closer, opener, var)
            return
        blocking = self._real_blocks_above(position)
        if blocking and self._looks_stray(blocking[-1], self.stack[position], indent):
            top = blocking[-1]
            self._report(
                f"`{closer}` does not close `{top.kind}` from line {top.line}: "
                f"expected `{CLOSER_OF[top.kind]}`"
            )
            return
        if self._deeper_than_its_opener(position, indent):
            self._report_unmatched(closer, opener, var)
            return
        self._unwind_to(position, f"`{closer}` on line {self.where.line}")
        closed = self.stack.pop()
        if closed.kind == "for" and self.where.basic_line is not None:
            self.loop_exits[closed.var] = (self.where.basic_line, closed.targets)
        if closed.chained:
            self._relax_if_chain(position)

    def conditional_next(self, var: str | None) -> None:
        """``IF ... THEN NEXT I``: closes a FOR opened on this same line, else 'continue'."""
        position = self._find("for", var, indent=None)
        if position is None:
            return
        block = self.stack[position]
        if block.logical_line == self.where.logical:
            del self.stack[position:]
        else:
            self.stack[position] = replace(block, optional=True)

    # ----------------------------------------------------------------- helpers
    def _report_unmatched(self, closer: str, opener: str, var: str | None) -> None:
        if opener == "for" and self._second_exit_of_loop(var):
            return
        if var is not None:
            self._report(f"`{closer} {var}` without a matching `{opener}`")
        else:
            self._report(f"`{closer}` without `{opener}`")

    def _deeper_than_its_opener(self, position: int, indent: int) -> bool:
        """Second pass only: a closer indented deeper than the block it would close is stray."""
        return self.prefer_indent and self.indented and indent > self.stack[position].indent

    def _second_exit_of_loop(self, var: str | None) -> bool:
        """Old line-numbered code may give a loop a second NEXT that its body jumps to (BBx
        keeps FOR loops on a run-time stack). Accept a NEXT without an open FOR when the last
        loop on that variable jumped to a line between its own NEXT and this one."""
        exits = self.loop_exits.get(var)
        here = self.where.basic_line
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

    def _push(
        self, kind: str, *, var: str | None = None, optional: bool = False, chained: bool = False
    ) -> None:
        self.stack.append(Block(kind, self.where, var=var, optional=optional, chained=chained))

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

    def _unwind_to(self, position: int, before: str) -> None:
        """Drop every block above ``position``, reporting the ones that needed a closer."""
        for block in reversed(self.stack[position + 1 :]):
            if not block.optional:
                self._report_unclosed(block, before)
        del self.stack[position + 1 :]

    def _report_unclosed(self, block: Block, before: str) -> None:
        self.diagnostics.append(
            Diagnostic(
                block.line,
                f"`{block.kind}` is never closed: expected `{CLOSER_OF[block.kind]}` "
                f"before {before}",
                basic_line=block.basic_line,
                col=block.where.col,
            )
        )

    def _report(self, message: str) -> None:
        where = self.where
        self.diagnostics.append(
            Diagnostic(where.line, message, basic_line=where.basic_line, col=where.col)
        )
