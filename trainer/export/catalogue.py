"""``catalogue.json``: the exported models as a model catalogue and store manifest entries.

The export folder is an offline bundle the TUI's model screen reads
(``daemon.models.catalogue``), and every entry also carries the fields of the daemon's store
manifest (``daemon.models.store.ModelEntry``: name, file, size, sha256, quant, context length,
FIM format, roles, source), so ``bbj-coder model import FILE --sha256 SHA`` can be checked
against it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CATALOGUE = "catalogue.json"


def model_entry(path: Path, name: str, description: str, source: str) -> dict[str, Any]:
    """One entry for the GGUF at ``path`` (read back through the daemon's own GGUF reader)."""
    from daemon.files import sha256_file
    from daemon.models.gguf_info import read_gguf_info

    info = read_gguf_info(path)
    size = path.stat().st_size
    return {
        "name": name,
        "description": description,
        "file": path.name,
        "url": path.name,
        "size": size,
        "sha256": sha256_file(path),
        "quant": info.quant,
        "context_length": info.context_length,
        "fim_format": info.fim_format.name if info.fim_format else None,
        "roles": ["chat", "autocomplete"],
        "min_ram_gb": round(size / 2**30 * 1.3 + 1, 1),
        "source": source,
    }


def catalogue_text(entries: list[dict[str, Any]]) -> str:
    return json.dumps({"models": entries}, indent=2) + "\n"
