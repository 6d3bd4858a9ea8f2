"""Quantising an F16 GGUF with llama.cpp's own quantiser (``llama_cpp.llama_model_quantize``)."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from trainer.train.errors import TrainError

QUANTS: tuple[str, ...] = (
    "Q4_K_M",
    "Q4_K_S",
    "Q5_K_M",
    "Q5_K_S",
    "Q6_K",
    "Q8_0",
    "Q4_0",
    "Q3_K_M",
    "Q2_K",
    "F16",
)
"""Types offered by ``--quant``: the k-quants need matrix rows that are multiples of 256."""


def normalise_quant(name: str) -> str:
    quant = name.strip().upper()
    if quant not in QUANTS:
        raise TrainError(f"Unknown quantisation {name!r}; choose from {', '.join(QUANTS)}.")
    return quant


def quantize(source: Path, target: Path, quant: str, threads: int = 0) -> None:
    """Write ``source`` quantised to ``quant`` at ``target``."""
    import llama_cpp

    log = logging.getLogger("llama-cpp-python")  # llama.cpp prints a line per tensor otherwise
    level = log.level
    log.setLevel(logging.WARNING)
    try:
        status = _quantize(llama_cpp, source, target, quant, threads)
    finally:
        log.setLevel(level)
    if status != 0 or not target.is_file():
        raise TrainError(
            f"llama.cpp could not quantise {source.name} to {quant} (status {status}); see the "
            "messages above.",
            exit_code=1,
        )


def _quantize(llama_cpp: Any, source: Path, target: Path, quant: str, threads: int) -> int:
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, f"LLAMA_FTYPE_MOSTLY_{quant}")
    params.nthread = threads or max(1, os.cpu_count() or 1)
    return int(llama_cpp.llama_model_quantize(str(source).encode(), str(target).encode(), params))
