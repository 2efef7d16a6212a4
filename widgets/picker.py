"""A dialog that picks one or several rows of a table: ``space`` marks, ``enter`` chooses.

Plain data in (row keys and cells), the chosen keys out through ``dismiss``::

    picker = PickerView("Experiments", ("name", "id", "runs"), [("1", ("diabetes", "1", "7"))],
                        marked={"1"})
    app.push_screen(picker, callback)       # callback(("1",)) or callback(None) when cancelled
    picker.update_row("1", ("diabetes", "1", "7 runs"))   # cells that arrive later
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.console import RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Label

from widgets.data_table import DataTable
from widgets.dialog import Dialog

MARK = "*"


class PickerView(Dialog[tuple[str, ...] | None]):
    """Dismisses with the marked keys (or the highlighted one when none is marked), None on escape.

    With ``allow_empty`` an empty mark set is a valid answer (e.g. "show no extra columns").
    """

    DEFAULT_CSS = """
    PickerView { align: center middle; }
    PickerView > Vertical { width: 90%; max-width: 120; height: 80%; border: thick $primary;
        background: $surface; }
    PickerView #title { text-style: bold; padding: 0 1; }
    PickerView #hint { color: $text-muted; padding: 0 1; }
    PickerView DataTable { height: 1fr; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="picker.cancel"),
        Binding("space", "toggle", "Mark", id="picker.toggle"),
        Binding("a", "toggle_all", "Mark all", id="picker.all"),
        Binding("j", "cursor_down", "Down", show=False, id="picker.down"),
        Binding("k", "cursor_up", "Up", show=False, id="picker.up"),
    ]

    def __init__(self, title: str, columns: Sequence[str],
                 rows: Iterable[tuple[str, Sequence[RenderableType]]], *, marked: Iterable[str] = (),
                 allow_empty: bool = False, hint: str = "space: mark   enter: choose   a: all   escape: cancel",
                 highlight: str | None = None) -> None:
        super().__init__()
        self.title_text, self.columns, self.hint = title, tuple(columns), hint
        self.rows = [(key, tuple(cells)) for key, cells in rows]
        self.marked = [key for key in marked]
        self.allow_empty = allow_empty
        self.highlight = highlight

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, id="title")
            yield DataTable(id="picker", cursor_type="row", zebra_stripes=True)
            yield Label(self.hint, id="hint")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column(" ", key="__mark")
        for i, name in enumerate(self.columns):
            table.add_column(name, key=f"c{i}")
        for key, cells in self.rows:
            table.add_row(self._mark(key), *cells, key=key)
        keys = [key for key, _ in self.rows]
        start = self.highlight if self.highlight in keys else next((k for k in self.marked if k in keys), None)
        if start is not None:
            table.move_cursor(row=keys.index(start))
        table.focus()

    def _mark(self, key: str) -> Text:
        return Text(MARK if key in self.marked else " ", style="bold")

    def update_row(self, key: str, cells: Sequence[RenderableType]) -> None:
        """Replace the cells of row ``key`` (no-op for an unknown key)."""
        self.rows = [(k, tuple(cells) if k == key else c) for k, c in self.rows]
        if not self.is_mounted:
            return
        table = self.query_one(DataTable)
        if key not in table.rows:
            return
        for i, value in enumerate(cells):
            table.update_cell(key, f"c{i}", value, update_width=True)

    def _current_key(self) -> str | None:
        table = self.query_one(DataTable)
        if table.row_count == 0:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    def action_toggle(self) -> None:  # type: ignore[override]  # not DOMNode's toggle(attribute): space marks
        key = self._current_key()
        if key is None:
            return
        if key in self.marked:
            self.marked.remove(key)
        else:
            self.marked.append(key)
        table = self.query_one(DataTable)
        table.update_cell(key, "__mark", self._mark(key))
        table.action_cursor_down()

    def action_toggle_all(self) -> None:
        keys = [k for k, _ in self.rows]
        self.marked = [] if all(k in self.marked for k in keys) else keys
        table = self.query_one(DataTable)
        for k in keys:
            table.update_cell(k, "__mark", self._mark(k))

    def action_cursor_down(self) -> None:
        self.query_one(DataTable).action_cursor_down()

    def action_cursor_up(self) -> None:
        self.query_one(DataTable).action_cursor_up()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        order = [k for k, _ in self.rows]
        chosen = tuple(k for k in order if k in self.marked)
        if not chosen and not self.allow_empty:
            key = event.row_key.value
            chosen = (key,) if key is not None else ()
        self.dismiss(chosen)

    def action_cancel(self) -> None:
        self.dismiss(None)
