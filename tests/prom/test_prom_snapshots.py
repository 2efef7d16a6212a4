"""Snapshot tests of the Metrics pane on the fake backend (frozen clock, fixed data)."""

from __future__ import annotations

from textual.widgets import DataTable, Input

from snapshot_checks import check_screen, row_with

from .pane_helpers import wait_until

UP_SERIES = [("instance=10.1.2.5:8000, job=seldon-iris", "1"), ("instance=10.1.2.6:8000, job=seldon-wine", "1"),
             ("instance=10.1.2.7:8082, job=mlserver-income", "0")]


def _up_shown(text: str) -> None:
    """The chart of `up`: one legend line and one instant row per target."""
    for series, value in UP_SERIES:
        row_with(text, f"━ {series}", f"last {value}  min {value}  max {value}")
        row_with(text, f" {series} ", f" {value} ", "12:00:00")


def _rows(app) -> list[str]:
    return check_screen(app).splitlines()


async def _first_poll(pilot):
    app = pilot.app
    await wait_until(pilot, lambda: app.current_pane() and app.current_pane().last_range is not None
                     and not app.current_pane().is_busy("poll"), what="first poll")


def _then(*steps, shows=None):
    """run_before: wait for the first poll, then run ``steps`` (async callables taking the pilot), then check
    ``shows(app)``: what the picture must show."""
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
        if shows is not None:
            shows(pilot.app)
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
    # must show: the default query `up` charted live over 1h, its three series in the legend and the table
    def shows(app):
        rows = _rows(app)
        assert rows[1].strip() == "PromQL up   range 1h step 17s   live 5s"
        _up_shown("\n".join(rows))
        assert rows[-2].strip() == "3 series over 1h, step 17s"

    assert snap_compare(fake_app("metrics"), terminal_size=(120, 40), run_before=_then(shows=shows))


def test_traffic_by_deployment_at_80x24(snap_compare, fake_app):
    query = "sum by (deployment_name) (rate(seldon_api_executor_server_requests_seconds_count[1m]))"
    # must show: the query cut with `…` so that its range and live state stay visible, one line per deployment
    def shows(app):
        rows = _rows(app)
        assert rows[1].startswith(" PromQL sum by (deployment_name) (rate(seldon_ap")
        assert rows[1].endswith("…   range 1h step 25s   live 5s"), rows[1]
        text = "\n".join(rows)
        for name, last in [("income", "5.54"), ("iris", "32.1"), ("wine", "14.7")]:
            row_with(text, f"━ deployment_name={name}", f"last {last}")
            row_with(text, f" deployment_name={name} ", f" {last} ", "12:00:00")
        assert rows[-2].strip() == "3 series over 1h, step 25s"

    assert snap_compare(fake_app("metrics"), terminal_size=(80, 24),
                        run_before=_then(_command(f"promql {query}"), shows=shows))


def test_latency_over_6h(snap_compare, fake_app):
    query = ("histogram_quantile(0.99, sum by (le) "
             "(rate(seldon_api_executor_server_requests_seconds_bucket[5m])))")

    # must show: the p99 latency over 6h in milliseconds, the query cut with `…` before its range and state
    def shows(app):
        rows = _rows(app)
        assert rows[1].startswith(" PromQL histogram_quantile(0.99, sum by (le)")
        assert rows[1].endswith("…   range 6h step 97s   live 5s"), rows[1]
        assert rows[2].startswith("329ms ┤")
        assert rows[-2].strip() == "1 series over 6h, step 97s"
    assert snap_compare(fake_app("metrics"), terminal_size=(120, 30),
                        run_before=_then(_command(f"promql {query}"), _command("range 6h"), shows=shows))


def test_model_serving_dashboard(snap_compare, fake_app):
    # must show: the six panels of the built-in dashboard with their units, and its variables in the title
    def shows(app):
        rows = _rows(app)
        assert rows[1].strip() == "Model serving (golden signals)  $deployment=.*  $namespace=.*   range 1h   live 5s"
        text = "\n".join(rows)
        row_with(text, "Latency p50 / p95 / p99", "Traffic")
        row_with(text, "Errors (5xx share)", "Saturation (requests in flight)")
        row_with(text, "Saturation (CPU cores)", "Requests by status code")
        row_with(text, "━ p99", "last 189ms", "━ wine", "last 14.7 req/s")
        row_with(text, " 200 ", "49.3 req/s")
        assert rows[-2].strip() == "Model serving (golden signals): 6 panels over 1h"

    assert snap_compare(fake_app("metrics"), terminal_size=(140, 44),
                        run_before=_then(_command("dashboard Model serving"), shows=shows))


