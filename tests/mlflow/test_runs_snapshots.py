"""Snapshots of the Runs pane on the frozen `fake` runs backend."""

from __future__ import annotations

import time

from console.panes.runs import RunsScreen
from console.panes.runs_views import MetricChartView, RegistryView
from widgets.picker import PickerView
from widgets.views import TextView


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
    async def run_before(pilot):
        await _loaded(pilot)

    assert snap_compare(fake_app("runs"), terminal_size=(120, 30), run_before=run_before)


def test_runs_table_80x24_sorted_and_marked(snap_compare, fake_app):
    assert snap_compare(fake_app("runs"), terminal_size=(80, 24), run_before=_sorted_marked)


def test_runs_filter_error_inline(snap_compare, fake_app):
    # must show: the rejected filter in its box, the store's message once (inline, under the box), the
    # previous runs, and a one-line status that points at the message instead of repeating it
    async def run_before(pilot):
        screen = await _loaded(pilot)
        await pilot.press("slash")
        await pilot.press(*"rmse ~ 3")
        await pilot.press("enter")
        await _until(pilot, lambda: not screen.query_one("#filter-error").has_class("hidden"))

    assert snap_compare(fake_app("runs"), terminal_size=(120, 30), run_before=run_before)


def test_run_detail(snap_compare, fake_app):
    async def run_before(pilot):
        await _sorted_marked(pilot)
        await pilot.press("enter")
        await _until(pilot, lambda: isinstance(pilot.app.screen, TextView))

    assert snap_compare(fake_app("runs"), terminal_size=(120, 40), run_before=run_before)


def test_compare(snap_compare, fake_app):
    async def run_before(pilot):
        await _sorted_marked(pilot)
        await pilot.press("space")
        await pilot.press("C")

    assert snap_compare(fake_app("runs"), terminal_size=(120, 30), run_before=run_before)


def test_metric_chart(snap_compare, fake_app):
    async def run_before(pilot):
        await _sorted_marked(pilot)
        await pilot.press("m")
        await _until(pilot, lambda: isinstance(pilot.app.screen, MetricChartView)
                     and len(pilot.app.screen.histories) == 2)

    assert snap_compare(fake_app("runs"), terminal_size=(120, 34), run_before=run_before)


def test_model_registry(snap_compare, fake_app):
    async def run_before(pilot):
        await _loaded(pilot)
        await pilot.press("M")
        await _until(pilot, lambda: isinstance(pilot.app.screen, RegistryView) and pilot.app.screen.versions)

    assert snap_compare(fake_app("runs"), terminal_size=(120, 30), run_before=run_before)


def test_experiment_picker(snap_compare, fake_app):
    async def run_before(pilot):
        await _loaded(pilot)
        await pilot.press("E")
        await _until(pilot, lambda: isinstance(pilot.app.screen, PickerView)
                     and all(cells[2] != "..." for _, cells in pilot.app.screen.rows))

    assert snap_compare(fake_app("runs"), terminal_size=(120, 30), run_before=run_before)
