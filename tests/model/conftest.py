"""Fixtures for the tiny-model tests: one cached build per test session."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from daemon.models.tinymodel import TinyModel, build_tiny_model

HAS_SAFETENSORS = importlib.util.find_spec("safetensors") is not None


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tiny-model")


@pytest.fixture(scope="session")
def tiny_model(tiny_model_dir: Path) -> TinyModel:
    return build_tiny_model(tiny_model_dir, write_hf=HAS_SAFETENSORS)


@pytest.fixture(scope="session")
def hf_dir(tiny_model: TinyModel) -> Path:
    if tiny_model.hf_dir is None:
        pytest.skip("safetensors is not installed: no HF files were written")
    return tiny_model.hf_dir


@pytest.fixture(scope="module")
def llama(tiny_model: TinyModel) -> Iterator[Any]:
    llama_cpp = pytest.importorskip("llama_cpp")
    llm = llama_cpp.Llama(
        model_path=str(tiny_model.gguf_path), n_ctx=512, verbose=False, logits_all=True
    )
    yield llm
    llm.close()
