"""The Metrics pane's query view (one PromQL query charted over the range, with its values now) and the
completion of its query editor."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label

from backends.metrics import InstantResult, RangeResult, legend_names
from console.panes.base import PaneScreen, describe_error
from console.panes.metrics.polling import AsSeries
from widgets.chart import ChartSeries, LineChart, format_value, unit_for_metric
from widgets.data_table import DataTable
from widgets.promql import DURATIONS, FUNCTIONS, CompletionContext, PromQLEditor


class QueryView(Vertical):
    """The message of a rejected query, the chart of the query over the range and its instant values.
    ``last_range`` and ``last_instant`` are the answers shown."""

    def __init__(self, *, tz: tzinfo | None, id: str | None = None) -> None:
        super().__init__(id=id)
        self._tz = tz
        self.last_range: RangeResult | None = None
        self.last_instant: InstantResult | None = None
        self._instant_rows: list[tuple[str, str, str]] = []

    def compose(self) -> ComposeResult:
        yield Label("", id="query-error", classes="hidden")
        yield LineChart("", id="chart", tz=self._tz)
        yield DataTable(id="instant", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.query_one("#instant", DataTable).add_columns("series", "value", "at")

    def show_rejected(self, query: str, detail: str) -> None:
        """Say why the server rejected ``query`` (``detail``) above the chart; an empty detail takes it away."""
        error_box = self.query_one("#query-error", Label)
        if detail:
            error_box.update(Text(f"{query}\n{detail}", style="bold"))
            error_box.remove_class("hidden")
        else:
            error_box.add_class("hidden")

    def show(self, query: str, start: datetime, end: datetime, answer: RangeResult, instant: Any) -> None:
        """Chart ``answer`` over ``start..end``; list ``instant`` when it is an answer (not an error)."""
        self.last_range = answer
        names = legend_names(answer.series)
        series = [ChartSeries(n, s.points) for n, s in zip(names, answer.series)]
        note = ""
        if answer.left_out:
            note = f"{len(series)} of {answer.total_series} series"
        chart = self.query_one("#chart", LineChart)
        chart.set_data(series, unit=unit_for_metric(query), start=start.timestamp(), end=end.timestamp(),
                       title="", note=note)
        if isinstance(instant, InstantResult):
            self.last_instant = instant
            self._fill_instant(instant, unit_for_metric(query))

    def set_stale(self, stale: bool) -> None:
        self.query_one("#chart", LineChart).set_stale(stale)

    def _fill_instant(self, instant: InstantResult, unit: str) -> None:
        names = legend_names([AsSeries(s.labels) for s in instant.samples])
        rows = [(name, format_value(sample.value, unit), sample.timestamp.strftime("%H:%M:%S"))
                for name, sample in zip(names, instant.samples)]
        if instant.left_out:
            rows.append((f"... {instant.left_out} more", "", ""))
        if rows == self._instant_rows:
            return
        self._instant_rows = rows
        table = self.query_one("#instant", DataTable)
        cursor = table.cursor_row
        table.clear()
        for row in rows:
            table.add_row(*row)
        if rows:
            table.move_cursor(row=min(cursor, len(rows) - 1))


def answer_status(query: str, answer: RangeResult, window: str) -> tuple[str, str]:
    """The status line (text, level) for ``answer``, the chart of ``query`` over the ``window``."""
    shown = len(answer.series)
    if answer.left_out:
        return (f"{answer.total_series} series: showing the first {shown}, "
                f"{answer.left_out} left out (narrow the query with labels, or topk)", "warning")
    if answer.warnings:
        return "Prometheus warns: " + "; ".join(answer.warnings), "warning"
    if not shown:
        return f"no data for {query} in the last {window}", "info"
    return f"{shown} series over {window}, step {answer.step:g}s", "info"


class Completion:
    """Completion for the query editor: answers from what was fetched already, fetches what is missing in
    a worker and completes again (if the editor is still open) once it is in."""

    def __init__(self, pane: PaneScreen, status: Callable[[str, str], None]) -> None:
        self._pane = pane
        self._status = status
        self._metric_names: tuple[str, ...] | None = None
        self._label_names: dict[str, tuple[str, ...]] = {}
        self._label_values: dict[tuple[str, str], tuple[str, ...]] = {}
        self._fetching: set[Any] = set()

    def clear(self) -> None:
        """Forget what was fetched (another server answers now)."""
        self._metric_names = None
        self._label_names.clear()
        self._label_values.clear()
        self._fetching.clear()

    def complete(self, context: CompletionContext) -> list[str]:
        if context.kind == "metric":
            if self._metric_names is None:
                self._fetch("metrics", self._pane.api.metric_names)
                names: tuple[str, ...] = ()
            else:
                names = self._metric_names
            return sorted(set(names) | set(FUNCTIONS)) if context.prefix else list(names)
        if context.kind == "label":
            key = context.metric
            if key not in self._label_names:
                self._fetch(("labels", key), self._pane.api.label_names, key or None)
                return []
            return list(self._label_names[key])
        if context.kind == "value":
            pair = (context.label, context.metric)
            if pair not in self._label_values:
                self._fetch(("values", pair), self._pane.api.label_values, context.label,
                            context.metric or None)
                return []
            return list(self._label_values[pair])
        if context.kind == "duration":
            return list(DURATIONS)
        return []

    def _fetch(self, key: Any, fn: Any, *args: Any) -> None:
        if key in self._fetching:
            return
        self._fetching.add(key)

        def done(values: tuple[str, ...]) -> None:
            self._fetching.discard(key)
            if key == "metrics":
                self._metric_names = values
            elif key[0] == "labels":
                self._label_names[key[1]] = values
            else:
                self._label_values[key[1]] = values
            editor = self._pane.query_one("#editor", PromQLEditor)
            if not editor.has_class("hidden"):
                editor.recomplete()

        def failed(error: BaseException) -> None:
            self._fetching.discard(key)
            self._status(f"completion unavailable: {describe_error(error)}", "warning")

        self._pane.call_backend(f"complete-{key if isinstance(key, str) else key[0]}", fn, *args,
                                on_result=done, on_error=failed)
