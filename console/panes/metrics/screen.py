"""Metrics pane: live PromQL charts and instant values, dashboards, alerts and scrape targets.

The screen holds what the pane shows (the query, the dashboard and its variables, the range) and wires its
parts together: when it polls (``polling``), the query view and the editor's completion (``query``), the
dashboards (``dashboards``), and the alerts and targets tables (``alerts``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import partial
from typing import Any

from rich.text import Text
from textual import events, on
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Label

from backends.errors import BackendError
from backends.metrics import WINDOWS, InstantResult, MetricsSource, RangeResult
from backends.metrics.dashboards import Dashboard, ImportReport
from console.commands import Command
from console.history import History
from console.links import SERVING_DASHBOARD, Ref
from console.panes.base import PaneScreen, _hidden, describe_error
from console.panes.metrics.alerts import alerts_view, targets_view
from console.panes.metrics.dashboards import (
    DashboardPicker,
    dashboard_jobs,
    find_dashboard,
    show_dashboard,
    variable_options,
)
from console.panes.metrics.events import ChartEventsFeed, EventList, events_renderable
from console.panes.metrics.polling import Job, Poller, poll_span, run_poll
from console.panes.metrics.query import Completion, QueryView, answer_status
from widgets.chart import LineChart
from widgets.dashboard import DashboardGrid, PanelSpec
from widgets.promql import PromQLEditor
from widgets.views import TableView

SAID_HOLD_S = 5.0  # a problem a command or the app said stays this long before a poll's words replace it


class MetricsScreen(PaneScreen[MetricsSource]):
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
        Command("compare", "Canary vs main: the golden signals of each side of the deployment these charts are "
                "linked to", "command_compare"),
        Command("events", "What changed in the linked deployment, registry and data during the charts' window",
                "command_events"),
    )

    def __init__(self) -> None:
        super().__init__()
        self.promql = self.DEFAULT_QUERY
        self.window_index = 2  # 1h
        self.dashboard: Dashboard | None = None
        self.variables: dict[str, str] = {}
        self.variable_options: dict[str, tuple[str, ...]] = {}
        self.reports: tuple[ImportReport, ...] | None = None
        self.history: list[str] = History("promql_history")
        self.query_error = ""
        self._pending_query: str | None = None
        self.poller = Poller(self, self.poll)
        self.completion = Completion(self, self._status)
        self._last_status: tuple[str, str] | None = None
        self._said_until = 0.0  # a problem said other than by a poll stays until then (monotonic)
        self._title_text = ""
        self._linked: tuple[Ref, dict[str, str]] | None = None  # the deployment a link opened the dashboard for
        self.chart_events = ChartEventsFeed(self)

    # -- layout ------------------------------------------------------------------------------------
    def compose_body(self) -> ComposeResult:
        tz = self.console_app.now().tzinfo
        yield Label("", id="metrics-title", classes="pane-title")
        yield PromQLEditor(self.completion.complete, self.history, id="editor", classes="hidden")
        yield QueryView(tz=tz, id="query-view")
        yield DashboardGrid(id="dashboard", classes="hidden", tz=tz)
        yield EventList(id="chart-events", classes="hidden", tz=tz)

    def on_mount(self) -> None:
        # the backend is built by PaneScreen after the first frame: nothing here may build it
        if self._known_unconfigured() or not self.query("#instant"):
            return
        self.poller.visible = True
        self._setup_widgets()

    def on_resize(self, event: events.Resize) -> None:
        if self.query("#metrics-title"):  # not when unconfigured
            self._update_title()  # the query is cut to the new width

    def _setup_widgets(self) -> None:
        self.query_one("#instant").focus()
        self._update_title()

    @property
    def window(self) -> tuple[str, int]:
        return WINDOWS[self.window_index]

    # -- the answers shown (kept by the query view) and the state of live refresh (kept by the poller) --
    @property
    def last_range(self) -> RangeResult | None:
        return next((view.last_range for view in self.query(QueryView)), None)

    @property
    def last_instant(self) -> InstantResult | None:
        return next((view.last_instant for view in self.query(QueryView)), None)

    @property
    def live(self) -> bool:
        return self.poller.live

    @live.setter
    def live(self, live: bool) -> None:
        self.poller.live = live

    @property
    def stale(self) -> bool:
        return self.poller.stale

    @property
    def failures(self) -> int:
        return self.poller.failures

    @property
    def polls(self) -> int:
        return self.poller.polls

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
        last_range = self.last_range
        if last_range is not None and self.dashboard is None:
            text.append(f" step {last_range.step:g}s")
        text.append("   ")
        text.append(f"live {self.poller.interval:g}s" if self.live else "PAUSED",
                    style="" if self.live else "bold reverse")
        if self.stale:
            last_ok = self.poller.last_ok
            when = last_ok.strftime("%H:%M:%S") if last_ok else "never"
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
            super().set_status(text, level)

    def _poll_status(self, text: str, level: str = "info") -> None:
        """What a poll has to say: not over a problem said by anything else (a command, the app) for
        :data:`SAID_HOLD_S`, as the polls come every few seconds and would wipe it before it is read."""
        if time.monotonic() >= self._said_until:
            self._status(text, level)

    def set_status(self, text: str, level: str = "info") -> None:
        self._last_status = (text, level)
        self._said_until = time.monotonic() + SAID_HOLD_S if level in ("error", "warning") else 0.0
        super().set_status(text, level)

    # -- polling ------------------------------------------------------------------------------------
    def reload(self) -> None:
        self.poll()

    async def context_changed(self) -> None:
        self.poller.cancel()
        self.completion.clear()
        self.reports = None
        self.dashboard = None
        self.poller.stale = False
        self._title_text = ""
        self.chart_events = ChartEventsFeed(self)
        await super().context_changed()  # a new, empty query view
        if self.backend is not None:
            self._setup_widgets()

    def on_screen_suspend(self) -> None:
        self.poller.hide()

    def on_screen_resume(self) -> None:
        if self._known_unconfigured() or not self.query("#chart"):
            return
        self.poller.show()

    def _chart_width(self) -> int:
        if self.dashboard is not None:
            width = self.query_one("#dashboard").size.width // 2 - 8
        else:
            width = self.query_one("#chart", LineChart).size.width - 8
        return width if width > 10 else 72

    def _jobs(self, query: str) -> list[Job]:
        if self.dashboard is None:
            return [Job(-1, 0, "range", query), Job(-1, 0, "instant", query)]
        return dashboard_jobs(self.dashboard, self.variables, self.window[1], self._chart_width())

    def poll(self) -> None:
        """Run the current view's queries now, unless a poll is still running (then right after it)."""
        if self.backend is None or not self.poller.begin():
            return
        query = self._pending_query or self.promql
        now = self.console_app.now()
        start, end, step = poll_span(now, self.window[1], self._chart_width())
        jobs = self._jobs(query)
        board = self.dashboard
        self.call_backend(Poller.GROUP, run_poll, self.api, jobs, start, end, step, now,
                          on_result=lambda results: self._polled(query, board, start, end, results),
                          on_error=lambda error: self._poll_failed(error, query), timeout=0)

    def _set_stale(self, stale: bool) -> None:
        self.query_one(QueryView).set_stale(stale)
        self.query_one("#dashboard", DashboardGrid).set_stale(stale)

    def _poll_failed(self, error: BaseException, query: str) -> None:
        had_data = self.last_range is not None or self.poller.last_ok is not None
        delay = self.poller.failed(had_data)
        self._set_stale(had_data)
        if query == self._pending_query:
            self._pending_query = None
        keep = "; showing the last data (stale)" if had_data else ""
        retry = f"; retrying in {delay:g}s" if self.live else "; press r to retry"
        self._poll_status(f"{describe_error(error)}{keep}{retry}", "error")
        self._update_title()
        if not isinstance(error, BackendError):
            self.show_error(error)
        self.poller.finished(delay)

    def _polled(self, query: str, board: Dashboard | None, start: datetime, end: datetime,
                results: list[tuple[Job, Any]]) -> None:
        if board is not self.dashboard or (self._pending_query is not None and query != self._pending_query):
            # asked before the view or the query changed (closing the `:` line resumes the pane, which
            # polls the old query at once): drawing it would undo the change, so poll the new one
            self.poller.again()
            self.poller.finished(self.poller.interval)
            return
        recovered = self.poller.answered(end)
        self._set_stale(False)
        if self.dashboard is None:
            self._show_query(query, start, end, results)
        else:
            self._show_dashboard(start, end, results)
        if recovered:
            shown = self._last_status[0] if self._last_status else ""
            self._poll_status(f"{self.api.endpoint} answers again; {shown}", "ok")
        self._update_title()
        self.poller.finished(self.poller.interval)

    def _show_query(self, query: str, start: datetime, end: datetime, results: list[tuple[Job, Any]]) -> None:
        answer = next((r for j, r in results if j.kind == "range"), None)
        assert answer is not None  # the query view always asks for a range
        instant = next((r for j, r in results if j.kind == "instant"), None)
        view = self.query_one(QueryView)
        if isinstance(answer, BaseException):
            detail = getattr(answer, "detail", None) or str(answer)
            self.query_error = detail
            view.show_rejected(query, detail)
            if self._pending_query == query:
                self._pending_query = None  # keep charting the last good query
                self._poll_status(f"query rejected by Prometheus: {detail}; still showing {self.promql}", "error")
            else:
                self._poll_status(f"query rejected by Prometheus: {detail}", "error")
            return
        if self._pending_query == query or not self.query_error:
            # a new query that works clears the error; live refreshes of the last good query
            # leave the rejected query's message (inline and in the status line) where it is
            self._pending_query = None
            self.promql = query
            self.query_error = ""
            view.show_rejected(query, "")
        view.show(query, start, end, answer, instant)
        if not self.query_error:
            self._poll_status(*answer_status(query, answer, self.window[0]))

    def _show_dashboard(self, start: datetime, end: datetime, results: list[tuple[Job, Any]]) -> None:
        board = self.dashboard
        assert board is not None  # polled as a dashboard only while one is open
        grid = self.query_one("#dashboard", DashboardGrid)
        self._poll_status(*show_dashboard(grid, board, start, end, results, self.window[0]))
        self.chart_events.polled(start, end)

    # -- switching between the query view and a dashboard -------------------------------------------------
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
        if self.focused is not None and _hidden(self.focused):
            self.set_focus(None)  # the instant table or the editor went with the query view: keys go to the pane
        self._update_title()
        if report.skipped:
            self._status(f"{board.title}: {len(report.skipped)} item(s) not imported, e.g. "
                         f"{report.skipped[0]} (D lists them)", "warning")
        self.call_backend("variables", variable_options, self.api, board,
                          on_result=self.variable_options.update, on_error=lambda e: None)
        self.poll()

    async def _show_query_view(self) -> None:
        self.dashboard = None
        self.chart_events.clear()
        self.query_one("#dashboard").add_class("hidden")
        self.query_one("#query-view").remove_class("hidden")
        if self.focused is None:
            self.focus_default()
        self._update_title()
        self.poll()

    def action_dashboards(self) -> None:
        def chosen(index: int | None) -> None:
            if index is not None:
                self.run_worker(self.open_dashboard(index), group="metrics.open", exit_on_error=False)

        def show(reports: tuple[ImportReport, ...]) -> None:
            self.reports = reports
            current = self.dashboard.title if self.dashboard else None
            self.app.push_screen(DashboardPicker(reports, current), chosen)

        self.call_backend("dashboards", self.api.dashboards, on_result=show,
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
        if self.poller.toggle():
            self._status("live refresh resumed")
            self.poll()
        else:
            self._status("live refresh paused (space resumes)")
        self._update_title()

    def action_alerts(self) -> None:
        self.call_backend("alerts", self.api.alerts, on_result=partial(self._show_table, alerts_view),
                          on_error=lambda e: self.show_error(e, "alerts"), busy="reading alerts")

    def action_targets(self) -> None:
        self.call_backend("targets", self.api.targets, on_result=partial(self._show_table, targets_view),
                          on_error=lambda e: self.show_error(e, "targets"), busy="reading targets")

    def _show_table(self, view: Callable[[Any, datetime, str], tuple[str, TableView]], items: Sequence[Any]) -> None:
        status, table = view(items, self.console_app.now(), self.api.endpoint)
        self._status(status)
        self.app.push_screen(table)

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
            self.reports = self.api.dashboards()  # local files only: cheap
        index = find_dashboard(self.reports, arg)
        if index is None:
            self.set_status(f"no dashboard called {arg!r} (D lists them)", "error")
        else:
            await self.open_dashboard(index)

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

    # -- links across the panes (console/linking.py) -------------------------------------------------------------
    def link_subject(self) -> Ref | None:
        """The deployment the model-serving dashboard was opened for by a link, while it still shows it."""
        if self._linked is None or self.dashboard is None or not self.dashboard.title.startswith(SERVING_DASHBOARD):
            return None
        ref, values = self._linked
        if any(self.variables.get(k) != v for k, v in values.items()):
            return None  # a variable was changed since: the charts are no longer that deployment's
        return ref

    def link_hint(self) -> str:
        return "L: these charts are no deployment's (L on a deployment's row opens its metrics, linked)"

    def select_link(self, ref: Ref) -> None:
        nav = self.console_app.link_nav
        self.call_backend("linkvars", nav.dashboard_values, ref, busy=f"matching {ref.key[1]} to its series",
                          on_result=lambda answer: self.run_worker(self._open_linked(ref, *answer),
                                                                   group="links", exit_on_error=False))

    async def _open_linked(self, ref: Ref, values: dict[str, str], note: str) -> None:
        if self.reports is None:
            self.reports = self.api.dashboards()  # local files only: cheap
        index = find_dashboard(self.reports, SERVING_DASHBOARD)
        if index is None:
            self.set_status("the built-in model-serving dashboard is not loaded", "error")
            return
        self.variables.update(values)
        await self.open_dashboard(index)
        self._linked = (ref, dict(values))
        self.set_status(f"serving metrics of {ref.key[1]} (backspace: back)")
        if note:  # the dashboard's own status follows with its first answer: this must outlast it
            self.app.notify(note, title=ref.key[1], severity="warning", timeout=10)

    def command_events(self, _arg: str) -> None:
        answer, window = self.chart_events.answer, self.chart_events.window
        if self.link_subject() is None or answer is None or window is None:
            self.set_status("no events: these charts are no deployment's (L on a deployment's row opens its "
                            "metrics, linked)" if self.link_subject() is None else "the events are being read",
                            "warning")
            return
        from widgets.views import TextView

        ref, start = window
        title = f"Events of {ref.key[1]} since {start.astimezone(self.console_app.now().tzinfo):%Y-%m-%d %H:%M}"
        self.app.push_screen(TextView(title, events_renderable(answer, self.console_app.now().tzinfo)))

    def command_alerts(self, _arg: str) -> None:
        self.action_alerts()

    def command_targets(self, _arg: str) -> None:
        self.action_targets()

    def command_compare(self, _arg: str) -> None:
        """`:compare` on the deployment a link opened the model-serving dashboard for."""
        ref = self.link_subject()
        if ref is None:
            self.set_status("compare: these charts are no deployment's (L on a deployment's row opens its metrics, "
                            "linked; or :compare on its row in the Deployments pane)", "warning")
            return
        nav = self.console_app.link_nav

        def find() -> Any:
            return next((d for d in nav.resolver().deployment_list() if d.key[:2] == ref.key[:2]), None)

        def found(d: Any) -> None:
            from console.panes.deployments.compare import open_compare

            if d is None:
                self.set_status(f"compare: no deployment {ref.key[1]} any more", "error")
            else:
                open_compare(self, d)

        self.call_backend("compare.find", find, on_result=found, busy=f"reading {ref.key[1]}",
                          on_error=lambda e: self.show_error(e, "compare"))
