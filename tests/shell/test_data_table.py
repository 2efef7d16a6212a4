"""widgets.data_table.DataTable: rows measured after a frame was drawn are not left truncated."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.widgets import DataTable as TextualDataTable

from widgets.data_table import DataTable


class TableApp(App):
    def __init__(self, cls) -> None:
        super().__init__()
        self.cls = cls

    def compose(self) -> ComposeResult:
        yield self.cls(id="t")


async def drawn_after_measuring(cls, change) -> str:
    app = TableApp(cls)
    async with app.run_test(size=(80, 8)) as pilot:
        table = app.query_one("#t")
        table.add_columns("name", "latest")
        table.add_row("mlp", "v1", key="a")
        await pilot.pause()
        change(table)
        table.render_line(1)  # a frame drawn before the table was idle again: cached at the old widths
        # the table's idle-time measurement, then the next frame
        rows, table._new_rows = set(table._new_rows), set()
        table._require_update_dimensions = False
        table._update_dimensions(rows)
        if table._updated_cells:
            cells, table._updated_cells = set(table._updated_cells), set()
            table._update_column_widths(cells)
        return table.render_line(1).text


def add_long_row(table) -> None:
    table.add_row("diabetes-elasticnet", "v2", key="b")


def lengthen_cell(table) -> None:
    table.update_cell("a", table.ordered_columns[0].key, "diabetes-elasticnet", update_width=True)


@pytest.mark.parametrize("change", [add_long_row, lengthen_cell], ids=["new row", "updated cell"])
async def test_widths_measured_after_a_frame_reach_the_screen(change):
    line = await drawn_after_measuring(DataTable, change)
    expected = "diabetes-elasticnet" if change is lengthen_cell else "mlp"
    assert expected in line
    if change is add_long_row:
        assert "mlp                  v1" in line, line  # the first column is as wide as its longest cell


async def test_textual_table_alone_keeps_the_stale_drawing():
    """The case the subclass exists for (if Textual fixes it, this test says the subclass can go)."""
    line = await drawn_after_measuring(TextualDataTable, add_long_row)
    assert "mlp   v1" in line, line


class CutApp(App):
    def compose(self) -> ComposeResult:
        yield DataTable(id="t", cursor_type="row")

    def on_mount(self) -> None:
        from rich.text import Text

        table = self.query_one(DataTable)
        table.add_column("name", width=5)
        table.add_column("message", width=21)
        # a styled cell wider than its fixed column, and messages that the view's right edge cuts
        table.add_row(Text("diabetes"), "update demo.txt again", key="a")
        table.add_row("mlp", "update demo.txt", key="b")


async def test_cells_cut_short_end_with_an_ellipsis():
    app = CutApp()
    async with app.run_test(size=(24, 6)) as pilot:
        table = app.query_one(DataTable)
        await pilot.pause()
        first, second = (table.render_line(y).text.rstrip() for y in (1, 2))
        # the column cuts "diabetes"; the view ends on the blank before "again"
        assert first == " diab…  update demo.txt…", first
        assert second == " mlp    update demo.txt", second  # only padding lies beyond the edge
        table.scroll_to(x=7, animate=False)
        await pilot.pause()
        assert table.render_line(1).text.strip() == "update demo.txt again"
