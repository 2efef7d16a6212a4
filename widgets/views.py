"""Read-only dialogs: a scrollable text and a table."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import RenderableType
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Label, Static

from widgets.data_table import DataTable
from widgets.dialog import Dialog


class TextView(Dialog[None]):
    """A titled, scrollable text (YAML, logs, details). ``escape`` / ``q`` close it; ``j`` / ``k`` / ``g`` /
    ``G`` scroll it as they move in the panes' tables (arrows and page keys too)."""

    DEFAULT_CSS = """
    TextView { align: center middle; }
    TextView > Vertical { width: 95%; height: 90%; border: thick $primary; background: $surface; }
    TextView #title { text-style: bold; padding: 0 1; }
    TextView #foot { color: $text-muted; padding: 0 1; }
    """
    BINDINGS = [
        Binding("escape,q", "dismiss", "Close", id="dialog.close"),
        Binding("j", "scroll_body('down')", "Down", id="dialog.down", show=False),
        Binding("k", "scroll_body('up')", "Up", id="dialog.up", show=False),
        Binding("g", "scroll_body('home')", "Top", id="dialog.top", show=False),
        Binding("G", "scroll_body('end')", "Bottom", id="dialog.bottom", show=False),
    ]

    def __init__(self, title: str, body: RenderableType, footer: str = "escape: close") -> None:
        super().__init__()
        self.title_text, self.body, self.footer_text = title, body, footer

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, id="title", markup=False)
            with VerticalScroll(id="scroll"):
                yield Static(self.body, id="body")
            yield Label(self.footer_text, id="foot", markup=False)

    def on_mount(self) -> None:
        self.query_one("#scroll").focus()

    def action_scroll_body(self, where: str) -> None:
        scrolls = self.query("#scroll").results(VerticalScroll)
        scroll = next(scrolls, None)
        if scroll is None:
            return  # a key typed right after the view was asked for, before it was built: nothing to scroll yet
        {"down": scroll.scroll_down, "up": scroll.scroll_up, "home": scroll.scroll_home,
         "end": scroll.scroll_end}[where](animate=False)


class TableView(Dialog[None]):
    """A titled table of rows (plain strings or Rich Text)."""

    DEFAULT_CSS = """
    TableView { align: center middle; }
    TableView > Vertical { width: 95%; height: 90%; border: thick $primary; background: $surface; }
    TableView #title { text-style: bold; padding: 0 1; }
    TableView #note { color: $text-muted; padding: 0 1; height: auto; }
    TableView DataTable { height: 1fr; }
    """
    BINDINGS = [Binding("escape,q", "dismiss", "Close", id="dialog.close")]

    def __init__(self, title: str, columns: Sequence[str], rows: Sequence[Sequence[RenderableType]],
                 note: str = "") -> None:
        super().__init__()
        self.title_text, self.columns, self.rows, self.note = title, columns, rows, note

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, id="title", markup=False)
            yield DataTable(id="table", cursor_type="row", zebra_stripes=True)
            yield Label(self.note, id="note", markup=False)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns(*self.columns)
        for row in self.rows:
            table.add_row(*row)
        table.focus()
