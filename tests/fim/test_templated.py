"""Templated FIM prompts (Continue's provider: openai) split back into their parts."""

from __future__ import annotations

import pytest

from fim.formats import (
    CODELLAMA,
    FORMATS,
    QWEN25_CODER,
    STARCODER2,
    ContextFile,
    FimFormat,
)
from fim.templated import (
    DIFF_SNIPPET_PATH,
    TemplatedPrompt,
    extract_snippet_context,
    parse_templated_prompt,
    split_snippet_header,
)

PREFIX_SUFFIX_PAIRS = [
    ("class public A\n    method public void run()\n        PRINT ", '"done"\n    methodend\n'),
    ("x = 1 ", " + 2\nPRINT x\n"),
    ("", "PRINT 1\n"),
    ("0010 PRINT 'CS'\n0020 ", "\n0030 END\n"),
    ('PRINT "Größe: ", ', "size\n"),
]
CUSTOMER_CLASS = "class public Customer\n    field public BBjString Name$\nclassend"
CONTEXT = (
    ContextFile("lib/util.bbj", "def fnsq(x) = x * x\n"),
    ContextFile("src/customer.bbj", CUSTOMER_CLASS + "\n"),
)


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.name)
@pytest.mark.parametrize(("prefix", "suffix"), PREFIX_SUFFIX_PAIRS)
def test_round_trip_plain(fmt: FimFormat, prefix: str, suffix: str) -> None:
    parsed = parse_templated_prompt(fmt.render(prefix, suffix))
    assert parsed == TemplatedPrompt(prefix, suffix, fmt, (), None)


@pytest.mark.parametrize("fmt", [f for f in FORMATS if f.supports_repo_level], ids=lambda f: f.name)
def test_round_trip_repo_level(fmt: FimFormat) -> None:
    prompt = fmt.render("a = 1\nb = ", "\nPRINT b\n", path="src/main.bbj", context=CONTEXT)
    parsed = parse_templated_prompt(prompt)
    assert parsed == TemplatedPrompt("a = 1\nb = ", "\nPRINT b\n", fmt, CONTEXT, "src/main.bbj")


def test_repo_level_with_path_and_no_context() -> None:
    prompt = QWEN25_CODER.render("x = ", "\n", path="a.bbj")
    parsed = parse_templated_prompt(prompt)
    assert parsed is not None
    assert (parsed.path, parsed.context, parsed.prefix) == ("a.bbj", (), "x = ")


@pytest.mark.parametrize(
    "prompt",
    [
        "Write a BBj program that prints hello",
        "<|fim_prefix|>x = 1<|fim_middle|>",  # no suffix token
        "<|fim_prefix|>x<|fim_suffix|>y<|fim_middle|>z = 2",  # text after the middle token
        "<fim_suffix>y<fim_middle>",  # no prefix token
    ],
)
def test_plain_or_malformed_prompts_are_not_fim(prompt: str) -> None:
    assert parse_templated_prompt(prompt) is None


def test_continue_codellama_spacing() -> None:
    # Continue's template: "<PRE> {{{prefix}}} <SUF>{{{suffix}}} <MID>"
    parsed = parse_templated_prompt("<PRE> x = 1\ny =  <SUF>\nPRINT y\n <MID>")
    assert parsed is not None
    assert (parsed.fmt, parsed.prefix, parsed.suffix) == (CODELLAMA, "x = 1\ny = ", "\nPRINT y\n")


def test_continue_empty_suffix_newline_means_end_of_file() -> None:
    parsed = parse_templated_prompt("<fim_prefix>PRINT 1\n<fim_suffix>\n<fim_middle>")
    assert parsed is not None
    assert (parsed.fmt, parsed.suffix) == (STARCODER2, "")


def _continue_snippet_prefix(snippets: list[tuple[str, str]], current: str, prefix: str) -> str:
    """What Continue's formatSnippets + buildPrompt make of a prefix for an unknown language."""

    def comment(text: str) -> str:
        return "\n".join(f"// {line}" for line in text.strip().split("\n"))

    blocks = [comment(f"Path: {path}\n{content}") for path, content in snippets]
    return "\n".join(blocks) + "\n" + comment(current) + "\n" + prefix


def test_continue_snippets_become_context_files() -> None:
    real = "class public Order\n    method public void total()\n        "
    snippets = [
        ("lib/util.bbj", "def fnsq(x) = x * x\n\nPRINT fnsq(2)\n"),
        ("src/customer.bbj", CUSTOMER_CLASS),
    ]
    sent = _continue_snippet_prefix(snippets, "src/order.bbj", real)
    prefix, context = extract_snippet_context(sent)
    assert prefix == real
    assert context == (
        ContextFile("lib/util.bbj", "def fnsq(x) = x * x\n\nPRINT fnsq(2)\n"),
        ContextFile("src/customer.bbj", CUSTOMER_CLASS + "\n"),
    )


def test_continue_header_without_snippets_is_removed() -> None:
    split = split_snippet_header("\n// src/order.bbj\nPRINT 1\nPRINT ")
    assert (split.prefix, split.context, split.path) == ("PRINT 1\nPRINT ", (), "src/order.bbj")


@pytest.mark.parametrize("marker", ["#", "REM", "rem"])
def test_other_comment_markers(marker: str) -> None:
    header = f"{marker} Path: a.bbj\n{marker} PRINT 1\n{marker} b.bbj\n"
    expected = ("x = ", (ContextFile("a.bbj", "PRINT 1\n"),))
    assert extract_snippet_context(header + "x = ") == expected


def test_diff_snippet_without_path_gets_a_placeholder_path() -> None:
    diff = "// --- a/x.bbj\n// +++ b/x.bbj\n// @@ -1 +1 @@\n// -x=1\n// +x=2\n"
    header = diff + "// Path: y.bbj\n// y=1\n// cur.bbj\n"
    _, context = extract_snippet_context(header + "z = ")
    assert [c.path for c in context] == [DIFF_SNIPPET_PATH, "y.bbj"]
    assert context[0].text.startswith("--- a/x.bbj\n")


@pytest.mark.parametrize(
    "prefix",
    [
        "REM Customer maintenance\nREM (c) 2024 Example Ltd\nPRINT 'CS'\n",
        "REM orders.bbj\nPRINT 1\n",  # path-like REM line, but no Continue header structure
        "// not a path at all\nx = ",
        "PRINT 1\n// Path: a.bbj\n// b.bbj\n",
        "",
    ],
)
def test_ordinary_prefixes_are_left_alone(prefix: str) -> None:
    assert extract_snippet_context(prefix) == (prefix, ())


def test_qwen_prompt_from_continue_carries_snippets_and_path() -> None:
    real = "x = 1\nPRINT "
    prefix = _continue_snippet_prefix([("lib/a.bbj", "y = 2")], "src/main.bbj", real)
    parsed = parse_templated_prompt(f"<|fim_prefix|>{prefix}<|fim_suffix|>\n<|fim_middle|>")
    assert parsed == TemplatedPrompt(
        real, "", QWEN25_CODER, (ContextFile("lib/a.bbj", "y = 2\n"),), "src/main.bbj"
    )
