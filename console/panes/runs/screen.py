"""Runs pane: MLflow experiments and runs, sorted and filtered by the store, a page at a time."""

from __future__ import annotations

import time

from rich.console import Group, JustifyMethod, RenderableType
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.timer import Timer
from textual.widgets import Input, Label

from backends.errors import BackendTimeout, InvalidQuery, ServerError, Unreachable
from backends.runs import (
    Experiment,
    ExperimentRuns,
    ExperimentStats,
    RunDetail,
    RunPage,
    RunQuery,
    RunSummary,
    SampledHistories,
    SortKey,
)
from console.calls import BUSY_DELAY
from console.commands import Command
from console.format import short_time
from console.links import Badge, Ref
from console.panes.base import NAV_BINDINGS, PaneScreen, describe_error
from console.panes.runs.views import (
    MetricChartView,
    RegistryView,
    compare_rows,
    fmt_duration,
    fmt_number,
    run_detail_renderable,
)
from widgets.compare import CompareView
from widgets.fast_table import FastTable
from widgets.picker import PickerView
from widgets.status import StatusBar
from widgets.views import TextView

SLOW_SEARCH_S = 2.0  # a search out this long says why a sort can be slow, and what helps

PAGE_SIZE = 100
PREFETCH_ROWS = 20  # load the next page when the cursor gets this close to the last loaded row
STATS_EXPERIMENTS = 50  # run counts are fetched for this many experiments at most
STATS_CAP = 1000
LINKS_TICK = 30.0  # s between the checks of the badges while the pane is shown (each asks once links are stale)
#: table column key -> (title, the column a SortKey names; None: the store cannot sort by it)
BASE_COLUMNS: dict[str, tuple[str, str | None]] = {
    "mark": (" ", None),
    "run_name": ("run", "attributes.run_name"),
    "status": ("status", "attributes.status"),
    "start": ("start (UTC)", "attributes.start_time"),
    "duration": ("duration", None),
}
DEFAULT_SORT = ("start", True)
# the mark column's cells, shared by every row (the table copies cells to draw them, never changes them)
MARKED, UNMARKED = Text("*", style="bold"), Text(" ", style="bold")
RETRYABLE = (Unreachable, BackendTimeout, ServerError)


def _justify(column: str) -> JustifyMethod:
    return "right" if column.startswith("metrics.") else "left"


def sort_key(column: str, descending: bool) -> SortKey | None:
    """The store's sort key for a table column key, None when the store cannot sort by it."""
    if column in BASE_COLUMNS:
        name = BASE_COLUMNS[column][1]
    else:
        kind, _, rest = column.partition(".")
        name = column if kind in ("metrics", "params", "tags") and rest else None
    return None if name is None else SortKey(name, descending)


