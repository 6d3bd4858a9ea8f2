"""Checking a run's inputs before anything heavy loads: the base model and the data build."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from fim.formats import QWEN25_CODER
from trainer.train.errors import TrainError

DATA_FILES: tuple[str, ...] = (
    "train.jsonl",
    "val.jsonl",
    "fim_train.jsonl",
    "fim_val.jsonl",
    "cpt_train.jsonl",
    "cpt_val.jsonl",
)
CHAT_TOKENS: tuple[str, ...] = ("<|im_start|>", "<|im_end|>", "<|endoftext|>")
FIM_TOKENS: tuple[str, ...] = (*QWEN25_CODER.marker_tokens, "<|endoftext|>")
WEIGHT_PATTERNS: tuple[str, ...] = ("*.safetensors", "pytorch_model*.bin")


def check_base_model(path: Path) -> dict[str, Any]:
    """The base model's ``config.json``; raises when the directory cannot be a local HF model."""
    if not path.is_dir():
        raise TrainError(
            f"The base model directory {path} does not exist; set base_model to a local "
            "Hugging Face model directory (models are never downloaded)."
        )
    config_file = path / "config.json"
    if not config_file.is_file():
        raise TrainError(f"{path} has no config.json, so it is not a Hugging Face model directory.")
    if not any(any(path.glob(pattern)) for pattern in WEIGHT_PATTERNS):
        raise TrainError(f"{path} holds no weights (*.safetensors or pytorch_model*.bin).")
    if not (path / "tokenizer.json").is_file():
        raise TrainError(f"{path} has no tokenizer.json; the trainer needs the fast tokenizer.")
    try:
        return json.loads(config_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise TrainError(f"{config_file} cannot be read as JSON ({exc}).") from exc


_INSTRUCT_NAME = re.compile(r"instruct|(^|[-_.])(chat|it|sft|dpo)([-_.]|$)", re.IGNORECASE)


def instruct_signals(path: Path) -> list[str]:
    """Why the base model looks like an Instruct (chat-tuned) model rather than a base one.

    Fine-tuning starts from a base model: an Instruct model has already learned to answer
    chats and was trained without FIM, the mistake the previous in-house run made. Signals:
    its name, and a tokenizer whose end of text is the chat template's ``<|im_end|>``
    (Qwen's Instruct models; base models end text with ``<|endoftext|>``).
    """
    signals = []
    names = [path.name]
    config = _json_or_empty(path / "config.json")
    names.append(str(config.get("_name_or_path", "")))
    found = [name for name in names if name and _INSTRUCT_NAME.search(Path(name).name)]
    if found:
        signals.append(f"its name ({found[0]}) says it is chat-tuned")
    tokenizer = _json_or_empty(path / "tokenizer_config.json")
    eos = tokenizer.get("eos_token")
    eos = eos.get("content") if isinstance(eos, dict) else eos
    if eos == "<|im_end|>" and "<|im_start|>" in str(tokenizer.get("chat_template", "")):
        signals.append("its tokenizer ends text at the chat template's <|im_end|>")
    return signals


def _json_or_empty(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def resolve_data_dir(path: Path) -> Path:
    """A data build directory: ``path`` itself, or the build its ``LATEST`` file names."""
    if not path.is_dir():
        raise TrainError(
            f"The data directory {path} does not exist; build it with `bbj-coder train data`."
        )
    latest = path / "LATEST"
    if latest.is_file() and not (path / "manifest.json").is_file():
        path = path / latest.read_text(encoding="utf-8").strip()
    missing = [name for name in DATA_FILES if not (path / name).is_file()]
    if missing:
        raise TrainError(
            f"{path} is not a complete `bbj-coder train data` build (missing {', '.join(missing)})."
        )
    return path


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    rows = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except ValueError:
                raise TrainError(f"{path}, line {number}: not valid JSON.") from None
    return rows


def single_token(tokenizer: Any, text: str) -> bool:
    return len(tokenizer(text, add_special_tokens=False)["input_ids"]) == 1


def check_tokenizer_fits_data(tokenizer: Any, data_dir: Path, uses_fim: bool) -> None:
    """Refuse data written for another tokenizer: its special tokens must be single tokens."""
    needed = list(CHAT_TOKENS) + (list(FIM_TOKENS) if uses_fim else [])
    missing = [text for text in dict.fromkeys(needed) if not single_token(tokenizer, text)]
    if missing:
        raise TrainError(
            f"The data in {data_dir} is written with {', '.join(missing)}, which the base "
            "model's tokenizer does not have as single tokens; the data was built for another "
            "tokenizer (a Qwen2.5-Coder one). Use a matching base model or rebuild the data."
        )
    _check_token_counts(tokenizer, data_dir)


def _check_token_counts(tokenizer: Any, data_dir: Path) -> None:
    # A build made with a tokenizer records exact FIM token counts; a different vocabulary
    # counts differently, which would silently break max_seq_len.
    manifest = json.loads((data_dir / "manifest.json").read_text(encoding="utf-8"))
    if str(manifest.get("tokenizer", "")).startswith("utf-8 bytes"):
        return
    for sample in read_jsonl(data_dir / "fim_val.jsonl")[:3]:
        text = sample["prompt"] + sample["completion"]
        counted = len(tokenizer(text, add_special_tokens=False)["input_ids"])
        if "tokens" in sample and counted != sample["tokens"]:
            raise TrainError(
                f"The data in {data_dir} was built with another tokenizer ("
                f"{manifest.get('tokenizer')}): a FIM sample of {sample['tokens']} tokens there "
                f"is {counted} tokens with the base model's. Rebuild the data with "
                "--tokenizer pointing at the base model."
            )
