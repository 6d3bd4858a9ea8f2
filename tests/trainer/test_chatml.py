"""ChatML JSONL: tolerant of blank lines, BOMs, bad lines and missing system messages."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from trainer.data.chatml import load_chatml_file

LIMIT = 1 << 20


def test_blank_lines_bom_and_a_bad_line(write_jsonl: Callable, chat_line: Callable) -> None:
    path = write_jsonl(
        "a.jsonl", [chat_line("q1", "a1"), "", "   ", "{not json", chat_line("q2", "a2")]
    )
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    examples, problems = load_chatml_file(path, 0, LIMIT)
    assert [e.first("user") for e in examples] == ["q1", "q2"]
    assert [e.source for e in examples] == [f"{path}:1", f"{path}:5"]
    assert len(problems) == 1
    assert str(problems[0]).startswith(f"{path}, line 4: not valid JSON")


def test_missing_system_message_is_fine(write_jsonl: Callable, chat_line: Callable) -> None:
    examples, problems = load_chatml_file(write_jsonl("s.jsonl", [chat_line("q", "a")]), 0, LIMIT)
    assert problems == []
    assert [m.role for m in examples[0].messages] == ["user", "assistant"]


def test_bad_records_name_the_field(write_jsonl: Callable) -> None:
    lines = [
        json.dumps([1, 2]),
        json.dumps({"messages": []}),
        json.dumps({"messages": [{"role": "robot", "content": "x"}]}),
        json.dumps({"messages": [{"role": "user", "content": 3}]}),
        json.dumps({"messages": [{"role": "user", "content": "only a question"}]}),
        json.dumps(
            {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "  "}]}
        ),
        json.dumps(
            {
                "messages": [
                    {"role": "user", "content": "q<|im_end|>"},
                    {"role": "assistant", "content": "a"},
                ]
            }
        ),
    ]
    examples, problems = load_chatml_file(write_jsonl("b.jsonl", lines), 0, LIMIT)
    assert examples == []
    assert [(p.line, p.field) for p in problems] == [
        (1, None),
        (2, "messages"),
        (3, "messages[0].role"),
        (4, "messages[0].content"),
        (5, "messages"),
        (6, "messages[1].content"),
        (7, "messages[0].content"),
    ]


def test_zero_byte_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_bytes(b"")
    assert load_chatml_file(path, 0, LIMIT) == ([], [])


def test_one_huge_line_is_skipped_not_loaded(tmp_path: Path, chat_line: Callable) -> None:
    path = tmp_path / "huge.jsonl"
    huge = json.dumps({"messages": [{"role": "user", "content": "x" * 300_000}]})
    path.write_text(huge + "\n" + chat_line("q", "a") + "\n")
    examples, problems = load_chatml_file(path, 0, 10_000)
    assert [e.first("user") for e in examples] == ["q"]
    assert problems[0].line == 1 and "longer than 10000 bytes" in problems[0].message


def test_a_file_that_is_one_huge_line_without_newline(tmp_path: Path) -> None:
    path = tmp_path / "oneline.jsonl"
    path.write_text("[" + "1," * 200_000 + "1]")
    examples, problems = load_chatml_file(path, 0, 50_000)
    assert examples == []
    assert len(problems) == 1 and problems[0].line == 1


def test_content_parts_crlf_and_labels(write_jsonl: Callable) -> None:
    record = {
        "messages": [
            {"role": "System", "content": "be brief"},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "line1\r\n"},
                    {"type": "text", "text": "line2"},
                ],
            },
            {"role": "assistant", "content": "ok"},
        ],
        "generation": ["dwc", "bbj-gui"],
        "type": "completion",
    }
    examples, problems = load_chatml_file(write_jsonl("p.jsonl", [json.dumps(record)]), 0, LIMIT)
    assert problems == []
    example = examples[0]
    assert example.messages[0].role == "system"
    assert example.first("user") == "line1\nline2"
    assert example.generations == ("dwc", "bbj-gui")
    assert example.kind == "completion"


def test_unknown_labels_warn_but_keep(write_jsonl: Callable, chat_line: Callable) -> None:
    line = chat_line("q", "a", generation="cobol", type="poem")
    examples, problems = load_chatml_file(write_jsonl("l.jsonl", [line]), 0, LIMIT)
    assert len(examples) == 1
    assert examples[0].generations == ("unknown",) and examples[0].kind == "chat"
    assert {p.field for p in problems} == {"generation", "type"}
    assert not any(p.skipped for p in problems)


def test_latin1_line_is_reported(tmp_path: Path, chat_line: Callable) -> None:
    path = tmp_path / "l1.jsonl"
    path.write_bytes(
        chat_line("caf\u00e9", "a").encode("latin-1").replace(b"\\u00e9", b"\xe9") + b"\n"
    )
    examples, problems = load_chatml_file(path, 0, LIMIT)
    assert examples == []
    assert "not UTF-8" in problems[0].message
