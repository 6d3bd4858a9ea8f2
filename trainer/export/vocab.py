"""A Hugging Face byte-level BPE tokenizer as GGUF tokenizer metadata.

Like llama.cpp's own converter: added tokens spelled ``<|...|>`` are control tokens (the
Qwen2.5-Coder FIM/repo tokens say ``special: false`` but llama.cpp finds them by text), ids the
tokenizer lacks up to the embedding size become ``[PADn]`` unused tokens, and the pre-tokenizer
is declared ``qwen2``. Merges, special token ids and the chat template come from gguf's own
``SpecialVocab``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trainer.train.errors import TrainError

PRE_TOKENIZER = "qwen2"


@dataclass(frozen=True)
class Vocabulary:
    tokens: tuple[str, ...]
    types: tuple[int, ...]


def _token_type(entry: dict[str, Any]) -> int:
    import gguf

    text = entry["content"]
    if entry.get("special") or (text.startswith("<|") and text.endswith("|>")):
        return int(gguf.TokenType.CONTROL)
    return int(gguf.TokenType.USER_DEFINED)


def _load(tokenizer_dir: Path) -> dict[str, Any]:
    path = tokenizer_dir / "tokenizer.json"
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise TrainError(f"{path} cannot be read as a tokenizer ({exc}).") from exc
    model = document.get("model", {})
    if model.get("type") != "BPE" or "ByteLevel" not in json.dumps(document.get("pre_tokenizer")):
        raise TrainError(
            f"{path} is not a byte-level BPE tokenizer (as Qwen2's); the GGUF converter "
            "supports only that kind."
        )
    return document


def read_vocabulary(tokenizer_dir: Path, vocab_size: int) -> Vocabulary:
    """Tokens and token types for ids 0..vocab_size-1 (the embedding's row count)."""
    import gguf

    document = _load(tokenizer_dir)
    texts: dict[int, str] = {i: t for t, i in document["model"]["vocab"].items()}
    types = dict.fromkeys(texts, int(gguf.TokenType.NORMAL))
    for entry in document.get("added_tokens", []):
        texts[entry["id"]] = entry["content"]
        types[entry["id"]] = _token_type(entry)
    if max(texts) >= vocab_size:
        raise TrainError(
            f"The tokenizer has id {max(texts)} but the model embeds only {vocab_size} tokens."
        )
    tokens, kinds = [], []
    for token_id in range(vocab_size):
        tokens.append(texts.get(token_id, f"[PAD{token_id}]"))
        kinds.append(types.get(token_id, int(gguf.TokenType.UNUSED)))
    return Vocabulary(tuple(tokens), tuple(kinds))


def add_vocabulary(writer: Any, tokenizer_dir: Path, vocab_size: int) -> None:
    import gguf

    vocabulary = read_vocabulary(tokenizer_dir, vocab_size)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre(PRE_TOKENIZER)
    writer.add_token_list(list(vocabulary.tokens))
    writer.add_token_types(list(vocabulary.types))
    special = gguf.SpecialVocab(tokenizer_dir, load_merges=True, n_vocab=vocab_size)
    if not special.merges:
        raise TrainError(f"{tokenizer_dir / 'tokenizer.json'} has no BPE merges.")
    special.add_to_gguf(writer, quiet=True)
