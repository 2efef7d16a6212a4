"""A lean, virtual table for large live lists (hundreds of rows changing under a watch, thousands paged in).

Plain data in: columns (label, key, justify) and rows of cells (``str`` or Rich ``Text``) with a string key.
Only the visible lines are rendered; column widths come from ``cell_len`` (no Rich measuring), so filling
500 rows or changing one cell costs little. Typed messages upward: ``RowHighlighted`` / ``RowSelected``.

``cursor_type="row"`` (the default) highlights whole rows; ``cursor_type="cell"`` adds a column cursor
(left / right, home / end for the first / last column, ctrl+home / ctrl+end for the first / last row).
``fixed_columns=N`` keeps the first N columns in view while the others scroll sideways (at most half the
width: a wider one is cut with an ellipsis).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import zip_longest
from typing import Literal

from rich.cells import cell_len
from rich.console import JustifyMethod
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from widgets.edge import mark_cut

Cell = str | Text
MAX_COLUMN_WIDTH = 60


def _width(cell: Cell) -> int:
    if type(cell) is str and cell.isascii() and cell.isprintable():  # most cells: a column per character
        return len(cell)
    return cell.cell_len if isinstance(cell, Text) else cell_len(cell)


def _column_width(cells: Sequence[Cell]) -> int:
    """The widest of ``cells``: for a column of plain ASCII text (most are) one pass in C, not a call per cell."""
    if not cells:
        return 0
    try:
        joined = "".join(cells)  # type: ignore[arg-type]  # a TypeError when the column holds Text
    except TypeError:
        # styled cells are often shared (one Text per state): each distinct object is measured once
        return max(map(_width, {id(cell): cell for cell in cells}.values()))
    if joined.isascii() and joined.isprintable():
        return max(map(len, cells))
    return max(map(_width, cells))


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
        Binding("home", "home", "Top", show=False),
        Binding("end", "end", "Bottom", show=False),
        Binding("ctrl+home", "scroll_top", "Top", show=False),
        Binding("ctrl+end", "scroll_bottom", "Bottom", show=False),
        Binding("left", "cursor_left", "Left", show=False),
        Binding("right", "cursor_right", "Right", show=False),
        Binding("enter", "select", "Select", show=False),
    ]

    class RowHighlighted(Message):
        """The cursor moved (to another row, or in a cell table to another column)."""

        def __init__(self, table: FastTable, cursor_row: int, row_key: str, cursor_column: int = 0,
                     column_key: str | None = None) -> None:
            super().__init__()
            self.table, self.cursor_row, self.row_key = table, cursor_row, row_key
            self.cursor_column, self.column_key = cursor_column, column_key

        @property
        def control(self) -> FastTable:
            return self.table

    class RowSelected(Message):
        def __init__(self, table: FastTable, cursor_row: int, row_key: str, cursor_column: int = 0,
                     column_key: str | None = None) -> None:
            super().__init__()
            self.table, self.cursor_row, self.row_key = table, cursor_row, row_key
            self.cursor_column, self.column_key = cursor_column, column_key

        @property
        def control(self) -> FastTable:
            return self.table

    def __init__(self, *, cursor_type: Literal["row", "cell"] = "row", fixed_columns: int = 0,
                 name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.cursor_type = cursor_type
        self.fixed_columns = fixed_columns
        self._labels: list[Cell] = []
        self._justify: list[JustifyMethod] = []
        self._col_keys: list[str] = []
        self._col_index: dict[str, int] = {}
        self._widths: list[int] = []
        self._rows: list[list[Cell]] = []
        self._keys: list[str] = []
        self._row_index: dict[str, int] = {}
        self.cursor_row = 0
        self.cursor_column = 0

    # -- data ----------------------------------------------------------------------------------------
    def add_column(self, label: Cell, key: str, justify: JustifyMethod = "left") -> None:
        """A column; ``justify`` places its plain-string cells (a ``Text`` cell keeps its own)."""
        self._col_index[key] = len(self._col_keys)
        self._labels.append(label)
        self._justify.append(justify)
        self._col_keys.append(key)
        width = _width(label)
        for cells in self._rows:  # rows added before the column get an empty cell
            cells.append("")
        self._widths.append(min(width, MAX_COLUMN_WIDTH))
        self._resize()

    def set_columns(self, columns: Sequence[tuple[Cell, str, JustifyMethod]],
                    rows: Sequence[tuple[str, Sequence[Cell]]] | None = None) -> None:
        """Replace every column and row at once: ``(label, key, justify)`` triples, and the new rows as
        in ``set_rows`` (none if not given); one resize for all."""
        self._labels = [label for label, _, _ in columns]
        self._col_keys = [key for _, key, _ in columns]
        self._justify = [justify for _, _, justify in columns]
        self._col_index = {key: i for i, key in enumerate(self._col_keys)}
        self.cursor_column = min(self.cursor_column, max(0, len(columns) - 1))
        if rows is None:
            self.clear()
        else:
            self.cursor_row = 0
            self.set_rows(rows)

    @property
    def row_count(self) -> int:
        return len(self._rows)

    @property
    def column_keys(self) -> tuple[str, ...]:
        return tuple(self._col_keys)

    @property
    def column_key(self) -> str | None:
        """The key of the column under the cursor."""
        return self._col_keys[self.cursor_column] if 0 <= self.cursor_column < len(self._col_keys) else None

    def clear(self, columns: bool = False) -> None:
        """Remove every row (and with ``columns=True`` every column too)."""
        if columns:
            self._labels, self._justify, self._col_keys, self._col_index = [], [], [], {}
            self.cursor_column = 0
        self._rows, self._keys, self._row_index = [], [], {}
        self._widths = [min(_width(label), MAX_COLUMN_WIDTH) for label in self._labels]
        self.cursor_row = 0
        self._resize()

    def set_rows(self, rows: Sequence[tuple[str, Sequence[Cell]]]) -> None:
        """Replace every row at once: ``(key, cells)`` pairs."""
        self._rows = [list(cells) for _, cells in rows]
        self._keys = [key for key, _ in rows]
        self._row_index = {key: i for i, key in enumerate(self._keys)}
        columns = list(zip_longest(*self._rows, fillvalue=""))  # a short row's missing cells are empty
        columns += [()] * (len(self._labels) - len(columns))
        self._widths = [min(max(_width(label), _column_width(column)), MAX_COLUMN_WIDTH)
                        for label, column in zip(self._labels, columns)]
        self.cursor_row = min(self.cursor_row, max(0, len(self._rows) - 1))
        self._resize()

    def add_row(self, *cells: Cell, key: str) -> None:
        self.add_rows([(key, cells)])

    def add_rows(self, rows: Sequence[tuple[str, Sequence[Cell]]]) -> None:
        """Append ``(key, cells)`` pairs in one go (one resize and repaint for the lot)."""
        widths = self._widths
        for key, cells in rows:
            self._row_index[key] = len(self._rows)
            self._keys.append(key)
            self._rows.append(list(cells))
            for i, cell in enumerate(cells):
                w = _width(cell)
                if w > widths[i]:
                    widths[i] = min(w, MAX_COLUMN_WIDTH)
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

    @property
    def row_keys(self) -> tuple[str, ...]:
        return tuple(self._keys)

    def _resize(self) -> None:
        total = sum(w + 2 for w in self._widths)
        frozen, shown = self._frozen()
        self.virtual_size = Size(total - frozen + shown, len(self._rows) + 1)
        self.refresh()

    def _frozen(self) -> tuple[int, int]:
        """The width of the fixed columns, and how much of it is shown (at most half the view)."""
        if not self.fixed_columns:
            return 0, 0
        frozen = sum(w + 2 for w in self._widths[:self.fixed_columns])
        view = self.scrollable_content_region.width
        return frozen, min(frozen, view // 2) if view else frozen

    def on_resize(self) -> None:
        if self.fixed_columns:
            self._resize()  # the part of the fixed columns shown depends on the width

    def _refresh_row(self, row: int) -> None:
        self.refresh_line(row + 1)  # virtual line 0 is the header

    # -- cursor ----------------------------------------------------------------------------------------
    def move_cursor(self, *, row: int | None = None, column: int | None = None, scroll: bool = True) -> None:
        """Move the cursor to ``row`` (and in a cell table to ``column``); None keeps that coordinate."""
        if column is not None and self.cursor_type == "cell" and self._col_keys:
            column = max(0, min(column, len(self._col_keys) - 1))
            if column != self.cursor_column:
                self.cursor_column = column
                self._refresh_row(self.cursor_row)
        if not self._rows:
            self.cursor_row = 0
            return
        row = self.cursor_row if row is None else max(0, min(row, len(self._rows) - 1))
        old, self.cursor_row = self.cursor_row, row
        if scroll:
            self._scroll_to_cursor()
        self._refresh_row(old)
        self._refresh_row(row)
        self.post_message(self.RowHighlighted(self, row, self._keys[row], self.cursor_column, self.column_key))

    def _scroll_to_cursor(self) -> None:
        # force: the table may not know yet that it scrolls (its scrollbars are laid out on the next refresh);
        # the scroll is still clamped to the content
        body = max(1, self.size.height - 1 - (1 if self.show_horizontal_scrollbar else 0))
        top = int(self.scroll_y)
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False, force=True)
        elif self.cursor_row >= top + body:
            self.scroll_to(y=self.cursor_row - body + 1, animate=False, force=True)
        if self.cursor_type == "cell" and self._col_keys and self.cursor_column >= self.fixed_columns:
            frozen, shown = self._frozen()  # a fixed column is always in view; the others scroll past it
            left = sum(w + 2 for w in self._widths[:self.cursor_column]) - frozen
            right = left + self._widths[self.cursor_column] + 2
            view = max(1, self.scrollable_content_region.width - shown)
            x = int(self.scroll_x)
            if left < x:
                self.scroll_to(x=left, animate=False, force=True)
            elif right > x + view:
                self.scroll_to(x=min(left, right - view), animate=False, force=True)

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

    def action_home(self) -> None:
        """First row; in a cell table the first column."""
        if self.cursor_type == "cell":
            self.move_cursor(column=0)
            self.scroll_to(x=0, animate=False, force=True)  # past fixed columns too: the row is read from its start
        else:
            self.action_scroll_top()

    def action_end(self) -> None:
        """Last row; in a cell table the last column."""
        if self.cursor_type == "cell":
            self.move_cursor(column=len(self._col_keys) - 1)
        else:
            self.action_scroll_bottom()

    def action_cursor_left(self) -> None:
        if self.cursor_type == "cell":
            self.move_cursor(column=self.cursor_column - 1)
        else:
            self.scroll_left()

    def action_cursor_right(self) -> None:
        if self.cursor_type == "cell":
            self.move_cursor(column=self.cursor_column + 1)
        else:
            self.scroll_right()

    def action_select(self) -> None:
        if self._rows:
            self.post_message(self.RowSelected(self, self.cursor_row, self._keys[self.cursor_row],
                                               self.cursor_column, self.column_key))

    def _column_at(self, x: int) -> int | None:
        edge = 0
        for i, w in enumerate(self._widths):
            edge += w + 2
            if x < edge:
                return i
        return None

    def on_click(self, event: events.Click) -> None:
        if event.y >= 1:
            row = int(self.scroll_y) + event.y - 1
            frozen, shown = self._frozen()
            x = event.x if event.x < shown else int(self.scroll_x) + event.x - shown + frozen
            column = self._column_at(x) if self.cursor_type == "cell" else None
            if 0 <= row < len(self._rows):
                if row == self.cursor_row and event.chain > 1 and column in (None, self.cursor_column):
                    self.action_select()
                else:
                    self.move_cursor(row=row, column=column)

    # -- rendering -----------------------------------------------------------------------------------
    def _line_text(self, cells: Sequence[Cell], cursor_style: Style | None = None) -> Text:
        """One line of cells; ``cursor_style`` is laid over the cell under the column cursor."""
        text = Text(no_wrap=True, end="")
        for i, (cell, width, justify) in enumerate(zip(cells, self._widths, self._justify)):
            piece = cell if isinstance(cell, Text) else Text(cell, justify=justify)
            if piece.cell_len > width:
                piece = piece.copy()
                piece.truncate(width, overflow="ellipsis")
            start = len(text)
            gap = width - piece.cell_len
            left = gap if piece.justify == "right" else gap // 2 if piece.justify == "center" else 0
            text.append(" " * (left + 1))
            text.append_text(piece)
            text.append(" " * (gap - left + 1))
            if cursor_style is not None and i == self.cursor_column:
                text.stylize(cursor_style, start, len(text))
        return text

    def _mark_cut(self, text: Text, edge: int) -> Text:
        """``text`` (a whole line) with an ellipsis ending the cell that the view's right edge cuts."""
        start = 0
        for w in self._widths:
            end = start + w + 2
            if end > edge:
                if start >= edge:
                    return text
                segments = list(text.render(self.app.console))
                marked = mark_cut(segments, edge, start, end)
                if marked is segments:
                    return text
                return Text.assemble(*((s.text, s.style or "") for s in marked), no_wrap=True, end="")
            start = end
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
            cell_cursor = row == self.cursor_row and self.cursor_type == "cell"
            # a cell table highlights only the cell under the column cursor; its row keeps the stripe
            text = self._line_text(self._rows[row],
                                   self.get_component_rich_style("fast-table--cursor") if cell_cursor else None)
            if row == self.cursor_row and not cell_cursor:
                style = self.get_component_rich_style("fast-table--cursor")
            elif row % 2:
                style = self.get_component_rich_style("fast-table--odd")
            else:
                style = Style()
        frozen, shown = self._frozen()
        # the right edge of what is shown, in the line's own columns (the fixed ones take `shown` of the width)
        text = self._mark_cut(text, scroll_x + width + (frozen - shown if frozen else 0))
        segments = list(text.render(self.app.console))
        if frozen:
            strip = self._with_fixed_columns(Strip(segments), y, frozen, shown, scroll_x, width)
        else:
            strip = Strip(segments).crop_extend(scroll_x, scroll_x + width, None)
        return strip.apply_style(base + style) if y == 0 or style else strip.apply_style(base)

    def _with_fixed_columns(self, line: Strip, y: int, frozen: int, shown: int, scroll_x: int, width: int) -> Strip:
        """``line`` (all its cells) with the fixed columns at the left and the rest scrolled by ``scroll_x``."""
        if shown == frozen:
            head = line.crop_extend(0, frozen, None)
        else:  # wider than half the view: the fixed cells again, cut with an ellipsis
            row = int(self.scroll_y) + y - 1
            cells = self._labels if y == 0 else self._rows[row]
            cursor = None
            if y and row == self.cursor_row and self.cursor_type == "cell":
                cursor = self.get_component_rich_style("fast-table--cursor")
            text = self._line_text(cells[:self.fixed_columns], cursor)
            text.rstrip()  # only text that is cut gets the ellipsis, not the padding
            text.truncate(shown - 1, overflow="ellipsis", pad=True)
            text.append(" ")
            head = Strip(list(text.render(self.app.console)))
        tail = line.crop_extend(frozen + scroll_x, frozen + scroll_x + width - shown, None)
        return Strip.join([head, tail])


__all__ = ["FastTable"]
