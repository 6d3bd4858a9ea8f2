"""Each cleaning step on a fixture holding exactly the defect it fixes."""

from __future__ import annotations

from collections.abc import Callable

from trainer.data.checking import check_examples
from trainer.data.cleaning import (
    assign_system_prompts,
    flag_missing_code,
    normalise_code_fences,
    repair_escapes,
    repair_text,
)
from trainer.data.dedup import deduplicate
from trainer.data.fences import bbj_blocks, normalise_fences
from trainer.data.records import Example, Message

PROMPTS = ("first prompt", "second prompt", "third prompt")


def conversation(user: str, answer: str, order: int = 0, **fields: object) -> Example:
    messages = (Message("user", user), Message("assistant", answer))
    return Example(
        messages=messages, source=f"t.jsonl:{order + 1}", order=order, origin="chatml", **fields
    )


# --- literal escapes ---------------------------------------------------------------------------


def test_literal_newlines_in_prose_are_repaired_code_is_not() -> None:
    text = 'Step one.\\nStep two.\\tDone.\n```bbj\nprint "a\\nb"\n```\n'
    fixed, count = repair_text(text)
    assert fixed == 'Step one.\nStep two.\tDone.\n```bbj\nprint "a\\nb"\n```\n'
    assert count == 2


def test_inline_code_and_windows_paths_are_protected() -> None:
    text = "Java uses `\\n`; the file is C:\\new\\table.bbj.\nok"
    assert repair_text(text) == (text, 0)


def test_a_message_escaped_twice_is_unescaped_whole() -> None:
    text = 'Here:\\n```bbj\\nprint \\"hi\\"\\n```'
    fixed, _ = repair_text(text)
    assert fixed == 'Here:\n```bbj\nprint "hi"\n```'
    assert bbj_blocks(fixed) == ['print "hi"\n']


def test_repair_step_counts() -> None:
    examples = [conversation("q\\nmore\\nlines", "fine"), conversation("clean", "clean", 1)]
    fixed, report = repair_escapes(examples)
    assert fixed[0].first("user") == "q\nmore\nlines"
    assert fixed[1] == examples[1]
    assert report.counts["messages repaired"] == 1
    assert report.counts["examples repaired"] == 1


# --- code fences -------------------------------------------------------------------------------


def test_mixed_fences_become_bbj() -> None:
    text = (
        "a\n~~~BBj\nprint 1\n~~~\nb\n```\nfor i = 1 to 3\nnext i\n```\n"
        "```java\nint x;\n```\n  ```bbx\n  print 2\n  ```\n"
    )
    fixed, changed = normalise_fences(text)
    assert fixed == (
        "a\n```bbj\nprint 1\n```\nb\n```bbj\nfor i = 1 to 3\nnext i\n```\n"
        "```java\nint x;\n```\n```bbj\nprint 2\n```\n"
    )
    assert changed == 3


def test_unlabelled_output_is_not_called_bbj() -> None:
    text = "Output:\n```\nHello, World\n```\n"
    assert normalise_fences(text) == (text, 0)


def test_unclosed_fence_is_closed() -> None:
    fixed, changed = normalise_fences("code:\n```BBJ\nprint 1\n")
    assert (fixed, changed) == ("code:\n```bbj\nprint 1\n```\n", 1)


def test_fence_step_counts_examples() -> None:
    examples = [conversation("q", "```vpro5\nprint 1\n```"), conversation("q2", "```bbj\nend\n```")]
    fixed, report = normalise_code_fences(examples)
    assert fixed[0].first("assistant") == "```bbj\nprint 1\n```"
    assert report.counts == {"fences normalised": 1, "examples changed": 1}


# --- answers without code ----------------------------------------------------------------------


def test_answer_without_code_is_flagged_or_dropped() -> None:
    asks = conversation("Write a loop that prints 1 to 10", "Use a FOR loop.")
    explains = conversation("What is a channel?", "A channel is a handle.", 1)
    answered = conversation("Write a loop", "```bbj\nfor i=1 to 10\nnext i\n```", 2)
    kept, report = flag_missing_code([asks, explains, answered], drop=False)
    assert [e.flags for e in kept] == [("no-code",), (), ()]
    assert report.counts == {"flagged": 1}
    kept, report = flag_missing_code([asks, explains, answered], drop=True)
    assert kept == [explains, answered] and report.counts == {"dropped": 1}


def test_completion_examples_always_need_code() -> None:
    example = conversation("Print the date", "Call DATE().", kind="completion")
    _, report = flag_missing_code([example], drop=False)
    assert report.counts == {"flagged": 1}


