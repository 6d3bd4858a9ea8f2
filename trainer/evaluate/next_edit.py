"""The next-edit task on held-out samples (``next_edit_test.jsonl``).

Every sample's prompt is completed greedily and parsed as the daemon parses it. Reported:
``exact_match`` (the updated window exactly as committed), ``noop_accuracy`` (on "no edit
needed" samples, the share left unchanged) and ``compile_rate`` (of suggestions that change
something, applied to a file that compiled before, the share that still compiles).
"""

from __future__ import annotations

from typing import Any

from fim.next_edit import SWEEP_QWEN
from trainer.evaluate.metrics import latency_summary, mean
from trainer.evaluate.runners import Runner, Sampling
from trainer.evaluate.tasks import Check, Tick


def applied(sample: dict[str, Any], window: str) -> str:
    """The sample's file with its window replaced by ``window``."""
    lines = sample["text"].split("\n")
    start, end = sample["window"]
    return "\n".join([*lines[:start], *window.split("\n"), *lines[end:]])


def evaluate_next_edit(
    runner: Runner, samples: list[dict[str, Any]], check: Check, max_tokens: int, tick: Tick
) -> tuple[dict[str, Any], list[dict]]:
    exact, noop, compiled, seconds, items = [], [], [], [], []
    for index, sample in enumerate(samples):
        tick("next_edit", index, len(samples))
        generated = runner.fim(sample["prompt"], Sampling(max_tokens))
        predicted = SWEEP_QWEN.parse(generated.text)
        seconds.append(generated.seconds)
        exact.append(predicted == sample["updated_window"])
        changed = predicted != sample["current_window"]
        if sample["kind"] == "noop":
            noop.append(not changed)
        if changed and check(sample["text"]):
            compiled.append(check(applied(sample, predicted)))
        items.append(
            {
                "task": "next_edit",
                "index": index,
                "kind": sample["kind"],
                "path": sample.get("path"),
                "expected": sample["updated_window"],
                "predicted": predicted,
                "exact": exact[-1],
                "seconds": generated.seconds,
            }
        )
    summary = {
        "samples": len(samples),
        "exact_match": round(mean(exact), 4),
        "noop_accuracy": round(mean(noop), 4),
        "noop_samples": len(noop),
        "compile_rate": round(mean(compiled), 4),
        "compile_checked": len(compiled),
        "latency_s": latency_summary(seconds),
    }
    return summary, items
