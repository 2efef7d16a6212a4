"""Snapshots of the Deployments pane on the frozen `fake` deployments backend."""

from __future__ import annotations

import time

from console.panes.deployments import DeploymentsScreen
from console.panes.deployments_views import PodsEventsView, RequestView
from widgets.request_editor import RequestEditor
from widgets.views import TextView


async def _until(pilot, predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            await pilot.pause()
            return
        await pilot.pause(0.05)
    raise AssertionError("the screen did not settle")


def _pane(app) -> DeploymentsScreen:
    return next(s for s in app.pane_screens() if isinstance(s, DeploymentsScreen))


async def _loaded(pilot) -> DeploymentsScreen:
    app = pilot.app
    await _until(pilot, lambda: any(isinstance(s, DeploymentsScreen) for s in app.pane_screens()))
    screen = _pane(app)
    await _until(pilot, lambda: screen.loaded and not screen._rebuild_pending and not screen.is_busy("namespaces"))
    return screen


async def _select(pilot, name: str) -> DeploymentsScreen:
    screen = await _loaded(pilot)
    rows = [key[1] for key in screen._rows]
    screen.query_one("#deployments").move_cursor(row=rows.index(name))
    await pilot.pause()
    return screen


def test_deployments_table(snap_compare, fake_app):
    async def run_before(pilot):
        await _loaded(pilot)

    assert snap_compare(fake_app("deployments"), terminal_size=(140, 30), run_before=run_before)


def test_deployments_table_80x24_failed_selected(snap_compare, fake_app):
    async def run_before(pilot):
        await _select(pilot, "price-forecast")

    assert snap_compare(fake_app("deployments"), terminal_size=(80, 24), run_before=run_before)


def test_deployments_filter(snap_compare, fake_app):
    async def run_before(pilot):
        screen = await _loaded(pilot)
        await pilot.press("slash", *"staging", "enter")
        await _until(pilot, lambda: len(screen._rows) == 2 and not screen._rebuild_pending)

    assert snap_compare(fake_app("deployments"), terminal_size=(120, 24), run_before=run_before)


def test_deployments_pods_events_and_log(snap_compare, fake_app):
    async def run_before(pilot):
        await _select(pilot, "price-forecast")
        await pilot.press("v")
        await _until(pilot, lambda: isinstance(pilot.app.screen, PodsEventsView))
        await pilot.press("enter")
        await _until(pilot, lambda: "lines)" in str(pilot.app.screen.query_one("#log-title").render()))

    assert snap_compare(fake_app("deployments"), terminal_size=(120, 34), run_before=run_before)


def test_deployments_yaml(snap_compare, fake_app):
    async def run_before(pilot):
        await _select(pilot, "iris")
        await pilot.press("y")
        await _until(pilot, lambda: isinstance(pilot.app.screen, TextView))

    assert snap_compare(fake_app("deployments"), terminal_size=(100, 30), run_before=run_before)


def test_deployments_test_request_answered(snap_compare, fake_app):
    async def run_before(pilot):
        await _select(pilot, "iris")
        await pilot.press("t")
        await _until(pilot, lambda: isinstance(pilot.app.screen, RequestView))
        await pilot.press("ctrl+s")
        await _until(pilot, lambda: len(pilot.app.screen.history) == 1)

    assert snap_compare(fake_app("deployments"), terminal_size=(120, 34), run_before=run_before)


def test_deployments_test_request_bad_data_and_invalid_json(snap_compare, fake_app):
    async def run_before(pilot):
        await _select(pilot, "churn-classifier")
        await pilot.press("t")
        await _until(pilot, lambda: isinstance(pilot.app.screen, RequestView))
        view = pilot.app.screen
        editor = view.query_one("#editor", RequestEditor)
        editor.load_text('{"foo": 1}')
        await pilot.press("ctrl+s")
        await _until(pilot, lambda: len(view.history) == 1)
        editor.load_text('{\n  "data": {"ndarray": [[1, 2,]]}\n}')
        await pilot.press("ctrl+s")
        await _until(pilot, lambda: editor.problem is not None)

    assert snap_compare(fake_app("deployments"), terminal_size=(120, 34), run_before=run_before)
