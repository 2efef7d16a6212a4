"""`:compare`: the golden signals of a deployment's sides (main and canary predictors, or KServe revisions) charted
side by side, live, with the difference of the last values. Which series belong to a side: console/compare_sides.py.

Opened from the Deployments pane (the selected or named deployment) or from the Metrics pane (the deployment whose
model-serving dashboard a link opened)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rich.table import Table
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical, VerticalScroll
from textual.timer import Timer
from textual.widgets import Label, Static

from backends.deployments import Deployment
from backends.errors import NotConfigured
from backends.metrics import WINDOWS, MetricsSource
from console.calls import CallsBackend
from console.compare_sides import SIGNALS, Plan, SideAnswer, difference, make_plan, read_sides, sides_of
from console.links import SERVING_DASHBOARD
from console.panes.base import describe_error
from widgets.chart import ChartSeries, LineChart, format_value
from widgets.dialog import Dialog
from widgets.footer import KeyFooter

if TYPE_CHECKING:
    from console.panes.base import PaneScreen

STACK_BELOW = 100  # columns: narrower, the sides are stacked (scrolled) instead of side by side
MAX_BACKOFF = 60.0


def _signed(value: float, unit: str) -> str:
    if unit == "ratio":  # a difference of two shares: points, not a share of something
        return f"{value * 100:+.3g} pts"
    text = format_value(abs(value), unit)
    return ("-" if value < 0 else "+") + text


class SidesCompareView(CallsBackend, Dialog[None]):
    """Main vs canary: per side, request rate, p95 latency and error ratio over the window; on top, the last values
    and each other side's difference from the main one."""

    DEFAULT_CSS = """
    SidesCompareView { background: $surface; }
    SidesCompareView #title { text-style: bold; padding: 0 1; width: 100%; }
    SidesCompareView #differences { height: auto; padding: 0 1; }
    SidesCompareView #state { height: auto; max-height: 3; padding: 0 1; color: $text-muted; }
    SidesCompareView #sides-scroll { height: 1fr; }
    SidesCompareView #sides { grid-gutter: 0 2; height: 1fr; min-height: 18; padding: 0 1; }
    SidesCompareView.-stacked #sides { height: auto; }
    SidesCompareView .side { height: 1fr; }
    SidesCompareView.-stacked .side { height: auto; }
    SidesCompareView .side-title { text-style: bold; width: 100%; }
    SidesCompareView .selector { height: 3; color: $text-muted; }  /* one height: the sides' charts line up */
    SidesCompareView.-stacked .selector { height: auto; }
    SidesCompareView .side LineChart { height: 1fr; min-height: 5; }
    SidesCompareView.-stacked .side LineChart { height: 6; }
    """
    BINDINGS = [
        Binding("escape,q", "dismiss", "Close", id="compare.sides.close"),
        Binding("space", "pause", "Pause", id="compare.sides.pause"),
        Binding("left_square_bracket", "window(-1)", "Shorter", id="compare.sides.shorter"),
        Binding("right_square_bracket", "window(1)", "Longer", id="compare.sides.longer"),
        Binding("r", "poll", "Refresh", id="compare.sides.refresh"),
        Binding("j,down", "scroll('down')", "Down", id="compare.sides.down", show=False),
        Binding("k,up", "scroll('up')", "Up", id="compare.sides.up", show=False),
    ]

    def __init__(self, plan: Plan, metrics: MetricsSource, now: Callable[[], datetime], timeout: float) -> None:
        super().__init__()
        self.plan, self.metrics, self.now, self.timeout = plan, metrics, now, timeout
        self.window_index = 1  # 15m: a canary is judged on the last minutes
        self.live = True
        self.stale = False
        self.failures = 0
        self.polls = 0  # answered polls
        self.answers: dict[str, SideAnswer] = {}
        self.problem = ""
        self._timer: Timer | None = None
        self._suspended = False

    @property
    def interval(self) -> float:
        return max(0.5, float(getattr(self.metrics, "refresh_interval", 0) or 5.0))

    @property
    def window(self) -> tuple[str, int]:
        return WINDOWS[self.window_index]

    # -- layout ------------------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        d, sides = self.plan.deployment, self.plan.sides
        tz = self.now().tzinfo
        with Vertical():
            yield Label(f"Canary vs main: {d.namespace}/{d.name} ({d.kind_short})", id="title", markup=False)
            yield Static("", id="differences")
            with VerticalScroll(id="sides-scroll"):
                with Grid(id="sides"):
                    for i, side in enumerate(sides):
                        with Vertical(classes="side", id=f"side-{i}"):
                            yield Label(side.title, classes="side-title", markup=False)
                            for key, name, unit in SIGNALS:
                                yield LineChart(name, unit=unit, tz=tz, show_legend=False, id=f"chart-{i}-{key}")
                            yield Static(side.selector_text(d.namespace), classes="selector", id=f"selector-{i}",
                                         markup=False)
            yield Static("", id="state", markup=False)
        yield KeyFooter()

    def on_mount(self) -> None:
        self._layout(self.app.size.width)
        self.query_one("#sides-scroll").focus()
        self._show_differences()
        self._say_state()
        self.poll()

    def on_resize(self, event: events.Resize) -> None:
        self._layout(event.size.width)

    def _layout(self, width: int) -> None:
        stacked = width < STACK_BELOW
        self.set_class(stacked, "-stacked")
        self.query_one("#sides", Grid).styles.grid_size_columns = 1 if stacked else len(self.plan.sides)

    def on_unmount(self) -> None:
        self._cancel()

    def on_screen_suspend(self) -> None:  # a dialog over it (the `:` line, help): no polls meanwhile
        self._cancel()
        self._suspended = True

    def on_screen_resume(self) -> None:
        if self._suspended:
            self._suspended = False
            if self.live:
                self.poll()

    # -- polling: the next poll is armed when the last one has answered ----------------------------------------
    def _cancel(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def _arm(self, delay: float) -> None:
        self._cancel()
        if self.live and not self._suspended:
            self._timer = self.set_timer(delay, self.poll)

    def _chart_width(self) -> int:
        charts = list(self.query(LineChart))
        width = charts[0].size.width - 8 if charts else 0
        return width if width > 10 else 60

    def poll(self) -> None:
        from console.panes.metrics.polling import poll_span

        self._timer = None
        if self.is_busy("compare.poll"):
            return  # its answer arms the next one
        start, end, step = poll_span(self.now(), self.window[1], self._chart_width())
        self.call_backend("compare.poll", read_sides, self.metrics, self.plan, start, end, step,
                          on_result=lambda answers: self._answered(answers, start, end),
                          on_error=self._failed, timeout=self.timeout)

    def action_poll(self) -> None:
        self.poll()

    def _answered(self, answers: dict[str, SideAnswer], start: datetime, end: datetime) -> None:
        self.answers, self.polls, self.failures, self.stale, self.problem = answers, self.polls + 1, 0, False, ""
        d = self.plan.deployment
        x0, x1 = start.timestamp(), end.timestamp()
        for i, side in enumerate(self.plan.sides):
            answer = answers.get(side.name, SideAnswer())
            for key, name, unit in SIGNALS:
                chart = self.query_one(f"#chart-{i}-{key}", LineChart)
                if key in answer.errors:
                    chart.set_message(f"{name}: {answer.errors[key]}")
                elif not answer.matched:
                    chart.set_message("no series")
                else:
                    chart.set_data([ChartSeries(side.label, answer.points.get(key, []))], start=x0, end=x1,
                                   note=format_value(answer.last(key), unit))
            selector = side.selector_text(d.namespace) if answer.matched else side.no_series_text(d.namespace)
            self.query_one(f"#selector-{i}", Static).update(selector)
        self._show_differences()
        self._say_state()
        self._arm(self.interval)

    def _failed(self, error: BaseException) -> None:
        self.failures += 1
        self.stale = bool(self.answers)
        self.problem = describe_error(error)
        for chart in self.query(LineChart):
            chart.set_stale(self.stale)
        self._say_state()
        self._arm(min(MAX_BACKOFF, self.interval * 2 ** min(self.failures - 1, 6)))

    # -- what is shown ---------------------------------------------------------------------------------------
    def differences(self) -> list[tuple[str, str, str, str]]:
        """For each other side and signal: (side, signal, its last value, its difference from the main side's)."""
        main, *others = self.plan.sides
        main_answer = self.answers.get(main.name)
        rows = []
        for side in others:
            answer = self.answers.get(side.name)
            for key, name, unit in SIGNALS:
                if answer is None or main_answer is None:
                    rows.append((side.label, name, "…", "…"))
                    continue
                ours, theirs = main_answer.last(key), answer.last(key)
                delta = difference(ours, theirs)
                if delta is None:
                    said = "no series" if not (answer.matched and main_answer.matched) else "no sample"
                    rows.append((side.label, name, format_value(theirs, unit), said))
                    continue
                absolute, percent = delta
                share = "" if percent is None else f" ({percent:+.1f}%)"
                rows.append((side.label, name, format_value(theirs, unit), _signed(absolute, unit) + share))
        return rows

    def _show_differences(self) -> None:
        main = self.plan.sides[0]
        table = Table(box=None, pad_edge=False, show_edge=False, expand=False)
        table.add_column("signal", no_wrap=True)
        table.add_column(main.label if main.label.startswith("main") else f"{main.label} (main)", no_wrap=True,
                         justify="right")
        for side in self.plan.sides[1:]:
            table.add_column(side.label, no_wrap=True, justify="right")
            table.add_column(f"{side.tag or side.name} - main", justify="right")
        main_answer = self.answers.get(main.name)
        by_side = {(side, name): (value, delta) for side, name, value, delta in self.differences()}
        for key, name, unit in SIGNALS:
            cells: list[Any] = [name, format_value(main_answer.last(key), unit) if main_answer else "…"]
            for side in self.plan.sides[1:]:
                value, delta = by_side.get((side.label, name), ("…", "…"))
                cells += [value, Text(delta, style="bold")]
            table.add_row(*cells)
        self.query_one("#differences", Static).update(table)

    def _say_state(self) -> None:
        text = f"range {self.window[0]}   " + (f"live {self.interval:g}s" if self.live else "PAUSED (space resumes)")
        if self.stale:
            text += "   STALE"
        if self.problem:
            text += f"   {self.problem}"
        elif self.polls:
            text += f"   updated {self.now():%H:%M:%S}"
            missing = [f"{s.kind} {s.name}" for s in self.plan.sides
                       if s.name in self.answers and not self.answers[s.name].matched]
            if missing:  # said here too: the selector lines may be scrolled out of sight
                text += f"   no series for {', '.join(missing)} (see the selectors under the charts)"
        else:
            text += "   reading…"
        self.query_one("#state", Static).update(text)

    # -- keys -------------------------------------------------------------------------------------------------
    def action_pause(self) -> None:
        self.live = not self.live
        if self.live:
            self.poll()
        else:
            self._cancel()
        self._say_state()

    def action_window(self, delta: int) -> None:
        index = min(max(self.window_index + delta, 0), len(WINDOWS) - 1)
        if index != self.window_index:
            self.window_index = index
            self._say_state()
            self.poll()

    def action_scroll(self, where: str) -> None:
        scroll = self.query_one("#sides-scroll", VerticalScroll)
        (scroll.scroll_down if where == "down" else scroll.scroll_up)(animate=False)


def _prepare(app: Any, d: Deployment, sides: list[Any]) -> tuple[MetricsSource, Plan]:
    """In a worker: the metrics backend (built on first use) and the queries of each side."""
    metrics, problem = app.backends.get("metrics")
    if metrics is None:
        raise NotConfigured(f"no metrics backend to read {d.name}'s sides from"
                            + (f" ({describe_error(problem)})" if problem else ""),
                            hint="set prometheus_url in the context (or PROMETHEUS_URL)")
    board = next((r.dashboard for r in metrics.dashboards()
                  if r.dashboard is not None and r.dashboard.title.startswith(SERVING_DASHBOARD)), None)
    if board is None:
        raise NotConfigured("the built-in model-serving dashboard is not loaded: its queries are the ones compared")
    return metrics, make_plan(d, sides, board)


def open_compare(pane: PaneScreen[Any], d: Deployment) -> None:
    """`:compare` on ``d``: the view, or the reason it cannot be compared (nothing opens then)."""
    sides, why = sides_of(d)
    if not sides:
        pane.set_status(f"compare: {why}", "warning")
        return
    app = pane.console_app

    def show(prepared: tuple[MetricsSource, Plan]) -> None:
        metrics, plan = prepared
        pane.set_status(f"{d.namespace}/{d.name}: {len(plan.sides)} sides compared (escape closes)")
        app.push_screen(SidesCompareView(plan, metrics, app.now, pane.call_timeout()))

    pane.call_backend("compare", _prepare, app, d, sides, on_result=show, busy=f"comparing the sides of {d.name}",
                      on_error=lambda error: pane.set_status(f"compare: {describe_error(error)}", "error"))
