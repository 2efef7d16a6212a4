"""Metrics pane Pilot tests on the fake backend: keys, views, dialogs, completion, history."""

from __future__ import annotations

from widgets.chart import LineChart
from widgets.dashboard import DashboardGrid
from widgets.promql import PromQLEditor
from widgets.views import TableView

from .pane_helpers import first_poll, screen_text, table_rows, type_query, wait_until


async def test_first_poll_fills_chart_and_instant_table(fake_app):
    app = fake_app("metrics")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await first_poll(pilot, app)
        chart = screen.query_one("#chart", LineChart)
        assert [s.name for s in chart.series] == [
            "instance=10.1.2.5:8000, job=seldon-iris", "instance=10.1.2.6:8000, job=seldon-wine",
            "instance=10.1.2.7:8082, job=mlserver-income"]
        assert [s.points[-1][1] for s in chart.series] == [1.0, 1.0, 0.0]
        rows = table_rows(screen.query_one("#instant"))
        assert [r[:2] for r in rows] == [["instance=10.1.2.5:8000, job=seldon-iris", "1"],
                                        ["instance=10.1.2.6:8000, job=seldon-wine", "1"],
                                        ["instance=10.1.2.7:8082, job=mlserver-income", "0"]]
        await wait_until(pilot, lambda: "range 1h step" in screen_text(app) and "live 5s" in screen_text(app),
                         what="the title on screen")


async def test_window_keys_step_through_ranges(fake_app):
    app = fake_app("metrics")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await first_poll(pilot, app)
        seen = []
        for _ in range(5):
            await pilot.press("right_square_bracket")
            await wait_until(pilot, lambda: not screen.is_busy("poll"), what="poll")
            seen.append((screen.window[0], screen.last_range.end - screen.last_range.start))
        assert [name for name, _ in seen] == ["6h", "24h", "7d", "7d", "7d"]
        assert seen[2][1].total_seconds() == 7 * 86400
        assert "already longest" in screen.query_one("#status").text
        for _ in range(6):
            await pilot.press("left_square_bracket")
        assert screen.window[0] == "5m"
        await wait_until(pilot, lambda: not screen.is_busy("poll") and
                         (screen.last_range.end - screen.last_range.start).total_seconds() == 300, what="5m")


async def test_editor_completes_from_the_backend_and_keeps_history(fake_app):
    app = fake_app("metrics")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await first_poll(pilot, app)
        await type_query(pilot, "container_mem")
        editor = screen.query_one("#editor", PromQLEditor)
        await wait_until(pilot, lambda: "container_memory_working_set_bytes" in
                         str(editor.query_one("#candidates").render()), what="metric candidates")
        await pilot.press("tab")
        assert editor.input.value == "container_memory_working_set_bytes"
        await pilot.press("{", "p")
        await wait_until(pilot, lambda: "pod" in str(editor.query_one("#candidates").render()), what="labels")
        await pilot.press("tab", "=")
        await wait_until(pilot, lambda: "iris-default-0-classifier-7d9f" in
                         str(editor.query_one("#candidates").render()), what="label values")
        await pilot.press("tab", "}")
        assert editor.input.value == 'container_memory_working_set_bytes{pod="income-default-0-classifier-7d9f"}'
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.promql == editor.history[-1], what="query run")
        assert editor.has_class("hidden")
        assert screen.query_one("#chart", LineChart).unit == "bytes"
        # history: up brings the last query back
        await pilot.press("e", "ctrl+u", "up")
        assert editor.input.value == 'container_memory_working_set_bytes{pod="income-default-0-classifier-7d9f"}'
        await pilot.press("escape")
        assert editor.has_class("hidden")


async def test_promql_history_is_there_after_a_restart(fake_app):
    app = fake_app("metrics")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await first_poll(pilot, app)
        await screen.run_query("sum(rate(seldon_api_executor_server_requests_seconds_count[1m]))")
        await pilot.pause()
    again = fake_app("metrics")
    async with again.run_test(size=(120, 40)) as pilot:
        screen = await first_poll(pilot, again)
        editor = screen.query_one("#editor", PromQLEditor)
        await pilot.press("e", "ctrl+u", "up")
        assert editor.input.value == "sum(rate(seldon_api_executor_server_requests_seconds_count[1m]))"


