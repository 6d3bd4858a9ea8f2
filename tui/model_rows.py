"""What the Models screen's tables show, computed from the store and the catalogue."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from daemon.models.catalogue import Catalogue, CatalogueEntry
from daemon.models.download import partial_bytes
from daemon.models.store import Manifest, ModelEntry
from daemon.progress import format_size


@dataclass(frozen=True)
class CatalogueRow:
    name: str
    size: str
    quant: str
    ram: str
    state: str
    description: str


@dataclass(frozen=True)
class InstalledRow:
    name: str
    active: bool
    size: str
    quant: str
    context: str
    fim: str
    sha: str


def entry_state(entry: CatalogueEntry, manifest: Manifest, models_dir: Path) -> str:
    """``active``, ``installed``, ``other build``, ``45 % downloaded`` or ``available``."""
    installed = manifest.find(entry.name)
    if installed is not None and installed.sha256 == entry.sha256:
        return "active" if manifest.active == entry.name else "installed"
    done = partial_bytes(models_dir, entry)
    if done:
        return f"{100 * done // entry.size} % downloaded"
    return "other build" if installed is not None else "available"


def catalogue_rows(
    catalogue: Catalogue | None, manifest: Manifest, models_dir: Path
) -> list[CatalogueRow]:
    if catalogue is None:
        return []
    return [
        CatalogueRow(
            name=e.name,
            size=format_size(e.size),
            quant=e.quant,
            ram=f"{e.min_ram_gb:g} GB",
            state=entry_state(e, manifest, models_dir),
            description=e.description,
        )
        for e in catalogue.entries
    ]


def installed_row(entry: ModelEntry, active: bool) -> InstalledRow:
    return InstalledRow(
        name=entry.name,
        active=active,
        size=format_size(entry.size),
        quant=entry.quant,
        context=str(entry.context_length or "?"),
        fim=entry.fim_format or "none",
        sha=entry.sha256[:12],
    )


def installed_rows(manifest: Manifest) -> list[InstalledRow]:
    return [installed_row(m, m.name == manifest.active) for m in manifest.models]
