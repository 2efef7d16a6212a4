"""The Metrics pane on a real Prometheus: the numbers, legends and completions it shows come from
the exporter the tests control; down, slow and restarted servers."""

from __future__ import annotations

import socket
import threading

import pytest

from backends.metrics.prometheus import PrometheusMetrics
from console.app import make_app
from console.backend_cache import default_backend_factory
from console.config import Config, Context
from widgets.chart import LineChart
from widgets.promql import PromQLEditor
from widgets.views import TableView

from .conftest import MEMORY_BYTES, TEMPERATURES, start_prometheus
from .pane_helpers import screen_text, table_rows, type_query, wait_until


class CountingPrometheus(PrometheusMetrics):
    """The real backend, counting how many queries run at the same time; a test clears ``gate`` to
    hold range queries until it sets it again."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._guard = threading.Lock()
        self.running = 0
        self.most_at_once = 0
        self.calls = 0
        self.gate = threading.Event()
        self.gate.set()

    def range_query(self, *args, **kwargs):
        with self._guard:
            self.running += 1
            self.calls += 1
            self.most_at_once = max(self.most_at_once, self.running)
        try:
            self.gate.wait(30)
            return super().range_query(*args, **kwargs)
        finally:
            with self._guard:
                self.running -= 1


def live_app(url: str, **values):
    context = Context(name="live", prometheus_url=url, refresh_interval=values.pop("refresh_interval", 0.5),
                      timeout=values.pop("timeout", 3.0), data_backend="fake", runs_backend="fake",
                      deployments_backend="fake", **values)
    config = Config(path=None, default_context="live", contexts={"live": context})
    made = {}

    def factory(kind, ctx):
        if kind == "metrics":
            made["metrics"] = CountingPrometheus.from_settings(ctx.as_settings())
            return made["metrics"]
        return default_backend_factory(kind, ctx)

    app = make_app(config, context, backend_factory=factory, initial_pane="metrics", cursor_blink=False)
    return app, made


async def ready(pilot, app):
    """The pane after its first poll, on the 5m range (a young Prometheus has little history)."""
    screen = await wait_until(pilot, lambda: app.current_pane() and app.current_pane().last_range
                              and app.current_pane(), what="first poll")
    app.run_command_line("range 5m")
    await wait_until(pilot, lambda: screen.last_range.step <= 3 and not screen.is_busy("poll"), what="5m range")
    return screen


async def run(pilot, screen, query: str):
    screen.app.run_command_line(f"promql {query}")
    await wait_until(pilot, lambda: screen.promql == query and screen.last_range.query == query
                     and not screen.is_busy("poll"), what=f"{query} charted")


async def test_numbers_and_legend_match_the_exporter(prometheus):
    app, _ = live_app(prometheus.url)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot, app)
        await run(pilot, screen, "mlc_room_temperature_celsius")
        chart = screen.query_one("#chart", LineChart)
        assert {s.name: s.points[-1][1] for s in chart.series} == {
            f"room={room}": value for room, value in TEMPERATURES.items()}
        rows = table_rows(screen.query_one("#instant"))
        assert {r[0]: r[1] for r in rows} == {"room=attic": "30", "room=garage": "7.25", "room=kitchen": "21.5"}
        text = await wait_until(pilot, lambda: "room=kitchen" in screen_text(app) and screen_text(app),
                                what="the legend on screen")
        kitchen = text.split("━ room=kitchen")[1].splitlines()[0]
        assert "last 21.5" in kitchen and "min 21.5" in kitchen and "max 21.5" in kitchen
        await run(pilot, screen, "mlc_model_memory_bytes")
        assert chart.unit == "bytes"
        rows = table_rows(screen.query_one("#instant"))
        assert {r[0]: r[1] for r in rows} == {"model=iris": "1MiB", "model=wine": "3MiB"}
        assert {s.name: s.points[-1][1] for s in chart.series} == {
            f"model={m}": v for m, v in MEMORY_BYTES.items()}


async def test_completion_lists_the_exporters_names(prometheus):
    app, _ = live_app(prometheus.url)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot, app)
        editor = screen.query_one("#editor", PromQLEditor)
        candidates = lambda: str(editor.query_one("#candidates").render())  # noqa: E731
        await type_query(pilot, "mlc_mo")
        await wait_until(pilot, lambda: "mlc_model_memory_bytes" in candidates(), what="metric names")
        await pilot.press("tab", "{")
        await wait_until(pilot, lambda: "model" in candidates() and "instance" in candidates(), what="labels")
        assert "room" not in candidates()
        await pilot.press(*"model=")
        await wait_until(pilot, lambda: candidates().split() == ["iris", "wine"], what="label values")
        await pilot.press("tab", "}", "enter")
        await wait_until(pilot, lambda: screen.promql == 'mlc_model_memory_bytes{model="iris"}'
                         and screen.last_range.query == screen.promql, what="completed query charted")
        assert [s.points[-1][1] for s in screen.query_one("#chart", LineChart).series] == [MEMORY_BYTES["iris"]]


async def test_tab_walks_the_candidates_shown_under_the_editor(prometheus):
    app, _ = live_app(prometheus.url)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot, app)
        editor = screen.query_one("#editor", PromQLEditor)
        label = editor.query_one("#candidates")

        def highlighted() -> list[str]:
            text = label.content  # the Rich Text the editor gave the label
            return [text.plain[s.start:s.end] for s in getattr(text, "spans", ()) if "reverse" in str(s.style)]

        await type_query(pilot, "mlc_m")
        both = "mlc_many_series  mlc_model_memory_bytes"
        await wait_until(pilot, lambda: str(label.render()) == both, what="the two candidates listed")
        walk = [("tab", "mlc_many_series"), ("tab", "mlc_model_memory_bytes"), ("tab", "mlc_many_series"),
                ("shift+tab", "mlc_model_memory_bytes"), ("shift+tab", "mlc_many_series")]
        for key, want in walk:
            await pilot.press(key)
            await pilot.pause()
            assert editor.input.value == want and editor.input.cursor_position == len(want), key
            assert highlighted() == [want] and str(label.render()).endswith(both), key
        # typing ends the walk: the next tab completes the new word
        await pilot.press("{")
        await wait_until(pilot, lambda: "idx" in str(label.render()).split(), what="label names")
        assert highlighted() == []
        await pilot.press("i", "tab")
        assert editor.input.value == "mlc_many_series{idx"
        # at 80 columns the one in the line stays in view among many
        await type_query(pilot, "mlc_many_series{idx=")
        await wait_until(pilot, lambda: "00" in str(label.render()).split(), what="60 label values")
        for _ in range(30):
            await pilot.press("tab")
        await pilot.pause()
        assert editor.input.value == 'mlc_many_series{idx="29"'
        assert highlighted() == ["29"] and str(label.render()).startswith("30/60  < ")
        assert len(str(label.render())) <= editor.content_region.width - 2


def title_of(screen) -> str:
    return str(screen.query_one("#metrics-title").render())


QUERIES = ("mlc_room_temperature_celsius", "mlc_model_memory_bytes", 'mlc_room_temperature_celsius{room="attic"}',
           "up", "mlc_requests_total")


async def test_promql_typed_on_the_colon_line_while_live(prometheus):
    # closing the `:` line resumes the pane, which polls the old query at once: its answer must not
    # undo the new query (it did: the header stayed `PromQL up`)
    app, _ = live_app(prometheus.url)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot, app)
        assert screen.live
        for query in QUERIES:
            await pilot.press("colon", *f"promql {query}", "enter")
            await wait_until(pilot, lambda q=query: screen.promql == q and screen.last_range.query == q,
                             what=f"{query} charted")
            assert title_of(screen).startswith(f"PromQL {query} ")
            polls = screen.polls
            await wait_until(pilot, lambda n=polls: screen.polls >= n + 2 and not screen.is_busy("poll"),
                             what="two more live polls")
            assert screen.promql == query and screen.last_range.query == query


async def test_promql_run_from_the_editor_while_a_poll_is_out(prometheus):
    app, made = live_app(prometheus.url)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot, app)
        backend = made["metrics"]
        for query in QUERIES[:3]:
            await type_query(pilot, query)
            old = screen.promql
            backend.gate.clear()  # the next poll (of the old query) is held until the query is run
            try:
                screen.poll()
                await wait_until(pilot, lambda: backend.running == 1, what="a poll of the old query out")
                await pilot.press("enter")
                assert screen._pending_query == query
            finally:
                backend.gate.set()
            await wait_until(pilot, lambda q=query: screen.promql == q and screen.last_range.query == q,
                             what=f"{query} charted after the {old} poll answered")
            assert title_of(screen).startswith(f"PromQL {query} ")


async def test_invalid_query_and_series_cap(prometheus):
    app, _ = live_app(prometheus.url)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot, app)
        await run(pilot, screen, "mlc_room_temperature_celsius")
        app.run_command_line("promql sum(rate(mlc_requests_total[1m])")
        await wait_until(pilot, lambda: screen.query_error, what="the server's error")
        assert "parse error" in str(screen.query_one("#query-error").render())
        assert screen.promql == "mlc_room_temperature_celsius"
        assert len(screen.query_one("#chart", LineChart).series) == 3
        await run(pilot, screen, "mlc_many_series")
        assert screen.query_one("#query-error").has_class("hidden")
        assert len(screen.query_one("#chart", LineChart).series) == 20
        assert "60 series: showing the first 20, 40 left out" in screen.query_one("#status").text


async def test_alert_pending_then_firing_and_targets(prometheus, exporter):
    app, _ = live_app(prometheus.url)
    async with app.run_test(size=(140, 40)) as pilot:
        await ready(pilot, app)

        async def alert_rows():
            await pilot.press("A")
            dialog = await wait_until(pilot, lambda: isinstance(app.screen, TableView) and app.screen,
                                      what="alerts dialog")
            rows = table_rows(dialog.query_one("DataTable"))
            await pilot.press("escape")
            return {r[1]: r for r in rows}

        rows = await alert_rows()
        assert rows["MlcAlwaysFiring"][0] == "FIRING" and rows["MlcAlwaysFiring"][5] == "always on"
        exporter.metrics["trigger"].set(1)
        try:
            for _ in range(60):
                rows = await alert_rows()
                if "MlcTriggerHigh" in rows:
                    break
                await pilot.pause(0.2)
            assert rows["MlcTriggerHigh"][0] == "PENDING"
            assert rows["MlcTriggerHigh"][2] == "page" and rows["MlcTriggerHigh"][5] == "trigger is 1"
            for _ in range(60):
                rows = await alert_rows()
                if rows["MlcTriggerHigh"][0] == "FIRING":
                    break
                await pilot.pause(0.2)
            assert rows["MlcTriggerHigh"][0] == "FIRING"
        finally:
            exporter.metrics["trigger"].set(0)
        await pilot.press("T")
        dialog = await wait_until(pilot, lambda: isinstance(app.screen, TableView) and app.screen, what="targets")
        targets = {r[1]: r for r in table_rows(dialog.query_one("DataTable"))}
        assert targets["exporter"][0] == "UP" and targets["exporter"][2] == exporter.address
        for _ in range(50):  # leave no pending alert behind for other tests
            if not [a for a in app.current_pane().backend.alerts() if a.name == "MlcTriggerHigh"]:
                break
            await pilot.pause(0.2)


@pytest.fixture(scope="module")
def restartable(tmp_path_factory, exporter):
    server = start_prometheus(tmp_path_factory.mktemp("prom-restart"), {"exporter": exporter.address})
    yield server
    server.stop()


async def test_prometheus_stopped_and_started_again(restartable):
    app, made = live_app(restartable.url, refresh_interval=0.3, timeout=2.0)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot, app)
        await wait_until(pilot, lambda: screen.query_one("#chart", LineChart).series, what="data")
        restartable.stop()
        await wait_until(pilot, lambda: screen.stale, what="stale after the server stopped")
        status = screen.query_one("#status").text
        assert "cannot connect to Prometheus" in status and restartable.url in status
        assert "showing the last data (stale)" in status and "retrying in" in status
        chart = screen.query_one("#chart", LineChart)
        assert chart.stale and chart.series
        await wait_until(pilot, lambda: "STALE (last good data" in screen_text(app), what="STALE on screen")
        restartable.start()
        await wait_until(pilot, lambda: not screen.stale, timeout=25, what="recovery")
        assert not chart.stale
        assert "answers again" in screen.query_one("#status").text
        await wait_until(pilot, lambda: "STALE" not in screen_text(app), what="STALE gone from the screen")
    assert made["metrics"].most_at_once == 1


async def test_a_slow_prometheus_is_reported_and_polls_never_overlap():
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(32)
        app, made = live_app(f"http://127.0.0.1:{silent.getsockname()[1]}", refresh_interval=0.2, timeout=0.4)
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await wait_until(pilot, lambda: app.current_pane() and app.current_pane().failures >= 2
                                      and app.current_pane(), timeout=15, what="two failed polls")
            assert "did not answer within 0.4s" in screen.query_one("#status").text
            assert not screen.stale  # nothing good was ever shown
            assert made["metrics"].most_at_once == 1
            assert made["metrics"].calls == screen.failures or made["metrics"].calls == screen.failures + 1
