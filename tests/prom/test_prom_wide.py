"""A query that returns 10,000 series, on a real Prometheus scraping an exporter of 10,000 series: the
answer is cut to the pane's 20 series in the backend (the worker thread), the points of the series that
are cut are never decoded, and the pane gets only what it shows, with how many were left out."""

from __future__ import annotations

import json
import subprocess
import sys
import tracemalloc
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from backends.metrics import InstantResult, RangeResult
from backends.metrics.prometheus import PrometheusMetrics, _Values, answer_text, decode_answer
from console.calls import BackendDone
from console.panes.metrics.polling import MAX_SERIES
from widgets.chart import LineChart

from .conftest import free_port, start_prometheus, wait_for
from .pane_helpers import first_poll, wait_until
from .test_prom_pane import metrics_app

WIDE = 10_000
QUERY = "mlc_wide_series"


# in a process of its own: a scrape must not wait for this process's decoding (1 s scrape timeout)
EXPORTER = f"""
import sys, time
from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import GaugeMetricFamily

class WideGauge:
    def describe(self):
        return []

    def collect(self):
        family = GaugeMetricFamily("{QUERY}", "{WIDE} series of one metric", labels=["idx"])
        for i in range({WIDE}):
            family.add_metric([f"{{i:05d}}"], float(i))
        yield family

registry = CollectorRegistry()
registry.register(WideGauge())
start_http_server(int(sys.argv[1]), addr="127.0.0.1", registry=registry)
while True:
    time.sleep(60)
"""


@pytest.fixture(scope="module")
def wide_prometheus(tmp_path_factory):
    """A Prometheus scraping ``mlc_wide_series{idx="00000".."09999"}`` = idx."""
    port = free_port()
    exporter = subprocess.Popen([sys.executable, "-c", EXPORTER, str(port)])
    server = None
    try:
        wait_for(lambda: httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).status_code == 200, 30,
                 what="the exporter")
        server = start_prometheus(tmp_path_factory.mktemp("prom-wide"), {"wide": f"127.0.0.1:{port}"})

        def scraped():
            r = httpx.get(f"{server.url}/api/v1/query", timeout=5,
                          params={"query": f"count(count_over_time({QUERY}[1m]) >= 2)"})
            result = r.json()["data"]["result"]
            return result and float(result[0]["value"][1]) == WIDE

        wait_for(scraped, 60, what=f"two scrapes of {WIDE} series")
        yield server
    finally:
        if server is not None:
            server.stop()
        exporter.kill()
        exporter.wait()


def _window() -> tuple[datetime, datetime]:
    # a window that runs ahead of now: Prometheus repeats each series' last sample into it (its 5 min
    # look-back), so every series has 146 points whatever the age of this Prometheus
    start = datetime.now(UTC)
    return start, start + timedelta(seconds=290)


def _plain(value):
    if isinstance(value, _Values):
        return value.decode()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def test_the_answer_decoded_in_pieces_is_the_json(wide_prometheus):
    start, end = _window()
    answer = httpx.post(f"{wide_prometheus.url}/api/v1/query_range", timeout=60,
                        data={"query": QUERY, "start": f"{start.timestamp():.3f}",
                              "end": f"{end.timestamp():.3f}", "step": "2"}).text
    decoded = decode_answer(answer)
    assert len(decoded["data"]["result"]) == WIDE
    assert isinstance(decoded["data"]["result"][0]["values"], _Values)  # located, not decoded
    assert _plain(decoded) == json.loads(answer)
    targets = httpx.get(f"{wide_prometheus.url}/api/v1/targets").text
    assert decode_answer(targets) == json.loads(targets)


def test_text_that_is_not_ascii_is_decoded_across_the_pieces():
    text = '{"pod": "caf\u00e9-\u20ac-\U0001d11e"}' * 1000  # 2, 3 and 4 bytes a character
    assert answer_text(text.encode(), piece=7) == text
    assert answer_text(b"\xff{}") == "\ufffd{}"  # not UTF-8: replaced, then refused as JSON


def test_a_range_query_keeps_the_first_series_and_decodes_only_their_points(wide_prometheus):
    backend = PrometheusMetrics.from_settings({"prometheus_url": wide_prometheus.url, "timeout": 60})
    start, end = _window()
    backend.range_query(QUERY, start, end, 2, MAX_SERIES)  # the client and its imports are in place
    answer = httpx.post(f"{wide_prometheus.url}/api/v1/query_range", timeout=60, data={
        "query": QUERY, "start": f"{start.timestamp():.3f}", "end": f"{end.timestamp():.3f}", "step": "2"})
    answer_size = len(answer.content)
    assert answer_size > 20_000_000, answer.text
    tracemalloc.start()
    try:
        result = backend.range_query(QUERY, start, end, 2, MAX_SERIES)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.total_series == WIDE and result.left_out == WIDE - MAX_SERIES
    assert [s.label("idx") for s in result.series] == [f"{i:05d}" for i in range(MAX_SERIES)]
    assert all(len(s.points) >= 140 and {v for _, v in s.points} == {float(s.label("idx"))}
               for s in result.series)
    # the answer's bytes, its text and the kept series: decoding all 1.46 million points would take
    # several times the answer's size
    assert peak < 3 * answer_size, (peak, answer_size)


async def test_the_pane_gets_20_series_and_says_how_many_were_left_out(wide_prometheus):
    arrived: list[object] = []

    def hook(message):
        if isinstance(message, BackendDone) and message.group == "poll" and message.result:
            arrived.extend(result for _, result in message.result)

    app = metrics_app(wide_prometheus.url, timeout=60.0, refresh_interval=1.0)
    async with app.run_test(size=(120, 40), message_hook=hook) as pilot:
        screen = await first_poll(pilot, app)
        app.run_command_line(f"promql {QUERY}")
        # (a young Prometheus: the first polls may end before its first scrape)
        await wait_until(pilot, lambda: screen.last_range.query == QUERY and screen.last_range.total_series == WIDE
                         and not screen.is_busy("poll"), timeout=120, what=f"{QUERY} charted")
        ranges = [r for r in arrived if isinstance(r, RangeResult) and r.query == QUERY]
        instants = [r for r in arrived if isinstance(r, InstantResult) and r.query == QUERY]
        assert any(r.total_series == WIDE for r in ranges) and any(r.total_samples == WIDE for r in instants)
        # what crossed to the UI thread was already cut
        assert all(len(r.series) == min(MAX_SERIES, r.total_series) for r in ranges)
        assert all(len(r.samples) == min(200, r.total_samples) for r in instants)
        chart = screen.query_one("#chart", LineChart)
        assert [s.name for s in chart.series] == [f"idx={i:05d}" for i in range(MAX_SERIES)]
        assert (f"{WIDE} series: showing the first {MAX_SERIES}, {WIDE - MAX_SERIES} left out"
                in screen.query_one("#status").text)
