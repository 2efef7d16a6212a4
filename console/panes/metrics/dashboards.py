"""The Metrics pane's dashboards: the picker, the queries of a dashboard's panels, and their answers drawn
in its grid."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from backends.errors import InvalidQuery
from backends.metrics import InstantResult, MetricsSource, RangeResult, legend_names, step_for
from backends.metrics.dashboards import Dashboard, ImportReport, expand, legend_for, parse_label_values
from console.panes.metrics.polling import AsSeries, Job
from widgets.chart import ChartSeries
from widgets.dashboard import DashboardGrid, PanelData
from widgets.dialog import Dialog


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


def find_dashboard(reports: Sequence[ImportReport], title: str) -> int | None:
    """The index of the dashboard called ``title`` (or whose title starts with it), any case."""
    wanted = title.strip().lower()
    for index, report in enumerate(reports):
        if report.dashboard and (report.dashboard.title.lower() == wanted
                                 or report.dashboard.title.lower().startswith(wanted)):
            return index
    return None


def dashboard_jobs(board: Dashboard, variables: Mapping[str, str], seconds: int, width: int) -> list[Job]:
    """The queries of ``board``'s panels over a window of ``seconds``, charts ``width`` cells wide."""
    jobs = []
    values = {v.name: variables.get(v.name, v.default) for v in board.variables}
    step = step_for(seconds, width)
    for p_index, panel in enumerate(board.panels):
        kind = "range" if panel.kind == "line" else "instant"
        for t_index, target in enumerate(panel.targets):
            jobs.append(Job(p_index, t_index, kind, expand(target.expr, values, step, seconds), target.legend))
    return jobs


def variable_options(backend: MetricsSource, board: Dashboard) -> dict[str, tuple[str, ...]]:
    """The values each of ``board``'s variables can take (in a worker thread: it may ask the server)."""
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


def show_dashboard(grid: DashboardGrid, board: Dashboard, start: datetime, end: datetime,
                   results: list[tuple[Job, Any]], window: str) -> tuple[str, str]:
    """Draw a poll's ``results`` in ``board``'s panels; returns the status line (text, level)."""
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
                names = _legends(job, result.series, len(panel.targets))
                series.extend(ChartSeries(n, s.points) for n, s in zip(names, result.series))
            elif isinstance(result, InstantResult):
                names = _legends(job, [AsSeries(s.labels) for s in result.samples], len(panel.targets))
                rows.extend((n, s.value) for n, s in zip(names, result.samples))
        note = f"{left_out} series left out" if left_out else ""
        grid.show(index, PanelData(series=tuple(series), rows=tuple(rows), start=start.timestamp(),
                                   end=end.timestamp(), note=note))
    if problems:
        return f"{len(problems)} panel(s) failed: {problems[0]}", "warning"
    return f"{board.title}: {len(board.panels)} panels over {window}", "info"


def _legends(job: Job, series: Sequence[Any], targets: int) -> list[str]:
    if job.legend:
        return [legend_for(job.legend, dict(s.labels)) or job.legend for s in series]
    names = legend_names(series)
    if targets > 1:
        names = [f"#{job.target + 1} {n}" for n in names]
    return names
