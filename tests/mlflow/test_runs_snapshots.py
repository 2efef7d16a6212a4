"""Snapshots of the Runs pane on the frozen `fake` runs backend."""

from __future__ import annotations

import time

from textual.widgets import Input

from console.panes.runs.screen import RunsScreen
from console.panes.runs.views import MetricChartView, RegistryView
from snapshot_checks import check_screen, row_with, screen_rows
from widgets.picker import PickerView
from widgets.views import TextView

# the seven runs of experiment `diabetes` in the fake store, newest first, with their rmse
RUNS = [("enet-0.8-1.0", "66.97"), ("enet-0.5-0.8", "70.6"), ("enet-0.05-0.01", "78.72"), ("enet-0.05-1.0", "63.2"),
        ("enet-0.01-1.0", "63.25"), ("enet-0.01-0.75", "65.29"), ("enet-0.01-0.01", "71.4")]


def _all_runs_shown(text: str) -> None:
    for name, rmse in RUNS:
        row_with(text, f" {name} ", f" {rmse} ")


async def _until(pilot, predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            await pilot.pause()
            return
        await pilot.pause(0.05)
    raise AssertionError("the screen did not settle")


def _pane(app) -> RunsScreen:
    return next(s for s in app.pane_screens() if isinstance(s, RunsScreen))


async def _loaded(pilot) -> RunsScreen:
    app = pilot.app
    await _until(pilot, lambda: any(isinstance(s, RunsScreen) for s in app.pane_screens()))
    screen = _pane(app)
    await _until(pilot, lambda: screen.applied is not None and not screen.is_busy("runs")
                 and not screen.is_busy("more"))
    return screen


async def _sorted_marked(pilot) -> RunsScreen:
    screen = await _loaded(pilot)
    pilot.app.run_command_line(":sort metrics.rmse")
    await _until(pilot, lambda: screen.sort == ("metrics.rmse", False) and not screen.is_busy("runs"))
    await pilot.press("space", "space")
    return screen


def test_runs_table(snap_compare, fake_app):
    # must show: the seven runs newest first with their metrics and params, and "all loaded"
    async def run_before(pilot):
        await _loaded(pilot)
        text = check_screen(pilot.app)
        assert "diabetes  7 loaded  sort start desc" in text
        _all_runs_shown(text)
        names = [name for name, _ in RUNS]
        assert sorted(names, key=text.index) == names  # in that order
        assert text.splitlines()[-2].strip() == "7 runs loaded, all loaded"

    assert snap_compare(fake_app("runs"), terminal_size=(120, 30), run_before=run_before)


def test_runs_table_80x24_sorted_and_marked(snap_compare, fake_app):
    # must show: the runs by rmse ascending, the two best marked with `*`, the cut columns ending with `…`
    async def run_before(pilot):
        await _sorted_marked(pilot)
        text = check_screen(pilot.app)
        assert "diabetes  7 loaded  sort rmse asc  2 marked" in text
        rows = [row for row in text.splitlines() if "FINISHED" in row or "FAILED" in row]
        assert [row.split()[0] for row in rows[:2]] == ["*", "*"]
        assert [float(row.split()[-2]) for row in rows] == sorted(float(rmse) for _, rmse in RUNS)
        assert all(row.endswith("…") for row in rows)  # the columns beyond rmse are cut, visibly
        assert text.splitlines()[-2].strip() == "2 run(s) marked (C compares, m charts)"

    assert snap_compare(fake_app("runs"), terminal_size=(80, 24), run_before=run_before)


def test_runs_filter_error_inline(snap_compare, fake_app):
    # must show: the rejected filter in its box, the store's message once (inline, under the box), the
    # previous runs, and a one-line status that points at the message instead of repeating it
    async def run_before(pilot):
        screen = await _loaded(pilot)
        await pilot.press("slash")
        await pilot.press(*"rmse ~ 3")
        await pilot.press("enter")
        await _until(pilot, lambda: not screen.query_one("#filter-error").has_class("hidden"))
        # the filter box keeps the focus (and so `?`) for the fix
        text = check_screen(pilot.app, footer_help=False)
        assert pilot.app.focused is screen.query_one("#filter", Input)
        assert text.splitlines()[2].strip() == "rmse ~ 3"
        assert text.count("Invalid filter 'rmse ~ 3'") == 1
        row_with(text, "MLflow rejected the filter: Invalid filter 'rmse ~ 3'")
        _all_runs_shown(text)
        assert text.splitlines()[-2].strip() == ("ERROR filter rejected (MLflow's message above); "
                                                 "previous results kept")

    assert snap_compare(fake_app("runs"), terminal_size=(120, 30), run_before=run_before)


def test_run_detail(snap_compare, fake_app):
    async def run_before(pilot):
        await _sorted_marked(pilot)
        await pilot.press("enter")
        await _until(pilot, lambda: isinstance(pilot.app.screen, TextView))
        # must show: the detail of the run under the cursor (its id, params, metrics, tags, artifact tree)
        text = check_screen(pilot.app)
        assert "Run enet-0.01-0.75" in text
        row_with(text, "run id", "02a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5")
        row_with(text, "started", "2026-03-02 09:37 UTC", "duration 5s")
        row_with(text, "l1_ratio", "0.75")
        row_with(text, "rmse", "65.29")
        row_with(text, "mlflow.runName", "enet-0.01-0.75")
        row_with(text, "coefficients.json", "230 B")
        assert "escape: close" in text

    assert snap_compare(fake_app("runs"), terminal_size=(120, 40), run_before=run_before)


def test_compare(snap_compare, fake_app):
    async def run_before(pilot):
        await _sorted_marked(pilot)
        await pilot.press("space")
        await pilot.press("C")
        await _until(pilot, lambda: "Compare 3 runs" in "\n".join(screen_rows(pilot.app)))
        # must show: the three marked runs side by side, the best value of each metric starred
        text = check_screen(pilot.app)
        row_with(text, "enet-0.05-1.0", "enet-0.01-1.0", "enet-0.01-0.75")
        row_with(text, "param", "alpha", "0.05", "0.01", "0.01")
        row_with(text, "metric", "rmse", "63.2 *", "63.25", "65.29")
        row_with(text, "metric", "mae", "51.91", "51.88 *", "53.6")
        row_with(text, "all rows (8 of 8)", "* best value")
        assert text.splitlines()[-2].strip() == "3 run(s) marked (C compares, m charts)"

    assert snap_compare(fake_app("runs"), terminal_size=(120, 30), run_before=run_before)


def test_metric_chart(snap_compare, fake_app):
    async def run_before(pilot):
        await _sorted_marked(pilot)
        await pilot.press("m")
        await _until(pilot, lambda: isinstance(pilot.app.screen, MetricChartView)
                     and len(pilot.app.screen.histories) == 2)
        # must show: rmse by step of the two marked runs, one legend line each, and the metric list
        text = check_screen(pilot.app)
        assert "Metric history of 2 run(s)" in text
        assert "rmse by step  16 points" in text
        row_with(text, "enet-0.05-1.0", "last 65.1", "max 78.2")
        row_with(text, "enet-0.01-1.0", "last 65 ", "max 77.2")
        for metric in ("mae", "r2", "train_rmse"):
            row_with(text, f" {metric} ")

    assert snap_compare(fake_app("runs"), terminal_size=(120, 34), run_before=run_before)


def test_model_registry(snap_compare, fake_app):
    async def run_before(pilot):
        await _loaded(pilot)
        await pilot.press("M")
        await _until(pilot, lambda: isinstance(pilot.app.screen, RegistryView) and pilot.app.screen.versions)
        # must show: the registered model with its alias, and both of its versions with their source runs
        text = check_screen(pilot.app)
        assert "Registered models (1)" in text
        row_with(text, "diabetes-elasticnet", "v2", "@champion=v2", "ElasticNet on the diabetes data")
        assert "Versions of diabetes-elasticnet (2)" in text
        row_with(text, " v2 ", "@champion", "READY", "04a1b2c3d4e5")
        row_with(text, " v1 ", "READY", "03a1b2c3d4e5")

    assert snap_compare(fake_app("runs"), terminal_size=(120, 30), run_before=run_before)


def test_experiment_picker(snap_compare, fake_app):
    async def run_before(pilot):
        await _loaded(pilot)
        await pilot.press("E")
        await _until(pilot, lambda: isinstance(pilot.app.screen, PickerView)
                     and all(cells[2] != "..." for _, cells in pilot.app.screen.rows))
        # must show: the three experiments with their run counts (all counted), and how to choose
        text = check_screen(pilot.app)
        row_with(text, "Default", " 0 ", " 0 ", " - ")
        row_with(text, "diabetes", " 1 ", " 7 ", "2026-03-02 10:12")
        row_with(text, "wine-quality", " 2 ", " 12 ", "2026-02-28 09:30")
        assert "space: mark   enter: choose" in text
        assert text.splitlines()[-2].strip() == "3 experiment(s) in fake://runs"

    assert snap_compare(fake_app("runs"), terminal_size=(120, 30), run_before=run_before)
