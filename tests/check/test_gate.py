"""The FIM compile gate: scoped to the unit around the cursor, yet the same verdict as checking
both whole programs."""

from __future__ import annotations

import asyncio
import random

import pytest

from daemon.check import BuiltinChecker, CheckResult, CompletionGate
from daemon.check._gate import compare
from daemon.check._units import unit_around
from tests.check.helpers import corpus_files

PROGRAM = """use java.util.HashMap
x = 1
class public Invoice
    field public BBjNumber Total = 0
    method public void add(BBjNumber n)
        #Total = #Total + n
    methodend
    method public BBjNumber total()
        methodret #Total
    methodend
classend
print "done"
"""


def whole_verdict(checker: BuiltinChecker, prefix: str, completion: str, suffix: str) -> bool:
    candidate = checker.check_text(prefix + completion + suffix)
    return compare(checker.check_text(prefix + suffix), candidate).passed


def split_at(text: str, marker: str) -> tuple[str, str]:
    cut = text.index(marker) + len(marker)
    return text[:cut], text[cut:]


def test_the_unit_of_a_method_body_is_that_method() -> None:
    prefix, suffix = split_at(PROGRAM, "#Total = #Total + ")
    unit = unit_around(prefix + suffix, len(prefix))
    assert unit is not None
    text = (prefix + suffix)[unit.start : unit.end]
    assert text.startswith("    method public void add(")
    assert text.endswith("    methodend\n")
    assert [block.kind for block in unit.context] == ["class"]
    assert not unit.to_the_end


def test_the_program_section_after_the_classes_is_a_unit() -> None:
    prefix, suffix = split_at(PROGRAM, 'print "done"')
    unit = unit_around(prefix + suffix, len(prefix))
    assert unit is not None and unit.context == () and unit.to_the_end
    assert (prefix + suffix)[unit.start : unit.end] == 'print "done"\n'


@pytest.mark.parametrize(
    ("code", "marker"),
    [
        ("interface public I\n  method public void a()\n  method public void b()\n", "a()\n"),
        ("method public void a()\n  x = 1\nmethodend\n", "x = 1\n"),
        ("class public A\r  method public void a()\r  x = 1\r  methodend\rclassend\r", "x = 1\r"),
    ],
    ids=["interface", "method-outside-class", "old-mac-line-ends"],
)
def test_units_that_cannot_be_isolated(code: str, marker: str) -> None:
    prefix, suffix = split_at(code, marker)
    assert unit_around(prefix + suffix, len(prefix)) is None


@pytest.mark.parametrize(
    ("completion", "passes"),
    [
        ("        print n\n", True),
        ("        x = n +\n", False),
        ("        if n then\n", False),
        ("        methodend\n    method public void more()\n", True),
        ("    methodend\n", False),
        ('        print "oops\n', False),
    ],
)
def test_unit_verdicts(completion: str, passes: bool) -> None:
    checker = BuiltinChecker()
    prefix, suffix = split_at(PROGRAM, "#Total = #Total + n\n")
    verdict = checker.judge_completion(prefix, completion, suffix)
    assert verdict.scope == "unit"
    assert verdict.passed is passes
    assert verdict.passed is whole_verdict(checker, prefix, completion, suffix)
    assert bool(verdict.new_errors) is not passes


def test_new_errors_say_where() -> None:
    prefix, suffix = split_at(PROGRAM, "#Total = #Total + n\n")
    verdict = BuiltinChecker().judge_completion(prefix, "        x = n +\n", suffix)
    assert verdict.new_errors == ("line 7, col 16: expected an expression after `+`",)


def test_an_already_broken_unit_only_fails_for_new_errors() -> None:
    broken = PROGRAM.replace("#Total = #Total + n", "#Total = #Total +")
    prefix, suffix = split_at(broken, "methodret #Total\n")
    assert BuiltinChecker().judge_completion(prefix, "        print 1\n", suffix).passed


def test_the_baseline_unit_is_parsed_once_for_every_candidate() -> None:
    checker = BuiltinChecker()
    prefix, suffix = split_at(PROGRAM, "#Total = #Total + n\n")
    for completion in ("        x = 1\n", "        y = 2\n", "        z = 3 +\n"):
        checker.judge_completion(prefix, completion, suffix)
    assert len(checker.units) == 1


def test_when_block_states_differ_the_whole_programs_decide() -> None:
    checker = BuiltinChecker()
    prefix, suffix = split_at(PROGRAM, "#Total = #Total + n\n")
    completion = "    methodend\nclassend\n"  # the next method would be outside the class
    assert checker.judge_unit(prefix, completion, suffix) is None
    assert not checker.judge_completion(prefix, completion, suffix).passed


def test_unit_and_whole_program_verdicts_agree_on_the_corpus() -> None:
    """Random cursors and completions (the original text, or a broken line) in every file."""
    checker = BuiltinChecker()
    rng = random.Random(15)
    broken = ["x = 1 +\n", "if x then\n", "wend\n", "methodend\n", 'y$ = "abc\n', "fi\n", ")"]
    broken += [
        "method public void z()\n",
        "classend\n",
        "next i\n",
        "print a b\n",
        "class public Q\n",
    ]
    scopes = {"unit": 0, "file": 0}
    for path in corpus_files():
        text = path.read_text(encoding="utf-8")
        starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]
        for _ in range(12):
            line = rng.randrange(len(starts) - 1)
            cursor = rng.randrange(starts[line], starts[line + 1])
            if rng.random() < 0.5:
                end = starts[min(len(starts) - 1, line + rng.randrange(1, 4))]
                prefix, completion, suffix = text[:cursor], text[cursor:end], text[end:]
            else:
                prefix, completion, suffix = text[:cursor], rng.choice(broken), text[cursor:]
            verdict = checker.judge_completion(prefix, completion, suffix)
            scopes[verdict.scope] += 1
            expected = whole_verdict(checker, prefix, completion, suffix)
            assert verdict.passed is expected, (path.name, prefix[-80:], completion)
    assert scopes["unit"] > 10 * scopes["file"]


class WholeProgramChecker:
    """A checker without unit judging (as bbjcpl is), counting what it is asked to check."""

    name = "whole"

    def __init__(self) -> None:
        self.seen: list[str] = []

    async def check(self, code: str, filename: str | None = None) -> CheckResult:
        self.seen.append(code)
        return BuiltinChecker().check_text(code)


def test_other_checkers_check_the_baseline_once_and_every_candidate() -> None:
    checker = WholeProgramChecker()
    gate = CompletionGate(checker)
    prefix, suffix = split_at(PROGRAM, "#Total = #Total + n\n")

    async def judge_two() -> list[bool]:
        first = await gate.judge(prefix, "        x = 1\n", suffix)
        second = await gate.judge(prefix, "        x = 1 +\n", suffix)
        return [first.passed, second.passed]

    assert asyncio.run(judge_two()) == [True, False]
    assert checker.seen.count(prefix + suffix) == 1
    assert len(checker.seen) == 3
