"""Loss masks: assistant tokens only for chat, the middle only for FIM, and safe packing."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("trl", reason="the [train] extra is not installed")

from trainer.train.examples import (
    IGNORE,
    TRAINING_CHAT_TEMPLATE,
    chat_row,
    fim_row,
    mix_fim,
    sft_rows,
)

CONVERSATION = [
    {"role": "system", "content": "You write BBj."},
    {"role": "user", "content": "Print 1."},
    {"role": "assistant", "content": "```bbj\nprint 1\n```"},
    {"role": "user", "content": "Now 2."},
    {"role": "assistant", "content": "```bbj\nprint 2\n```\nDone."},
]


@pytest.fixture(scope="module")
def tokenizer(tiny_hf):
    from trainer.train.model import load_tokenizer

    return load_tokenizer(tiny_hf.hf_dir)


def trained_text(tokenizer, row: dict) -> str:
    return tokenizer.decode(
        [t for t, label in zip(row["input_ids"], row["labels"], strict=True) if label != IGNORE]
    )


def trained_runs(row: dict) -> list[list[int]]:
    """The maximal runs of consecutive trained positions."""
    runs: list[list[int]] = []
    for position, label in enumerate(row["labels"]):
        if label == IGNORE:
            continue
        if runs and runs[-1][-1] == position - 1:
            runs[-1].append(position)
        else:
            runs.append([position])
    return runs


def test_chat_trains_on_assistant_turns_and_their_im_end_only(tokenizer) -> None:
    row = chat_row(tokenizer, CONVERSATION)
    runs = trained_runs(row)
    assert len(runs) == 2  # one per assistant turn
    texts = [tokenizer.decode([row["input_ids"][i] for i in run]) for run in runs]
    assert texts == ["```bbj\nprint 1\n```<|im_end|>", "```bbj\nprint 2\n```\nDone.<|im_end|>"]
    labelled = [label for label in row["labels"] if label != IGNORE]
    assert labelled == [row["input_ids"][i] for run in runs for i in run]


def test_the_training_layout_is_the_daemons_chatml(tokenizer) -> None:
    from daemon.backends.base import ChatMessage
    from daemon.backends.chatml import render_chatml

    rendered = tokenizer.apply_chat_template(
        CONVERSATION[:-1],
        chat_template=TRAINING_CHAT_TEMPLATE,
        tokenize=False,
        add_generation_prompt=True,
    )
    assert rendered == render_chatml([ChatMessage(**m) for m in CONVERSATION[:-1]])


def test_a_conversation_without_system_message_gets_the_daemons(tokenizer) -> None:
    from daemon.backends.chatml import DEFAULT_SYSTEM_PROMPT

    row = chat_row(tokenizer, CONVERSATION[1:3])
    assert DEFAULT_SYSTEM_PROMPT in tokenizer.decode(row["input_ids"])
    assert trained_text(tokenizer, row) == "```bbj\nprint 1\n```<|im_end|>"


def test_fim_trains_on_the_middle_and_its_end_token_only(tokenizer) -> None:
    prompt = "<|fim_prefix|>for i = 1 to 3\n<|fim_suffix|>next i\n<|fim_middle|>"
    row = fim_row(tokenizer, prompt, "    print i\n<|endoftext|>")
    assert trained_text(tokenizer, row) == "    print i\n<|endoftext|>"
    assert len(trained_runs(row)) == 1 and trained_runs(row)[0][-1] == len(row["labels"]) - 1
    assert tokenizer.decode(row["input_ids"]).startswith(prompt)


def test_fim_is_mixed_in_at_the_configured_ratio() -> None:
    chat = [{"input_ids": [i], "labels": [i]} for i in range(30)]
    fim = [{"input_ids": [100 + i], "labels": [100 + i]} for i in range(4)]
    mixed = mix_fim(chat, fim, 0.4, seed=1)
    assert len(mixed) == 50 and sum(r["input_ids"][0] >= 100 for r in mixed) == 20
    assert mixed == mix_fim(chat, fim, 0.4, seed=1)  # reproducible
    assert mix_fim(chat, fim, 0.0, seed=1) != chat and len(mix_fim(chat, fim, 0.0, 1)) == 30


def test_a_stage2_batch_from_the_trainer_masks_everything_else(
    tokenizer, tiny_hf, tiny_data: Path, tmp_path: Path
) -> None:
    from trainer.train.config import StageConfig, TrainConfig
    from trainer.train.engine import Engine
    from trainer.train.model import load_model
    from trainer.train.stage import StagePlan, build_trainer

    config = TrainConfig(
        base_model=tiny_hf.hf_dir,
        data=tiny_data,
        out=tmp_path,
        lora_r=4,
        batch_size=4,
        max_seq_len=256,
        tensorboard=False,
        fim_ratio=0.5,
    )
    plan = StagePlan("sft", StageConfig(packing=False), tmp_path / "sft")
    engine = Engine("lora", "test", "cpu", "fp32")
    rows = sft_rows(tokenizer, tiny_data, config.fim_ratio, config.seed)
    trainer = build_trainer(
        load_model(engine, config, tiny_hf.hf_dir, None), tokenizer, rows, config, plan, engine, []
    )
    batch = next(iter(trainer.get_train_dataloader()))
    im_end, eot = tokenizer.convert_tokens_to_ids(["<|im_end|>", "<|endoftext|>"])
    for ids, labels, mask in zip(
        batch["input_ids"].tolist(),
        batch["labels"].tolist(),
        batch["attention_mask"].tolist(),
        strict=True,
    ):
        length = sum(mask)
        text = tokenizer.decode(ids[:length])
        kept = [label for label in labels if label != IGNORE]
        assert kept and all(label == ids[i] for i, label in enumerate(labels) if label != IGNORE)
        assert all(label == IGNORE for label in labels[length:])  # padding
        trained = tokenizer.decode(kept)
        if text.startswith("<|im_start|>"):
            assert kept[-1] == im_end and "<|im_start|>" not in trained
            assert "Write BBj code" not in trained  # the user's turn is not trained
        else:
            assert kept[-1] == eot and "<|fim_middle|>" not in trained
            assert text.split("<|fim_middle|>")[1] == trained


def test_packed_rows_do_not_attend_across_examples(tiny_hf) -> None:
    """Why packing is safe without FlashAttention: transformers builds a block-diagonal mask
    from the position ids when there is no KV cache, as in training."""
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_hf.hf_dir).eval()
    first, second = torch.randint(0, 1000, (1, 7)), torch.randint(0, 1000, (1, 5))
    positions = torch.cat([torch.arange(7), torch.arange(5)]).unsqueeze(0)
    with torch.no_grad():
        alone = model(input_ids=second, use_cache=False).logits
        packed = model(
            input_ids=torch.cat([first, second], 1), position_ids=positions, use_cache=False
        ).logits
    assert torch.allclose(packed[0, 7:], alone[0], atol=1e-4)


def test_next_edit_samples_join_the_sft_mix_with_loss_on_the_updated_window_only(
    tokenizer, tiny_data: Path, tmp_path: Path
) -> None:
    import shutil

    from trainer.data.output import write_jsonl

    data = tmp_path / "data"
    shutil.copytree(tiny_data, data)
    prompt = "<|file_sep|>original/a.bbj\nprint 1\n<|file_sep|>updated/a.bbj\n"
    completion = "print 2\n<|endoftext|>"
    write_jsonl(data / "next_edit_train.jsonl", [{"prompt": prompt, "completion": completion}])
    write_jsonl(data / "next_edit_val.jsonl", [{"prompt": prompt, "completion": completion}] * 2)
    rows = sft_rows(tokenizer, data, 0.5, 0)
    assert rows.counts["next edit train"] == 1 and rows.counts["next edit val"] == 2
    edits = [row for row in rows.train if row["kind"] == "next edit"]
    assert len(edits) == 1
    assert trained_text(tokenizer, edits[0]) == completion
    without = sft_rows(tokenizer, tiny_data, 0.5, 0)
    assert "next edit" not in {row["kind"] for row in without.train}
