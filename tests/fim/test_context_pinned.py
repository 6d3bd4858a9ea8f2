"""Pinned chunks (workspace signatures) in FIM prompt assembly."""

from __future__ import annotations

from fim import CODELLAMA, QWEN25_CODER, ContextFile
from fim.context import assemble_prompt


def words(text: str) -> int:
    return len(text.split()) + text.count("<|")


PINNED = (
    ContextFile(
        "lib/Customer.bbj",
        "class public Customer\n    method public BBjString getName()\nclassend\n",
    ),
    ContextFile(
        "lib/Order.bbj", "class public Order\n    method public BBjNumber total()\nclassend\n"
    ),
)
RING = (ContextFile("recent.bbj", "print 1\n"), ContextFile("other.bbj", "print 2\n"))


def test_pinned_chunks_come_first_then_the_ring_and_render_like_the_trainer() -> None:
    prefix, suffix = "c! = new Customer()\nc!.", "\nprint x\n"
    assembled = assemble_prompt(
        prefix,
        suffix,
        fmt=QWEN25_CODER,
        count_tokens=words,
        max_prompt_tokens=2000,
        context=RING,
        path="app/main.bbj",
        pinned=PINNED,
    )
    assert assembled.context == PINNED + RING
    assert assembled.pinned_kept == 2 and assembled.context_dropped == 0
    # The one renderer: the trainer renders the same context list into the same prompt.
    expected = QWEN25_CODER.render(prefix, suffix, path="app/main.bbj", context=PINNED + RING)
    assert assembled.prompt == expected


def test_pinned_chunks_past_their_share_are_dropped_from_the_end() -> None:
    big = ContextFile("big.bbj", "x " * 400)
    assembled = assemble_prompt(
        "a\n" * 50,
        "",
        fmt=QWEN25_CODER,
        count_tokens=words,
        max_prompt_tokens=300,
        pinned=(PINNED[0], big, PINNED[1]),
    )
    # The first fits; the oversized second stops the run so the order never has gaps.
    assert assembled.context == (PINNED[0],)
    assert assembled.token_estimate <= 300


def test_formats_without_repo_level_tokens_drop_pinned_chunks() -> None:
    assembled = assemble_prompt(
        "a", "b", fmt=CODELLAMA, count_tokens=words, max_prompt_tokens=200, pinned=PINNED
    )
    assert assembled.context == () and assembled.pinned_kept == 0
    assert "Customer" not in assembled.prompt
