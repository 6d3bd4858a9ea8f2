"""The two evaluation tasks on held-out data: chat compile@k and FIM completion quality.

Chat: every validation conversation whose reference answer holds BBj code is asked again
(without that answer); an answer passes when it has fenced BBj code and every block passes the
checker. FIM: every validation FIM sample is completed, post-processed as the daemon does, and
compared with the true middle; the filled-in file is checked when the original one passes.
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
Tick = Callable[[str, int, int], None]


@dataclass(frozen=True)
class ChatSettings:
    max_tokens: int = 512
    samples: int = 1
    """Sampled answers per prompt for compile@k (1: greedy only)."""
    temperature: float = 0.8
    ks: tuple[int, ...] = (1,)
    seed: int = 0


def make_checker(mode: str = "auto", bbjcpl: str | None = None) -> tuple[Check, str]:
    """A synchronous pass/fail check and the checker's description."""
    from daemon.check import describe_checker, select_checker

    checker = select_checker(mode, bbjcpl)
    loop = asyncio.new_event_loop()

    def check(code: str) -> bool:
        return loop.run_until_complete(checker.check(code)).ok

    return check, describe_checker(checker)


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
    runner: Runner, samples: list[dict[str, Any]], check: Check, max_tokens: int, tick: Tick
) -> tuple[dict[str, Any], list[dict]]:
    exact, similar, compiled, seconds, items = [], [], [], [], []
    for index, sample in enumerate(samples):
        tick("fim", index, len(samples))
        middle, took = complete_fim(runner, sample, max_tokens)
        seconds.append(took)
        exact.append(exact_match(middle, sample["middle"]))
        similar.append(edit_similarity(middle, sample["middle"]))
        reference = sample["prefix"] + sample["middle"] + sample["suffix"]
        if check(reference):
            compiled.append(check(sample["prefix"] + middle + sample["suffix"]))
        items.append(
            {
                "task": "fim",
                "index": index,
                "path": sample.get("path"),
                "expected": sample["middle"],
                "completion": middle,
                "exact": exact[-1],
                "edit_similarity": round(similar[-1], 4),
                "seconds": took,
            }
        )
    summary = {
        "samples": len(samples),
        "exact_match": round(mean(exact), 4),
        "edit_similarity": round(mean(similar), 4),
        "compile_rate": round(mean(compiled), 4),
        "compile_checked": len(compiled),
        "latency_s": latency_summary(seconds),
    }
    return summary, items
