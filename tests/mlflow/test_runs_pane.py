"""The Runs pane driven with Pilot against real MLflow stores: each test on a sqlite store through the MLflow helper,
and through the REST backend (the default for a server) on the real ``mlflow server`` over a SQLite store and over
a PostgreSQL store."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from textual.widgets import DataTable, Label

from backends.runs import RunPage, SortKey
from console.app import make_app
from console.calls import BackendDone
from console.config import Config, Context
from console.panes.runs.screen import RunsScreen
from console.panes.runs.views import MetricChartView, RegistryView
from tests.pilot import until
from widgets.compare import CompareView
from widgets.fast_table import FastTable
from widgets.picker import PickerView
from widgets.views import TextView

SIZE = (140, 40)


@pytest.fixture(params=["helper", "rest", "postgres"])
def store(request):
    """The seeded store: sqlite (the MLflow helper), the server holding a copy of it (REST), or a server on a
    PostgreSQL store seeded the same way (REST)."""
    return request.getfixturevalue({"helper": "mlflow_sqlite", "rest": "running_server",
                                    "postgres": "mlflow_postgres_seeded"}[request.param])


def runs_app(uri: str | None, **fields):
    ctx = Context(name="t", mlflow_uri=uri, timeout=fields.pop("timeout", 10.0), **fields)
    config = Config(path=None, default_context="t", contexts={"t": ctx})
    return make_app(config, ctx, initial_pane="runs", cursor_blink=False)


def count_answers(answers: Counter):
    """A message hook for ``run_test``: counts the backend answers posted to a pane, by call group."""
    def hook(message) -> None:
        if isinstance(message, BackendDone):
            answers[message.group] += 1
    return hook


def pane(app) -> RunsScreen:
    screen = app.get_screen("runs") if False else next(s for s in app.pane_screens() if isinstance(s, RunsScreen))
    return screen


def row_ids(screen: RunsScreen) -> list[str]:
    table = screen.query_one("#runs", FastTable)
    return [table.row_key_at(i) for i in range(table.row_count)]


def text_of(widget) -> str:
    renderable = widget.render()
    return getattr(renderable, "plain", str(renderable))


async def loaded(pilot, app, n: int | None = None) -> RunsScreen:
    await until(pilot, lambda: any(isinstance(s, RunsScreen) for s in app.pane_screens()), what="runs pane")
    screen = pane(app)
    await until(pilot, lambda: screen.applied is not None and not screen.is_busy("runs")
                and (n is None or len(screen.runs) == n), what="runs loaded")
    return screen


async def focus_column(pilot, screen: RunsScreen, key: str) -> None:
    """Walk the column cursor to ``key`` with the arrow keys."""
    table = screen.query_one("#runs", FastTable)
    target = table.column_keys.index(key)
    await pilot.press("home", *["right"] * target)
    assert screen.focused_column() == key


async def test_opens_the_latest_experiment(store):
    app = runs_app(store.uri)
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot, app, 7)
        assert screen.experiment_ids == (store.experiment_id,)
        title = text_of(screen.query_one("#runs-title", Label))
        assert "diabetes" in title and "7 loaded" in title
        # params and metrics that vary are columns; start time newest first by default
        keys = list(screen.query_one("#runs", FastTable).column_keys)
        assert {"metrics.rmse", "metrics.r2", "metrics.mae", "params.alpha", "params.l1_ratio"} <= set(keys)
        starts = [r.start_time for r in screen.runs]
        assert starts == sorted(starts, reverse=True)


async def test_s_sorts_by_the_focused_column_in_the_store(store):
    best = min(store.runs, key=lambda r: r["rmse"])
    worst = max(store.runs, key=lambda r: r["rmse"])
    app = runs_app(store.uri)
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot, app, 7)
        await focus_column(pilot, screen, "metrics.rmse")
        await pilot.press("s")
        await until(pilot, lambda: screen.sort == ("metrics.rmse", False), what="sorted by rmse")
        assert screen.applied.sort == (SortKey("metrics.rmse", descending=False),)
        assert row_ids(screen)[0] == best["run_id"]
        await pilot.press("s")
        await until(pilot, lambda: screen.sort == ("metrics.rmse", True), what="reversed")
        assert row_ids(screen)[0] == worst["run_id"]
        # the cursor stays on the column, so a third s flips again
        assert screen.focused_column() == "metrics.rmse"


async def test_sort_command_by_name(store):
    app = runs_app(store.uri)
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot, app, 7)
        app.run_command_line(":sort -metrics.r2")
        await until(pilot, lambda: screen.sort == ("metrics.r2", True), what=":sort -metrics.r2")
        assert row_ids(screen)[0] == max(store.runs, key=lambda r: r["r2"])["run_id"]
        app.run_command_line(":sort mae")
        await until(pilot, lambda: screen.sort == ("metrics.mae", False), what=":sort mae")
        assert row_ids(screen)[0] == min(store.runs, key=lambda r: r["mae"])["run_id"]
        app.run_command_line(":sort nosuchthing")
        await pilot.pause()
        assert "no such column" in screen.query_one("#status").text


async def test_busy_is_said_only_for_the_search_still_out(store):
    # two sorts in a row: the first one's "busy" check must not speak for the second one
    app = runs_app(store.uri)
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot, app, 7)
        app.run_command_line(":sort metrics.rmse")
        first = screen.pending_token("runs")
        app.run_command_line(":sort -metrics.rmse")
        second = screen.pending_token("runs")
        assert first != second and screen.is_busy("runs", second) and screen.is_busy("runs")
        assert not screen.is_busy("runs", first)
        await until(pilot, lambda: screen.sort == ("metrics.rmse", True), what="the second sort")
        assert not screen.is_busy("runs", second) and not screen.is_busy("runs")
        await pilot.pause(0.3)  # past both "busy" delays: neither said anything
        assert not screen.query_one("#status").text.startswith("searching")


async def test_filter_valid_then_invalid_keeps_results(store):
    want = {r["run_id"] for r in store.runs if r["rmse"] < 70 and r["alpha"] == 0.01}
    app = runs_app(store.uri)
    answers = Counter()
    async with app.run_test(size=SIZE, message_hook=count_answers(answers)) as pilot:
        screen = await loaded(pilot, app, 7)
        await pilot.press("slash")
        await pilot.press(*"metrics.rmse < 70 and params.alpha = '0.01'")
        await pilot.press("enter")
        await until(pilot, lambda: screen.filter_text != "", what="filter applied")
        assert set(row_ids(screen)) == want
        error = screen.query_one("#filter-error", Label)
        assert error.has_class("hidden")
        await pilot.press("slash")
        box = screen.query_one("#filter")
        box.value = "metrics.rmse <<< 3"
        await pilot.press("enter")
        await until(pilot, lambda: not error.has_class("hidden"), what="inline error")
        assert "Invalid comparator" in text_of(error)
        # the previous filter and its results stay
        assert screen.filter_text == "metrics.rmse < 70 and params.alpha = '0.01'"
        assert set(row_ids(screen)) == want
        assert "previous results kept" in screen.query_one("#status").text
        # escape closes the box; a refresh keeps the filter
        await pilot.press("escape")
        searches = answers["runs"]
        await pilot.press("r")
        await until(pilot, lambda: answers["runs"] > searches and not screen.is_busy("runs"), what="refresh")
        assert set(row_ids(screen)) == want and error.has_class("hidden")
        assert screen.filter_text == "metrics.rmse < 70 and params.alpha = '0.01'"


async def test_paging_loads_more_as_the_cursor_moves(store):
    seeded = len(store.runs)
    ranked = [r["run_id"] for r in sorted(store.runs, key=lambda r: r["rmse"])]
    pages: list[tuple[str, int, bool]] = []  # (call group, runs in the page, more after it), as they arrive

    def hook(message) -> None:
        if isinstance(message, BackendDone) and isinstance(message.result, RunPage):
            pages.append((message.group, len(message.result.runs), message.result.next_token is not None))

    app = runs_app(store.uri)
    async with app.run_test(size=SIZE, message_hook=hook) as pilot:
        screen = await loaded(pilot, app, seeded)
        screen.page_size = 3
        pages.clear()
        app.run_command_line(":sort metrics.rmse")
        # the first page is 3 runs; the cursor is near its end, so the next pages follow, in store order
        await until(pilot, lambda: screen.sort == ("metrics.rmse", False) and len(screen.runs) == seeded
                    and screen.next_token is None, what="all pages")
        assert pages == [("runs", 3, True), ("more", 3, True), ("more", 1, False)]
        assert row_ids(screen) == ranked
        assert f"{seeded} loaded" in text_of(screen.query_one("#runs-title", Label))

        screen.page_size = 2
        pages.clear()
        app.run_command_line(":sort -metrics.rmse")
        await until(pilot, lambda: screen.sort == ("metrics.rmse", True) and len(screen.runs) == seeded
                    and screen.next_token is None, what="the new query's pages")
        assert pages == [("runs", 2, True), ("more", 2, True), ("more", 2, True), ("more", 1, False)]
        assert row_ids(screen) == ranked[::-1]
        assert "more available" not in text_of(screen.query_one("#runs-title", Label))


async def test_compare_marked_runs(store):
    app = runs_app(store.uri)
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot, app, 7)
        app.run_command_line(":sort metrics.rmse")
        await until(pilot, lambda: screen.sort == ("metrics.rmse", False), what="sorted")
        await pilot.press("C")
        assert "mark two or more" in screen.query_one("#status").text
        await pilot.press("space", "space", "space")
        assert len(screen.marked) == 3
        await pilot.press("C")
        await until(pilot, lambda: isinstance(app.screen, CompareView), what="compare view")
        view = app.screen
        rows = {r.key: r for r in view.rows}
        assert rows["rmse"].best == 0  # the lowest rmse, first in the sorted table
        assert rows["r2"].best == 0    # and the highest r2 there
        assert rows["alpha"].values == tuple(str(r.param("alpha")) for r in screen.marked.values())
        table = view.query_one(DataTable)
        all_rows = table.row_count
        await pilot.press("d")
        assert table.row_count == len([r for r in view.rows if r.differs]) < all_rows
        await pilot.press("escape")
        assert app.screen is screen


async def test_run_detail(store):
    best = min(store.runs, key=lambda r: r["rmse"])
    app = runs_app(store.uri)
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot, app, 7)
        app.run_command_line(":sort metrics.rmse")
        await until(pilot, lambda: screen.sort == ("metrics.rmse", False), what="sorted")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, TextView), what="detail view")
        from rich.console import Console

        console = Console(width=130, record=True, color_system=None)
        console.print(app.screen.body)
        text = console.export_text()
        assert best["run_name"] in text and store.built["git_commit"] in text
        assert "coefficients.json" in text and "sklearn" in text and "age" in text
        assert "diabetes-train" in text and "training" in text


async def test_chart_of_marked_runs(store):
    app = runs_app(store.uri)
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot, app, 7)
        await focus_column(pilot, screen, "metrics.train_rmse")
        await pilot.press("space", "space")
        await pilot.press("m")
        await until(pilot, lambda: isinstance(app.screen, MetricChartView), what="chart")
        view = app.screen
        await until(pilot, lambda: len(view.histories) == 2, what="histories")
        assert view.key == "train_rmse"
        # a tracking server answers the runs' histories in one call, sampled (a local store: one run at a time)
        assert (view.load_many is not None) == store.uri.startswith("http")
        chart = view.query_one("#chart")
        assert [len(s.points) for s in chart.series] == [8, 8]
        marked = list(screen.marked.values())
        by_id = {r["run_id"]: r for r in store.runs}
        assert [p[1] for p in chart.series[0].points] == pytest.approx(by_id[marked[0].run_id]["train_rmse"])
        await pilot.press("p")
        assert chart.chart_style == "points"
        await pilot.press("up")  # another metric
        await until(pilot, lambda: view.key == "rmse" and all(h.key == "rmse" for h in view.histories),
                    what="rmse chosen")


async def test_model_registry_opens_the_source_run(store):
    app = runs_app(store.uri)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app, 7)
        await pilot.press("M")
        await until(pilot, lambda: isinstance(app.screen, RegistryView), what="registry")
        view = app.screen
        await until(pilot, lambda: len(view.versions) == 2, what="versions")
        assert view.versions[0].aliases == ("champion",)
        await pilot.press("tab")
        await pilot.press("down", "enter")  # v1
        await until(pilot, lambda: isinstance(app.screen, TextView), what="source run opened")
        v1_run = store.built["versions"]["1"]
        assert v1_run in app.screen.title_text or v1_run in str(app.screen.body.renderables[0])


async def test_experiment_picker(store):
    app = runs_app(store.uri)
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot, app, 7)
        await pilot.press("E")
        await until(pilot, lambda: isinstance(app.screen, PickerView), what="picker")
        picker = app.screen
        await until(pilot, lambda: dict(picker.rows)[store.experiment_id][2] != "...", what="counts")
        assert str(dict(picker.rows)[store.experiment_id][2]) == "7"
        assert str(dict(picker.rows)["0"][2]) == "0"
        table = picker.query_one(DataTable)
        keys = [k for k, _ in picker.rows]
        table.move_cursor(row=keys.index("0"))
        await pilot.press("enter")
        await until(pilot, lambda: screen.experiment_ids == ("0",) and not screen.is_busy("runs"), what="Default")
        assert screen.runs == [] and "Default" in text_of(screen.query_one("#runs-title", Label))


async def test_state_survives_refresh_and_pane_switch(store):
    app = runs_app(store.uri)
    answers = Counter()
    async with app.run_test(size=SIZE, message_hook=count_answers(answers)) as pilot:
        screen = await loaded(pilot, app, 7)
        app.run_command_line(":sort -metrics.mae")
        app.run_command_line(":filter params.l1_ratio = '1.0'")
        await until(pilot, lambda: screen.filter_text and screen.sort == ("metrics.mae", True), what="state")
        before = row_ids(screen)
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, PickerView), what="column chooser")
        picker = app.screen
        picker.query_one(DataTable).move_cursor(row=[k for k, _ in picker.rows].index("params.alpha"))
        await pilot.press("space", "enter")
        await pilot.pause()
        assert "params.alpha" in screen.hidden
        await pilot.press("1")
        await pilot.pause()
        await pilot.press("2")
        searches = answers["runs"]
        await pilot.press("r")
        await until(pilot, lambda: answers["runs"] > searches and not screen.is_busy("runs"), what="refresh")
        assert screen.filter_text == "params.l1_ratio = '1.0'" and screen.sort == ("metrics.mae", True)
        assert row_ids(screen) == before
        keys = list(screen.query_one("#runs", FastTable).column_keys)
        assert "params.alpha" not in keys and "metrics.mae" in keys


async def test_not_configured_says_what_to_set(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    app = runs_app(None, repo=str(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        text = text_of(app.screen.query_one("#not-configured"))
        assert "MLFLOW_TRACKING_URI" in text and "--mlflow-uri" in text


@pytest.mark.parametrize("backend", ["auto", "mlflow"])
async def test_server_down_keeps_stale_data_and_recovers(running_server, backend):
    server = running_server.server
    app = runs_app(running_server.uri, timeout=5.0, runs_backend=backend)
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot, app, 7)
        assert type(screen.backend).__name__ == {"auto": "MlflowRestRuns", "mlflow": "MlflowProcessRuns"}[backend]
        screen.retry_max = 1.5
        before = row_ids(screen)
        await asyncio.to_thread(server.stop)
        try:
            await pilot.press("r")
            await until(pilot, lambda: screen.stale, what="stale")
            status = screen.query_one("#status").text
            assert running_server.uri in status and "Connection refused" in status
            assert "[stale]" in text_of(screen.query_one("#runs-title", Label))
            assert row_ids(screen) == before
        finally:
            await asyncio.to_thread(server.start)
        # no key pressed: the pane retries on its own
        await until(pilot, lambda: not screen.stale and not screen.problem, timeout=20, what="recovered")
        assert row_ids(screen) == before
        assert "[stale]" not in text_of(screen.query_one("#runs-title", Label))


async def test_a_sort_key_mlflow_cannot_parse_is_a_bad_sort_key(store):
    # MLflow turns the backticks of an order_by into quotes and splits it shell-like: a quote in the name
    # broke that split, which was reported as the tracking server being down ("[stale] retrying"); the
    # backend says the key is bad, and the pane keeps its runs
    app = runs_app(store.uri)
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot, app, 7)
        before = row_ids(screen)
        app.run_command_line(':sort params.a"b')
        await until(pilot, lambda: screen.query_one("#status").level == "error", what="the answer to :sort")
        status = screen.query_one("#status").text
        assert status.startswith("sort rejected: bad sort key 'params.a\"b'") and "retrying" not in status
        assert len(status) <= 80  # one line of the narrowest terminal
        assert not screen.stale and "[stale]" not in text_of(screen.query_one("#runs-title", Label))
        assert screen.sort == ("start", True) and row_ids(screen) == before


async def test_escape_clears_an_applied_filter_and_reloads(store):
    app = runs_app(store.uri)
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot, app, 7)
        await pilot.press("slash", *"params.l1_ratio = '1.0'", "enter")
        await until(pilot, lambda: screen.filter_text and not screen.is_busy("runs"), what="filter applied")
        filtered = {r["run_id"] for r in store.runs if r["l1_ratio"] == 1.0}
        assert set(row_ids(screen)) == filtered and len(filtered) < 7
        # escape in the box drops only what was typed there
        await pilot.press("slash", "backspace", "backspace", "escape")
        assert screen.filter_text == "params.l1_ratio = '1.0'" and set(row_ids(screen)) == filtered
        assert screen.query_one("#filter").value == "params.l1_ratio = '1.0'"
        # escape on the table clears the applied filter and reads every run again
        assert app.focused is screen.query_one("#runs", FastTable)
        await pilot.press("escape")
        await until(pilot, lambda: not screen.filter_text and len(screen.runs) == 7 and not screen.is_busy("runs"),
                    what="the filter cleared")
        assert set(row_ids(screen)) == {r["run_id"] for r in store.runs}
        assert screen.query_one("#filter").has_class("hidden")
        assert "filter:" not in text_of(screen.query_one("#runs-title", Label))


async def test_a_rejected_filter_is_said_once_and_the_status_fits_one_line(store):
    app = runs_app(store.uri)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(pilot, app, 7)
        await pilot.press("slash", *"metrics.rmse <<< 3", "enter")
        error = screen.query_one("#filter-error", Label)
        await until(pilot, lambda: not error.has_class("hidden"), what="inline error")
        await pilot.pause()
        shown = app.screen._compositor.render_strips()
        text = "\n".join(strip.text for strip in shown)
        # MLflow's message in full, once, in the inline place (which wraps); the status points there
        assert text.count("Invalid comparator") == 1
        assert "'<<<'" in text_of(error) and ">=" in text_of(error)
        status = screen.query_one("#status")
        assert status.size.height == 1 and "previous results kept" in status.text
        assert len("ERROR " + status.text) <= status.content_region.width


async def test_j_and_k_scroll_the_run_detail(store):
    app = runs_app(store.uri)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot, app, 7)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, TextView) and app.screen.query("#scroll"), what="detail view")
        scroll = app.screen.query_one("#scroll")
        await until(pilot, lambda: scroll.max_scroll_y > 2, what="a detail longer than the dialog")
        await pilot.press("j", "j")
        await until(pilot, lambda: scroll.scroll_y == 2, what="j scrolled down")
        await pilot.press("k")
        await until(pilot, lambda: scroll.scroll_y == 1, what="k scrolled up")
        await pilot.press("G")
        await until(pilot, lambda: scroll.scroll_y == scroll.max_scroll_y, what="G: the end")
        await pilot.press("g")
        await until(pilot, lambda: scroll.scroll_y == 0, what="g: the top")


async def test_the_run_name_stays_in_view_while_scrolling_right(store):
    app = runs_app(store.uri)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(pilot, app, 7)
        table = screen.query_one("#runs", FastTable)
        assert table.virtual_size.width > table.size.width  # too wide for 80 columns
        await pilot.press("end")
        await until(pilot, lambda: table.scroll_x > 0, what="scrolled right")
        assert table.column_key == table.column_keys[-1]
        lines = [strip.text for strip in app.screen._compositor.render_strips()]
        top = table.region.y
        header, rows = lines[top], lines[top + 1:top + 8]
        assert header.split()[0] == "run" and header.rstrip().endswith(screen._label(table.column_keys[-1]))
        assert [row.split()[0] for row in rows] == [run.run_name for run in screen.runs]
        # the last column's values are in view beside the names
        last = table.column_keys[-1].partition(".")[2]
        assert [row.split()[-1] for row in rows] == [dict(run.params)[last] for run in screen.runs]
        await pilot.press("home")
        await until(pilot, lambda: table.scroll_x == 0, what="back to the start")
