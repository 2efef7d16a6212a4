"""Snapshot tests of the Metrics pane on the fake backend (frozen clock, fixed data)."""

from __future__ import annotations

from textual.widgets import DataTable

from .pane_helpers import wait_until


async def _first_poll(pilot):
    app = pilot.app
    await wait_until(pilot, lambda: app.current_pane() and app.current_pane().last_range is not None
                     and not app.current_pane().is_busy("poll"), what="first poll")


def _then(*steps):
    """run_before: wait for the first poll, then run ``steps`` (async callables taking the pilot)."""
    async def run_before(pilot):
        await _first_poll(pilot)
        for step in steps:
            await step(pilot)
        await pilot.pause(0.1)
        await pilot.wait_for_scheduled_animations()
        # a DataTable sizes its columns when idle: under load that can come after the screenshot
        await wait_until(pilot, lambda: not any(t._require_update_dimensions or t._new_rows
                                                for t in pilot.app.screen.query(DataTable)), what="tables sized")
        await pilot.pause(0.1)
    return run_before


def _command(line):
    async def step(pilot):
        screen = pilot.app.current_pane()
        status = screen.query_one("#status")
        before = (screen.last_range, status.text)
        pilot.app.run_command_line(line)
        # its answer is in: a new chart or a new status line, and no poll in flight
        await wait_until(pilot, lambda: (screen.last_range, status.text) != before
                         and not screen.is_busy("poll"), what=f":{line}")
        await pilot.pause(0.05)
    return step


def _keys(*keys, until=None):
    async def step(pilot):
        await pilot.press(*keys)
        if until is not None:
            await wait_until(pilot, lambda: until(pilot.app), what=f"after {keys}")
    return step


def test_query_view(snap_compare, fake_app):
    assert snap_compare(fake_app("metrics"), terminal_size=(120, 40), run_before=_then())


def test_traffic_by_deployment_at_80x24(snap_compare, fake_app):
    query = "sum by (deployment_name) (rate(seldon_api_executor_server_requests_seconds_count[1m]))"
    assert snap_compare(fake_app("metrics"), terminal_size=(80, 24), run_before=_then(_command(f"promql {query}")))


def test_latency_over_6h(snap_compare, fake_app):
    query = ("histogram_quantile(0.99, sum by (le) "
             "(rate(seldon_api_executor_server_requests_seconds_bucket[5m])))")
    assert snap_compare(fake_app("metrics"), terminal_size=(120, 30),
                        run_before=_then(_command(f"promql {query}"), _command("range 6h")))


def test_model_serving_dashboard(snap_compare, fake_app):
    assert snap_compare(fake_app("metrics"), terminal_size=(140, 44),
                        run_before=_then(_command("dashboard Model serving")))


def test_dashboard_picker(snap_compare, fake_app):
    assert snap_compare(fake_app("metrics"), terminal_size=(120, 30), run_before=_then(
        _keys("D", until=lambda app: app.screen.__class__.__name__ == "DashboardPicker")))


def test_alerts(snap_compare, fake_app):
    assert snap_compare(fake_app("metrics"), terminal_size=(140, 30), run_before=_then(
        _keys("A", until=lambda app: app.screen.__class__.__name__ == "TableView")))


def test_targets(snap_compare, fake_app):
    assert snap_compare(fake_app("metrics"), terminal_size=(140, 30), run_before=_then(
        _keys("T", until=lambda app: app.screen.__class__.__name__ == "TableView")))


def test_invalid_query_keeps_the_last_chart(snap_compare, fake_app):
    assert snap_compare(fake_app("metrics"), terminal_size=(100, 30),
                        run_before=_then(_command("promql sum(rate(up[5m])")))


def test_editor_with_label_value_completion(snap_compare, fake_app):
    def shown(app):
        return "seldon" in str(app.current_pane().query_one("#candidates").render())

    assert snap_compare(fake_app("metrics"), terminal_size=(120, 30), run_before=_then(
        _keys("e", "ctrl+u", *"container_memory_working_set_bytes{namespace=", until=shown)))


def test_paused(snap_compare, fake_app):
    def paused(app):
        screen = app.current_pane()
        return not screen.live and screen.query_one("#status").text.startswith("live refresh paused")

    assert snap_compare(fake_app("metrics"), terminal_size=(100, 30), run_before=_then(_keys("space", until=paused)))
