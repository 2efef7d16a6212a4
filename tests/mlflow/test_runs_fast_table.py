"""The virtual table in cell mode, as the Runs pane uses it: column cursor, paging in rows, new columns."""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult

from widgets.fast_table import FastTable

COLUMNS = [("mark", " "), ("run", "run"), ("rmse", "rmse"), ("alpha", "alpha"), ("wide1", "w1"), ("wide2", "w2")]


class CellApp(App):
    def __init__(self) -> None:
        super().__init__()
        self.highlighted: list[tuple[str, str | None]] = []
        self.selected: list[tuple[str, str | None]] = []

    def compose(self) -> ComposeResult:
        yield FastTable(id="t", cursor_type="cell")

    def on_mount(self) -> None:
        table = self.query_one(FastTable)
        for key, label in COLUMNS:
            table.add_column(Text(label, style="bold underline") if key == "rmse" else label, key=key)
        table.set_rows([(f"r{i}", self.cells(i)) for i in range(100)])
        table.focus()

    @staticmethod
    def cells(i: int) -> list:
        return [" ", f"run-{i:04d}", Text(f"{i / 7:.3f}", justify="right"), str(i % 3), "a" * 30, f"z{i}" * 10]

    def on_fast_table_row_highlighted(self, event: FastTable.RowHighlighted) -> None:
        self.highlighted.append((event.row_key, event.column_key))

    def on_fast_table_row_selected(self, event: FastTable.RowSelected) -> None:
        self.selected.append((event.row_key, event.column_key))


def lines(app) -> list[str]:
    return [strip.text for strip in app.screen._compositor.render_strips()]


async def test_column_cursor_moves_and_scrolls_sideways():
    app = CellApp()
    async with app.run_test(size=(50, 10)) as pilot:
        table = app.query_one(FastTable)
        assert table.column_keys == ("mark", "run", "rmse", "alpha", "wide1", "wide2")
        assert (table.cursor_row, table.column_key) == (0, "mark")
        await pilot.press("right", "right", "down")
        assert (table.cursor_row, table.column_key) == (1, "rmse")
        assert app.highlighted[-1] == ("r1", "rmse")
        await pilot.press("enter")
        assert app.selected == [("r1", "rmse")]
        # end: the last column, scrolled into view; home: back to the first
        await pilot.press("end")
        assert table.column_key == "wide2" and table.scroll_x > 0
        assert "z1z1" in "\n".join(lines(app))
        await pilot.press("home")
        assert table.column_key == "mark" and table.scroll_x == 0
        # ctrl+end / ctrl+home: last and first row, the column stays
        await pilot.press("right", "ctrl+end")
        assert (table.cursor_row, table.column_key) == (99, "run")
        assert "run-0099" in "\n".join(lines(app))
        await pilot.press("ctrl+home")
        assert (table.cursor_row, table.column_key) == (0, "run")
        await pilot.press("left", "left")
        assert table.column_key == "mark", "the cursor stops at the first column"


async def test_cells_right_justified_and_header_text():
    app = CellApp()
    async with app.run_test(size=(80, 10)) as pilot:
        await pilot.pause()
        header, first, second = lines(app)[:3]
        assert header.split()[:3] == ["run", "rmse", "alpha"]
        # rmse is 6 wide ("14.143" in row 98): "0.000" is right-justified, one cell in from the header's start
        assert first.index("0.000") == header.index("rmse") + 1
        assert second.index("0.143") == header.index("rmse") + 1
        # text cells stay left-justified
        assert first.index("run-0000") == header.index("run")


async def test_pages_of_rows_and_new_columns_append():
    app = CellApp()
    async with app.run_test(size=(120, 10)) as pilot:
        table = app.query_one(FastTable)
        table.move_cursor(row=5, column=2)
        table.add_rows([(f"r{i}", app.cells(i)) for i in range(100, 200)])
        assert table.row_count == 200 and table.row_key_at(199) == "r199"
        assert (table.cursor_row, table.column_key) == (5, "rmse"), "adding rows keeps the cursor"
        table.add_column("mae", key="mae")
        assert table.get_cell("r3", "mae") == "", "rows read before the column have an empty cell"
        table.add_rows([("r200", [*app.cells(200), "1.5"])])
        assert table.get_cell("r200", "mae") == "1.5"
        table.update_cell("r5", "mark", Text("*", style="bold"))
        await pilot.press("ctrl+end")
        assert table.cursor_row == 200 and "run-0200" in "\n".join(lines(app))
        table.clear(columns=True)
        assert table.column_keys == () and table.row_count == 0 and table.column_key is None


async def test_click_moves_the_cell_cursor():
    app = CellApp()
    async with app.run_test(size=(80, 10)) as pilot:
        table = app.query_one(FastTable)
        header = lines(app)[0]
        await pilot.click(FastTable, offset=(header.index("alpha"), 3))
        assert (table.cursor_row, table.column_key) == (2, "alpha")


class FixedApp(CellApp):
    def compose(self) -> ComposeResult:
        yield FastTable(id="t", cursor_type="cell", fixed_columns=2)


async def test_fixed_columns_stay_in_view_while_the_rest_scrolls():
    app = FixedApp()
    async with app.run_test(size=(50, 10)) as pilot:
        table = app.query_one(FastTable)
        await pilot.press("end")
        assert table.column_key == "wide2" and table.scroll_x > 0
        header, first = lines(app)[:2]
        assert header.split()[0] == "run" and header.split()[-1] == "w2"
        assert first.split()[0] == "run-0000" and first.split()[-1] == "z0" * 10
        # a click right of the fixed columns lands on the column drawn there, one on them on theirs
        await pilot.click(FastTable, offset=(first.index("z0z0"), 2))
        assert (table.cursor_row, table.column_key) == (1, "wide2")
        await pilot.click(FastTable, offset=(first.index("run-0000"), 1))
        assert (table.cursor_row, table.column_key) == (0, "run")
        # left from the last column scrolls the columns between back in beside the fixed ones
        await pilot.press("end", "left")
        assert table.column_key == "wide1" and "a" * 30 in lines(app)[1]
        await pilot.press("home")
        assert table.scroll_x == 0 and lines(app)[0].split()[:3] == ["run", "rmse", "alpha"]


async def test_fixed_columns_wider_than_half_the_view_are_cut_with_an_ellipsis():
    app = FixedApp()
    async with app.run_test(size=(24, 10)) as pilot:
        table = app.query_one(FastTable)
        half = table.scrollable_content_region.width // 2
        await pilot.pause()
        assert lines(app)[1][:half + 1] == "    run-0… "[:half] + " "
        await pilot.press("end")
        first = lines(app)[1]
        assert first.startswith("    run-0… "[:half]) and first.rstrip().endswith("z0")
