"""Markdown examples: the schema, the sections, and the conversation each type becomes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from trainer.data.markdown import load_markdown_file

CODE = '```bbj\nprint "hello"\nend\n```'
BASE = {"title": "Say hello", "type": "completion", "generation": "all"}


def load(path: Path):
    return load_markdown_file(path, 0)


def test_shipped_examples_are_valid() -> None:
    folder = Path(__file__).resolve().parents[2] / "trainer" / "examples"
    files = sorted(folder.glob("*.md"))
    assert len(files) >= 4
    kinds = set()
    for path in files:
        example, problems = load(path)
        assert example is not None, problems
        assert [p for p in problems if p.skipped] == []
        kinds.add(example.kind)
    assert kinds == {"completion", "comprehension", "migration", "explanation"}


def test_completion_answers_with_code_then_explanation(write_markdown: Callable) -> None:
    front = {**BASE, "description": "Print hello.", "generation": ["dwc"]}
    path = write_markdown(
        "a.md", front, {"Code": CODE, "Explanation": "It prints.", "Expected Output": "hello"}
    )
    example, problems = load(path)
    assert problems == []
    assert [m.role for m in example.messages] == ["user", "assistant"]
    user, answer = example.messages[0].content, example.messages[1].content
    assert "Print hello." in user and "DWC" in user
    assert answer.index("```bbj") < answer.index("It prints.") < answer.index("hello\n```")
    assert example.generations == ("dwc",)
    assert example.declared_code == ('print "hello"\nend\n',)


def test_comprehension_shows_code_and_explains(write_markdown: Callable) -> None:
    front = {**BASE, "type": "comprehension"}
    path = write_markdown("c.md", front, {"Code": CODE, "Explanation": "It greets."})
    example, _ = load(path)
    assert '```bbj\nprint "hello"' in example.messages[0].content
    assert example.messages[1].content == "It greets."


def test_migration_splits_original_and_result(write_markdown: Callable) -> None:
    front = {
        **BASE,
        "type": "migration",
        "from_generation": "character",
        "to_generation": "bbj-gui",
    }
    code = (
        '<!-- filename: old.bbj -->\n```bbj\nprint @(1,1),"x"\n```\n\n'
        "<!-- filename: new.bbj -->\n```bbj\nsysgui! = BBjAPI().getSysGui()\n```"
    )
    example, problems = load(write_markdown("m.md", front, {"Code": code}))
    assert problems == []
    user, answer = example.messages[0].content, example.messages[1].content
    assert "`old.bbj`" in user and "print @(1,1)" in user and "getSysGui" not in user
    assert "`new.bbj`" in answer and "getSysGui" in answer and "print @(1,1)" not in answer


def test_explanation_explains_then_shows_code(write_markdown: Callable) -> None:
    front = {**BASE, "type": "explanation", "title": "What is UNT?"}
    example, _ = load(
        write_markdown("e.md", front, {"Explanation": "UNT gives a free\nchannel.", "Code": CODE})
    )
    assert example.messages[0].content == "What is UNT?"
    answer = example.messages[1].content
    assert answer.startswith("UNT gives a free channel.")
    assert answer.index("free channel") < answer.index("```bbj")


def test_requires_version_stays_a_string(write_markdown: Callable) -> None:
    path = write_markdown("v.md", BASE, {"Code": CODE})
    text = path.read_text().replace("---\n\n", "requires_version: 23.00\n---\n\n", 1)
    path.write_text(text)
    example, problems = load(path)
    assert example is not None, problems


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"type": "snippet"}, "type", "'snippet' is not one of completion"),
        ({"generation": "gui"}, "generation", "'gui' is not a generation"),
        ({"generation": ["dwc", "web"]}, "generation", "is not a generation"),
        ({"colour": "blue"}, "colour", "unknown key"),
        ({"difficulty": "hard"}, "difficulty", "'hard' is not one of basic, intermediate"),
        ({"difficulty": "beginner"}, "difficulty", "'beginner' is not one of basic"),
        ({"tags": "io"}, "tags", "must be of type array"),
        ({"to_generation": "all"}, "to_generation", "(generations: character, vpro5"),
        ({"to_generation": ["dwc", "dwc"]}, "to_generation", "is not a generation"),
    ],
)
def test_schema_violations_name_file_line_and_field(
    write_markdown: Callable, change: dict, field: str, words: str
) -> None:
    path = write_markdown("bad.md", {**BASE, **change}, {"Code": CODE})
    example, problems = load(path)
    assert example is None
    messages = [str(p) for p in problems]
    hit = [p for p in problems if p.field == field]
    assert hit, messages
    assert words in hit[0].message
    assert str(path) in str(hit[0])
    if field in change:
        assert f"line {list({**BASE, **change}).index(field) + 2}" in str(hit[0])


def test_missing_title_is_reported(write_markdown: Callable) -> None:
    front = {k: v for k, v in BASE.items() if k != "title"}
    example, problems = load(write_markdown("t.md", front, {"Code": CODE}))
    assert example is None
    assert [(p.field, p.message) for p in problems] == [("title", "is required but missing")]


def test_missing_section_is_named(write_markdown: Callable) -> None:
    example, problems = load(
        write_markdown("s.md", {**BASE, "type": "comprehension"}, {"Code": CODE})
    )
    assert example is None
    assert problems[0].field == "## Explanation"
    assert "needs a non-empty '## Explanation' section" in problems[0].message


def test_code_section_without_bbj_block(write_markdown: Callable) -> None:
    example, problems = load(write_markdown("n.md", BASE, {"Code": "```java\nint x;\n```"}))
    assert example is None
    assert "marked 'java'" in problems[0].message


def test_unknown_section_is_a_warning_only(write_markdown: Callable) -> None:
    example, problems = load(write_markdown("u.md", BASE, {"Code": CODE, "Notes": "x"}))
    assert example is not None
    assert len(problems) == 1 and not problems[0].skipped
    assert "unknown section '## Notes'" in problems[0].message


def test_headings_inside_code_are_not_sections(write_markdown: Callable) -> None:
    code = "```bbj\nrem a\n## Explanation\nend\n```"
    example, _ = load(write_markdown("h.md", BASE, {"Code": code}))
    assert "## Explanation" in example.declared_code[0]


def test_no_front_matter(tmp_path: Path) -> None:
    path = tmp_path / "plain.md"
    path.write_text("## Code\n\n" + CODE + "\n")
    example, problems = load(path)
    assert example is None
    assert "no YAML front matter" in str(problems[0])


def test_broken_yaml_gives_the_line(tmp_path: Path) -> None:
    path = tmp_path / "y.md"
    path.write_text('---\ntitle: "x\ntype: completion\n---\n## Code\n' + CODE)
    example, problems = load(path)
    assert example is None
    assert "not valid YAML" in problems[0].message
    assert problems[0].line is not None


def test_crlf_and_bom_are_accepted(write_markdown: Callable) -> None:
    path = write_markdown("w.md", BASE, {"Code": CODE})
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes().replace(b"\n", b"\r\n"))
    example, problems = load(path)
    assert example is not None, problems
    assert "\r" not in example.messages[1].content
