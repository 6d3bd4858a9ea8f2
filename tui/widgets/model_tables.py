"""The Models screen's two tables: the catalogue and the installed models."""

from __future__ import annotations

from collections.abc import Sequence

from textual.coordinate import Coordinate
from textual.widgets import DataTable

from tui.model_rows import CatalogueRow, InstalledRow


class _ModelTable(DataTable[str]):
    """A row-cursor table keyed by model name that keeps the cursor on refresh."""

    def __init__(self, *, id: str) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)

    def selected_name(self) -> str | None:
        if self.row_count == 0:
            return None
        row_key = self.coordinate_to_cell_key(Coordinate(self.cursor_row, 0)).row_key
        return row_key.value

    def _replace_rows(self, rows: Sequence[tuple[str, tuple[str, ...]]]) -> None:
        keep = self.selected_name()
        self.clear()
        for name, cells in rows:
            self.add_row(*cells, key=name)
        names = [name for name, _ in rows]
        if keep in names:
            self.move_cursor(row=names.index(keep))


class CatalogueTable(_ModelTable):
    def on_mount(self) -> None:
        self.add_columns("Model", "Size", "Quant", "RAM", "State")

    def show(self, rows: Sequence[CatalogueRow]) -> None:
        self._replace_rows([(r.name, (r.name, r.size, r.quant, r.ram, r.state)) for r in rows])


class InstalledTable(_ModelTable):
    def on_mount(self) -> None:
        self.add_columns("", "Installed", "Size", "Quant", "Context", "FIM", "sha256")

    def show(self, rows: Sequence[InstalledRow]) -> None:
        self._replace_rows(
            [
                (
                    r.name,
                    ("●" if r.active else "", r.name, r.size, r.quant, r.context, r.fim, r.sha),
                )
                for r in rows
            ]
        )
