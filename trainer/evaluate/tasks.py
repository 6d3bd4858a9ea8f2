"""The two evaluation tasks on held-out data: chat compile@k and FIM completion quality.

Chat: every test conversation whose reference answer holds BBj code is asked again
(without that answer); an answer passes when it has fenced BBj code and every block passes the
checker. FIM: every test FIM sample is completed, post-processed as the daemon does, and
compared with the true middle. A compile rate over all completions would reward silence (an
empty completion leaves a compiling file compiling), so the FIM metrics are:

- ``non_empty_share``: completions with any non-blank text;
- ``compile_rate_non_empty``: of the non-empty completions whose original file passes the
  checker, the share whose filled-in file passes too (0 when there are none), with its N;
- ``adds_no_error``: completions that add no error compared with the empty completion (the
  daemon's compile gate); a silent model scores 1 here and 0 on the two above;
- ``exact_match`` and ``edit_similarity`` against the true middle.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from trainer.evaluate.metrics import (
    edit_similarity,
    exact_match,
    latency_summary,
    mean,
    pass_at_k,
)
from trainer.evaluate.runners import Runner, Sampling

Check = Callable[[str], bool]
Gate = Callable[[str, str, str], bool]
"""``gate(prefix, completion, suffix)``: True when the completion adds no checker error."""
Tick = Callable[[str, int, int], None]


@dataclass(frozen=True)
class ChatSettings:
    max_tokens: int = 512
    samples: int = 1
    """Sampled answers per prompt for compile@k (1: greedy only)."""
    temperature: float = 0.8
    ks: tuple[int, ...] = (1,)
    seed: int = 0


@dataclass(frozen=True)
class Checks:
    """The checker as evaluation uses it: a pass/fail check, the FIM gate, its description."""

    check: Check
    gate: Gate
    description: str


def make_checker(mode: str = "auto", bbjcpl: str | None = None) -> Checks:
    """Synchronous views of the daemon's checker and of its FIM compile gate."""
    from daemon.check import CompletionGate, describe_checker, select_checker

    checker = select_checker(mode, bbjcpl)
    loop = asyncio.new_event_loop()

    def check(code: str) -> bool:
        return loop.run_until_complete(checker.check(code)).ok

    def gate(prefix: str, completion: str, suffix: str) -> bool:
        judging = CompletionGate(checker).judge(prefix, completion, suffix)
        return loop.run_until_complete(judging).passed

    return Checks(check, gate, describe_checker(checker))


def code_blocks(text: str) -> list[str]:
    from daemon.services.codeblocks import extract_bbj_blocks

    return [block.code for block in extract_bbj_blocks(text)]


def answer_compiles(answer: str, check: Check) -> bool:
    blocks = code_blocks(answer)
    return bool(blocks) and all(check(block) for block in blocks)


def chat_prompts(records: list[dict[str, Any]]) -> list[list[dict[str, str]]]:
    """The conversations (minus the final answer) whose reference answer has BBj code."""
    prompts = []
    for record in records:
        messages = record["messages"]
        if messages[-1]["role"] == "assistant" and code_blocks(messages[-1]["content"]):
            prompts.append(messages[:-1])
    return prompts


def evaluate_chat(
    runner: Runner,
    prompts: list[list[dict[str, str]]],
    check: Check,
    settings: ChatSettings,
    tick: Tick,
) -> tuple[dict[str, Any], list[dict]]:
    greedy_passes, has_code, seconds, tokens, items = [], [], [], 0, []
    sampled_passes: list[int] = []
    for index, messages in enumerate(prompts):
        tick("chat", index, len(prompts))
        answer = runner.chat(messages, Sampling(settings.max_tokens, 0.0, settings.seed))
        seconds.append(answer.seconds)
        tokens += answer.tokens
        passed = answer_compiles(answer.text, check)
        greedy_passes.append(passed)
        has_code.append(bool(code_blocks(answer.text)))
        if settings.samples > 1:
            sampled_passes.append(_sampled_passes(runner, messages, check, settings, index))
        items.append(
            {
                "task": "chat",
                "index": index,
                "prompt": messages[-1]["content"],
                "answer": answer.text,
                "compiles": passed,
                "seconds": answer.seconds,
            }
        )
    summary = {
        "prompts": len(prompts),
        "compile@1": round(mean(greedy_passes), 4),
        "has_code": round(mean(has_code), 4),
        "latency_s": latency_summary(seconds),
        "tokens_per_s": round(tokens / sum(seconds), 1) if sum(seconds) else 0.0,
    }
    if sampled_passes:
        summary["compile@k"] = {
            str(k): round(mean([pass_at_k(settings.samples, c, k) for c in sampled_passes]), 4)
            for k in settings.ks
            if k <= settings.samples
        }
    return summary, items


def _sampled_passes(
    runner: Runner, messages: list[dict[str, str]], check: Check, settings: ChatSettings, index: int
) -> int:
    passes = 0
    for sample in range(settings.samples):
        seed = settings.seed + index * settings.samples + sample + 1
        answer = runner.chat(messages, Sampling(settings.max_tokens, settings.temperature, seed))
        passes += answer_compiles(answer.text, check)
    return passes


def complete_fim(runner: Runner, sample: dict[str, Any], max_tokens: int) -> tuple[str, float]:
    """The model's middle for ``sample`` after the daemon's post-processing chain."""
    from fim.postprocess import FimContext, apply_chain

    generated = runner.fim(sample["prompt"], Sampling(max_tokens))
    context = FimContext.build(sample["prefix"], sample["suffix"])
    return apply_chain(generated.text, context), generated.seconds


def evaluate_fim(
    runner: Runner, samples: list[dict[str, Any]], checks: Checks, max_tokens: int, tick: Tick
) -> tuple[dict[str, Any], list[dict]]:
    exact, similar, non_empty, compiled, no_new_error, seconds, items = [], [], [], [], [], [], []
    for index, sample in enumerate(samples):
        tick("fim", index, len(samples))
        middle, took = complete_fim(runner, sample, max_tokens)
        prefix, suffix = sample["prefix"], sample["suffix"]
        seconds.append(took)
        exact.append(exact_match(middle, sample["middle"]))
        similar.append(edit_similarity(middle, sample["middle"]))
        non_empty.append(bool(middle.strip()))
        compiles = None
        if non_empty[-1] and checks.check(prefix + sample["middle"] + suffix):
            compiles = checks.check(prefix + middle + suffix)
            compiled.append(compiles)
        no_new_error.append(not non_empty[-1] or checks.gate(prefix, middle, suffix))
        items.append(
            {
                "task": "fim",
                "index": index,
                "path": sample.get("path"),
                "expected": sample["middle"],
                "completion": middle,
                "exact": exact[-1],
                "edit_similarity": round(similar[-1], 4),
                "non_empty": non_empty[-1],
                "compiles": compiles,
                "adds_no_error": no_new_error[-1],
                "seconds": took,
            }
        )
    summary = {
        "samples": len(samples),
        "non_empty_share": round(mean(non_empty), 4),
        "compile_rate_non_empty": round(mean(compiled), 4),
        "compile_checked": len(compiled),
        "adds_no_error": round(mean(no_new_error), 4),
        "exact_match": round(mean(exact), 4),
        "edit_similarity": round(mean(similar), 4),
        "latency_s": latency_summary(seconds),
    }
    return summary, items
