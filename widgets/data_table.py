"""Textual's DataTable, with measured column widths that always reach the screen.

``DataTable`` measures new rows (and updated cells) when it is next idle, but caches what it draws
under a counter that only adding rows or cells moves. When a frame is drawn between adding rows and
that measurement (a table filled by a worker's answer while the screen repaints), the rows are
cached at the header's widths and stay truncated ("diab" for "diabetes-elasticnet") until something
else changes. Here each measurement that may have changed a width also drops those cached drawings.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from textual.widgets import DataTable as _DataTable


class DataTable(_DataTable):
    def _widths(self) -> tuple[int, ...]:
        return tuple(c.content_width for c in self.columns.values())

    def _remeasured(self, before: tuple[int, ...]) -> None:
        if self._widths() != before:
            self._update_count += 1  # the render caches are keyed on it
            self.refresh()

    def _update_dimensions(self, new_rows: Iterable[Any]) -> None:
        before = self._widths()
        super()._update_dimensions(new_rows)
        self._remeasured(before)

    def _update_column_widths(self, updated_cells: set[Any]) -> None:
        before = self._widths()
        super()._update_column_widths(updated_cells)
        self._remeasured(before)


__all__ = ["DataTable"]
