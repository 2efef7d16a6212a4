"""A lean, virtual, row-cursor table for large live lists (hundreds of rows changing under a watch).

Plain data in: columns (label, key) and rows of cells (``str`` or Rich ``Text``) with a string key.
Only the visible lines are rendered; column widths come from ``cell_len`` (no Rich measuring), so filling
500 rows or changing one cell costs little. Typed messages upward: ``RowHighlighted`` / ``RowSelected``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Union

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

Cell = Union[str, Text]
MAX_COLUMN_WIDTH = 60


def _width(cell: Cell) -> int:
    return cell.cell_len if isinstance(cell, Text) else cell_len(cell)


class FastTable(ScrollView, can_focus=True):
    DEFAULT_CSS = """
    FastTable { height: 1fr; background: $surface; }
    FastTable > .fast-table--header { text-style: bold; background: $panel; color: $text; }
    FastTable > .fast-table--cursor { background: $block-cursor-blurred-background; color: $text; }
    FastTable:focus > .fast-table--cursor { background: $block-cursor-background; color: $block-cursor-foreground;
        text-style: bold; }
    FastTable > .fast-table--odd { background: $surface-lighten-1; }
    """
    COMPONENT_CLASSES = {"fast-table--header", "fast-table--cursor", "fast-table--odd"}
    BINDINGS = [
        Binding("up", "cursor_up", "Up", show=False),
        Binding("down", "cursor_down", "Down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home", "scroll_top", "Top", show=False),
        Binding("end", "scroll_bottom", "Bottom", show=False),
        Binding("enter", "select", "Select", show=False),
    ]

    class RowHighlighted(Message):
        def __init__(self, table: "FastTable", cursor_row: int, row_key: str) -> None:
            super().__init__()
            self.table, self.cursor_row, self.row_key = table, cursor_row, row_key

        @property
        def control(self) -> "FastTable":
            return self.table

    class RowSelected(Message):
        def __init__(self, table: "FastTable", cursor_row: int, row_key: str) -> None:
            super().__init__()
            self.table, self.cursor_row, self.row_key = table, cursor_row, row_key

        @property
        def control(self) -> "FastTable":
            return self.table

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._labels: list[str] = []
        self._col_keys: list[str] = []
        self._col_index: dict[str, int] = {}
        self._widths: list[int] = []
        self._rows: list[list[Cell]] = []
        self._keys: list[str] = []
        self._row_index: dict[str, int] = {}
        self.cursor_row = 0

    # -- data ----------------------------------------------------------------------------------------
    def add_column(self, label: str, key: str) -> None:
        self._col_index[key] = len(self._col_keys)
        self._labels.append(label)
        self._col_keys.append(key)
        self._widths.append(cell_len(label))
        self._resize()

    @property
    def row_count(self) -> int:
        return len(self._rows)

    def clear(self) -> None:
        self._rows, self._keys, self._row_index = [], [], {}
        self._widths = [cell_len(label) for label in self._labels]
        self.cursor_row = 0
        self._resize()

    def set_rows(self, rows: Sequence[tuple[str, Sequence[Cell]]]) -> None:
        """Replace every row at once: ``(key, cells)`` pairs."""
        widths = [cell_len(label) for label in self._labels]
        self._rows = [list(cells) for _, cells in rows]
        self._keys = [key for key, _ in rows]
        self._row_index = {key: i for i, key in enumerate(self._keys)}
        for cells in self._rows:
            for i, cell in enumerate(cells):
                w = _width(cell)
                if w > widths[i]:
                    widths[i] = w
        self._widths = [min(w, MAX_COLUMN_WIDTH) for w in widths]
        self.cursor_row = min(self.cursor_row, max(0, len(self._rows) - 1))
        self._resize()

    def add_row(self, *cells: Cell, key: str) -> None:
        self._row_index[key] = len(self._rows)
        self._keys.append(key)
        self._rows.append(list(cells))
        for i, cell in enumerate(cells):
            self._widths[i] = max(self._widths[i], min(_width(cell), MAX_COLUMN_WIDTH))
        self._resize()

    def update_cell(self, row_key: str, column_key: str, value: Cell) -> None:
        row = self._row_index[row_key]
        col = self._col_index[column_key]
        self._rows[row][col] = value
        w = min(_width(value), MAX_COLUMN_WIDTH)
        if w > self._widths[col]:
            self._widths[col] = w
            self._resize()
        else:
            self._refresh_row(row)

    def get_row_at(self, index: int) -> list[Cell]:
        return list(self._rows[index])

    def get_cell(self, row_key: str, column_key: str) -> Cell:
        return self._rows[self._row_index[row_key]][self._col_index[column_key]]

    def row_key_at(self, index: int) -> str | None:
        return self._keys[index] if 0 <= index < len(self._keys) else None

    def _resize(self) -> None:
        total = sum(w + 2 for w in self._widths)
        self.virtual_size = Size(total, len(self._rows) + 1)
        self.refresh()

    def _refresh_row(self, row: int) -> None:
        self.refresh_line(row + 1)  # virtual line 0 is the header

    # -- cursor ----------------------------------------------------------------------------------------
    def move_cursor(self, *, row: int, scroll: bool = True) -> None:
        if not self._rows:
            self.cursor_row = 0
            return
        row = max(0, min(row, len(self._rows) - 1))
        old, self.cursor_row = self.cursor_row, row
        if scroll:
            self._scroll_to_cursor()
        self._refresh_row(old)
        self._refresh_row(row)
        self.post_message(self.RowHighlighted(self, row, self._keys[row]))

    def _scroll_to_cursor(self) -> None:
        body = max(1, self.size.height - 1 - (1 if self.show_horizontal_scrollbar else 0))
        top = int(self.scroll_y)
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False)
        elif self.cursor_row >= top + body:
            self.scroll_to(y=self.cursor_row - body + 1, animate=False)

    def action_cursor_up(self) -> None:
        self.move_cursor(row=self.cursor_row - 1)

    def action_cursor_down(self) -> None:
        self.move_cursor(row=self.cursor_row + 1)

    def action_page_up(self) -> None:
        self.move_cursor(row=self.cursor_row - max(1, self.size.height - 2))

    def action_page_down(self) -> None:
        self.move_cursor(row=self.cursor_row + max(1, self.size.height - 2))

    def action_scroll_top(self) -> None:
        self.move_cursor(row=0)

    def action_scroll_bottom(self) -> None:
        self.move_cursor(row=len(self._rows) - 1)

    def action_select(self) -> None:
        if self._rows:
            self.post_message(self.RowSelected(self, self.cursor_row, self._keys[self.cursor_row]))

    def on_click(self, event: events.Click) -> None:
        if event.y >= 1:
            row = int(self.scroll_y) + event.y - 1
            if 0 <= row < len(self._rows):
                if row == self.cursor_row and event.chain > 1:
                    self.action_select()
                else:
                    self.move_cursor(row=row)

    # -- rendering -----------------------------------------------------------------------------------
    def _line_text(self, cells: Sequence[Cell]) -> Text:
        text = Text(no_wrap=True, end="")
        for cell, width in zip(cells, self._widths):
            piece = cell if isinstance(cell, Text) else Text(cell)
            if piece.cell_len > width:
                piece = piece.copy()
                piece.truncate(width, overflow="ellipsis")
            text.append(" ")
            text.append_text(piece)
            text.append(" " * (width - piece.cell_len + 1))
        return text

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        scroll_x = int(self.scroll_x)
        base = self.rich_style
        if y == 0:
            style = self.get_component_rich_style("fast-table--header")
            text = self._line_text(self._labels)
        else:
            row = int(self.scroll_y) + y - 1
            if row >= len(self._rows):
                return Strip.blank(width, base)
            text = self._line_text(self._rows[row])
            if row == self.cursor_row:
                style = self.get_component_rich_style("fast-table--cursor")
            elif row % 2:
                style = self.get_component_rich_style("fast-table--odd")
            else:
                style = Style()
        segments = list(text.render(self.app.console))
        strip = Strip(segments).crop_extend(scroll_x, scroll_x + width, None)
        return strip.apply_style(base + style) if y == 0 or style else strip.apply_style(base)


__all__ = ["FastTable"]
