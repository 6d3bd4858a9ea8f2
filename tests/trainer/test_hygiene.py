"""Dirty data, each case planted in a real build and counted in its report: raw code answers,
near duplicates that differ in a number or identifier, escapes inside string literals and
inline code, and unlabelled blocks that are not BBj."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from trainer.data.build import build_dataset

LONG = (
    "Write a BBj program that opens the customer file on channel {n}, reads every record "
    "in key order, prints the name and balance of each customer and closes the channel at the end"
)


def build(make_config: Callable, checker: Callable, chat_dir: Path, **changes: object) -> dict:
    config = make_config(chatml=(chat_dir,), check_code=True, **changes)
    result = build_dataset(config, checker=checker)
    records = [
        json.loads(line)
        for name in ("train.jsonl", "val.jsonl", "test.jsonl")
        for line in (result.directory / name).read_text().splitlines()
    ]
    by_user = {r["messages"][1]["content"]: r for r in records}
    steps = {step["step"]: step for step in result.report["cleaning"]}
    return {"records": by_user, "steps": steps, "report": result.report}


def test_raw_code_answers_are_fenced_checked_and_counted(
    write_jsonl: Callable, chat_line: Callable, make_config: Callable, checker: Callable
) -> None:
    path = write_jsonl(
        "raw.jsonl",
        [
            chat_line("Print the numbers 1 to 3", "for i = 1 to 3\n    print i\nnext i"),
            chat_line("Print a greeting", 'Here it is:\n\nprint "hi"\nBROKEN = 1\nend'),
            chat_line("What is BBj?", "It is a Business BASIC.\nIt runs on the JVM."),
        ],
    )
    built = build(make_config, checker, path.parent)
    fenced = built["records"]["Print the numbers 1 to 3"]["messages"][2]["content"]
    assert fenced == "```bbj\nfor i = 1 to 3\n    print i\nnext i\n```"
    assert built["records"]["Print the numbers 1 to 3"]["meta"]["check_ok"] is True
    assert "Print a greeting" not in built["records"]  # fenced, checked, failed, dropped
    assert built["steps"]["fences"]["counts"]["raw code answers fenced"] == 2
    assert built["steps"]["checker"]["counts"] == {
        "passed": 1,
        "failed": 1,
        "dropped": 1,
        "no code": 1,
    }
    prose = built["records"]["What is BBj?"]["messages"][2]["content"]
    assert "```" not in prose


def test_near_duplicates_differing_in_a_number_or_identifier_are_both_kept(
    write_jsonl: Callable, chat_line: Callable, make_config: Callable, checker: Callable
) -> None:
    answer = "```bbj\nprint 1\n```"
    path = write_jsonl(
        "near.jsonl",
        [
            chat_line(LONG.format(n=1), answer),
            chat_line(LONG.format(n=2), answer),
            chat_line(LONG.format(n=1).replace("customer file", "customer$ file"), answer),
            chat_line(LONG.format(n=1).replace("Write a BBj", "Please write a BBj"), answer),
        ],
    )
    built = build(make_config, checker, path.parent, near_duplicate_threshold=0.8)
    kept = set(built["records"])
    assert LONG.format(n=2) in kept
    assert LONG.format(n=1).replace("customer file", "customer$ file") in kept
    # the real near duplicate (same numbers and identifiers) is merged with the first
    assert (
        len(
            kept & {LONG.format(n=1), LONG.format(n=1).replace("Write a BBj", "Please write a BBj")}
        )
        == 1
    )
    counts = built["steps"]["duplicates"]["counts"]
    assert counts["near duplicates removed"] == 1
    assert counts["near duplicates kept (numbers or identifiers differ)"] >= 2


def test_escapes_in_string_literals_and_inline_code_are_left_alone(
    write_jsonl: Callable, chat_line: Callable, make_config: Callable, checker: Callable
) -> None:
    literal = 'Join the lines with "\\r\\n" or with `$0d0a$`.\nThe code `x$ = "a\\nb"` shows it.'
    doubled = 'Split it:\\n\\n```bbj\\nlines$ = "a\\nb"\\nprint lines$\\n```\\nDone.'
    path = write_jsonl(
        "esc.jsonl",
        [chat_line("How do I join lines?", literal), chat_line("How do I split?", doubled)],
    )
    built = build(make_config, checker, path.parent)
    assert built["records"]["How do I join lines?"]["messages"][2]["content"] == literal
    repaired = built["records"]["How do I split?"]["messages"][2]["content"]
    assert repaired == 'Split it:\n\n```bbj\nlines$ = "a\\nb"\nprint lines$\n```\nDone.'
    assert built["steps"]["escapes"]["counts"]["messages repaired"] == 1


def test_unlabelled_blocks_that_are_not_bbj_keep_no_label(
    write_jsonl: Callable, chat_line: Callable, make_config: Callable, checker: Callable
) -> None:
    output = "It prints:\n\n```\nTotal = 55\nCount = 10\n```"
    script = "In the page:\n\n```\nconst total = 55;\nconsole.log(total);\n```"
    program = "Like this:\n\n```\nfor i = 1 to 10\n    total = total + i\nnext i\n```"
    path = write_jsonl(
        "blocks.jsonl",
        [
            chat_line("What does it print?", output),
            chat_line("And in JavaScript?", script),
            chat_line("Sum 1 to 10", program),
        ],
    )
    built = build(make_config, checker, path.parent)
    assert built["records"]["What does it print?"]["messages"][2]["content"] == output
    assert built["records"]["And in JavaScript?"]["messages"][2]["content"] == script
    assert "```bbj\nfor i = 1 to 10" in built["records"]["Sum 1 to 10"]["messages"][2]["content"]
    assert built["steps"]["fences"]["counts"]["fences normalised"] == 1
    assert built["steps"]["checker"]["counts"]["no code"] == 2