async def test_invalid_query_shows_the_servers_message_and_keeps_the_last_chart(fake_app):
    app = fake_app("metrics")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await first_poll(pilot, app)
        before = screen.query_one("#chart", LineChart).series
        app.run_command_line("promql sum(rate(up[5m])")
        await wait_until(pilot, lambda: screen.query_error, what="error")
        error = screen.query_one("#query-error")
        assert not error.has_class("hidden")
        assert "unclosed left parenthesis" in str(error.render())
        assert screen.promql == "up"
        assert screen.query_one("#chart", LineChart).series == before
        assert "still showing up" in screen.query_one("#status").text
        # the next live refresh of the last good query leaves the message where it is
        polls = screen.polls
        await pilot.press("r")
        await wait_until(pilot, lambda: screen.polls > polls and not screen.is_busy("poll"), what="refresh")
        assert not error.has_class("hidden") and "still showing up" in screen.query_one("#status").text
        # a query that works clears it
        app.run_command_line("promql up == 1")
        await wait_until(pilot, lambda: screen.promql == "up == 1" and not screen.is_busy("poll"), what="new query")
        assert error.has_class("hidden") and not screen.query_error


async def test_series_cap_says_how_many_were_left_out(fake_app):
    app = fake_app("metrics")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await first_poll(pilot, app)
        app.run_command_line("promql model_queue_length")
        await wait_until(pilot, lambda: screen.promql == "model_queue_length" and not screen.is_busy("poll"),
                         what="poll")
        assert len(screen.query_one("#chart", LineChart).series) == 20
        assert "40 series: showing the first 20, 20 left out" in screen.query_one("#status").text
        await wait_until(pilot, lambda: "20 of 40 series" in screen_text(app), what="the note on screen")


async def test_pause_stops_polling_and_space_resumes(fake_app):
    app = fake_app("metrics", contexts={"fast": {"refresh_interval": 0.2}}, context="fast")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await wait_until(pilot, lambda: app.current_pane() and app.current_pane().polls >= 3
                                  and app.current_pane(), what="three polls at 0.2s")
        await pilot.press("space")
        await wait_until(pilot, lambda: "PAUSED" in screen_text(app), what="PAUSED on screen")
        paused_at = screen.polls
        await pilot.pause(0.8)
        assert screen.polls == paused_at
        await pilot.press("space")
        await wait_until(pilot, lambda: screen.polls >= paused_at + 2, what="polling again")


async def test_no_polls_while_a_dialog_is_open_or_the_pane_is_hidden(fake_app):
    app = fake_app("metrics", contexts={"fast": {"refresh_interval": 0.2}}, context="fast")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await wait_until(pilot, lambda: app.current_pane() and app.current_pane().polls >= 2
                                  and app.current_pane(), what="polls")
        await pilot.press("A")
        await wait_until(pilot, lambda: isinstance(app.screen, TableView), what="alerts dialog")
        count = screen.polls
        await pilot.pause(0.8)
        assert screen.polls == count
        await pilot.press("escape")
        await wait_until(pilot, lambda: screen.polls > count, what="polling after the dialog")
        await pilot.press("1")
        await pilot.pause(0.1)
        count = screen.polls
        await pilot.pause(0.8)
        assert screen.polls == count
        await pilot.press("4")
        await wait_until(pilot, lambda: screen.polls > count, what="polling when shown again")


async def test_alerts_and_targets_dialogs(fake_app):
    app = fake_app("metrics")
    async with app.run_test(size=(140, 40)) as pilot:
        await first_poll(pilot, app)
        await pilot.press("A")
        dialog = await wait_until(pilot, lambda: isinstance(app.screen, TableView) and app.screen,
                                  what="alerts")
        rows = table_rows(dialog.query_one("DataTable"))
        assert [r[:3] for r in rows] == [["FIRING", "ModelLatencyHigh", "page"],
                                        ["PENDING", "ErrorRateHigh", "warning"]]
        assert rows[0][3] == "2026-01-15 11:42 (17m)"
        assert "deployment_name=iris" in rows[0][4] and "p99 latency" in rows[0][5]
        assert "1 firing, 1 pending" in dialog.title_text
        await pilot.press("escape")
        await pilot.press("T")
        dialog = await wait_until(pilot, lambda: isinstance(app.screen, TableView) and app.screen,
                                  what="targets")
        rows = table_rows(dialog.query_one("DataTable"))
        assert [(r[0], r[1]) for r in rows] == [("DOWN", "mlserver-income"), ("UP", "seldon-iris"),
                                               ("UP", "seldon-wine")]
        assert "connection refused" in rows[0][5] and rows[1][3] == "3s ago"


