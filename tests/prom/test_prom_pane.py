"""Metrics pane Pilot tests on the session's real Prometheus: keys, views, dialogs, completion, history.

What the pane shows is checked against what the tests' exporters serve (see conftest.py): their
series, labels and values, the rules' alerts and the scrape targets' health.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx

from console.app import make_app
from console.config import Config, Context
from widgets.chart import LineChart
from widgets.dashboard import DashboardGrid
from widgets.promql import PromQLEditor
from widgets.views import TableView

from .conftest import CLIENT_REQUEST_RATES, MANY_SERIES, MEMORY_BYTES, POD_MEMORY, wait_for
from .pane_helpers import first_poll, screen_text, table_rows, type_query, wait_until


def metrics_app(url: str, *, others: dict[str, dict] | None = None, **values):
    """The console opened on its Metrics pane, on the Prometheus at ``url`` and the real clock.

    ``values`` are the Context fields of the context it starts in (``live``); ``others`` maps more
    context names to theirs (on the same Prometheus).
    """
    fields = {"live": values, **(others or {})}
    contexts = {name: Context(name=name, prometheus_url=url, **more) for name, more in fields.items()}
    config = Config(path=None, default_context="live", contexts=contexts)
    return make_app(config, contexts["live"], initial_pane="metrics", cursor_blink=False)


async def on_5m(pilot, app):
    """The pane after its first poll, on the 5m range (a step of 1-3 s: the Prometheus is young)."""
    screen = await first_poll(pilot, app)
    app.run_command_line("range 5m")
    await wait_until(pilot, lambda: screen.last_range.step <= 3 and not screen.is_busy("poll"), what="5m range")
    return screen


async def show_query(pilot, screen, query: str) -> None:
    """Run ``query`` with :promql and wait until its answer is on screen."""
    screen.app.run_command_line(f"promql {query}")
    await wait_until(pilot, lambda: screen.promql == query and screen.last_range.query == query
                     and not screen.is_busy("poll"), what=f"{query} charted")


def up_now(exporter, flaky_exporter, gone_target) -> dict[tuple[str, str], float]:
    """``up`` per (instance, job) as the tests' targets are now: ``flaky`` answers until
    test_prom_backend stops it, nothing ever answers at ``gone``."""
    return {(exporter.address, "exporter"): 1.0,
            (flaky_exporter.address, "flaky"): 0.0 if flaky_exporter.server is None else 1.0,
            (gone_target, "gone"): 0.0}


def prometheus_query(prometheus, query: str) -> list[dict]:
    answer = httpx.get(f"{prometheus.url}/api/v1/query", params={"query": query}, timeout=5)
    return answer.json()["data"]["result"]


def scraped_for(prometheus, seconds: int) -> None:
    """Wait until the Prometheus holds ``seconds`` of scrapes of the exporter (it starts with the
    first test that needs it), so that a 1h chart, whose step is longer, has a point."""
    def enough():
        result = prometheus_query(prometheus, 'count_over_time(up{job="exporter"}[1h])')
        return result and float(result[0]["value"][1]) >= seconds

    wait_for(enough, seconds + 10, what=f"{seconds}s of scrapes")


def active_alerts(prometheus) -> dict[str, dict]:
    """The server's own answer (``/api/v1/alerts``) by alert name, ``activeAt`` as a datetime."""
    answer = httpx.get(f"{prometheus.url}/api/v1/alerts", timeout=5).json()["data"]["alerts"]
    return {a["labels"]["alertname"]: {**a, "activeAt": datetime.fromisoformat(a["activeAt"])} for a in answer}


