"""Copy a GGUF with one string metadata key set (to build broken-model fixtures)."""

from __future__ import annotations

from pathlib import Path


def with_string_metadata(source: Path, target: Path, key: str, value: str) -> Path:
    """Write a copy of ``source`` at ``target`` whose metadata ``key`` is ``value``."""
    import gguf
    from gguf.scripts.gguf_new_metadata import (
        MetadataDetails,
        copy_with_new_metadata,
        get_field_data,
    )

    reader = gguf.GGUFReader(source, "r")
    writer = gguf.GGUFWriter(target, arch=get_field_data(reader, gguf.Keys.General.ARCHITECTURE))
    alignment = get_field_data(reader, gguf.Keys.General.ALIGNMENT)
    if alignment is not None:
        writer.data_alignment = alignment
    details = MetadataDetails(gguf.GGUFValueType.STRING, value)
    copy_with_new_metadata(reader, writer, {key: details}, [])
    return target
