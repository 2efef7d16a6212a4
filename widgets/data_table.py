"""Textual's DataTable, with measured column widths that always reach the screen.

``DataTable`` measures new rows (and updated cells) when it is next idle, but caches what it draws
under a counter that only adding rows or cells moves. When a frame is drawn between adding rows and
that measurement (a table filled by a worker's answer while the screen repaints), the rows are
cached at the header's widths and stay truncated ("diab" for "diabetes-elasticnet") until something
else changes. Here each measurement that may have changed a width also drops those cached drawings.

A cell cut short, by its column's width or by the right edge of the view, ends with an ellipsis.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich.text import Text
from textual.widgets import DataTable as _DataTable

from widgets.edge import mark_cut


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

    def _compute_row_renderables(self, row_index: int) -> Any:
        rendered = super()._compute_row_renderables(row_index)
        row_key = self._row_locations.get_key(row_index) if row_index >= 0 else None
        row = self.rows.get(row_key) if row_key is not None else None
        if row is not None and row.height == 1:
            # a one-line cell wider than its column would wrap and show its first line only
            cells = rendered.cells
            for i, cell in enumerate(cells):
                if isinstance(cell, Text) and cell.overflow != "ellipsis":
                    cells[i] = cell = cell.copy()
                    cell.no_wrap, cell.overflow = True, "ellipsis"
        return rendered

    def _render_line_in_row(self, *args: Any, **kwargs: Any) -> Any:
        fixed, scrollable = super()._render_line_in_row(*args, **kwargs)
        # what render_line crops the scrollable cells to: they end at the view's right edge
        edge = int(self.scroll_x) + self.size.width
        start = 0
        for i, column in enumerate(self.ordered_columns):
            end = start + column.get_render_width(self)
            if start < edge < end:
                line = mark_cut(scrollable[i], edge - start, 0, end - start)
                if line is not scrollable[i]:
                    scrollable = [*scrollable[:i], line, *scrollable[i + 1:]]
                break
            start = end
        return fixed, scrollable


__all__ = ["DataTable"]