def check_since(cell: str, active_at: datetime, before: datetime, after: datetime) -> None:
    """``cell`` reads "YYYY-MM-DD HH:MM (age)": ``active_at`` in UTC, then its age at a moment between
    ``before`` and ``after`` (whole seconds, minutes, hours or days, rounded down)."""
    match = re.fullmatch(r"(\d{4}-\d\d-\d\d \d\d:\d\d) \((\d+)([smhd])\)", cell)
    assert match, cell
    assert match.group(1) == f"{active_at.astimezone(UTC):%Y-%m-%d %H:%M}"
    size = {"s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(3)]
    shown = int(match.group(2)) * size
    assert shown <= (after - active_at).total_seconds() and (before - active_at).total_seconds() < shown + size


async def test_window_keys_step_through_ranges(prometheus):
    app = metrics_app(prometheus.url)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await first_poll(pilot, app)
        seen = []
        for _ in range(5):
            await pilot.press("right_square_bracket")
            await wait_until(pilot, lambda: not screen.is_busy("poll"), what="poll")
            seen.append((screen.window, screen.last_range.end - screen.last_range.start, screen.last_range.step))
        assert [name for (name, _), _, _ in seen] == ["6h", "24h", "7d", "7d", "7d"]
        for (_, seconds), span, step in seen:  # the window, in whole steps
            assert seconds <= span.total_seconds() < seconds + step
        assert seen[2][1].total_seconds() == 7 * 86400
        assert "already longest" in screen.query_one("#status").text
        for _ in range(6):
            await pilot.press("left_square_bracket")
        assert screen.window[0] == "5m"
        await wait_until(pilot, lambda: not screen.is_busy("poll") and
                         (screen.last_range.end - screen.last_range.start).total_seconds() == 300, what="5m")


async def test_a_query_typed_right_after_e_goes_into_the_editor(prometheus):
    # "e" then a query and enter in one burst (fast typing, a paste, an SSH link): "[" and "]" are this
    # pane's window keys and space its pause; typed into the editor they stay characters
    from textual import events

    query = "max_over_time(up[1m]) >= 0"
    names = {"(": "left_parenthesis", ")": "right_parenthesis", "[": "left_square_bracket",
             "]": "right_square_bracket", "_": "underscore", " ": "space", ">": "greater_than_sign",
             "=": "equals_sign", "\r": "enter"}
    app = metrics_app(prometheus.url)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await on_5m(pilot, app)
        window = screen.window
        for key in ("e", *query, "\r"):
            app.post_message(events.Key(names.get(key, key), None if key == "\r" else key))
        await wait_until(pilot, lambda: screen.promql == query and screen.last_range.query == query
                         and not screen.is_busy("poll"), what="the query typed in one burst")
        assert screen.window == window and screen.live  # no "[", "]" or space reached the pane
        assert screen.query_one("#editor", PromQLEditor).has_class("hidden")


async def test_editor_completes_from_the_backend_and_keeps_history(prometheus):
    pods = sorted(POD_MEMORY)  # the pods the exporter serves: label values come sorted
    query = f'container_memory_working_set_bytes{{pod="{pods[0]}"}}'
    app = metrics_app(prometheus.url)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await on_5m(pilot, app)
        editor = screen.query_one("#editor", PromQLEditor)
        candidates = lambda: str(editor.query_one("#candidates").render())  # noqa: E731
        await type_query(pilot, "container_mem")
        await wait_until(pilot, lambda: candidates().split() == ["container_memory_working_set_bytes"],
                         what="metric candidates")
        await pilot.press("tab")
        assert editor.input.value == "container_memory_working_set_bytes"
        await pilot.press("{", "p")
        await wait_until(pilot, lambda: candidates().split() == ["pod"], what="labels")
        await pilot.press("tab", "=")
        await wait_until(pilot, lambda: candidates().split() == pods, what="label values")
        await pilot.press("tab", "}")
        assert editor.input.value == query
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.promql == editor.history[-1] == query
                         and screen.last_range.query == query and not screen.is_busy("poll"), what="query run")
        assert editor.has_class("hidden")
        memory = POD_MEMORY[pods[0]][1]
        chart = screen.query_one("#chart", LineChart)
        assert chart.unit == "bytes"
        assert [s.points[-1][1] for s in chart.series] == [memory]
        assert [r[1] for r in table_rows(screen.query_one("#instant"))] == [f"{memory / 2**20:g}MiB"]
        # history: up brings the last query back
        await pilot.press("e", "ctrl+u", "up")
        assert editor.input.value == query
        await pilot.press("escape")
        assert editor.has_class("hidden")


async def test_promql_history_is_there_after_a_restart(prometheus):
    query = "sum(rate(seldon_api_executor_server_requests_seconds_count[1m]))"
    app = metrics_app(prometheus.url)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await first_poll(pilot, app)
        await screen.run_query(query)
        await wait_until(pilot, lambda: screen.promql == query and screen.last_range.query == query,
                         what="the query run")
        assert not screen.query_error
    again = metrics_app(prometheus.url)
    async with again.run_test(size=(120, 40)) as pilot:
        screen = await first_poll(pilot, again)
        assert screen.promql == "up"  # the history is kept, not the query shown
        editor = screen.query_one("#editor", PromQLEditor)
        await pilot.press("e", "ctrl+u", "up")
        assert editor.input.value == query