# --- system prompts ----------------------------------------------------------------------------


def test_system_prompts_are_deterministic_and_spread() -> None:
    examples = [conversation(f"question number {i}", "a", i) for i in range(60)]
    first, report = assign_system_prompts(examples, PROMPTS, seed=0)
    again, _ = assign_system_prompts(list(reversed(examples)), PROMPTS, seed=0)
    assert [e.messages[0].content for e in first] == [
        e.messages[0].content for e in reversed(again)
    ]
    assert {e.messages[0].content for e in first} == set(PROMPTS)
    assert sum(report.counts.values()) == 60


def test_existing_system_message_is_kept() -> None:
    example = Example(
        messages=(Message("system", "mine"), Message("user", "q"), Message("assistant", "a")),
        source="s",
        order=0,
        origin="chatml",
    )
    result, report = assign_system_prompts([example], PROMPTS, seed=0)
    assert result == [example] and report.counts == {"kept from the input": 1}


# --- checker -----------------------------------------------------------------------------------


def test_checker_verdicts_rates_and_dropping(checker: Callable) -> None:
    good = conversation("q1", "```bbj\nprint 1\n```", 0, generations=("dwc",))
    bad = conversation("q2", "```bbj\nprint 1\nBROKEN here\n```", 1, generations=("dwc",))
    prose = conversation("q3", "no code at all", 2)
    kept, report = check_examples(
        [good, bad, prose], checker, drop_failing=False, show_progress=False
    )
    assert [e.check_ok for e in kept] == [True, False, None]
    assert report.counts == {
        "passed": 1,
        "failed": 1,
        "no code": 1,
        "kept although failing (drop_failing is off)": 1,
    }
    assert report.tables["pass_rate_by_generation"]["dwc"] == {
        "checked": 2,
        "passed": 1,
        "pass_rate": 0.5,
    }
    assert report.details[0]["first_error"] == "line 2: broken statement"
    kept, report = check_examples([good, bad], checker, drop_failing=True, show_progress=False)
    assert [e.source for e in kept] == [good.source] and report.counts["dropped"] == 1


def test_markdown_code_is_checked_not_the_answer(checker: Callable) -> None:
    example = conversation("explain", "prose", declared_code=("BROKEN\n",))
    kept, _ = check_examples([example], checker, drop_failing=False, show_progress=False)
    assert kept[0].check_ok is False


def test_a_crashing_checker_does_not_stop_the_build() -> None:
    def crash(code: str):
        raise RuntimeError("boom")

    kept, report = check_examples([conversation("q", "```bbj\nend\n```")], crash, False, False)
    assert kept[0].check_ok is None
    assert report.counts == {"checker errors": 1}


# --- duplicates --------------------------------------------------------------------------------


def test_exact_duplicates_with_conflicting_answers_keep_the_better() -> None:
    worse = conversation("How do I  open a FILE?", "Use OPEN.", 0)
    failing = conversation("how do i open a file?", "```bbj\nBROKEN\n```", 1, check_ok=False)
    better = conversation(
        "How do I open a file?", 'Like this:\n```bbj\nopen (1)"f"\n```', 2, check_ok=True
    )
    kept, report = deduplicate([worse, failing, better], threshold=0.85)
    assert kept == [better]
    assert report.counts == {"exact duplicates removed": 2, "conflicting answers": 2}
    assert {d["dropped"] for d in report.details} == {worse.source, failing.source}


def test_duplicates_that_agree_are_not_conflicts() -> None:
    one = conversation("Print hello", '```bbj\nprint "hello"\n```', 0)
    two = conversation("print HELLO", 'Sure:\n```bbj\nPRINT "hello"\n```', 1)
    kept, report = deduplicate([one, two], threshold=0.85)
    assert kept == [two]  # fuller explanation wins
    assert report.counts == {"exact duplicates removed": 1}


def test_near_duplicates_are_merged_and_distinct_prompts_kept() -> None:
    base = "write a bbj program that reads the customer file and prints every name in it"
    near = conversation(base + " please", "```bbj\nend\n```", 0)
    original = conversation(base, "```bbj\nend\n```", 1)
    other = conversation("write a bbj program that deletes old invoices", "```bbj\nend\n```", 2)
    kept, report = deduplicate([near, original, other], threshold=0.85)
    assert [e.order for e in kept] == [0, 2]
    assert report.counts == {"near duplicates removed": 1}
    kept, _ = deduplicate([near, original, other], threshold=1.0)
    assert len(kept) == 3