def test_dashboard_picker(snap_compare, fake_app):
    # must show: the picker over the `up` chart, with the query view and the built-in dashboard, and no
    # "reading dashboards" left in the status bar
    def shows(app):
        text = "\n".join(_rows(app))
        assert "Dashboards (enter opens, escape closes)" in text
        row_with(text, "PromQL query view")
        row_with(text, "Model serving (golden signals)", "6 panels", "built-in (model-serving.yaml)")

    assert snap_compare(fake_app("metrics"), terminal_size=(120, 30), run_before=_then(
        _keys("D", until=lambda app: app.screen.__class__.__name__ == "DashboardPicker"), shows=shows))


def test_alerts(snap_compare, fake_app):
    # must show: the firing and the pending alert with their labels and (cut, with `…`) summaries
    def shows(app):
        rows = _rows(app)
        text = "\n".join(rows)
        assert "Alerts: 1 firing, 1 pending (fake://prometheus)" in text
        assert row_with(text, "FIRING", "ModelLatencyHigh", "page", "2026-01-15 11:42 (17m)",
                        "deployment_name=iris, namespace=seldon").rstrip(" █").endswith("…")
        row_with(text, "PENDING", "ErrorRateHigh", "warning", "deployment_name=income, namespace=models")
        assert rows[-2].strip() == "1 firing, 1 pending alert(s)"

    assert snap_compare(fake_app("metrics"), terminal_size=(140, 30), run_before=_then(
        _keys("A", until=lambda app: app.screen.__class__.__name__ == "TableView"), shows=shows))


def test_targets(snap_compare, fake_app):
    # must show: the down target first with its scrape error (cut, with `…`), then the two that are up
    def shows(app):
        rows = _rows(app)
        text = "\n".join(rows)
        assert "Targets: 2 up, 1 not up (fake://prometheus)" in text
        down = row_with(text, "DOWN", "mlserver-income", "10.1.2.7:8082", "dial tcp 10.1.2.7:8082")
        assert down.rstrip(" █").endswith("…")
        row_with(text, "UP", "seldon-iris", "10.1.2.5:8000")
        row_with(text, "UP", "seldon-wine", "10.1.2.6:8000")
        assert text.index("mlserver-income") < text.index("seldon-iris")
        assert rows[-2].strip() == "3 target(s), 1 not up"

    assert snap_compare(fake_app("metrics"), terminal_size=(140, 30), run_before=_then(
        _keys("T", until=lambda app: app.screen.__class__.__name__ == "TableView"), shows=shows))


def test_invalid_query_keeps_the_last_chart(snap_compare, fake_app):
    # must show: the rejected query and Prometheus's message under it, the chart of `up` kept (its title too),
    # and the error in the status line
    def shows(app):
        rows = _rows(app)
        assert rows[1].strip() == "PromQL up   range 1h step 20s   live 5s"
        assert rows[2].strip() == "sum(rate(up[5m])"
        assert rows[3].strip() == "1:17: parse error: unclosed left parenthesis"
        _up_shown("\n".join(rows))
        assert rows[-2].strip() == ("ERROR query rejected by Prometheus: 1:17: parse error: unclosed left "
                                    "parenthesis; still showing up")

    assert snap_compare(fake_app("metrics"), terminal_size=(100, 30),
                        run_before=_then(_command("promql sum(rate(up[5m])"), shows=shows))


def test_editor_with_label_value_completion(snap_compare, fake_app):
    typed = "container_memory_working_set_bytes{namespace="

    def shown(app):
        return "seldon" in str(app.current_pane().query_one("#candidates").render())

    # must show: the typed text in the open editor (the first value's completion after it) and the namespaces
    # to choose from under it, over the `up` chart
    def shows(app):
        editor = app.current_pane().query_one("#editor Input", Input)
        assert app.focused is editor and editor.value == typed and editor.cursor_position == len(typed)
        rows = check_screen(app, footer_help=False).splitlines()
        assert rows[3].strip("▊▎ ").startswith(typed)
        assert rows[5].split() == ["models", "seldon"]
        assert rows[-1].startswith("tab Complete esc Cancel")
        _up_shown("\n".join(rows))

    assert snap_compare(fake_app("metrics"), terminal_size=(120, 30), run_before=_then(
        _keys("e", "ctrl+u", *typed, until=shown), shows=shows))


def test_paused(snap_compare, fake_app):
    def paused(app):
        screen = app.current_pane()
        return not screen.live and screen.query_one("#status").text.startswith("live refresh paused")

    # must show: PAUSED in the title where "live" was, the chart kept, and how to resume
    def shows(app):
        rows = _rows(app)
        assert rows[1].strip() == "PromQL up   range 1h step 20s   PAUSED"
        _up_shown("\n".join(rows))
        assert rows[-2].strip() == "live refresh paused (space resumes)"

    assert snap_compare(fake_app("metrics"), terminal_size=(100, 30),
                        run_before=_then(_keys("space", until=paused), shows=shows))