async def test_invalid_query_shows_the_servers_message_and_keeps_the_last_chart(
        prometheus, exporter, flaky_exporter, gone_target):
    up = up_now(exporter, flaky_exporter, gone_target)
    app = metrics_app(prometheus.url)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await on_5m(pilot, app)
        chart = screen.query_one("#chart", LineChart)
        before = [s.name for s in chart.series]
        assert before == [f"instance={i}, job={j}" for i, j in sorted(up)]
        app.run_command_line("promql sum(rate(up[5m])")
        await wait_until(pilot, lambda: screen.query_error, what="error")
        error = screen.query_one("#query-error")
        assert not error.has_class("hidden")
        assert "1:17: parse error: unclosed left parenthesis" in str(error.render())
        assert screen.promql == "up" and screen.last_range.query == "up"
        assert [s.name for s in chart.series] == before
        assert "still showing up" in screen.query_one("#status").text
        # the next live refresh of the last good query leaves the message where it is
        polls = screen.polls
        await pilot.press("r")
        await wait_until(pilot, lambda: screen.polls > polls and not screen.is_busy("poll"), what="refresh")
        assert not error.has_class("hidden") and "still showing up" in screen.query_one("#status").text
        assert screen.last_range.query == "up" and [s.name for s in chart.series] == before
        # a query that works clears it
        await show_query(pilot, screen, "up == 1")
        assert error.has_class("hidden") and not screen.query_error
        # its values now (the chart's 5m may still hold a flaky target that went down since)
        assert [dict(s.labels)["job"] for s in screen.last_instant.samples] == [
            job for (_, job), value in sorted(up.items()) if value == 1]


async def test_series_cap_says_how_many_were_left_out(prometheus):
    app = metrics_app(prometheus.url)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await on_5m(pilot, app)
        await show_query(pilot, screen, "mlc_many_series")
        series = screen.query_one("#chart", LineChart).series
        assert [(s.name, s.points[-1][1]) for s in series] == [(f"idx={i:02d}", float(i)) for i in range(20)]
        assert (f"{MANY_SERIES} series: showing the first 20, {MANY_SERIES - 20} left out"
                in screen.query_one("#status").text)
        await wait_until(pilot, lambda: f"20 of {MANY_SERIES} series" in screen_text(app),
                         what="the note on screen")


async def test_pause_stops_polling_and_space_resumes(prometheus):
    app = metrics_app(prometheus.url, refresh_interval=0.2)  # the pane polls at most every 0.5 s
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await wait_until(pilot, lambda: app.current_pane() and app.current_pane().polls >= 3
                                  and app.current_pane(), what="three polls at 0.5s")
        await pilot.press("space")
        await wait_until(pilot, lambda: "PAUSED" in screen_text(app), what="PAUSED on screen")
        paused_at = screen.polls
        await pilot.pause(0.8)
        assert screen.polls == paused_at
        await pilot.press("space")
        await wait_until(pilot, lambda: screen.polls >= paused_at + 2, what="polling again")
        assert "live 0.5s" in screen_text(app)


async def test_no_polls_while_a_dialog_is_open_or_the_pane_is_hidden(prometheus, tmp_path):
    # the data pane (key 1) on a folder that is no workspace: it says so, and the metrics pane is hidden
    app = metrics_app(prometheus.url, refresh_interval=0.2, repo=str(tmp_path))
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
        await wait_until(pilot, lambda: app.current_pane() is not screen, what="the data pane")
        await pilot.pause(0.1)
        count = screen.polls
        await pilot.pause(0.8)
        assert screen.polls == count
        await pilot.press("4")
        await wait_until(pilot, lambda: screen.polls > count, what="polling when shown again")


