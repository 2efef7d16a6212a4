"""The virtual table the Deployments pane uses: cursor, scrolling, in-place updates, messages."""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult

from widgets.fast_table import FastTable


class TableApp(App):
    def __init__(self, rows: int) -> None:
        super().__init__()
        self.n = rows
        self.highlighted: list[str] = []
        self.selected: list[str] = []

    def compose(self) -> ComposeResult:
        yield FastTable(id="t")

    def on_mount(self) -> None:
        table = self.query_one(FastTable)
        table.add_column("name", "name")
        table.add_column("state", "state")
        table.set_rows([(f"k{i}", [f"row-{i:03d}", Text("Available")]) for i in range(self.n)])
        table.focus()

    def on_fast_table_row_highlighted(self, event: FastTable.RowHighlighted) -> None:
        self.highlighted.append(event.row_key)

    def on_fast_table_row_selected(self, event: FastTable.RowSelected) -> None:
        self.selected.append(event.row_key)


def lines(app) -> list[str]:
    return [strip.text for strip in app.screen._compositor.render_strips()]


async def test_end_scrolls_to_the_last_row_and_updates_show_while_scrolled():
    app = TableApp(200)
    async with app.run_test(size=(40, 12)) as pilot:
        table = app.query_one(FastTable)
        assert lines(app)[0].split() == ["name", "state"] and "row-000" in lines(app)[1]
        await pilot.press("end")
        assert table.cursor_row == 199 and app.highlighted[-1] == "k199"
        text = "\n".join(lines(app))
        assert "row-199" in text and "row-000" not in text
        assert lines(app)[0].split() == ["name", "state"], "the header stays"
        table.update_cell("k198", "state", Text("Failed"))
        await pilot.pause()
        row = next(line for line in lines(app) if "row-198" in line)
        assert "Failed" in row
        await pilot.press("up", "up", "enter")
        assert app.selected == ["k197"]
        await pilot.press("home")
        assert table.cursor_row == 0 and "row-000" in "\n".join(lines(app))


async def test_wide_cells_are_cut_and_columns_fit_the_widest_value():
    app = TableApp(3)
    async with app.run_test(size=(80, 8)) as pilot:
        table = app.query_one(FastTable)
        table.update_cell("k1", "name", "x" * 200)
        await pilot.pause()
        row = next(line for line in lines(app) if "xxx" in line)
        # the column stops at 60 characters, the last one an ellipsis, and the next column follows it
        assert row.startswith(" " + "x" * 59 + "…" + "  Available"), row
        assert table.get_cell("k1", "name") == "x" * 200
        assert [str(c) for c in table.get_row_at(2)] == ["row-002", "Available"]


async def test_a_cell_cut_by_the_right_edge_ends_with_an_ellipsis():
    app = TableApp(0)
    async with app.run_test(size=(24, 8)) as pilot:
        table = app.query_one(FastTable)
        table.set_columns([("name", "name", "left"), ("message", "message", "left")])
        table.set_rows([("a", ["row-a", "update demo.txt again"]), ("b", ["row-b", "update demo.txt"])])
        await pilot.pause()
        first, second = (line.rstrip() for line in lines(app)[1:3])
        # the view ends on the blank before "again": without the ellipsis both rows would read the same
        assert first == " row-a  update demo.txt…", first
        assert second == " row-b  update demo.txt", second  # only its padding is beyond the edge
        table.scroll_to(x=6, animate=False)  # the whole message in view: no ellipsis
        await pilot.pause()
        assert lines(app)[1].strip() == "update demo.txt again", lines(app)[1]


async def test_set_columns_replaces_everything_and_right_justified_columns_align_numbers():
    app = TableApp(3)
    async with app.run_test(size=(60, 8)) as pilot:
        table = app.query_one(FastTable)
        table.move_cursor(row=2)
        table.set_columns([("run", "run", "left"), ("rmse", "rmse", "right")])
        assert table.row_count == 0 and table.column_keys == ("run", "rmse") and table.cursor_row == 0
        table.set_rows([("a", ["alpha", "1.5"]), ("b", ["b", "140.25"])])
        await pilot.pause()
        header, first, second = lines(app)[:3]
        # the number column ends where its widest value ends: "1.5" sits under the end of "140.25"
        assert first.index("1.5") + 3 == second.index("140.25") + 6
        assert header.index("rmse") + 4 == second.index("140.25") + 6, "the header is justified too"
        assert first.index("alpha") == second.index("b"), "left-justified text starts together"
        # columns and rows in one call: the old rows go, the cursor starts at the top
        table.move_cursor(row=1)
        table.set_columns([("rmse", "rmse", "right")], [("c", ["2.5"]), ("d", ["10.75"]), ("e", ["0"])])
        assert table.column_keys == ("rmse",) and table.row_keys == ("c", "d", "e") and table.cursor_row == 0
        await pilot.pause()
        assert [line.rstrip() for line in lines(app)[1:4]] == ["   2.5", " 10.75", "     0"]


async def test_columns_fit_wide_characters_and_styled_cells():
    app = TableApp(0)
    async with app.run_test(size=(60, 8)) as pilot:
        table = app.query_one(FastTable)
        table.set_columns([("name", "name", "left"), ("note", "note", "left")])
        # a double-width name (6 columns for 3 characters) and a styled cell decide the first column's width
        table.set_rows([("a", ["데이터셋이름", "x"]), ("b", [Text("Available"), "y"]), ("c", ["ab", "z"])])
        await pilot.pause()
        header, *rows = lines(app)[:4]
        gap = header.index("note") - 12  # the widest cell is the double-width one: 12 columns, 6 characters
        for row, value in zip(rows, "xyz"):
            assert row.rstrip().endswith(value)
        table.set_rows([("a", ["a", "x"]), ("b", [Text("Available"), "y"])])
        await pilot.pause()
        assert lines(app)[0].index("note") - len("Available") == gap, "now the styled cell is the widest"
        table.set_rows([("a", ["a", "x"])])
        await pilot.pause()
        assert lines(app)[0].index("note") - len("name") == gap, "and now the header"


async def test_a_cursor_moved_right_as_the_rows_arrive_scrolls_into_view():
    """The rows and the cursor move in one handler, before the table has laid out its scrollbars."""
    class WideApp(App):
        def compose(self) -> ComposeResult:
            yield FastTable(id="t", cursor_type="cell")

        def fill(self) -> None:
            table = self.query_one(FastTable)
            table.set_columns([(f"column-{i:02d}", f"c{i}", "left") for i in range(12)],
                              [(f"k{r}", [f"value-{r}-{i:02d}" for i in range(12)]) for r in range(5)])
            table.move_cursor(row=0, column=11)

    app = WideApp()
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(FastTable)
        table.focus()
        await pilot.pause()
        app.fill()
        for _ in range(40):
            await pilot.pause(0.02)
            if table.scroll_x:
                break
        assert table.scroll_x > 0 and table.column_key == "c11"
        assert "value-0-11" in "\n".join(lines(app))
