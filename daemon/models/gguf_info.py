"""Read what the daemon needs from a GGUF file's metadata without loading the weights."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from daemon.errors import ModelLoadError
from fim import FimFormat, detect_format

GGUF_MAGIC = b"GGUF"


@dataclass(frozen=True)
class GgufInfo:
    path: Path
    architecture: str
    name: str
    context_length: int
    quant: str
    vocab_size: int
    fim_format: FimFormat | None
    has_chat_template: bool
    has_chatml_tokens: bool


def _quant_name(file_type: int | None) -> str:
    if file_type is None:
        return "unknown"
    import gguf

    try:
        return gguf.LlamaFileType(file_type).name.removeprefix("MOSTLY_").replace("ALL_", "")
    except ValueError:
        return f"type-{file_type}"


def read_gguf_info(path: Path) -> GgufInfo:
    """Parse the header and metadata; a truncated or foreign file raises :class:`ModelLoadError`."""
    try:
        with open(path, "rb") as handle:
            magic = handle.read(4)
    except OSError as exc:
        raise ModelLoadError(f"Cannot read the model file {path}: {exc.strerror}.") from exc
    if magic != GGUF_MAGIC:
        raise ModelLoadError(f"{path} is not a GGUF model file (it does not start with 'GGUF').")
    import gguf

    try:
        reader = gguf.GGUFReader(path)
    except Exception as exc:  # the reader raises bare ValueError/IndexError on corruption
        raise ModelLoadError(
            f"The model file {path} is corrupt or truncated ({type(exc).__name__}: {exc})."
        ) from exc

    def value(key: str) -> object | None:
        field = reader.get_field(key)
        return None if field is None else field.contents()

    arch = str(value("general.architecture") or "unknown")
    tokens = value("tokenizer.ggml.tokens") or []
    assert isinstance(tokens, list)
    context_length = value(f"{arch}.context_length")
    file_type = value("general.file_type")
    token_set = set(tokens)
    return GgufInfo(
        path=path,
        architecture=arch,
        name=str(value("general.name") or path.stem),
        context_length=int(context_length) if isinstance(context_length, int) else 2048,
        quant=_quant_name(file_type if isinstance(file_type, int) else None),
        vocab_size=len(tokens),
        fim_format=detect_format(tokens),
        has_chat_template=reader.get_field("tokenizer.chat_template") is not None,
        has_chatml_tokens={"<|im_start|>", "<|im_end|>"} <= token_set,
    )
