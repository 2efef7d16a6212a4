"""A grid of dashboard panels: line charts, single stats and small tables. Plain data in.

    grid = DashboardGrid(id="dashboard")
    await grid.set_layout([PanelSpec("Traffic", "line", "req/s"), PanelSpec("Up", "stat", "")])
    grid.show(0, PanelData(series=(ChartSeries("iris", points),), start=t0, end=t1))
    grid.show(1, PanelData(rows=(("all", 3.0),)))
    grid.show(1, PanelData(error="parse error: ..."))
    grid.set_stale(True)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import tzinfo

from rich.text import Text
from textual.containers import Grid
from textual.widget import Widget
from textual.widgets import Static

from widgets.chart import ChartSeries, LineChart, format_value
from widgets.data_table import DataTable


@dataclass(frozen=True)
class PanelSpec:
    title: str
    kind: str = "line"  # line | stat | table
    unit: str = ""


@dataclass(frozen=True)
class PanelData:
    """What one refresh gives a panel: ``series`` for a line chart, ``rows`` (name, value) for a
    stat (first row) or table; ``note`` e.g. how many series were left out; ``error`` replaces it."""

    series: tuple[ChartSeries, ...] = ()
    rows: tuple[tuple[str, float | None], ...] = ()
    start: float | None = None
    end: float | None = None
    note: str = ""
    error: str = ""


class StatPanel(Static):
    DEFAULT_CSS = """
    StatPanel { height: 1fr; content-align: center middle; text-style: bold; border: round $panel-lighten-2; }
    StatPanel.-stale { color: $text-muted; }
    """


class TablePanel(DataTable):
    DEFAULT_CSS = """
    TablePanel { height: 1fr; border: round $panel-lighten-2; }
    """


class DashboardGrid(Grid):
    DEFAULT_CSS = """
    DashboardGrid { grid-size: 2; grid-gutter: 0 1; height: 1fr; grid-rows: 1fr; }
    DashboardGrid LineChart { min-height: 4; }
    """

    def __init__(self, *, tz: tzinfo | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.tz = tz
        self.specs: tuple[PanelSpec, ...] = ()
        self.stale = False
        self._shown: dict[int, PanelData] = {}

    async def set_layout(self, specs: Sequence[PanelSpec]) -> None:
        """Replace the panels (a dashboard was chosen)."""
        self.specs = tuple(specs)
        self._shown.clear()
        await self.remove_children()
        widgets: list[Widget] = []
        for index, spec in enumerate(self.specs):
            if spec.kind == "stat":
                panel: Widget = StatPanel("…", id=f"panel-{index}")
                panel.border_title = spec.title
            elif spec.kind == "table":
                panel = TablePanel(id=f"panel-{index}", cursor_type="row", show_cursor=False)
                panel.border_title = spec.title
                panel.add_columns("series", "value")
            else:
                panel = LineChart(spec.title, unit=spec.unit, tz=self.tz, max_legend_rows=3,
                                  id=f"panel-{index}")
            widgets.append(panel)
        rows = max(1, (len(widgets) + 1) // 2)
        self.styles.grid_size_rows = rows
        await self.mount_all(widgets)

    def show(self, index: int, data: PanelData) -> None:
        if not 0 <= index < len(self.specs):
            return
        if self._shown.get(index) == data:
            return  # nothing changed: nothing to redraw or send
        self._shown[index] = data
        spec = self.specs[index]
        widget = self.query_one(f"#panel-{index}")
        if isinstance(widget, LineChart):
            if data.error:
                widget.set_message(data.error)
                widget.title = spec.title
            else:
                widget.set_data(data.series, unit=spec.unit, start=data.start, end=data.end, note=data.note)
        elif isinstance(widget, StatPanel):
            widget.remove_class("-stale")
            if data.error:
                widget.update(Text(data.error, style="bold"))
            elif not data.rows:
                widget.update("no data")
            else:
                name, value = data.rows[0]
                text = Text(format_value(value, spec.unit), style="bold")
                if len(data.rows) > 1:
                    text.append(f"\n{name} (+{len(data.rows) - 1} more)", style="dim")
                widget.update(text)
        elif isinstance(widget, TablePanel):
            widget.clear()
            if data.error:
                widget.add_row(Text(data.error, style="bold"), "")
            for name, value in data.rows:
                widget.add_row(name, format_value(value, spec.unit))

    def set_markers(self, markers: Sequence[tuple[float, str]]) -> None:
        """The same time markers (events) on every line chart (see LineChart.set_markers); () removes them."""
        for widget in self.query(LineChart):
            widget.set_markers(markers)

    def set_stale(self, stale: bool) -> None:
        if stale == self.stale:
            return
        self.stale = stale
        for widget in self.children:
            if isinstance(widget, LineChart):
                widget.set_stale(stale)
            elif isinstance(widget, StatPanel):
                widget.set_class(stale, "-stale")
            elif isinstance(widget, TablePanel):
                widget.border_subtitle = "STALE" if stale else ""
