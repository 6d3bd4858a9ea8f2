"""Planted errors for the checker benchmark: break real BBj files in known ways.

Every mutation names the line where the error must be reported. The generators use their own
small tokenizer and a line-oriented block pairing, independent of the checker under test, and
only plant errors that no BBj reading could accept (a deleted operand is never followed by a
sign that would make it a unary expression, a stray keyword never lands where BBj allows it).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

CLASSES = (
    "block pair",
    "string",
    "parenthesis",
    "missing operand",
    "juxtaposed operands",
    "misspelled verb",
    "stray keyword",
)
BLOCK_AND_LEXICAL = CLASSES[:3]

_TOKEN = re.compile(
    r'"(?:[^"]|"")*"|\$[0-9A-Fa-f]*\$|\'[^\'\n]*\'|::[^:\n]*::|\d+(?:\.\d*)?|\.\d+'
    r"|[A-Za-z_]\w*[$%!@]?|<>|<=|>=|\S"
)
_PREFIX = re.compile(r"^\s*(?:\d+\s+)?(?:[A-Za-z_]\w*:(?!:)\s*)?")
_OPENERS = {"for": "next", "while": "wend", "repeat": "until", "switch": "swend"}
_OPENERS.update({"method": "methodend", "class": "classend", "interface": "interfaceend"})
_CLOSERS = {closer: opener for opener, closer in _OPENERS.items()}
_CLOSERS.update({"fi": "if", "endif": "if"})
_BINARY = {"+", "-", "*", "/", "^", "=", "<", ">", "<>", "<=", ">=", "and", "or"}
_VERBS = [
    "print",
    "write",
    "read",
    "open",
    "close",
    "call",
    "methodret",
    "return",
    "declare",
    "while",
    "until",
    "switch",
    "case",
    "throw",
    "dim",
    "enter",
    "wait",
    "seterr",
    "goto",
    "gosub",
    "release",
    "escape",
    "field",
    "let",
    "use",
]
_NOT_VERB_LOOKING = {"fi", "if", "on", "end", "for", "run", "let", "dim", "def", "use"}
_STRAY = ("then", "to", "step", "wend", "next", "methodend")
_DECLARATIONS = {"if", "else", "case", "method", "field", "declare", "class", "interface", "use"}
_KNOWN_WORDS = set(_OPENERS) | set(_CLOSERS) | set(_VERBS) | _NOT_VERB_LOOKING | set(_STRAY)
_KNOWN_WORDS |= {"else", "remove", "input", "find", "extract", "repeat", "exit", "stop", "new"}


@dataclass(frozen=True)
class Mutation:
    kind: str
    code: str
    line: int  # 1-based line where the checker must report
    what: str


@dataclass(frozen=True)
class _Token:
    text: str
    start: int
    end: int

    @property
    def lower(self) -> str:
        return self.text.lower()

    @property
    def ends_operand(self) -> bool:
        t = self.text
        return t[0] in "\"$'" or t[0].isalnum() or t[0] == "_" or t in (")", "]")

    @property
    def starts_operand(self) -> bool:
        t = self.text
        return t[0] in "\"$'(" or t[0].isalnum() or t[0] == "_"


def _code_tokens(line: str) -> list[_Token]:
    """The tokens of a line's code (line number, label and any `; rem` comment left out)."""
    start = _PREFIX.match(line).end()  # type: ignore[union-attr]
    tokens = [_Token(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(line, start)]
    for index, token in enumerate(tokens):
        if token.lower == "rem" and (index == 0 or tokens[index - 1].text == ";"):
            return tokens[: max(0, index - 1)]
    return tokens


def _plain_lines(lines: list[str]) -> list[int]:
    """Indexes of one-line statements: not blank, not a comment, no `:` continuation."""
    found = []
    for index, line in enumerate(lines):
        stripped = line.strip()
        after = lines[index + 1].lstrip() if index + 1 < len(lines) else ""
        if not stripped or stripped.startswith(":") or after.startswith(":"):
            continue
        if not _code_tokens(line):
            continue
        found.append(index)
    return found


def _replace(lines: list[str], index: int, new_line: str | None) -> str:
    changed = lines[:index] + ([] if new_line is None else [new_line]) + lines[index + 1 :]
    return "\n".join(changed) + "\n"


def _splice(line: str, start: int, end: int, text: str = "") -> str:
    return line[:start] + text + line[end:]


# ------------------------------------------------------------------------ generators
def block_pairs(lines: list[str]) -> list[tuple[str, str, int]]:
    """Delete a whole-line closer (reported at its opener) or opener (reported at its closer).
    Returns (code, description, line) for every pair a simple line-wise pairing finds."""
    stack: list[tuple[str, int]] = []
    pairs: list[tuple[int, int, bool]] = []
    for index in _plain_lines(lines):
        tokens = _code_tokens(lines[index])
        words = [t.lower for t in tokens]
        if ";" in words:
            continue
        first = words[0]
        if first == "if" and words[-1] == "then":
            stack.append(("if", index))
        elif first in _OPENERS and not (first == "method" and "abstract" in words):
            if first == "method" and stack and stack[-1][0] == "interface":
                continue
            stack.append((first, index))
        elif first in _CLOSERS and len(words) <= 2:
            if not stack or stack[-1][0] != _CLOSERS[first]:
                return []  # not a file this simple pairing understands
            kind, opener = stack.pop()
            pairs.append((opener, index, any(outer == kind for outer, _ in stack)))
    found = []
    for opener, closer, nested_in_same_kind in pairs:
        kind = _code_tokens(lines[opener])[0].lower
        found.append((_replace(lines, closer, None), f"deleted closer of {kind}", opener + 1))
        if kind in ("if", "class", "interface", "method"):
            continue
        dependent = closer
        if kind == "switch" and not nested_in_same_kind:  # its first CASE needs it
            cases = [
                i
                for i in range(opener + 1, closer)
                if (_code_tokens(lines[i]) or [_Token("", 0, 0)])[0].lower in ("case", "default")
            ]
            dependent = cases[0] if cases else closer
        found.append((_replace(lines, opener, None), f"deleted {kind}", dependent))
    return found


def strings(lines: list[str], index: int) -> tuple[str, str, int] | None:
    tokens = [t for t in _code_tokens(lines[index]) if t.text.startswith('"')]
    if not tokens:
        return None
    last = tokens[-1]
    line = _splice(lines[index], last.end - 1, last.end)
    return _replace(lines, index, line), f"closing quote removed: {line.strip()}", index + 1


def parentheses(lines: list[str], index: int, rng: random.Random) -> tuple[str, str, int] | None:
    tokens = [t for t in _code_tokens(lines[index]) if t.text in "()"]
    if not tokens:
        return None
    token = rng.choice(tokens)
    line = _splice(lines[index], token.start, token.end)
    return _replace(lines, index, line), f"`{token.text}` removed: {line.strip()}", index + 1


def missing_operand(
    lines: list[str], index: int, rng: random.Random
) -> tuple[str, str, int] | None:
    tokens = _code_tokens(lines[index])
    spots = []
    for i in range(1, len(tokens) - 1):
        op, right = tokens[i], tokens[i + 1]
        after = tokens[i + 2].text if i + 2 < len(tokens) else ""
        if op.lower not in _BINARY or not tokens[i - 1].ends_operand:
            continue
        if right.text[0] in "(\"$'" or not right.starts_operand or after in ("(", "[", ".", "!"):
            continue  # only simple operands: a name, a number, a string
        if after in ("+", "-") or right.lower in _KNOWN_WORDS:
            continue  # `a + - b` would still be an expression
        spots.append(i + 1)
    if not spots:
        return None
    token = tokens[rng.choice(spots)]
    line = _splice(lines[index], token.start, token.end).rstrip()
    return _replace(lines, index, line), f"operand removed: {line.strip()}", index + 1


def juxtaposed(lines: list[str], index: int, rng: random.Random) -> tuple[str, str, int] | None:
    tokens = _code_tokens(lines[index])
    spots = [
        i
        for i in range(1, len(tokens) - 1)
        if (tokens[i].lower in _BINARY or tokens[i].text == ",")
        and tokens[i - 1].ends_operand
        and tokens[i + 1].starts_operand
        and tokens[i + 1].lower not in _KNOWN_WORDS
        and tokens[i - 1].lower not in _KNOWN_WORDS
    ]
    if not spots:
        return None
    token = tokens[rng.choice(spots)]
    line = _splice(lines[index], token.start, token.end, " ")
    return _replace(lines, index, line), f"`{token.text}` removed: {line.strip()}", index + 1


def misspelled(lines: list[str], index: int, rng: random.Random) -> tuple[str, str, int] | None:
    tokens = _code_tokens(lines[index])
    first = tokens[0]
    following = tokens[1].text if len(tokens) > 1 else ""
    if first.lower not in _VERBS or following in ("=", "[", "."):
        return None
    word = first.text
    for _ in range(10):
        cut = rng.randrange(1, len(word))
        if rng.random() < 0.5 and cut < len(word) - 1:
            wrong = word[:cut] + word[cut + 1] + word[cut] + word[cut + 2 :]
        else:
            wrong = word[:cut] + word[cut + 1 :]
        if wrong.lower() != word.lower() and wrong.lower() not in _KNOWN_WORDS:
            line = _splice(lines[index], first.start, first.end, wrong)
            return _replace(lines, index, line), f"verb misspelled: {line.strip()}", index + 1
    return None


def stray_keyword(lines: list[str], index: int, rng: random.Random) -> tuple[str, str, int] | None:
    tokens = _code_tokens(lines[index])
    spots = [i for i in range(len(tokens) - 1) if tokens[i].ends_operand]
    if not spots or tokens[0].lower in _DECLARATIONS:
        return None  # `method public to Name()` would just name a type `to`
    token = tokens[rng.choice(spots)]
    keyword = rng.choice(_STRAY)
    line = _splice(lines[index], token.end, token.end, f" {keyword} ")
    return _replace(lines, index, line), f"`{keyword}` inserted: {line.strip()}", index + 1


def plant(files: dict[str, str], per_class: int, seed: int = 15) -> list[Mutation]:
    """``per_class`` mutations of each class, spread over ``files`` (path -> source)."""
    rng = random.Random(seed)
    found: list[Mutation] = []
    paths = sorted(files)
    pairs = [
        Mutation("block pair", code, line, what)
        for path in paths
        for code, what, line in block_pairs(files[path].splitlines())
    ]
    found += rng.sample(pairs, min(per_class, len(pairs)))
    makers = {
        "string": lambda lines, i: strings(lines, i),
        "parenthesis": lambda lines, i: parentheses(lines, i, rng),
        "missing operand": lambda lines, i: missing_operand(lines, i, rng),
        "juxtaposed operands": lambda lines, i: juxtaposed(lines, i, rng),
        "misspelled verb": lambda lines, i: misspelled(lines, i, rng),
        "stray keyword": lambda lines, i: stray_keyword(lines, i, rng),
    }
    for kind, make in makers.items():
        made: list[Mutation] = []
        for _ in range(per_class * 50):
            if len(made) >= per_class:
                break
            lines = files[rng.choice(paths)].splitlines()
            plain = _plain_lines(lines)
            if not plain:
                continue
            result = make(lines, rng.choice(plain))
            if result is not None:
                code, what, line = result
                made.append(Mutation(kind, code, line, what))
        found += made
    return found
