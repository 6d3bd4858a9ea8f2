"""Token-budgeted prompt assembly with a simple deterministic token counter."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from fim.context import PREFIX_ANCHOR_LINES, AssembledPrompt, assemble_prompt
from fim.formats import CODELLAMA, QWEN25_CODER, ContextFile, FimFormat

_TOKEN = re.compile(r"<\|[a-z_]+\|>|\w+|[^\w\s]|\n")


def count_tokens(text: str) -> int:
    """Special tokens, words, punctuation marks and newlines count one each."""
    return len(_TOKEN.findall(text))


class CountingCounter:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, text: str) -> int:
        self.calls += 1
        return count_tokens(text)


def numbered_lines(start: int, count: int) -> str:
    return "".join(f"    total = total + item{n}\n" for n in range(start, start + count))


PREFIX = "class public Report\n    method public void run()\n" + numbered_lines(0, 300) + "    x = "
SUFFIX = "1\n" + numbered_lines(300, 300) + "    methodend\nclassend\n"
CHUNKS = tuple(ContextFile(f"lib/mod{n}.bbj", numbered_lines(1000 * n, 8)) for n in range(1, 6))


def assemble(
    max_tokens: int,
    *,
    prefix: str = PREFIX,
    suffix: str = SUFFIX,
    context: tuple[ContextFile, ...] = (),
    fmt: FimFormat = QWEN25_CODER,
    counter: Callable[[str], int] = count_tokens,
) -> AssembledPrompt:
    return assemble_prompt(
        prefix,
        suffix,
        fmt=fmt,
        count_tokens=counter,
        max_prompt_tokens=max_tokens,
        context=context,
        path="src/report.bbj",
    )


def test_everything_fits_untouched() -> None:
    result = assemble(100_000, context=CHUNKS)
    assert result.prompt == QWEN25_CODER.render(
        PREFIX, SUFFIX, path="src/report.bbj", context=CHUNKS
    )
    assert (result.prefix_truncated, result.suffix_truncated, result.context_dropped) == (
        False,
        False,
        0,
    )
    assert result.token_estimate == count_tokens(result.prompt)


@pytest.mark.parametrize("max_tokens", [40, 80, 200, 500, 1000, 2500, 5000])
def test_never_over_the_limit(max_tokens: int) -> None:
    result = assemble(max_tokens, context=CHUNKS)
    assert result.token_estimate == count_tokens(result.prompt) <= max_tokens
    assert result.prompt == QWEN25_CODER.render(
        result.prefix, result.suffix, path="src/report.bbj", context=result.context
    )


def test_cuts_fall_on_line_boundaries_and_keep_the_cursor_line() -> None:
    result = assemble(600)
    assert result.prefix_truncated and result.suffix_truncated
    assert PREFIX.endswith(result.prefix)
    assert PREFIX[len(PREFIX) - len(result.prefix) - 1] == "\n"
    assert result.prefix.endswith("\n    x = ")
    assert SUFFIX.startswith(result.suffix)
    assert result.suffix.endswith("\n")


def test_budget_is_used_almost_fully() -> None:
    result = assemble(600)
    longest_line = count_tokens("    total = total + item999\n")
    # The prefix start is anchored (PREFIX_ANCHOR_LINES), which may leave that many lines out.
    assert result.token_estimate > 600 - (PREFIX_ANCHOR_LINES + 1) * longest_line


def test_cursor_line_survives_a_tiny_budget() -> None:
    result = assemble(18)  # 13 tokens of FIM/repo markup leave room for the cursor line only
    assert result.prefix == "    x = "
    assert result.token_estimate <= 18


def test_an_overlong_cursor_line_keeps_its_end() -> None:
    cursor_line = "    msg$ = " + " + ".join(f"part{n}$" for n in range(200))
    result = assemble(100, prefix="x = 1\n" + cursor_line)
    assert result.prefix_truncated
    assert cursor_line.endswith(result.prefix)
    assert len(result.prefix) > 100
    assert result.token_estimate <= 100


def test_prefix_gets_the_larger_share() -> None:
    result = assemble(1000)
    prefix_tokens = count_tokens(result.prefix)
    suffix_tokens = count_tokens(result.suffix)
    assert 2.5 * suffix_tokens <= prefix_tokens <= 3.5 * suffix_tokens


def test_short_suffix_leaves_the_rest_to_the_prefix() -> None:
    result = assemble(1000, suffix="1\n    methodend\n")
    assert not result.suffix_truncated
    assert result.prefix_truncated
    assert count_tokens(result.prefix) > 900


def test_short_prefix_leaves_the_rest_to_the_suffix() -> None:
    result = assemble(1000, prefix="    x = ")
    assert not result.prefix_truncated
    assert count_tokens(result.suffix) > 900


def test_context_goes_first_in_the_given_order() -> None:
    result = assemble(100_000, context=CHUNKS)
    positions = [result.prompt.index(chunk.text) for chunk in CHUNKS]
    assert positions == sorted(positions)
    assert positions[-1] < result.prompt.index("<|fim_prefix|>")


def test_when_context_does_not_fit_later_chunks_win_and_keep_their_order() -> None:
    result = assemble(1000, context=CHUNKS)
    assert 0 < len(result.context) < len(CHUNKS)
    assert result.context_dropped == len(CHUNKS) - len(result.context)
    assert result.context == CHUNKS[len(CHUNKS) - len(result.context) :]


def test_typing_keeps_the_prompt_start_byte_identical() -> None:
    before = assemble(1000, context=CHUNKS)
    after = assemble(1000, context=CHUNKS, prefix=PREFIX + "total + 1\n    y = ")
    start = before.prompt.index("<|file_sep|>src/report.bbj")
    assert before.context == after.context
    assert after.prompt[:start] == before.prompt[:start]
    assert assemble(1000, context=CHUNKS) == before


def test_format_without_repo_tokens_drops_context() -> None:
    result = assemble(100_000, context=CHUNKS, fmt=CODELLAMA)
    assert result.context == ()
    assert result.context_dropped == len(CHUNKS)
    assert result.prompt == CODELLAMA.render(PREFIX, SUFFIX)


def test_few_token_counter_calls_on_a_long_file() -> None:
    counter = CountingCounter()
    long_prefix = numbered_lines(0, 20_000) + "    x = "
    result = assemble(2000, prefix=long_prefix, suffix=numbered_lines(0, 20_000), counter=counter)
    assert result.token_estimate <= 2000
    assert counter.calls <= 60


def test_budget_too_small_for_the_format_tokens() -> None:
    with pytest.raises(ValueError, match="cannot hold"):
        assemble(2)


def test_a_path_too_long_for_the_budget_is_left_out_not_an_error() -> None:
    result = assemble_prompt(
        "x = ",
        "",
        fmt=QWEN25_CODER,
        count_tokens=count_tokens,
        max_prompt_tokens=20,
        path="a/" * 5000 + "x.bbj",
    )
    assert result.token_estimate <= 20
    assert "x.bbj" not in result.prompt and "x = " in result.prompt


def test_typing_on_the_cursor_line_rarely_moves_a_truncated_prefix_start() -> None:
    # Each keystroke adds a token to the cursor line; the first kept line may move only when
    # the lines pushed out reach the next anchor, not with every line that no longer fits.
    starts = set()
    for typed in range(1, 60):
        result = assemble(400, prefix=PREFIX + " y" * typed, suffix="\n")
        assert result.prefix_truncated
        starts.add(result.prefix.split("\n", 1)[0])
    assert len(starts) <= 2, starts  # 10 different starts without the anchor
