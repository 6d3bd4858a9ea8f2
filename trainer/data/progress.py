"""Progress bars on stderr (tqdm, imported only when a bar is shown)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def progress_bar(
    items: Iterable[T], label: str, enabled: bool, total: int | None = None
) -> Iterator[T]:
    """Iterate ``items``, drawing a bar labelled ``label`` when ``enabled``."""
    if not enabled:
        yield from items
        return
    from tqdm import tqdm

    yield from tqdm(items, desc=label, total=total, unit="item", leave=False, dynamic_ncols=True)