async def test_alerts_and_targets_dialogs(prometheus, exporter, flaky_exporter, gone_target):
    # the rules: MlcAlwaysFiring fires, MlcModelMemoryHigh is pending for each model over 2 MiB;
    # MlcTriggerHigh is not active (another test may have just set the trigger back to 0)
    over = sorted(model for model, value in MEMORY_BYTES.items() if value > 2 * 2**20)
    assert over == ["wine"]
    active = wait_for(lambda: (alerts := active_alerts(prometheus)) and "MlcTriggerHigh" not in alerts
                      and "MlcModelMemoryHigh" in alerts and alerts, 20, what="the rules' alerts")
    app = metrics_app(prometheus.url)
    async with app.run_test(size=(140, 40)) as pilot:
        await first_poll(pilot, app)
        before = datetime.now(UTC)
        await pilot.press("A")
        dialog = await wait_until(pilot, lambda: isinstance(app.screen, TableView) and app.screen,
                                  what="alerts")
        after = datetime.now(UTC)
        rows = table_rows(dialog.query_one("DataTable"))
        assert [r[:3] for r in rows] == [["FIRING", "MlcAlwaysFiring", "info"]] + \
            [["PENDING", "MlcModelMemoryHigh", "warning"] for _ in over]
        assert rows[0][4:] == ["", "always on"]
        assert rows[1][4:] == [f"instance={exporter.address}, job=exporter, model=wine",
                               f"wine uses {MEMORY_BYTES['wine'] / 2**20:g}MiB"]
        check_since(rows[0][3], active["MlcAlwaysFiring"]["activeAt"], before, after)
        check_since(rows[1][3], active["MlcModelMemoryHigh"]["activeAt"], before, after)
        assert f"1 firing, {len(over)} pending" in dialog.title_text
        await pilot.press("escape")
        up = up_now(exporter, flaky_exporter, gone_target)
        await pilot.press("T")
        dialog = await wait_until(pilot, lambda: isinstance(app.screen, TableView) and app.screen,
                                  what="targets")
        rows = table_rows(dialog.query_one("DataTable"))
        assert [(r[0], r[1], r[2]) for r in rows] == [  # by job
            ("UP" if value else "DOWN", job, instance) for (instance, job), value in
            sorted(up.items(), key=lambda item: item[0][1])]
        gone = rows[2]
        assert "connection refused" in gone[5] and gone_target in gone[5]
        assert rows[0][5] == ""
        for row in rows:  # scraped every second
            assert re.fullmatch(r"[0-5]s ago", row[3]), row
        ups = sum(1 for value in up.values() if value)
        assert f"Targets: {ups} up, {len(up) - ups} not up" in dialog.title_text


async def test_dashboard_grid_variables_and_back(prometheus, exporter):
    # what the built-in dashboard's queries find: the exporter's Seldon histogram
    samples = [s for s in exporter.metrics["seldon"].collect()[0].samples if s.name.endswith("_count")]
    deployments = sorted({s.labels["deployment_name"] for s in samples})
    namespaces = sorted({s.labels["namespace"] for s in samples})
    codes = sorted({s.labels["code"] for s in samples})
    assert deployments == ["iris"] and "wine" not in deployments
    app = metrics_app(prometheus.url)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await on_5m(pilot, app)  # the range stays: a 1h range's 35 s step is too long for a young server
        await pilot.press("D")
        await wait_until(pilot, lambda: app.screen.__class__.__name__ == "DashboardPicker", what="picker")
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: screen.dashboard is not None and not screen.is_busy("poll"),
                         what="dashboard")
        assert screen.dashboard.title.startswith("Model serving")
        grid = screen.query_one("#dashboard", DashboardGrid)
        assert not grid.has_class("hidden") and screen.query_one("#query-view").has_class("hidden")
        latency = grid.query_one("#panel-0", LineChart)
        traffic = grid.query_one("#panel-1", LineChart)
        by_code = grid.query_one("#panel-5")
        # (a server younger than the panels' rate() window answers them on a later poll)
        await wait_until(pilot, lambda: [s.name for s in latency.series] == ["p50", "p95", "p99"]
                         and [s.name for s in traffic.series] == deployments
                         and [r[0] for r in table_rows(by_code)] == codes, timeout=20,
                         what="latency, traffic and codes")
        assert latency.unit == "seconds"
        await wait_until(pilot, lambda: "$deployment=.*" in screen_text(app), what="variables on screen")
        await wait_until(pilot, lambda: screen.variable_options == {"deployment": tuple(deployments),
                                                                    "namespace": tuple(namespaces)},
                         what="the variables' values")
        assert app.complete_line("var dep") == ["var deployment=.*"] + [f"var deployment={d}" for d in deployments]
        # a deployment the exporter does not serve: the panels are empty
        polls = screen.polls
        app.run_command_line("var deployment=wine")
        await wait_until(pilot, lambda: screen.polls > polls and not screen.is_busy("poll"), what="poll")
        assert not traffic.series and table_rows(by_code) == []
        polls = screen.polls
        app.run_command_line("var deployment=iris")
        assert screen.variables["deployment"] == "iris"
        await wait_until(pilot, lambda: screen.polls > polls and not screen.is_busy("poll"), what="poll")
        assert [s.name for s in traffic.series] == ["iris"]
        assert [r[0] for r in table_rows(by_code)] == codes
        await wait_until(pilot, lambda: "$deployment=iris" in screen_text(app), what="variable shown")
        app.run_command_line("var nosuch=1")
        assert "no variable $nosuch" in screen.query_one("#status").text
        await pilot.press("escape")
        await wait_until(pilot, lambda: screen.dashboard is None, what="back to the query view")
        assert not screen.query_one("#query-view").has_class("hidden")
        await wait_until(pilot, lambda: screen.last_range.query == "up" and not screen.is_busy("poll"),
                         what="the query view polled again")