async def test_dashboard_grid_variables_and_back(fake_app):
    app = fake_app("metrics")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await first_poll(pilot, app)
        await pilot.press("D")
        await wait_until(pilot, lambda: app.screen.__class__.__name__ == "DashboardPicker", what="picker")
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: screen.dashboard is not None and not screen.is_busy("poll"),
                         what="dashboard")
        grid = screen.query_one("#dashboard", DashboardGrid)
        assert not grid.has_class("hidden") and screen.query_one("#query-view").has_class("hidden")
        latency = grid.query_one("#panel-0", LineChart)
        assert [s.name for s in latency.series] == ["p50", "p95", "p99"]
        assert latency.unit == "seconds"
        await wait_until(pilot, lambda: "$deployment=.*" in screen_text(app), what="variables on screen")
        app.run_command_line("var deployment=iris")
        assert screen.variables["deployment"] == "iris"
        await wait_until(pilot, lambda: "$deployment=iris" in screen_text(app), what="variable shown")
        app.run_command_line("var nosuch=1")
        assert "no variable $nosuch" in screen.query_one("#status").text
        await pilot.press("escape")
        await wait_until(pilot, lambda: screen.dashboard is None, what="back to the query view")
        assert not screen.query_one("#query-view").has_class("hidden")


async def test_commands_are_in_the_table_and_help(fake_app):
    app = fake_app("metrics")
    async with app.run_test(size=(120, 40)) as pilot:
        await first_poll(pilot, app)
        names = [c.name for c in app.command_table()]
        for name in ("promql", "range", "dashboard", "var", "alerts", "targets"):
            assert name in names
        assert "range 6h" in app.complete_line("range 6")
        app.run_command_line("range 15m")
        assert app.current_pane().window[0] == "15m"
        app.run_command_line("range 2y")
        assert "one of 5m, 15m, 1h, 6h, 24h, 7d" in app.current_pane().query_one("#status").text


async def test_without_colour_each_line_ends_in_its_legend_number(fake_app, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = fake_app("metrics")
    assert app.no_color
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await first_poll(pilot, app)
        app.run_command_line("promql sum by (deployment_name) "
                             "(rate(seldon_api_executor_server_requests_seconds_count[1m]))")
        await wait_until(pilot, lambda: screen.promql.startswith("sum by") and not screen.is_busy("poll"),
                         what="poll")
        text = await wait_until(pilot, lambda: "1 deployment_name=income" in screen_text(app)
                                and screen_text(app), what="numbered legend")
        lines = text.splitlines()
        assert "2 deployment_name=iris" in text and "3 deployment_name=wine" in text
        plot = [line for line in lines if "┤" in line or "│" in line]
        ends = {line.rstrip()[-1] for line in plot}
        assert {"1", "2", "3"} <= ends


async def test_context_switch_rebuilds_the_pane(fake_app):
    app = fake_app("metrics", contexts={"other": {"refresh_interval": 7}})
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await first_poll(pilot, app)
        app.run_command_line("promql model_queue_length")
        await wait_until(pilot, lambda: screen.promql == "model_queue_length", what="query")
        app.run_command_line("ctx other")
        await wait_until(pilot, lambda: "live 7s" in screen_text(app) and screen.last_range is not None
                         and table_rows(screen.query_one("#instant")), what="reloaded in the new context")
        assert screen.promql == "model_queue_length"  # the query survives the switch
        assert len(table_rows(screen.query_one("#instant"))) == 40  # instant values are not capped at 20


async def test_without_a_prometheus_the_pane_says_how_to_configure_one(monkeypatch):
    from console.app import make_app
    from console.config import Config, Context

    monkeypatch.delenv("PROMETHEUS_URL", raising=False)
    context = Context(name="bare", data_backend="fake", runs_backend="fake", deployments_backend="fake")
    app = make_app(Config(path=None, default_context="bare", contexts={"bare": context}), context,
                   initial_pane="metrics", cursor_blink=False)
    async with app.run_test(size=(100, 24)) as pilot:
        text = await wait_until(pilot, lambda: "not configured" in screen_text(app) and screen_text(app),
                                what="the not-configured text")
        assert "--prometheus-url" in text and "PROMETHEUS_URL" in text
        await pilot.press("e", "D", "A")  # offered nothing, and nothing breaks
        assert app.current_pane().polls == 0
