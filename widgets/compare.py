"""Side-by-side comparison: one column per item, one row per attribute, best values highlighted.

Plain data in::

    rows = [CompareRow("param", "alpha", ("0.01", "0.5")),
            CompareRow("metric", "rmse", ("63.2", "70.6"), best=0)]
    app.push_screen(CompareView("2 runs", ("enet-a", "enet-b"), rows))

``d`` toggles "only rows whose values differ".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Label

from widgets.data_table import DataTable
from widgets.dialog import Dialog


@dataclass(frozen=True)
class CompareRow:
    section: str
    key: str
    values: tuple[str, ...]
    best: int | None = None

    @property
    def differs(self) -> bool:
        return len(set(self.values)) > 1


class CompareView(Dialog[None]):
    DEFAULT_CSS = """
    CompareView { align: center middle; }
    CompareView > Vertical { width: 98%; height: 90%; border: thick $primary; background: $surface; }
    CompareView #title { text-style: bold; padding: 0 1; }
    CompareView #hint { color: $text-muted; padding: 0 1; }
    CompareView DataTable { height: 1fr; }
    """
    BINDINGS = [
        Binding("escape,q", "dismiss", "Close", id="compare.close"),
        Binding("d", "toggle_diff", "Only differences", id="compare.diff"),
    ]

    def __init__(self, title: str, columns: Sequence[str], rows: Sequence[CompareRow]) -> None:
        super().__init__()
        self.title_text, self.columns, self.rows = title, tuple(columns), tuple(rows)
        self.only_diff = False

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, id="title")
            yield DataTable(id="compare", cursor_type="row", zebra_stripes=True)
            yield Label("", id="hint")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("", key="__section")
        table.add_column("", key="__key")
        for i, name in enumerate(self.columns):
            table.add_column(name, key=f"c{i}")
        self._fill()
        table.focus()

    def visible_rows(self) -> list[CompareRow]:
        return [r for r in self.rows if r.differs or not self.only_diff]

    def _fill(self) -> None:
        table = self.query_one(DataTable)
        table.clear()
        for row in self.visible_rows():
            cells = [Text(v + " *", style="bold reverse") if i == row.best else Text(v)
                     for i, v in enumerate(row.values)]
            table.add_row(Text(row.section, style="dim"), Text(row.key, style="bold"), *cells)
        shown = "only differences" if self.only_diff else "all rows"
        self.query_one("#hint", Label).update(
            f"{shown} ({len(self.visible_rows())} of {len(self.rows)})   d: toggle differences   "
            "* best value   escape: close")

    def action_toggle_diff(self) -> None:
        self.only_diff = not self.only_diff
        self._fill()