class RunsScreen(PaneScreen[ExperimentRuns]):
    PANE = "runs"
    FILTER_TARGET = "runs"
    CSS = """
    RunsScreen #filter-error { width: 1fr; height: auto; max-height: 4; padding: 0 1; }
    """
    FILTER_AS_YOU_TYPE = False  # MLflow search syntax, applied by the store on enter
    BINDINGS = [
        Binding("E", "experiments", "Experiments", id="runs.experiments"),
        Binding("s", "sort", "Sort", id="runs.sort"),
        Binding("slash", "filter", "Filter", id="runs.filter", priority=True),  # see PaneScreen.action_filter
        Binding("escape", "close_filter", "Clear filter", id="runs.close_filter", show=False),
        Binding("space", "mark", "Mark", id="runs.mark"),
        Binding("C", "compare", "Compare", id="runs.compare"),
        Binding("m", "chart", "Chart", id="runs.chart"),
        Binding("M", "registry", "Models", id="runs.registry"),
        Binding("c", "columns", "Columns", id="runs.columns"),
        *NAV_BINDINGS,
    ]
    LINE_COMMANDS = (
        Command("sort", "Sort runs by a column (the store sorts): metrics.rmse, -metrics.r2, -start",
                "command_sort", takes_arg=True, complete="complete_sort", arg_hint="[-]COLUMN"),
        Command("filter", "Filter runs with MLflow search syntax", "command_filter", takes_arg=True,
                arg_hint="EXPR"),
        Command("nofilter", "Clear the runs filter", "command_nofilter"),
        Command("columns", "Choose the param / metric columns", "command_columns"),
        Command("experiments", "Choose the experiment(s)", "command_experiments", aliases=("exp",)),
        Command("models", "Model registry", "command_models", aliases=("registry",)),
    )

    page_size = PAGE_SIZE
    retry_first = 1.0
    retry_max = 30.0

    def __init__(self) -> None:
        super().__init__()
        self._reset_state()

    def _reset_state(self) -> None:
        self.experiments: tuple[Experiment, ...] = ()
        self.experiment_ids: tuple[str, ...] = ()
        self.sort: tuple[str, bool] = DEFAULT_SORT
        self.filter_text = ""
        self.applied: RunQuery | None = None
        self.runs: list[RunSummary] = []
        self.next_token: str | None = None
        self.columns: list[str] = []  # dynamic columns (params./metrics.) in table order
        self.hidden: set[str] = set()
        self.marked: dict[str, RunSummary] = {}
        self.stale = False
        self.problem = ""
        self._retry_delay = 0.0
        self._retry_timer: Timer | None = None
        self._picker: PickerView | None = None
        self._wanted: tuple[tuple[str, bool], str] | None = None  # sort and filter asked for, not yet answered
        self._link_run: str | None = None  # the run a link asked for, until it is shown
        self._badges: dict[str, list[Badge]] = {}  # run id -> where the links disagree about it
        self._badges_asked: tuple[object, ...] = ()
        self._badge_said = ""  # the badge the status bar was last given

    # -- layout ----------------------------------------------------------------------------------------------
    def compose_body(self) -> ComposeResult:
        yield Label("Runs", id="runs-title", classes="pane-title")
        yield Input(placeholder="MLflow filter, e.g. metrics.rmse < 70 and params.alpha = '0.01' "
                                "(enter applies, escape closes)", id="filter", classes="filter hidden")
        yield Label("", id="filter-error", classes="hidden")
        # the virtual table draws only the visible rows: a page of runs costs no measuring and no redraw of the rest;
        # the mark and the run name stay in view while the other columns scroll
        yield FastTable(id="runs", cursor_type="cell", fixed_columns=2)

    def on_mount(self) -> None:
        # PaneScreen.on_mount runs after this one (Textual calls each class's handler) and starts the load
        for table in self.query("#runs").results(FastTable):
            table.focus()
        self.set_interval(LINKS_TICK, self._tick_links)

    def on_screen_resume(self) -> None:
        if self.runs and self._wanted is None:  # back on the pane: the badges of what changed meanwhile
            self._check_links()

    def _tick_links(self) -> None:
        """While the pane is shown, the badges follow data lost or brought back outside the console (asked again
        once the links are older than they may be kept)."""
        if self.is_current and self.runs and self._wanted is None:
            self._check_links()

    async def context_changed(self) -> None:
        self._cancel_retry()
        self._reset_state()
        await super().context_changed()

    # -- loading -----------------------------------------------------------------------------------------------
    def reload(self) -> None:
        if self.backend is None:
            return
        self._cancel_retry()
        if not self.experiment_ids:
            self.call_backend("experiments", self.api.list_experiments, on_result=self._first_experiments,
                              on_error=self._load_failed, busy=f"reading experiments from {self.api.endpoint}")
        else:
            self._request()

    def _first_experiments(self, experiments: tuple[Experiment, ...]) -> None:
        self.experiments = experiments
        if not experiments:
            self._loaded_ok()
            self.set_status(f"no experiments in {self.api.endpoint}", "warning")
            return
        # open the experiment written to last
        latest = max(experiments, key=lambda e: (e.last_update.timestamp() if e.last_update else 0.0,
                                                 _id_key(e.experiment_id)))
        self.experiment_ids = (latest.experiment_id,)
        self._request()

    def _query(self, *, filter_text: str | None = None, sort: tuple[str, bool] | None = None) -> RunQuery:
        key = sort_key(*(sort or self.sort))
        return RunQuery(experiment_ids=self.experiment_ids,
                        filter=self.filter_text if filter_text is None else filter_text,
                        sort=(key,) if key else (), page_size=self.page_size)

    def _request(self, *, filter_text: str | None = None, sort: tuple[str, bool] | None = None) -> None:
        """Ask the store for the first page of a query; it becomes the applied one only if the store accepts it.

        Requests made before the previous one answered build on it (``:sort`` then ``:filter``).
        """
        want_sort, want_filter = self._wanted or (self.sort, self.filter_text)
        new_sort = sort or want_sort
        new_filter = want_filter if filter_text is None else filter_text
        self._wanted = (new_sort, new_filter)
        query = self._query(filter_text=new_filter, sort=new_sort)
        self.call_backend("runs", self.api.search_runs, query, None,
                          on_result=lambda page: self._first_page(query, new_sort, page),
                          on_error=lambda exc: self._query_failed(query, exc),
                          )
        # only this search: a later one gets its own (a quick answer then never shows "busy" at all)
        call = self.pending_token("runs")
        self._watch_search(call, query, time.monotonic())

    def _watch_search(self, call: int | None, query: RunQuery, started: float) -> None:
        """While the search is out: after a moment say so, then how long it has taken, that escape abandons it,
        and, for a sort the store is slow at, why and what helps."""
        def tick() -> None:
            if not self.is_busy("runs", call):
                return
            elapsed = time.monotonic() - started
            text = f"searching runs in {self.api.endpoint}"
            if elapsed >= 1:
                text += f": {elapsed:.0f} s, escape abandons it"
            if elapsed >= SLOW_SEARCH_S and query.sort and query.sort[0].column.startswith(("metrics.", "params.")):
                text += ("; MLflow sorts by a metric or param slowly on a SQLite or file store: a PostgreSQL or "
                         "MySQL backend store is much faster")
            self.show_busy(text)
            self.set_timer(1.0 if elapsed >= 1 else 1.0 - elapsed, tick)

        self.set_timer(BUSY_DELAY, tick)

    def abandon_search(self) -> bool:
        """``escape`` while a search is out: give up on it; the table keeps the query it shows."""
        if not self.drop_call("runs"):
            return False
        self._wanted = None
        self.clear_busy()
        self.set_status(f"search abandoned; still showing {self._summary_text()}", "warning")
        return True

    def _first_page(self, query: RunQuery, sort: tuple[str, bool], page: RunPage) -> None:
        self._loaded_ok()
        self._wanted = None
        self.applied, self.sort, self.filter_text = query, sort, query.filter
        self.runs = list(page.runs)
        self.next_token = page.next_token
        self._hide_filter_error()
        self._rebuild_table()
        box = self.query_one("#filter", Input)
        if not self.filter_text and not box.has_focus:  # never under the fingers of someone typing a filter
            box.add_class("hidden")
        self.set_status(self._summary_text())
        self._maybe_prefetch()
        self._link_landed()
        self._check_links()

    def _query_failed(self, query: RunQuery, error: BaseException) -> None:
        if isinstance(error, InvalidQuery):
            # the previous results and query stay; the store's own words are shown inline
            self._wanted = None
            message = error.detail or str(error)
            if query.filter != self.filter_text:
                # the store's words go inline, where there is room for them; the status line only points there
                self._show_filter_error(f"MLflow rejected the filter: {message}")
                self.set_status("filter rejected (MLflow's message above); previous results kept", "error")
            elif self.applied is not None and query.sort != self.applied.sort:
                # short enough for one line: the table, still in its old order, says the rest
                self.set_status(f"sort rejected: {message}", "error")
            else:
                self.set_status(f"{describe_error(error)} - previous results kept", "error")
            return
        self._load_failed(error)

    def _load_failed(self, error: BaseException) -> None:
        self.stale = bool(self.runs)
        self.problem = describe_error(error)
        suffix = " (showing the last runs read, marked stale)" if self.stale else ""
        retry = isinstance(error, RETRYABLE)
        if retry:
            self._schedule_retry()
            suffix += f"; retrying in {self._retry_delay:g} s"
        self.set_status(self.problem + suffix, "error")
        self._set_title()

    def _loaded_ok(self) -> None:
        self._cancel_retry()
        self._retry_delay = 0.0
        self.stale = False
        self.problem = ""

    def _schedule_retry(self) -> None:
        self._cancel_retry()
        self._retry_delay = min(self.retry_max, self._retry_delay * 2 if self._retry_delay else self.retry_first)
        self._retry_timer = self.set_timer(self._retry_delay, self._retry)

    def _cancel_retry(self) -> None:
        if self._retry_timer is not None:
            self._retry_timer.stop()
            self._retry_timer = None

    def _retry(self) -> None:
        self._retry_timer = None
        if self.backend is None:
            return
        if not self.experiment_ids:
            self.call_backend("experiments", self.api.list_experiments, on_result=self._first_experiments,
                              on_error=self._load_failed)
        else:
            self._request()

    def _load_more(self) -> None:
        if not self.next_token or self.applied is None or self.is_busy("more") or self.is_busy("runs"):
            return
        query, token = self.applied, self.next_token
        self.call_backend("more", self.api.search_runs, query, token,
                          on_result=lambda page: self._more_page(query, token, page),
                          on_error=self._load_failed)
        call = self.pending_token("more")
        self.busy_later(f"loading more runs ({len(self.runs)} loaded)", lambda: self.is_busy("more", call))

    def _more_page(self, query: RunQuery, token: str, page: RunPage) -> None:
        if query != self.applied or token != self.next_token:
            return  # a newer query replaced this one
        self._loaded_ok()
        self.next_token = page.next_token
        start = len(self.runs)
        self.runs.extend(page.runs)
        self._add_new_columns(page.runs)
        visible = self._visible_columns()
        self.query_one("#runs", FastTable).add_rows([(run.run_id, self._cells(run, visible)) for run in page.runs])
        self._set_title()
        self.set_status(self._summary_text() + f" (+{len(self.runs) - start})")
        self._maybe_prefetch()
        self._check_links()

    # -- the table ---------------------------------------------------------------------------------------------
    def _summary_text(self) -> str:
        more = "more available (scroll down)" if self.next_token else "all loaded"
        n = len(self.runs)
        return f"{n} run{'' if n == 1 else 's'} loaded, {more}"

    def _set_title(self) -> None:
        names = {e.experiment_id: e.name for e in self.experiments}
        text = Text()
        text.append(", ".join(names.get(i, i) for i in self.experiment_ids) or "no experiment", style="bold")
        more = ", more available" if self.next_token else ""
        text.append(f"  {len(self.runs)} loaded{more}")
        column, desc = self.sort
        text.append(f"  sort {self._label(column)} {'desc' if desc else 'asc'}")
        if self.filter_text:
            text.append(f"  filter: {self.filter_text}")
        if self.marked:
            text.append(f"  {len(self.marked)} marked")
        if self.stale:
            text.append("  [stale]", style="bold reverse")
        self.query_one("#runs-title", Label).update(text)

    def _label(self, column: str) -> str:
        if column in BASE_COLUMNS:
            return BASE_COLUMNS[column][0].split(" ")[0]
        kind, _, name = column.partition(".")
        clash = (f"params.{name}" in self.columns) and (f"metrics.{name}" in self.columns)
        return f"{kind[0]}:{name}" if clash else name

    def _dynamic_columns(self, runs: list[RunSummary]) -> list[str]:
        values: dict[str, set] = {}
        present: dict[str, int] = {}  # in how many runs each key is
        for run in runs:
            for k, v in run.metrics:
                key = "metrics." + k
                values.setdefault(key, set()).add(v)
                present[key] = present.get(key, 0) + 1
            for k, text in run.params:
                key = "params." + k
                values.setdefault(key, set()).add(text)
                present[key] = present.get(key, 0) + 1
        # keys missing from some runs vary too
        for key, seen in values.items():
            if present[key] < len(runs):
                seen.add(None)

        def rank(key: str) -> tuple[int, int, str]:
            return (0 if len(values[key]) > 1 else 1, 0 if key.startswith("metrics.") else 1, key)

        return sorted(values, key=rank)

    def _add_new_columns(self, runs: tuple[RunSummary, ...]) -> None:
        table = self.query_one("#runs", FastTable)
        for key in self._dynamic_columns(list(runs)):
            if key not in self.columns:
                self.columns.append(key)
                if key not in self.hidden:
                    table.add_column(self._header(key), key=key, justify=_justify(key))

    def _visible_columns(self) -> list[str]:
        return [c for c in self.columns if c not in self.hidden]

    def _header(self, column: str) -> Text:
        label = BASE_COLUMNS[column][0] if column in BASE_COLUMNS else self._label(column)
        sort_col, desc = self.sort
        justify = _justify(column)  # over its values: numbers to the right
        if column == sort_col:
            return Text(f"{label} {'v' if desc else '^'}", style="bold underline", justify=justify)
        return Text(label, justify=justify)

    def _cells(self, run: RunSummary, visible: list[str] | None = None) -> list:
        """The row of ``run``; ``visible``: the visible columns, when the caller has them at hand."""
        duration = run.duration.total_seconds() if run.duration else None
        cells: list = [MARKED if run.run_id in self.marked else UNMARKED,
                       self._name_cell(run), run.status, short_time(run.start_time),
                       fmt_duration(duration)]
        metrics, params = dict(run.metrics), dict(run.params)
        for column in self._visible_columns() if visible is None else visible:
            kind, _, name = column.partition(".")
            if kind == "metrics":
                cells.append(fmt_number(metrics.get(name)))  # a right-justified column
            else:
                value = params.get(name)
                cells.append("-" if value is None else (value if len(value) <= 24 else value[:23] + "~"))
        return cells

    def _rebuild_table(self) -> None:
        table = self.query_one("#runs", FastTable)
        keep_column = self.focused_column()
        keep_run = self.selected_run()
        self.columns = self._dynamic_columns(self.runs)
        visible = self._visible_columns()
        table.set_columns([(self._header(key), key, _justify(key)) for key in (*BASE_COLUMNS, *visible)],
                          [(run.run_id, self._cells(run, visible)) for run in self.runs])
        ids = [r.run_id for r in self.runs]
        keys = list(table.column_keys)
        row = ids.index(keep_run.run_id) if keep_run and keep_run.run_id in ids else 0
        col = keys.index(keep_column) if keep_column in keys else 1
        if self.runs:
            table.move_cursor(row=row, column=col)
        self._set_title()

    # -- selection -----------------------------------------------------------------------------------------------
    def focused_column(self) -> str | None:
        return self.query_one("#runs", FastTable).column_key

    def selected_run(self) -> RunSummary | None:
        table = self.query_one("#runs", FastTable)
        row = table.cursor_row
        if not self.runs or not (0 <= row < len(self.runs)) or table.row_count == 0:
            return None
        return self.runs[row]

    @on(FastTable.RowHighlighted, "#runs")
    def _cell_highlighted(self, event: FastTable.RowHighlighted) -> None:
        self._maybe_prefetch(event.cursor_row)
        self._say_badges(event.cursor_row)

    def _maybe_prefetch(self, row: int | None = None) -> None:
        """Load the next page when the cursor is near the last loaded row."""
        if row is None:
            row = self.query_one("#runs", FastTable).cursor_row
        if self.next_token and row >= len(self.runs) - PREFETCH_ROWS:
            self._load_more()

    @on(FastTable.RowSelected, "#runs")
    def _cell_selected(self, event: FastTable.RowSelected) -> None:
        run_id = event.row_key
        if run_id:
            self.open_run(run_id)

    def action_cursor(self, where: str) -> None:
        table = self.query_one("#runs", FastTable)
        {"down": table.action_cursor_down, "up": table.action_cursor_up,
         "top": lambda: table.move_cursor(row=0), "bottom": lambda: table.move_cursor(row=table.row_count - 1)
         }[where]()

    # -- sort ---------------------------------------------------------------------------------------------------------
    def action_sort(self) -> None:
        column = self.focused_column()
        if column is None:
            self.set_status("no column to sort by: no runs are loaded (:sort COLUMN names one)", "warning")
            return
        if sort_key(column, False) is None:
            self.set_status(f"the store cannot sort by {BASE_COLUMNS.get(column, (column,))[0].strip() or 'marks'}; "
                            "move to another column", "warning")
            return
        current, desc = self.sort
        self._request(sort=(column, not desc if column == current else False))

    def _resolve_column(self, name: str) -> str | None:
        name = name.strip().strip("`")
        aliases = {"name": "run_name", "run": "run_name", "run_name": "run_name", "start": "start",
                   "start_time": "start", "attributes.start_time": "start", "status": "status",
                   "attributes.status": "status", "attributes.run_name": "run_name"}
        if name in aliases:
            return aliases[name]
        kind, _, rest = name.partition(".")
        if kind in ("metrics", "params", "tags") and rest:
            return f"{kind}.{rest.strip('`')}"
        for prefix in ("metrics.", "params."):
            if prefix + name in self.columns:
                return prefix + name
        return None

    def command_sort(self, arg: str) -> None:
        arg = arg.strip()
        desc = arg.startswith("-")
        words = arg.lstrip("-+").split()
        if words and words[-1].upper() in ("ASC", "DESC"):
            desc = words.pop().upper() == "DESC"
        column = self._resolve_column(" ".join(words))
        if column is None:
            self.set_status(f":sort {arg}: no such column (try metrics.NAME, params.NAME, start, name)", "error")
            return
        self._request(sort=(column, desc))

    def complete_sort(self) -> list[str]:
        names = [f"{c}" for c in self.columns] + ["start", "name", "status"]
        return names + [f"-{n}" for n in names]

    # -- filter --------------------------------------------------------------------------------------------------
    def command_filter(self, arg: str) -> None:
        self.query_one("#filter", Input).value = arg
        self.query_one("#filter", Input).remove_class("hidden")
        self._request(filter_text=arg.strip())

    def command_nofilter(self, _arg: str) -> None:
        self.query_one("#filter", Input).value = ""
        self._request(filter_text="")

    def filter_submitted(self, text: str) -> None:
        self._request(filter_text=text)

    def action_close_filter(self) -> None:
        """``escape``: in the filter box it drops what was typed there (the applied filter stays, so a
        slip never loses a long filter); elsewhere it clears the applied filter and reloads."""
        if self.abandon_search():
            return
        box = self.query_one("#filter", Input)
        applied = self._wanted[1] if self._wanted else self.filter_text
        self._hide_filter_error()
        table = self.query_one("#runs", FastTable)
        if self.focused is box or not applied:
            box.value = self.filter_text
            if not self.filter_text:
                box.add_class("hidden")
            table.focus()
            return
        box.value = ""
        box.add_class("hidden")
        table.focus()
        self._request(filter_text="")

    def _show_filter_error(self, message: str) -> None:
        label = self.query_one("#filter-error", Label)
        label.update(Text(message, style="bold reverse"))
        label.remove_class("hidden")
        box = self.query_one("#filter", Input)
        box.remove_class("hidden")
        box.focus()

    def _hide_filter_error(self) -> None:
        self.query_one("#filter-error", Label).add_class("hidden")

    # -- marks, compare, chart ----------------------------------------------------------------------------------------
    def action_mark(self) -> None:
        run = self.selected_run()
        if run is None:
            self.set_status("no run to mark: none is loaded", "warning")
            return
        if run.run_id in self.marked:
            del self.marked[run.run_id]
        else:
            self.marked[run.run_id] = run
        table = self.query_one("#runs", FastTable)
        table.update_cell(run.run_id, "mark", MARKED if run.run_id in self.marked else UNMARKED)
        table.action_cursor_down()
        self._set_title()
        self.set_status(f"{len(self.marked)} run(s) marked (C compares, m charts)")

    def _chosen_runs(self) -> list[RunSummary]:
        if self.marked:
            return list(self.marked.values())
        run = self.selected_run()
        return [run] if run else []

    def action_compare(self) -> None:
        runs = list(self.marked.values())
        if len(runs) < 2:
            self.set_status("mark two or more runs with space, then press C", "warning")
            return
        names = [r.run_name or r.run_id[:8] for r in runs]
        self.app.push_screen(CompareView(f"Compare {len(runs)} runs", names, compare_rows(runs)))

    def action_chart(self) -> None:
        runs = self._chosen_runs()
        if not runs:
            self.set_status("no run selected", "warning")
            return
        keys = sorted({k for r in runs for k, _ in r.metrics})
        if not keys:
            self.set_status("the chosen runs logged no metrics", "warning")
            return
        preferred = [self.focused_column(), self.sort[0]]
        key = next((p.partition(".")[2] for p in preferred if p and p.startswith("metrics.")
                    and p.partition(".")[2] in keys), keys[0])
        api = self.api
        many = api.metric_histories if isinstance(api, SampledHistories) else None
        self.app.push_screen(MetricChartView(runs, keys, key, api.metric_history, load_many=many))

    # -- links across the panes (console/linking.py) -------------------------------------------------------------
    def link_subject(self) -> Ref | None:
        from console.links import run_ref

        run = self.selected_run()
        return run_ref(run) if run is not None else None

    def select_link(self, ref: Ref) -> None:
        if ref.kind == "model":
            name, version = ref.key[:2]
            self.app.push_screen(RegistryView(self.api.list_registered_models, self.api.model_versions,
                                              initial=(name, version)), self._registry_chosen)
            return
        run_id, experiment_id = ref.key[:2]
        self._link_run = run_id
        if any(r.run_id == run_id for r in self.runs):
            self._link_landed()
            return
        if experiment_id not in self.experiment_ids:
            self.experiment_ids = (experiment_id,)
            self.marked.clear()
        if self.console_app.backends.peek(self.PANE) is not None:  # else the first load asks for it
            self._request(filter_text="")

    def _link_landed(self) -> None:
        run_id = self._link_run
        if run_id is None:
            return
        ids = [r.run_id for r in self.runs]
        if run_id not in ids:
            if self.filter_text != f"attributes.run_id = '{run_id}'":  # beyond the first page: ask for it alone
                self._request(filter_text=f"attributes.run_id = '{run_id}'")
            else:
                self._link_run = None
                self.set_status(f"run {run_id[:12]} is not in experiment(s) {', '.join(self.experiment_ids)}",
                                "warning")
            return
        self._link_run = None
        table = self.query_one("#runs", FastTable)
        table.move_cursor(row=ids.index(run_id))
        table.focus()
        run = self.runs[ids.index(run_id)]
        self.set_status(f"run {run.run_name or run_id[:12]} (backspace: back)")

    def _name_cell(self, run: RunSummary) -> str:
        name = run.run_name or run.run_id[:8]
        return f"{name} !" if self._badges.get(run.run_id) else name

    def _check_links(self) -> None:
        """Ask the links (in a worker: the data's history is read) which loaded runs cannot be reproduced; again
        when more rows load, another query answers, or the links were read again since."""
        nav = self.console_app.link_nav
        runs = tuple(self.runs)
        asked = (nav.generation, self.applied, len(runs))
        if not runs or (asked == self._badges_asked and nav.fresh()):
            return
        self._badges_asked = asked

        def show(badges: dict[str, list[Badge]]) -> None:
            changed = set(badges) ^ set(self._badges)
            self._badges = badges
            table = self.query_one("#runs", FastTable)
            shown = set(table.row_keys)
            for run in runs:
                if run.run_id in changed and run.run_id in shown:
                    table.update_cell(run.run_id, "run_name", self._name_cell(run))
            if changed:
                self._say_badges()

        def failed(error: BaseException) -> None:
            self.set_status(f"the links could not be checked: {describe_error(error)}", "warning")

        self.call_backend("runs.badges", lambda: nav.resolver().rows_badges(runs), on_result=show, on_error=failed)

    def _say_badges(self, row: int | None = None) -> None:
        """The selected run's badges in the status bar (the row shows a "!" after its name)."""
        if not self._badges and not self._badge_said:
            return
        if row is None:
            row = self.query_one("#runs", FastTable).cursor_row
        if 0 <= row < len(self.runs) and (badges := self._badges.get(self.runs[row].run_id)):
            self._badge_said = "; ".join(f"{b.problem}: {b.evidence}" for b in badges)
            self.set_status(self._badge_said, "warning")  # "! " leads
        elif self._badge_said:  # what it said no longer holds for the run under the cursor (unless said over)
            if self.query_one("#status", StatusBar).text == self._badge_said:
                self.set_status(self._summary_text())
            self._badge_said = ""

    def _registry_chosen(self, run_id: str | None) -> None:
        if run_id:
            self.open_run(run_id)

    # -- run detail, registry ---------------------------------------------------------------------------------------
    def open_run(self, run_id: str) -> None:
        self.call_backend("detail", self.api.get_run, run_id, on_result=self._show_detail,
                          on_error=lambda e: self.show_error(e, f"run {run_id[:12]}"),
                          busy=f"loading run {run_id[:12]}")

    def _show_detail(self, detail: RunDetail) -> None:
        self.set_status(f"run {detail.summary.run_name or detail.run_id}")
        body: RenderableType = run_detail_renderable(detail)
        if badges := self._badges.get(detail.run_id):  # what disagrees first: it is what the reader must know
            body = Group(Text("\n".join(str(b) for b in badges), style="bold"), body)
        self.app.push_screen(TextView(f"Run {detail.summary.run_name or detail.run_id}", body))

    def action_registry(self) -> None:
        def opened(run_id: str | None) -> None:
            if run_id:
                self.open_run(run_id)

        self.app.push_screen(RegistryView(self.api.list_registered_models, self.api.model_versions), opened)

    def command_models(self, _arg: str) -> None:
        self.action_registry()

    # -- experiments ---------------------------------------------------------------------------------------------
    def action_experiments(self) -> None:
        self.call_backend("experiments", self.api.list_experiments, on_result=self._pick_experiment,
                          on_error=self._load_failed, busy="reading experiments")

    def command_experiments(self, _arg: str) -> None:
        self.action_experiments()

    def _experiment_cells(self, exp: Experiment, stats: ExperimentStats | None) -> tuple:
        if stats is None:
            return (exp.name, exp.experiment_id, "...", "...")
        return (exp.name, exp.experiment_id, Text(stats.count_text, justify="right"), short_time(stats.last_run))

    def _pick_experiment(self, experiments: tuple[Experiment, ...]) -> None:
        self.experiments = experiments
        rows = [(e.experiment_id, self._experiment_cells(e, None)) for e in experiments]
        picker = PickerView("Experiments (enter opens one, space marks several)",
                            ("name", "id", "runs", "last run (UTC)"), rows,
                            highlight=self.experiment_ids[0] if self.experiment_ids else None)
        self._picker = picker

        def chosen(ids: tuple[str, ...] | None) -> None:
            self._picker = None
            if ids:
                self.experiment_ids = tuple(ids)
                self.marked.clear()
                self._request()

        self.app.push_screen(picker, chosen)
        self.set_status(f"{len(experiments)} experiment(s) in {self.api.endpoint}; counting runs")
        backend, shown = self.api, experiments[:STATS_EXPERIMENTS]

        def stats() -> list[ExperimentStats]:
            return [backend.experiment_stats(e.experiment_id, STATS_CAP) for e in shown]

        self.call_backend("experiment-stats", stats, on_result=self._experiment_stats,
                          on_error=lambda e: self.show_error(e, "counting runs"), timeout=0)

    def _experiment_stats(self, stats: list[ExperimentStats]) -> None:
        self.set_status(f"{len(self.experiments)} experiment(s) in {self.api.endpoint}")
        if self._picker is None:
            return
        by_id = {e.experiment_id: e for e in self.experiments}
        for s in stats:
            exp = by_id.get(s.experiment_id)
            if exp is not None:
                self._picker.update_row(exp.experiment_id, self._experiment_cells(exp, s))

    # -- columns -------------------------------------------------------------------------------------------------------
    def action_columns(self) -> None:
        if not self.columns:
            self.set_status("no param or metric columns yet", "warning")
            return
        rows = [(c, (c.partition(".")[2], c.partition(".")[0])) for c in self.columns]
        visible = [c for c in self.columns if c not in self.hidden]

        def chosen(keys: tuple[str, ...] | None) -> None:
            if keys is None:
                return
            self.hidden = {c for c in self.columns if c not in keys}
            self._rebuild_table()

        self.app.push_screen(PickerView("Columns (space shows/hides)", ("column", "kind"), rows, marked=visible,
                                        allow_empty=True), chosen)

    def command_columns(self, _arg: str) -> None:
        self.action_columns()


def _id_key(experiment_id: str) -> tuple[int, str]:
    return (int(experiment_id), "") if experiment_id.isdigit() else (0, experiment_id)

