"""The merged model as an F16 GGUF, written by the project's one Qwen2 writer
(``daemon.models.gguf_writer``); its errors become the trainer's ``TrainError``."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from daemon.models.gguf_writer import (
    GGUFConversionError,
    Qwen2Hparams,
    gguf_architecture,
    read_vocabulary,
    write_qwen2_gguf,
)
from trainer.train.errors import TrainError


@contextlib.contextmanager
def conversion_errors() -> Iterator[None]:
    """Raise what the GGUF writer refuses as a ``TrainError`` with the writer's sentence."""
    try:
        yield
    except GGUFConversionError as exc:
        raise TrainError(str(exc)) from exc


def check_architecture(config: dict[str, Any]) -> None:
    """Refuse a base model the writer cannot convert, before any heavy work."""
    with conversion_errors():
        gguf_architecture(config)


def write_model_gguf(
    path: Path,
    config: dict[str, Any],
    state: dict[str, Any],
    tokenizer_dir: Path,
    name: str,
    context_length: int | None = None,
) -> None:
    """A complete F16 GGUF (hyper-parameters, tokenizer, weights) of a merged HF model."""
    with conversion_errors():
        gguf_architecture(config)
        hp = Qwen2Hparams.from_config(config)
        if context_length:
            hp = dataclasses.replace(hp, context_length=context_length)
        vocab = read_vocabulary(tokenizer_dir, hp.vocab_size)
        write_qwen2_gguf(path, hp, vocab, state, name)
