"""Metrics pane: live PromQL charts and instant values, dashboards, alerts and scrape targets.

Polling: one poll runs every query of the current view in one thread worker; the next poll is
armed only when the last one finished (never overlapping), and not at all while the pane is
hidden, a dialog is open or live refresh is paused. When the server is down or slow the last data
stays on screen marked stale and polls back off (up to a minute) until it answers again.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from rich.text import Text
from textual import events, on
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.timer import Timer
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from backends.errors import BackendError, InvalidQuery
from backends.metrics import WINDOWS, InstantResult, RangeResult, legend_names, step_for
from backends.metrics.dashboards import (
    Dashboard,
    ImportReport,
    expand,
    legend_for,
    parse_label_values,
)
from console.commands import Command
from console.format import age, short_time
from console.history import History
from console.panes.base import PaneScreen, _hidden, describe_error
from widgets.chart import ChartSeries, LineChart, format_value, unit_for_metric
from widgets.dashboard import DashboardGrid, PanelData, PanelSpec
from widgets.data_table import DataTable
from widgets.dialog import Dialog
from widgets.promql import DURATIONS, FUNCTIONS, CompletionContext, PromQLEditor
from widgets.views import TableView

MAX_SERIES = 20
MAX_BACKOFF = 60.0
#: errors that say the server itself is not there (the poll stops at the first one)
QUERY_ERRORS = (InvalidQuery,)


@dataclass(frozen=True)
class Job:
    """One query of a poll: ``panel`` -1 is the query view; ``kind`` range or instant."""

    panel: int
    target: int
    kind: str
    query: str
    legend: str = ""


def run_poll(backend: Any, jobs: Sequence[Job], start: datetime, end: datetime, step: float,
             now: datetime | None = None) -> list[tuple[Job, Any]]:
    """Run ``jobs`` one after the other (in a worker thread): range queries over ``start..end``,
    instant ones at ``now`` (default ``end``). A query the server rejects gives its error in
    place of a result; anything else (unreachable, timeout) ends the poll."""
    out: list[tuple[Job, Any]] = []
    for job in jobs:
        try:
            if job.kind == "range":
                out.append((job, backend.range_query(job.query, start, end, step, MAX_SERIES)))
            else:
                out.append((job, backend.instant_query(job.query, now or end)))
        except QUERY_ERRORS as exc:
            out.append((job, exc))
    return out


class DashboardPicker(Dialog[int | None]):
    """Choose a dashboard (or the query view, -1); shows what each file could not import."""

    DEFAULT_CSS = """
    DashboardPicker { align: center middle; }
    DashboardPicker > Vertical { width: 90%; max-width: 110; height: auto; max-height: 90%;
        border: thick $primary; background: $surface; }
    DashboardPicker #title { text-style: bold; padding: 0 1; }
    DashboardPicker OptionList { height: auto; max-height: 24; }
    """
    BINDINGS = [Binding("escape", "dismiss_none", "Close", id="dialog.close")]

    def __init__(self, reports: Sequence[ImportReport], current: str | None) -> None:
        super().__init__()
        self.reports = reports
        self.current = current

    def compose(self) -> ComposeResult:
        options = [Option(Text("PromQL query view", style="bold"), id="-1")]
        for index, report in enumerate(self.reports):
            text = Text()
            if report.dashboard is not None:
                mark = "* " if report.dashboard.title == self.current else "  "
                text.append(mark + report.dashboard.title, style="bold")
                text.append(f"  {len(report.dashboard.panels)} panels  {report.source}", style="dim")
            else:
                text.append(f"  {report.source}: not loaded", style="bold")
            for problem in report.skipped[:6]:
                text.append(f"\n      not imported: {problem}", style="italic")
            if len(report.skipped) > 6:
                text.append(f"\n      ... and {len(report.skipped) - 6} more", style="italic")
            options.append(Option(text, id=str(index), disabled=report.dashboard is None))
        with Vertical():
            yield Label("Dashboards (enter opens, escape closes)", id="title")
            yield OptionList(*options, id="dashboards")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(int(event.option.id or "-1"))

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


class MetricsScreen(PaneScreen):
    PANE = "metrics"
    DEFAULT_QUERY = "up"
    AUTO_FOCUS = "#instant"  # never the (hidden) editor
    CSS = """
    MetricsScreen #metrics-title { height: 1; }
    MetricsScreen #query-error { height: auto; max-height: 4; padding: 0 1; background: $error 25%; }
    MetricsScreen #query-view { height: 1fr; }
    MetricsScreen #chart { height: 1fr; min-height: 6; }
    MetricsScreen #instant { height: 7; }
    """
    BINDINGS = [
        Binding("e", "edit", "Query", id="metrics.edit", priority=True),  # see PaneScreen.action_filter
        Binding("left_square_bracket", "window(-1)", "Shorter", id="metrics.shorter"),
        Binding("right_square_bracket", "window(1)", "Longer", id="metrics.longer"),
        Binding("space", "pause", "Pause", id="metrics.pause"),
        Binding("D", "dashboards", "Dashboards", id="metrics.dashboards"),
        Binding("A", "alerts", "Alerts", id="metrics.alerts"),
        Binding("T", "targets", "Targets", id="metrics.targets"),
        Binding("escape", "back", "Query view", id="metrics.back", show=False),
    ]
    LINE_COMMANDS = (
        Command("promql", "Chart a PromQL query (live) with its instant values", "command_promql",
                takes_arg=True, arg_hint="QUERY", complete="complete_promql"),
        Command("range", "Time range of the charts: 5m 15m 1h 6h 24h 7d", "command_range", takes_arg=True,
                arg_hint="WINDOW", complete="complete_range"),
        Command("dashboard", "Open a dashboard by title", "command_dashboard", takes_arg=True,
                arg_hint="TITLE", complete="complete_dashboard", aliases=("dash",)),
        Command("var", "Set a dashboard variable: :var deployment=iris", "command_var", takes_arg=True,
                arg_hint="NAME=VALUE", complete="complete_var"),
        Command("alerts", "Firing and pending alerts", "command_alerts"),
        Command("targets", "Scrape targets and their health", "command_targets"),
    )

    def __init__(self) -> None:
        super().__init__()
        self.promql = self.DEFAULT_QUERY
        self.window_index = 2  # 1h
        self.live = True
        self.dashboard: Dashboard | None = None
        self.variables: dict[str, str] = {}
        self.variable_options: dict[str, tuple[str, ...]] = {}
        self.reports: tuple[ImportReport, ...] | None = None
        self.history: list[str] = History("promql_history")
        self.stale = False
        self.failures = 0
        self.last_ok: datetime | None = None
        self.last_range: RangeResult | None = None
        self.last_instant: InstantResult | None = None
        self.query_error = ""
        self.polls = 0
        self._pending_query: str | None = None
        self._timer: Timer | None = None
        self._visible = False
        self._again = False
        self._last_status: tuple[str, str] | None = None
        self._title_text = ""
        self._instant_rows: list[tuple[str, str, str]] = []
        self._metric_names: tuple[str, ...] | None = None
        self._label_names: dict[str, tuple[str, ...]] = {}
        self._label_values: dict[tuple[str, str], tuple[str, ...]] = {}
        self._fetching: set[Any] = set()

    # -- layout ------------------------------------------------------------------------------------
    def compose_body(self) -> ComposeResult:
        tz = self.console_app.now().tzinfo
        yield Label("", id="metrics-title", classes="pane-title")
        yield PromQLEditor(self._complete, self.history, id="editor", classes="hidden")
        yield Label("", id="query-error", classes="hidden")
        with Vertical(id="query-view"):
            yield LineChart("", id="chart", tz=tz)
            yield DataTable(id="instant", cursor_type="row", zebra_stripes=True)
        yield DashboardGrid(id="dashboard", classes="hidden", tz=tz)

    def on_mount(self) -> None:
        # the backend is built by PaneScreen after the first frame: nothing here may build it
        if self._known_unconfigured() or not self.query("#instant"):
            return
        self._visible = True
        self._setup_widgets()

    def on_resize(self, event: events.Resize) -> None:
        if self.query("#metrics-title"):  # not when unconfigured
            self._update_title()  # the query is cut to the new width

    def _setup_widgets(self) -> None:
        instant = self.query_one("#instant", DataTable)
        instant.add_columns("series", "value", "at")
        instant.focus()
        self._update_title()

    @property
    def interval(self) -> float:
        built = self.console_app.backends.peek(self.PANE)
        value = getattr(built[0] if built else None, "refresh_interval", None) or self.settings.refresh_interval
        return max(0.5, float(value))

    @property
    def window(self) -> tuple[str, int]:
        return WINDOWS[self.window_index]

    # -- title and status ----------------------------------------------------------------------------
    def _update_title(self) -> None:
        text = Text()
        if self.dashboard is not None:
            text.append(self.dashboard.title, style="bold")
            for variable in self.dashboard.variables:
                text.append(f"  ${variable.name}={self.variables.get(variable.name, variable.default)}")
        else:
            text.append("PromQL ", style="bold")
            text.append(self.promql)
        head, text = text, Text()
        name, _ = self.window
        text.append(f"   range {name}")
        if self.last_range is not None and self.dashboard is None:
            text.append(f" step {self.last_range.step:g}s")
        text.append("   ")
        text.append(f"live {self.interval:g}s" if self.live else "PAUSED",
                    style="" if self.live else "bold reverse")
        if self.stale:
            when = self.last_ok.strftime("%H:%M:%S") if self.last_ok else "never"
            text.append(f"  STALE (last good data {when})", style="bold reverse")
        # a long query is cut (visibly) so that the range and the live, PAUSED or STALE state stay on screen
        room = self.size.width - 2  # the title's padding
        if room > 0 and head.cell_len + text.cell_len > room:
            head.truncate(max(room - text.cell_len, 10), overflow="ellipsis")
        text = head + text
        if text.plain != self._title_text:  # unchanged lines are not sent again
            self._title_text = text.plain
            self.query_one("#metrics-title", Label).update(text)

    def _status(self, text: str, level: str = "info") -> None:
        if self._last_status != (text, level):  # an unchanged line is not sent to the terminal again
            self._last_status = (text, level)
            self.set_status(text, level)

    def set_status(self, text: str, level: str = "info") -> None:
        self._last_status = (text, level)
        super().set_status(text, level)

    # -- polling ------------------------------------------------------------------------------------
    def reload(self) -> None:
        self.poll()

    async def context_changed(self) -> None:
        self._cancel_timer()
        self._metric_names = None
        self._label_names.clear()
        self._label_values.clear()
        self._fetching.clear()
        self.reports = None
        self.dashboard = None
        self.last_range = self.last_instant = None
        self.stale = False
        self._title_text = ""
        self._instant_rows = []
        await super().context_changed()
        if self.backend is not None:
            self._setup_widgets()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def _arm(self, delay: float) -> None:
        self._cancel_timer()
        if self.live and self._visible:
            self._timer = self.set_timer(delay, self._tick)

    def _tick(self) -> None:
        self._timer = None
        if self.live and self._visible:
            self.poll()

    def on_screen_suspend(self) -> None:
        self._visible = False
        self._cancel_timer()

    def on_screen_resume(self) -> None:
        if self._known_unconfigured() or not self.query("#chart"):
            return
        was_visible, self._visible = self._visible, True
        if not was_visible and self.live and self._timer is None and not self.is_busy("poll"):
            self.poll()

    def _chart_width(self) -> int:
        if self.dashboard is not None:
            width = self.query_one("#dashboard").size.width // 2 - 8
        else:
            width = self.query_one("#chart", LineChart).size.width - 8
        return width if width > 10 else 72

    def _jobs(self, query: str) -> list[Job]:
        if self.dashboard is None:
            return [Job(-1, 0, "range", query), Job(-1, 0, "instant", query)]
        jobs = []
        values = {v.name: self.variables.get(v.name, v.default) for v in self.dashboard.variables}
        step = step_for(self.window[1], self._chart_width())
        for p_index, panel in enumerate(self.dashboard.panels):
            kind = "range" if panel.kind == "line" else "instant"
            for t_index, target in enumerate(panel.targets):
                jobs.append(Job(p_index, t_index, kind, expand(target.expr, values, step, self.window[1]),
                                target.legend))
        return jobs

    def poll(self) -> None:
        """Run the current view's queries now, unless a poll is still running (then right after it)."""
        if self.backend is None:
            return
        if self.is_busy("poll"):
            self._again = True
            return
        self._cancel_timer()
        self._again = False
        query = self._pending_query or self.promql
        now = self.console_app.now()
        seconds = self.window[1]
        step = step_for(seconds, self._chart_width())
        # evaluation times on whole multiples of the step: polls within one step get the same
        # points, so nothing on screen changes and nothing is sent to the terminal
        end = datetime.fromtimestamp(math.floor(now.timestamp() / step) * step, now.tzinfo)
        start = end - timedelta(seconds=math.ceil(seconds / step) * step)
        jobs = self._jobs(query)
        board = self.dashboard
        self.polls += 1
        self.call_backend("poll", run_poll, self.backend, jobs, start, end, step, now,
                          on_result=lambda results: self._polled(query, board, start, end, results),
                          on_error=lambda error: self._poll_failed(error, query), timeout=0)

    def _after_poll(self, delay: float) -> None:
        if self._again:
            self._again = False
            self.call_after_refresh(self.poll)
        else:
            self._arm(delay)

    def _poll_failed(self, error: BaseException, query: str) -> None:
        self.failures += 1
        delay = min(MAX_BACKOFF, self.interval * 2 ** min(self.failures - 1, 6))
        had_data = self.last_range is not None or self.last_ok is not None
        self.stale = had_data
        self.query_one("#chart", LineChart).set_stale(had_data)
        self.query_one("#dashboard", DashboardGrid).set_stale(had_data)
        if query == self._pending_query:
            self._pending_query = None
        keep = "; showing the last data (stale)" if had_data else ""
        retry = f"; retrying in {delay:g}s" if self.live else "; press r to retry"
        self._status(f"{describe_error(error)}{keep}{retry}", "error")
        self._update_title()
        if not isinstance(error, BackendError):
            self.show_error(error)
        self._after_poll(delay)

    def _polled(self, query: str, board: Dashboard | None, start: datetime, end: datetime,
                results: list[tuple[Job, Any]]) -> None:
        if board is not self.dashboard or (self._pending_query is not None and query != self._pending_query):
            # asked before the view or the query changed (closing the `:` line resumes the pane, which
            # polls the old query at once): drawing it would undo the change, so poll the new one
            self._again = True
            self._after_poll(self.interval)
            return
        recovered = self.failures > 0
        self.failures = 0
        self.stale = False
        self.last_ok = end
        self.query_one("#chart", LineChart).set_stale(False)
        self.query_one("#dashboard", DashboardGrid).set_stale(False)
        if self.dashboard is None:
            self._show_query(query, start, end, results)
        else:
            self._show_dashboard(start, end, results)
        if recovered:
            shown = self._last_status[0] if self._last_status else ""
            self._status(f"{self.backend.endpoint} answers again; {shown}", "ok")
        self._update_title()
        self._after_poll(self.interval)

    # -- the query view ------------------------------------------------------------------------------
    def _show_query(self, query: str, start: datetime, end: datetime, results: list[tuple[Job, Any]]) -> None:
        range_result = next((r for j, r in results if j.kind == "range"), None)
        assert range_result is not None  # the query view always asks for a range
        instant = next((r for j, r in results if j.kind == "instant"), None)
        error_box = self.query_one("#query-error", Label)
        if isinstance(range_result, BaseException):
            detail = getattr(range_result, "detail", None) or str(range_result)
            self.query_error = detail
            error_box.update(Text(f"{query}\n{detail}", style="bold"))
            error_box.remove_class("hidden")
            if self._pending_query == query:
                self._pending_query = None  # keep charting the last good query
                self._status(f"query rejected by Prometheus: {detail}; still showing {self.promql}", "error")
            else:
                self._status(f"query rejected by Prometheus: {detail}", "error")
            return
        if self._pending_query == query or not self.query_error:
            # a new query that works clears the error; live refreshes of the last good query
            # leave the rejected query's message (inline and in the status line) where it is
            self._pending_query = None
            self.promql = query
            self.query_error = ""
            error_box.add_class("hidden")
        self.last_range = range_result
        names = legend_names(range_result.series)
        series = [ChartSeries(n, s.points) for n, s in zip(names, range_result.series)]
        note = ""
        if range_result.left_out:
            note = f"{len(series)} of {range_result.total_series} series"
        chart = self.query_one("#chart", LineChart)
        chart.set_data(series, unit=unit_for_metric(query), start=start.timestamp(), end=end.timestamp(),
                       title="", note=note)
        if isinstance(instant, InstantResult):
            self.last_instant = instant
            self._fill_instant(instant, unit_for_metric(query))
        if self.query_error:
            return
        if range_result.left_out:
            self._status(f"{range_result.total_series} series: showing the first {len(series)}, "
                         f"{range_result.left_out} left out (narrow the query with labels, or topk)", "warning")
        elif range_result.warnings:
            self._status("Prometheus warns: " + "; ".join(range_result.warnings), "warning")
        elif not series:
            self._status(f"no data for {query} in the last {self.window[0]}", "info")
        else:
            self._status(f"{len(series)} series over {self.window[0]}, step {range_result.step:g}s", "info")

    def _fill_instant(self, instant: InstantResult, unit: str) -> None:
        names = legend_names([_AsSeries(s.labels) for s in instant.samples])
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

    # -- dashboards ------------------------------------------------------------------------------------
    def _show_dashboard(self, start: datetime, end: datetime, results: list[tuple[Job, Any]]) -> None:
        board = self.dashboard
        assert board is not None  # polled as a dashboard only while one is open
        grid = self.query_one("#dashboard", DashboardGrid)
        by_panel: dict[int, list[tuple[Job, Any]]] = {}
        for job, result in results:
            by_panel.setdefault(job.panel, []).append((job, result))
        problems = []
        for index, panel in enumerate(board.panels):
            items = by_panel.get(index, [])
            errors = [r for _, r in items if isinstance(r, BaseException)]
            if errors and len(errors) == len(items):
                detail = getattr(errors[0], "detail", None) or str(errors[0])
                grid.show(index, PanelData(error=detail))
                problems.append(f"{panel.title}: {detail}")
                continue
            series: list[ChartSeries] = []
            rows: list[tuple[str, float | None]] = []
            left_out = 0
            for job, result in items:
                if isinstance(result, RangeResult):
                    left_out += result.left_out
                    names = self._legends(job, result.series, len(panel.targets))
                    series.extend(ChartSeries(n, s.points) for n, s in zip(names, result.series))
                elif isinstance(result, InstantResult):
                    names = self._legends(job, [_AsSeries(s.labels) for s in result.samples],
                                          len(panel.targets))
                    rows.extend((n, s.value) for n, s in zip(names, result.samples))
            note = f"{left_out} series left out" if left_out else ""
            grid.show(index, PanelData(series=tuple(series), rows=tuple(rows), start=start.timestamp(),
                                       end=end.timestamp(), note=note))
        if problems:
            self._status(f"{len(problems)} panel(s) failed: {problems[0]}", "warning")
        else:
            self._status(f"{board.title}: {len(board.panels)} panels over {self.window[0]}")

    @staticmethod
    def _legends(job: Job, series: Sequence[Any], targets: int) -> list[str]:
        if job.legend:
            return [legend_for(job.legend, dict(s.labels)) or job.legend for s in series]
        names = legend_names(series)
        if targets > 1:
            names = [f"#{job.target + 1} {n}" for n in names]
        return names

    async def open_dashboard(self, index: int) -> None:
        reports = self.reports or ()
        if index < 0 or index >= len(reports) or reports[index].dashboard is None:
            await self._show_query_view()
            return
        report = reports[index]
        board = report.dashboard
        assert board is not None  # checked above
        self.dashboard = board
        for variable in board.variables:
            self.variables.setdefault(variable.name, variable.default)
        grid = self.query_one("#dashboard", DashboardGrid)
        await grid.set_layout([PanelSpec(p.title, p.kind, p.unit) for p in board.panels])
        grid.remove_class("hidden")
        self.query_one("#query-view").add_class("hidden")
        self.query_one("#query-error").add_class("hidden")
        if self.focused is not None and _hidden(self.focused):
            self.set_focus(None)  # the instant table or the editor went with the query view: keys go to the pane
        self._update_title()
        if report.skipped:
            self._status(f"{board.title}: {len(report.skipped)} item(s) not imported, e.g. "
                         f"{report.skipped[0]} (D lists them)", "warning")
        self._load_variable_options(board)
        self.poll()

    async def _show_query_view(self) -> None:
        self.dashboard = None
        self.query_one("#dashboard").add_class("hidden")
        self.query_one("#query-view").remove_class("hidden")
        if self.query_error:
            self.query_one("#query-error").remove_class("hidden")
        if self.focused is None:
            self.focus_default()
        self._update_title()
        self.poll()

    def _load_variable_options(self, board: Dashboard) -> None:
        backend = self.backend

        def load() -> dict[str, tuple[str, ...]]:
            found = {}
            for variable in board.variables:
                if variable.options:
                    found[variable.name] = variable.options
                    continue
                parsed = parse_label_values(variable.query)
                if parsed is not None:
                    match, label = parsed
                    try:
                        found[variable.name] = backend.label_values(label, match)
                    except InvalidQuery:
                        found[variable.name] = ()
            return found

        self.call_backend("variables", load, on_result=self.variable_options.update,
                          on_error=lambda e: None)

    def action_dashboards(self) -> None:
        def chosen(index: int | None) -> None:
            if index is not None:
                self.run_worker(self.open_dashboard(index), group="metrics.open", exit_on_error=False)

        def show(reports: tuple[ImportReport, ...]) -> None:
            self.reports = reports
            current = self.dashboard.title if self.dashboard else None
            self.app.push_screen(DashboardPicker(reports, current), chosen)

        self.call_backend("dashboards", self.backend.dashboards, on_result=show,
                          on_error=lambda e: self.show_error(e, "loading dashboards"), busy="reading dashboards")

    async def action_back(self) -> None:
        if self.dashboard is not None:
            await self._show_query_view()

    # -- keys ------------------------------------------------------------------------------------------
    async def action_edit(self) -> None:
        if self._text_field_focused():
            raise SkipAction()  # an "e" typed into the query
        if self.dashboard is not None:  # the editor lives in the query view: go back to it first
            self.console_app.hold_keys()  # what is typed meanwhile goes into the editor
            await self._show_query_view()
        editor = self.query_one("#editor", PromQLEditor)
        editor.remove_class("hidden")
        editor.open(self._pending_query or self.promql)

    @on(PromQLEditor.Run)
    async def _editor_run(self, event: PromQLEditor.Run) -> None:
        self._close_editor()
        await self.run_query(event.query)

    @on(PromQLEditor.Cancelled)
    def _editor_cancelled(self, _event: PromQLEditor.Cancelled) -> None:
        self._close_editor()

    def _close_editor(self) -> None:
        self.query_one("#editor", PromQLEditor).add_class("hidden")
        self.focus_default()  # at once: a key that follows in the same burst must not reach the hidden line

    async def run_query(self, query: str) -> None:
        query = query.strip()
        if not query:
            return
        self.history.append(query)  # a History: a repeat of the last query is skipped
        self._pending_query = query
        if self.dashboard is not None:
            await self._show_query_view()
        else:
            self.poll()

    def action_window(self, delta: int) -> None:
        index = min(max(self.window_index + delta, 0), len(WINDOWS) - 1)
        if index == self.window_index:
            self._status(f"range is already {'shortest' if delta < 0 else 'longest'}: {self.window[0]}")
            return
        self.window_index = index
        self._update_title()
        self.poll()

    def action_pause(self) -> None:
        self.live = not self.live
        if self.live:
            self._status("live refresh resumed")
            self.poll()
        else:
            self._cancel_timer()
            self._status("live refresh paused (space resumes)")
        self._update_title()

    def action_alerts(self) -> None:
        self.call_backend("alerts", self.backend.alerts, on_result=self._show_alerts,
                          on_error=lambda e: self.show_error(e, "alerts"), busy="reading alerts")

    def _show_alerts(self, alerts: Sequence[Any]) -> None:
        now = self.console_app.now()
        firing = sum(1 for a in alerts if a.state == "firing")
        rows = []
        for alert in alerts:
            labels = ", ".join(f"{k}={v}" for k, v in alert.labels if k not in ("alertname", "severity"))
            notes = "; ".join(v for k, v in alert.annotations if k in ("summary", "description")) or \
                "; ".join(f"{k}: {v}" for k, v in alert.annotations)
            since = f"{short_time(alert.active_at)} ({age(alert.active_at, now)})" if alert.active_at else "-"
            rows.append((Text(alert.state.upper(), style="bold reverse" if alert.state == "firing" else "bold"),
                         alert.name, alert.severity or "-", since, labels, notes))
        self._status(f"{firing} firing, {len(alerts) - firing} pending alert(s)")
        self.app.push_screen(TableView(
            f"Alerts: {firing} firing, {len(alerts) - firing} pending ({self.backend.endpoint})",
            ("state", "alert", "severity", "since", "labels", "summary"), rows,
            "" if rows else "no firing or pending alerts"))

    def action_targets(self) -> None:
        self.call_backend("targets", self.backend.targets, on_result=self._show_targets,
                          on_error=lambda e: self.show_error(e, "targets"), busy="reading targets")

    def _show_targets(self, targets: Sequence[Any]) -> None:
        now = self.console_app.now()
        down = sum(1 for t in targets if t.health != "up")
        rows = []
        for target in targets:
            duration = "-" if math.isnan(target.last_scrape_duration) else \
                format_value(target.last_scrape_duration, "seconds")
            rows.append((Text(target.health.upper(), style="" if target.health == "up" else "bold reverse"),
                         target.job, target.instance,
                         f"{age(target.last_scrape, now)} ago" if target.last_scrape else "never",
                         duration, target.last_error or ""))
        self._status(f"{len(targets)} target(s), {down} not up")
        self.app.push_screen(TableView(
            f"Targets: {len(targets) - down} up, {down} not up ({self.backend.endpoint})",
            ("health", "job", "instance", "last scrape", "took", "last error"), rows,
            "" if rows else "no active scrape targets"))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self._known_unconfigured():
            return action == "refresh"
        if action == "back":
            return self.dashboard is not None
        return True

    # -- commands --------------------------------------------------------------------------------------
    async def command_promql(self, arg: str) -> None:
        await self.run_query(arg)

    def complete_promql(self) -> list[str]:
        return list(reversed(self.history[-10:]))

    def command_range(self, arg: str) -> None:
        names = [name for name, _ in WINDOWS]
        if arg not in names:
            self.set_status(f"range {arg!r}: one of {', '.join(names)}", "error")
            return
        self.action_window(names.index(arg) - self.window_index)

    def complete_range(self) -> list[str]:
        return [name for name, _ in WINDOWS]

    async def command_dashboard(self, arg: str) -> None:
        if self.reports is None:
            self.reports = self.backend.dashboards()  # local files only: cheap
        wanted = arg.strip().lower()
        for index, report in enumerate(self.reports):
            if report.dashboard and (report.dashboard.title.lower() == wanted
                                     or report.dashboard.title.lower().startswith(wanted)):
                await self.open_dashboard(index)
                return
        self.set_status(f"no dashboard called {arg!r} (D lists them)", "error")

    def complete_dashboard(self) -> list[str]:
        return [r.dashboard.title for r in self.reports or () if r.dashboard]

    def command_var(self, arg: str) -> None:
        name, sep, value = arg.partition("=")
        if not sep:
            name, _, value = arg.partition(" ")
        name, value = name.strip().lstrip("$"), value.strip()
        known = [v.name for v in self.dashboard.variables] if self.dashboard else []
        if name not in known:
            self.set_status(f"no variable ${name} on this dashboard" +
                            (f" (it has {', '.join('$' + k for k in known)})" if known else
                             " (open one with D first)"), "error")
            return
        self.variables[name] = value or ".*"
        self._update_title()
        self.poll()

    def complete_var(self) -> list[str]:
        if self.dashboard is None:
            return []
        out = []
        for variable in self.dashboard.variables:
            out.append(f"{variable.name}=.*")
            out.extend(f"{variable.name}={v}" for v in self.variable_options.get(variable.name, ()))
        return out

    def command_alerts(self, _arg: str) -> None:
        self.action_alerts()

    def command_targets(self, _arg: str) -> None:
        self.action_targets()

    # -- completion for the editor (answers from cache, fetches what is missing) -----------------------
    def _complete(self, context: CompletionContext) -> list[str]:
        if context.kind == "metric":
            if self._metric_names is None:
                self._fetch("metrics", self.backend.metric_names)
                names: tuple[str, ...] = ()
            else:
                names = self._metric_names
            return sorted(set(names) | set(FUNCTIONS)) if context.prefix else list(names)
        if context.kind == "label":
            key = context.metric
            if key not in self._label_names:
                self._fetch(("labels", key), self.backend.label_names, key or None)
                return []
            return list(self._label_names[key])
        if context.kind == "value":
            pair = (context.label, context.metric)
            if pair not in self._label_values:
                self._fetch(("values", pair), self.backend.label_values, context.label, context.metric or None)
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
            editor = self.query_one("#editor", PromQLEditor)
            if not editor.has_class("hidden"):
                editor.recomplete()

        def failed(error: BaseException) -> None:
            self._fetching.discard(key)
            self._status(f"completion unavailable: {describe_error(error)}", "warning")

        self.call_backend(f"complete-{key if isinstance(key, str) else key[0]}", fn, *args,
                          on_result=done, on_error=failed)


@dataclass(frozen=True)
class _AsSeries:
    """Labels only, so instant samples get the same legend names as range series."""

    labels: tuple[tuple[str, str], ...]

    @property
    def name(self) -> str:
        return dict(self.labels).get("__name__", "")

    def label(self, key: str, default: str = "") -> str:
        return dict(self.labels).get(key, default)
