"""Turning a data build into tokenised training rows with their loss masks.

Every row is ``{"input_ids", "labels"}`` with -100 where no loss is taken, so one stage-2
dataset can mix ChatML conversations (loss on the assistant turns and their ``<|im_end|>``)
with FIM samples (loss on the middle and its ``<|endoftext|>``). TRL keeps given labels as they
are, truncates to ``max_length`` and packs when asked.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trainer.train.inputs import read_jsonl

IGNORE = -100

# ChatML laid out exactly as the daemon renders a chat (daemon.backends.chatml.render_chatml), with
# {% generation %} markers around what the assistant says, its <|im_end|> included.
TRAINING_CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['role'] == 'assistant' %}"
    "{{ '<|im_start|>assistant\\n' }}"
    "{% generation %}{{ message['content'] + '<|im_end|>' }}{% endgeneration %}"
    "{{ '\\n' }}"
    "{% else %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


@dataclass
class StageRows:
    """The tokenised rows of one stage and what went into them."""

    train: list[dict[str, list[int]]]
    eval: list[dict[str, list[int]]]
    counts: dict[str, int] = field(default_factory=dict)


def with_system(messages: list[dict[str, str]]) -> list[dict[str, str]]:
    """The conversation as the daemon would send it: a system message first."""
    from daemon.backends.chatml import DEFAULT_SYSTEM_PROMPT

    if messages and messages[0]["role"] == "system":
        return messages
    return [{"role": "system", "content": DEFAULT_SYSTEM_PROMPT}, *messages]


def chat_row(tokenizer: Any, messages: list[dict[str, str]]) -> dict[str, list[int]]:
    """A conversation with loss on the assistant tokens only (TRL's assistant mask)."""
    encoded = tokenizer.apply_chat_template(
        with_system(messages),
        chat_template=TRAINING_CHAT_TEMPLATE,
        tokenize=True,
        return_dict=True,
        return_assistant_tokens_mask=True,
    )
    ids = list(encoded["input_ids"])
    mask = encoded["assistant_masks"]
    labels = [t if m else IGNORE for t, m in zip(ids, mask, strict=True)]
    return {"input_ids": ids, "labels": labels}


def fim_row(tokenizer: Any, prompt: str, completion: str) -> dict[str, list[int]]:
    """A FIM sample with loss on the completion (the middle and its end token) only."""
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    completion_ids = tokenizer(completion, add_special_tokens=False)["input_ids"]
    return {
        "input_ids": prompt_ids + completion_ids,
        "labels": [IGNORE] * len(prompt_ids) + completion_ids,
    }


def text_row(tokenizer: Any, text: str) -> dict[str, list[int]]:
    """Continued pretraining: loss on every token."""
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    return {"input_ids": ids, "labels": list(ids)}


def mix_fim(
    chat: list[dict[str, list[int]]], fim: list[dict[str, list[int]]], ratio: float, seed: int
) -> list[dict[str, list[int]]]:
    """Chat rows plus FIM rows making up ``ratio`` of the result, shuffled reproducibly.

    FIM rows are repeated when there are too few of them and subsampled when there are more.
    """
    rng = random.Random(seed)
    if ratio <= 0 or not fim:
        picked: list[dict[str, list[int]]] = []
    elif not chat:
        picked = list(fim)
    else:
        wanted = round(len(chat) * ratio / (1.0 - ratio))
        picked = fim * (wanted // len(fim)) + rng.sample(fim, wanted % len(fim))
    mixed = chat + picked
    rng.shuffle(mixed)
    return mixed


def cpt_rows(tokenizer: Any, data_dir: Path) -> StageRows:
    train = [text_row(tokenizer, r["text"]) for r in read_jsonl(data_dir / "cpt_train.jsonl")]
    val = [text_row(tokenizer, r["text"]) for r in read_jsonl(data_dir / "cpt_val.jsonl")]
    return StageRows(train, val, {"cpt train": len(train), "cpt val": len(val)})


def sft_rows(tokenizer: Any, data_dir: Path, fim_ratio: float, seed: int) -> StageRows:
    def chats(name: str) -> list[dict[str, list[int]]]:
        return [chat_row(tokenizer, r["messages"]) for r in read_jsonl(data_dir / name)]

    def fims(name: str) -> list[dict[str, list[int]]]:
        rows = read_jsonl(data_dir / name) if fim_ratio > 0 else []
        return [fim_row(tokenizer, r["prompt"], r["completion"]) for r in rows]

    chat_train, fim_train = chats("train.jsonl"), fims("fim_train.jsonl")
    chat_val, fim_val = chats("val.jsonl"), fims("fim_val.jsonl")
    train = mix_fim(chat_train, fim_train, fim_ratio, seed)
    counts = {
        "chat train": len(chat_train),
        "fim train (available)": len(fim_train),
        "fim train (mixed in)": len(train) - len(chat_train),
        "chat val": len(chat_val),
        "fim val": len(fim_val),
    }
    return StageRows(train, chat_val + fim_val, counts)


def to_dataset(rows: list[dict[str, list[int]]]) -> Any:
    from datasets import Dataset

    return Dataset.from_list(rows)
