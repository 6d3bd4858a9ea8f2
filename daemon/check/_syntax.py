"""Token-level helpers of the structural parser: statements, expressions, brackets, jumps."""

from __future__ import annotations

from daemon.check._lexer import Token
from daemon.check._types import Diagnostic
from fim.language import BLOCK_CLOSERS, BLOCK_OPENERS, BLOCK_PAIRS, CLOSER_TO_OPENER

CLOSER_OF: dict[str, str] = {pair.opener: pair.closers[0] for pair in BLOCK_PAIRS}
"""The closer named in messages ("`if` ... is never closed by `fi`")."""
OPENER_OF: dict[str, str] = dict(CLOSER_TO_OPENER)
MIDDLES: frozenset[str] = frozenset(m for pair in BLOCK_PAIRS for m in pair.middles)
STRUCTURAL_WORDS: frozenset[str] = BLOCK_OPENERS | BLOCK_CLOSERS | MIDDLES
_BINARY_OPERATORS = frozenset({"+", "-", "*", "/", "^", "=", "<", ">", "<>", "<=", ">="})
_BINARY_WORDS = frozenset({"and", "or", "xor"})
_PREFIXES = frozenset({"-", "+", "!", "#", "@"})
_BRACKET_PAIRS = {")": "(", "]": "["}
_NAME_FOLLOWERS = frozenset({"=", "[", "."})
_JUMP_WORDS = frozenset({"goto", "then", "else"})
_BRANCH_OPTIONS = frozenset({"err", "dom", "end"})


def word_of(token: Token) -> str:
    return token.text.lower() if token.kind == "word" else ""


def statement_end(tokens: tuple[Token, ...], start: int) -> int:
    """Index of the ``;`` ending the statement that begins at ``start`` (or len(tokens))."""
    depth = 0
    for index in range(start, len(tokens)):
        text = tokens[index].text
        if tokens[index].kind != "op":
            continue
        if text in "([":
            depth += 1
        elif text in ")]":
            depth = max(0, depth - 1)
        elif text == ";" and depth == 0:
            return index
    return len(tokens)


def keyword_at(tokens: tuple[Token, ...], index: int) -> str:
    """The structural keyword starting a statement at ``index`` ("" if none).

    BBj accepts many keywords as variable names (``NEXT=1``), so a keyword followed by ``=``,
    ``[`` or ``.`` is a variable; a closer followed by ``(`` is a function or array call.
    """
    word = word_of(tokens[index])
    if word not in STRUCTURAL_WORDS:
        return ""
    following = tokens[index + 1].text if index + 1 < len(tokens) else ""
    if following in _NAME_FOLLOWERS or (following == "(" and word in BLOCK_CLOSERS):
        return ""
    return word


def bracket_diagnostics(tokens: tuple[Token, ...]) -> list[Diagnostic]:
    """Unbalanced or mismatched parentheses and brackets within one logical line."""
    found: list[Diagnostic] = []
    open_tokens: list[Token] = []
    for token in tokens:
        if token.kind != "op" or token.text not in "()[]":
            continue
        if token.text in "([":
            open_tokens.append(token)
            continue
        if not open_tokens:
            found.append(
                Diagnostic(
                    token.line,
                    f"`{token.text}` on line {token.line} has no matching "
                    f"`{_BRACKET_PAIRS[token.text]}`",
                )
            )
            continue
        opener = open_tokens.pop()
        if opener.text != _BRACKET_PAIRS[token.text]:
            found.append(
                Diagnostic(
                    token.line,
                    f"`{token.text}` on line {token.line} does not match "
                    f"`{opener.text}` on line {opener.line}",
                )
            )
    found.extend(
        Diagnostic(t.line, f"`{t.text}` on line {t.line} is never closed") for t in open_tokens
    )
    return found


def _is_branch_option(tokens: tuple[Token, ...], index: int) -> bool:
    """``ERR=100``, ``DOM=100``, ``END=100``: the number at ``index`` is a branch target."""
    return (
        index >= 2
        and tokens[index - 1].text == "="
        and word_of(tokens[index - 2]) in _BRANCH_OPTIONS
    )


def jump_targets(tokens: tuple[Token, ...]) -> frozenset[int]:
    """Line numbers a line may jump to: ``GOTO 100``, ``THEN 100``, ``ERR=100``,
    ``ON X GOTO 100,200``."""
    found: set[int] = set()
    after_jump_word = False
    for index, token in enumerate(tokens):
        if token.kind == "num" and token.text.isdigit():
            if after_jump_word or _is_branch_option(tokens, index):
                found.add(int(token.text))
            continue
        if word_of(token) in _JUMP_WORDS:
            after_jump_word = True
        elif token.text != ",":
            after_jump_word = False
    return frozenset(found)


def then_index(tokens: tuple[Token, ...], start: int, end: int) -> int | None:
    depth = 0
    for index in range(start, end):
        token = tokens[index]
        if token.kind == "op" and token.text in "([":
            depth += 1
        elif token.kind == "op" and token.text in ")]":
            depth = max(0, depth - 1)
        elif depth == 0 and word_of(token) == "then":
            return index
    return None


def _matching_close(tokens: tuple[Token, ...], start: int, end: int) -> int:
    """Index just past the bracket group opening at ``start`` (``end`` if never closed)."""
    depth = 0
    for index in range(start, end):
        token = tokens[index]
        if token.kind != "op":
            continue
        if token.text in "([":
            depth += 1
        elif token.text in ")]":
            depth -= 1
            if depth == 0:
                return index + 1
    return end


def expression_end(tokens: tuple[Token, ...], start: int, end: int) -> int:
    """Index of the first token after the expression starting at ``start``.

    Tells a THEN-less one-line IF (``IF A=1 GOTO 100``, ``if (x) y = 1``: something follows
    the condition) from a THEN-less block opener (``if isReady!`` alone on its line).
    """
    index = start
    expect_operand = True
    while index < end:
        token = tokens[index]
        text, word = token.text, word_of(token)
        is_op = token.kind == "op"
        if is_op and text in "([":
            index, expect_operand = _matching_close(tokens, index, end), False
        elif expect_operand:
            if (is_op and text in _PREFIXES) or word == "new":
                index += 1
            elif token.kind in ("word", "num", "str", "hex", "mnem"):
                index, expect_operand = index + 1, False
            else:
                return index
        elif (is_op and (text == "." or text in _BINARY_OPERATORS)) or word in _BINARY_WORDS:
            index, expect_operand = index + 1, True
        else:
            return index
    return end


def only_comments(tokens: tuple[Token, ...], start: int) -> bool:
    return all(t.kind == "rem" or t.text == ";" for t in tokens[start:])


def has_equals_at_depth_zero(tokens: tuple[Token, ...], start: int, end: int) -> bool:
    depth = 0
    for token in tokens[start:end]:
        if token.kind != "op":
            continue
        if token.text in "([":
            depth += 1
        elif token.text in ")]":
            depth = max(0, depth - 1)
        elif token.text == "=" and depth == 0:
            return True
    return False


def loop_variable(tokens: tuple[Token, ...], index: int) -> str | None:
    if index < len(tokens) and tokens[index].kind == "word":
        return tokens[index].text.lower()
    return None
