"""Break every corpus file in known ways; the checker must notice and name the right line.

The expected line of each mutation comes from a deliberately simple, line-oriented pairing of
the *valid* original (whole-line openers and closers only), independent of the checker.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from daemon.check import BuiltinChecker, CheckResult
from tests.check.helpers import corpus_files

OPENER_OF = {
    "next": "for",
    "wend": "while",
    "until": "repeat",
    "swend": "switch",
    "fi": "if",
    "endif": "if",
    "methodend": "method",
    "classend": "class",
    "interfaceend": "interface",
    "fnend": "def",
}
MIDDLES = {"if": ("else",), "switch": ("case",)}
STRAY_CANDIDATES = (
    "wend",
    "until",
    "swend",
    "fnend",
    "interfaceend",
    "classend",
    "methodend",
    "next",
    "fi",
)
DELETABLE_OPENERS = ("for", "while", "repeat", "switch", "method", "def")
_PREFIX = re.compile(r"^\s*(?:\d+\s*)?(?:[A-Za-z_]\w*:(?!:)\s*)?")
_WORD = re.compile(r"[A-Za-z_]\w*")
_PURE_CLOSER = re.compile(r"^([A-Za-z]+)(?:\s+[A-Za-z_]\w*[$%!]?)?\s*(?:;\s*rem\b.*)?$", re.I)


@dataclass(frozen=True)
class Mutation:
    kind: str
    lines: tuple[str, ...]
    expected_line: int


@dataclass(frozen=True)
class Block:
    kind: str
    opener: int
    closer: int
    first_dependent: int


def _statement(line: str) -> str:
    return _PREFIX.sub("", line, count=1).strip()


def _first_word(line: str) -> str:
    match = _WORD.match(_statement(line))
    return match.group().lower() if match else ""


def _opener_kind(line: str, in_interface: bool) -> str | None:
    text, word = _statement(line), _first_word(line)
    lowered = text.lower()
    if word in ("for", "while", "repeat", "switch") and ";" not in text:
        return word
    if word in ("class", "interface"):
        return word
    if word == "method" and not in_interface:
        return word
    if word == "def" and not re.search(r"\)\s*=", text):
        return word
    if word == "if" and re.search(r"\bthen$", lowered):
        return word
    return None


def _closer_kind(line: str) -> str | None:
    if _first_word(line) == "until":
        return "until"
    match = _PURE_CLOSER.match(_statement(line))
    if match and match.group(1).lower() in OPENER_OF:
        return match.group(1).lower()
    return None


def blocks_of(lines: list[str]) -> list[Block]:
    """Pair whole-line openers with closers in a valid program (1-based line numbers)."""
    stack: list[list[object]] = []
    found: list[Block] = []
    in_interface = False
    for number, line in enumerate(lines, start=1):
        word = _first_word(line)
        opener = _opener_kind(line, in_interface)
        if opener is not None:
            in_interface = in_interface or opener == "interface"
            stack.append([opener, number, 0])
            continue
        if stack and word in MIDDLES.get(str(stack[-1][0]), ()) and not stack[-1][2]:
            stack[-1][2] = number
        closer = _closer_kind(line)
        if closer is None:
            continue
        kind, start, middle = stack.pop()
        assert kind == OPENER_OF[closer], f"corpus pairing broke at line {number}"
        in_interface = in_interface and kind != "interface"
        if any(outer[0] == kind for outer in stack):
            middle = 0  # its middles (CASE, ELSE) stay legal in the enclosing block
        found.append(Block(str(kind), int(start), number, int(middle) or number))
    assert not stack, "corpus file has an unclosed block"
    return found


def _without(lines: list[str], index: int) -> tuple[str, ...]:
    return tuple(lines[:index] + lines[index + 1 :])


def _spread(candidates: list[int], count: int = 3) -> list[int]:
    if len(candidates) <= count:
        return candidates
    step = (len(candidates) - 1) / (count - 1)
    return [candidates[round(i * step)] for i in range(count)]


def _plain_code_lines(lines: list[str]) -> list[int]:
    """Indexes of lines that are neither comments nor part of a continuation."""
    plain = []
    for index, line in enumerate(lines):
        text = _statement(line)
        follows = lines[index + 1] if index + 1 < len(lines) else ""
        if not text or _first_word(line) == "rem" or text.startswith(":"):
            continue
        if follows.lstrip().startswith(":") or "'" in text:
            continue
        plain.append(index)
    return plain


def _string_mutations(lines: list[str]) -> list[Mutation]:
    targets = [i for i in _plain_code_lines(lines) if lines[i].count('"') == 2]
    mutations = []
    for index in _spread(targets):
        cut = lines[index].rindex('"')
        broken = lines[index][:cut] + lines[index][cut + 1 :]
        mutated = tuple([*lines[:index], broken, *lines[index + 1 :]])
        mutations.append(Mutation("unterminated string", mutated, index + 1))
    return mutations


def _paren_mutations(lines: list[str]) -> list[Mutation]:
    targets = [i for i in _plain_code_lines(lines) if ")" in lines[i] and '"' not in lines[i]]
    mutations = []
    for index in _spread(targets):
        cut = lines[index].rindex(")")
        broken = lines[index][:cut] + lines[index][cut + 1 :]
        mutated = tuple([*lines[:index], broken, *lines[index + 1 :]])
        mutations.append(Mutation("unbalanced parenthesis", mutated, index + 1))
    return mutations


def _stray_closer(lines: list[str]) -> list[Mutation]:
    words = {w.lower() for line in lines for w in _WORD.findall(line)}
    if "endif" in words:
        words.add("fi")
    absent = [c for c in STRAY_CANDIDATES if c not in words]
    if not absent:
        return []
    index = len(lines) // 2
    while index < len(lines) and lines[index].lstrip().startswith(":"):
        index += 1
    indent = re.match(r"\s*", lines[index] if index < len(lines) else "").group()
    mutated = tuple([*lines[:index], indent + absent[0], *lines[index:]])
    return [Mutation(f"stray {absent[0]}", mutated, index + 1)]


def _loop_variable(line: str) -> str:
    words = _WORD.findall(_statement(line).lower())
    return words[1] if len(words) > 1 else ""


def _reuses_loop_variable(lines: list[str], block: Block) -> bool:
    """Deleting a FOR in line-numbered code whose variable an earlier loop also used may leave
    a valid BBx program: BBx keeps loops on a run-time stack, so a loop left by GOTO can still
    be continued by a later NEXT of the same variable. Such deletions prove nothing."""
    if block.kind != "for" or not re.match(r"\s*\d", lines[block.opener - 1]):
        return False
    variable = _loop_variable(lines[block.opener - 1])
    earlier = lines[: block.opener - 1]
    return any(_first_word(x) == "for" and _loop_variable(x) == variable for x in earlier)


def mutations_of(path: Path) -> list[Mutation]:
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks = blocks_of(lines)
    found = [
        Mutation(f"deleted closer of {b.kind}", _without(lines, b.closer - 1), b.opener)
        for b in blocks
    ]
    found += [
        Mutation(f"deleted {b.kind}", _without(lines, b.opener - 1), b.first_dependent - 1)
        for b in blocks
        if b.kind in DELETABLE_OPENERS and not _reuses_loop_variable(lines, b)
    ]
    found.append(Mutation("case outside switch", ("case 1", *lines), 1))
    return found + _stray_closer(lines) + _string_mutations(lines) + _paren_mutations(lines)


def _names_line(result: CheckResult, line: int) -> bool:
    return any(d.line == line for d in result.diagnostics)


@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: p.name)
def test_every_mutation_is_caught_on_the_right_line(path: Path) -> None:
    checker = BuiltinChecker()
    missed, misplaced = [], []
    for mutation in mutations_of(path):
        result = checker.check_text("\n".join(mutation.lines) + "\n")
        if result.ok:
            missed.append(mutation.kind)
        elif not _names_line(result, mutation.expected_line):
            got = [d.describe() for d in result.diagnostics]
            misplaced.append(f"{mutation.kind}: expected line {mutation.expected_line}, got {got}")
    assert missed == []
    assert misplaced == []


def test_the_mutation_set_is_substantial() -> None:
    per_kind: dict[str, int] = {}
    for path in corpus_files():
        for mutation in mutations_of(path):
            key = mutation.kind.split(" of ")[0].split(" ")[0]
            per_kind[key] = per_kind.get(key, 0) + 1
    assert sum(per_kind.values()) >= 500
    assert {"deleted", "case", "stray", "unterminated", "unbalanced"} <= set(per_kind)
