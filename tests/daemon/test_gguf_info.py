"""The GGUF metadata walk agrees with the gguf package's reader and refuses broken files."""

from __future__ import annotations

import gguf
import pytest

from daemon.errors import ModelLoadError
from daemon.models.gguf_info import read_gguf_info
from fim import QWEN25_CODER


def test_metadata_matches_the_gguf_reader(tiny_model) -> None:
    info = read_gguf_info(tiny_model.gguf_path)
    reader = gguf.GGUFReader(tiny_model.gguf_path)
    tokens = reader.get_field("tokenizer.ggml.tokens").contents()
    arch = reader.get_field("general.architecture").contents()
    assert info.architecture == arch
    assert info.name == reader.get_field("general.name").contents()
    assert info.context_length == reader.get_field(f"{arch}.context_length").contents()
    assert info.vocab_size == len(tokens)
    assert info.fim_format == QWEN25_CODER
    assert info.has_chatml_tokens == ({"<|im_start|>", "<|im_end|>"} <= set(tokens))
    assert info.has_chat_template == (reader.get_field("tokenizer.chat_template") is not None)


@pytest.mark.parametrize("keep", [4, 20, 100, 5000])
def test_a_truncated_file_is_refused_with_a_sentence(tiny_model, tmp_path, keep) -> None:
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(tiny_model.gguf_path.read_bytes()[:keep])
    with pytest.raises(ModelLoadError, match="corrupt or truncated"):
        read_gguf_info(broken)


def test_a_foreign_file_is_refused(tmp_path) -> None:
    other = tmp_path / "model.bin"
    other.write_bytes(b"PK\x03\x04" + bytes(100))
    with pytest.raises(ModelLoadError, match="not a GGUF"):
        read_gguf_info(other)
