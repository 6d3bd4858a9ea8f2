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

from trainer.train.errors import TrainError
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
    return {"input_ids": ids, "labels": labels, "kind": "chat"}


def fim_row(
    tokenizer: Any, prompt: str, completion: str, kind: str = "FIM"
) -> dict[str, list[int]]:
    """A prompt/completion sample (FIM, next edit) with loss on the completion only."""
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    completion_ids = tokenizer(completion, add_special_tokens=False)["input_ids"]
    return {
        "input_ids": prompt_ids + completion_ids,
        "labels": [IGNORE] * len(prompt_ids) + completion_ids,
        "kind": kind,
    }


def text_row(tokenizer: Any, text: str) -> dict[str, list[int]]:
    """Continued pretraining: loss on every token."""
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    return {"input_ids": ids, "labels": list(ids), "kind": "pretraining"}


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

    def next_edits(name: str) -> list[dict[str, list[int]]]:
        path = data_dir / name
        rows = read_jsonl(path) if path.is_file() else []
        return [fim_row(tokenizer, r["prompt"], r["completion"], "next edit") for r in rows]

    chat_train, fim_train = chats("train.jsonl"), fims("fim_train.jsonl")
    chat_val, fim_val = chats("val.jsonl"), fims("fim_val.jsonl")
    edit_train, edit_val = next_edits("next_edit_train.jsonl"), next_edits("next_edit_val.jsonl")
    train = mix_fim(chat_train, fim_train, fim_ratio, seed)
    mixed_fim = len(train) - len(chat_train)
    if edit_train:
        train += edit_train
        random.Random(seed + 1).shuffle(train)
    counts = {
        "chat train": len(chat_train),
        "fim train (available)": len(fim_train),
        "fim train (mixed in)": mixed_fim,
        "next edit train": len(edit_train),
        "chat val": len(chat_val),
        "fim val": len(fim_val),
        "next edit val": len(edit_val),
    }
    return StageRows(train, chat_val + fim_val + edit_val, counts)


def fit_rows(rows: StageRows, max_seq_len: int, stage: str) -> StageRows:
    """Rows as long as ``max_seq_len`` at most, never cut silently.

    The trainer would cut a longer row at the end, where the labels are: a FIM row would lose
    its middle, a pretraining row its tail. Those rows were cut to the data build's limit, so a
    longer one means the build used a larger ``max_seq_len``: refuse, with the counts. A chat
    conversation longer than the limit is dropped and counted (the build does not cut chats).
    """
    over = [row for row in (*rows.train, *rows.eval) if len(row["input_ids"]) > max_seq_len]
    if not over:
        return rows
    kinds = [row for row in over if row.get("kind") != "chat"]
    if kinds:
        all_lost = sum(1 for row in kinds if _labels_kept(row, max_seq_len) == 0)
        by_kind: dict[str, int] = {}
        for row in kinds:
            by_kind[row.get("kind", "row")] = by_kind.get(row.get("kind", "row"), 0) + 1
        listed = ", ".join(f"{count} {kind}" for kind, count in sorted(by_kind.items()))
        longest = max(len(row["input_ids"]) for row in kinds)
        raise TrainError(
            f"Stage {stage}: {len(kinds)} training row(s) ({listed}) are longer than "
            f"max_seq_len={max_seq_len} (the longest has {longest} tokens); cutting them would "
            f"drop labels, and {all_lost} would lose all of theirs. The data was built for a "
            f"longer max_seq_len: rebuild it with `bbj-coder train data --max-seq-len "
            f"{max_seq_len}` or set max_seq_len to at least {longest}."
        )
    train = [row for row in rows.train if len(row["input_ids"]) <= max_seq_len]
    kept_eval = [row for row in rows.eval if len(row["input_ids"]) <= max_seq_len]
    counts = dict(rows.counts)
    counts["chat longer than max_seq_len (dropped)"] = len(over)
    return StageRows(train, kept_eval, counts)


def _labels_kept(row: dict[str, Any], max_seq_len: int) -> int:
    return sum(1 for label in row["labels"][:max_seq_len] if label != IGNORE)


def strip_kind(rows: list[dict[str, Any]]) -> list[dict[str, list[int]]]:
    return [{"input_ids": row["input_ids"], "labels": row["labels"]} for row in rows]


def to_dataset(rows: list[dict[str, list[int]]]) -> Any:
    from datasets import Dataset

    return Dataset.from_list(strip_kind(rows))