async def test_commands_are_in_the_table_and_help(prometheus):
    app = metrics_app(prometheus.url)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await first_poll(pilot, app)
        names = [c.name for c in app.command_table()]
        for name in ("promql", "range", "dashboard", "var", "alerts", "targets"):
            assert name in names
        assert "range 6h" in app.complete_line("range 6")
        app.run_command_line("range 15m")
        assert screen.window[0] == "15m"
        await wait_until(pilot, lambda: not screen.is_busy("poll")
                         and (screen.last_range.end - screen.last_range.start).total_seconds() == 900,
                         what="a 15m poll")
        app.run_command_line("range 2y")
        assert "one of 5m, 15m, 1h, 6h, 24h, 7d" in screen.query_one("#status").text
        assert screen.window[0] == "15m"


async def test_without_colour_each_line_ends_in_its_legend_number(prometheus, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    # legends come sorted by deployment; the lines stack by each deployment's request rate
    deployments = sorted(CLIENT_REQUEST_RATES)
    number = {d: str(i + 1) for i, d in enumerate(deployments)}
    top_down = [number[d] for d in sorted(deployments, key=lambda d: -CLIENT_REQUEST_RATES[d][1])]
    app = metrics_app(prometheus.url)
    assert app.no_color
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await on_5m(pilot, app)
        await show_query(pilot, screen, "sum by (deployment_name) "
                    "(rate(seldon_api_executor_client_requests_seconds_count[1m]))")
        text = await wait_until(pilot, lambda: f"1 deployment_name={deployments[0]}" in screen_text(app)
                                and screen_text(app), timeout=20, what="numbered legend")
        for d in deployments:
            assert f"{number[d]} deployment_name={d}" in text
        plot = [line.rstrip() for line in text.splitlines() if "┤" in line or "│" in line]
        ends = [line[-1] for line in plot if line[-1] in number.values()]
        assert ends == top_down


async def test_context_switch_rebuilds_the_pane(prometheus):
    app = metrics_app(prometheus.url, others={"other": {"refresh_interval": 7}})
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await on_5m(pilot, app)
        await show_query(pilot, screen, "mlc_many_series")
        old_backend = screen.backend
        app.run_command_line("ctx other")
        await wait_until(pilot, lambda: "live 7s" in screen_text(app) and screen.last_range is not None
                         and table_rows(screen.query_one("#instant")), what="reloaded in the new context")
        assert screen.backend is not old_backend and app.context.name == "other"
        assert screen.promql == "mlc_many_series"  # the query survives the switch
        rows = table_rows(screen.query_one("#instant"))  # instant values are not capped at 20
        assert [r[:2] for r in rows] == [[f"idx={i:02d}", f"{i}"] for i in range(MANY_SERIES)]


async def test_first_poll_fills_chart_and_instant_table(prometheus, exporter, flaky_exporter, gone_target):
    # a 1h chart at 120 columns has a 17 s step: its last point needs a server older than that
    # (this test comes late in the module, so that in a whole run it hardly ever has to wait)
    scraped_for(prometheus, 20)
    up = up_now(exporter, flaky_exporter, gone_target)
    legend = {key: f"instance={key[0]}, job={key[1]}" for key in up}
    order = sorted(up)  # series come sorted by their labels: instance, then job
    app = metrics_app(prometheus.url)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await first_poll(pilot, app)
        assert screen.promql == "up"
        chart = screen.query_one("#chart", LineChart)
        assert [s.name for s in chart.series] == [legend[key] for key in order]
        last = {s.name: s.points[-1][1] for s in chart.series}
        for key, value in up.items():
            if key[1] != "flaky" or value:  # a stopped flaky's last point on a 1h step may predate the stop
                assert last[legend[key]] == value, key
        rows = table_rows(screen.query_one("#instant"))
        assert [r[:2] for r in rows] == [[legend[key], f"{up[key]:g}"] for key in order]
        await wait_until(pilot, lambda: f"range 1h step {screen.last_range.step:g}s" in screen_text(app)
                         and "live 5s" in screen_text(app), what="the title on screen")


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
