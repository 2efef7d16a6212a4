"""PrometheusMetrics against a real Prometheus scraping an exporter with known values."""

from __future__ import annotations

import math
import socket
import time
from datetime import UTC, datetime, timedelta

import pytest

from backends.errors import BackendTimeout, InvalidQuery, NotConfigured, Unreachable
from backends.metrics import MetricsSource, legend_names, step_for
from backends.metrics.prometheus import PrometheusMetrics, parse_time

from .conftest import MANY_SERIES, MEMORY_BYTES, TEMPERATURES, free_port, wait_for


def now() -> datetime:
    return datetime.now(UTC)


def test_not_configured_names_the_setting_flag_and_env(monkeypatch):
    monkeypatch.delenv("PROMETHEUS_URL", raising=False)
    with pytest.raises(NotConfigured) as err:
        PrometheusMetrics.from_settings({})
    text = str(err.value)
    assert "prometheus_url" in text and "--prometheus-url" in text and "PROMETHEUS_URL" in text


def test_env_var_fallback_and_bad_url(monkeypatch):
    monkeypatch.setenv("PROMETHEUS_URL", "http://127.0.0.1:9/prom/")
    backend = PrometheusMetrics.from_settings({})
    assert backend.endpoint == "http://127.0.0.1:9/prom"
    assert isinstance(backend, MetricsSource)
    with pytest.raises(NotConfigured, match="not an http"):
        PrometheusMetrics.from_settings({"prometheus_url": "localhost:9090"})


def test_credentials_in_url_never_show():
    backend = PrometheusMetrics.from_settings(
        {"prometheus_url": "https://alice:hunter2@127.0.0.1:1/", "timeout": 1})
    assert backend.endpoint == "https://127.0.0.1:1"
    assert "hunter2" not in repr(backend)
    with pytest.raises(Unreachable) as err:
        backend.metric_names()
    assert "hunter2" not in str(err.value) and "alice" not in str(err.value)


def test_instant_query_returns_the_exporters_values(settings):
    backend = PrometheusMetrics.from_settings(settings)
    result = backend.instant_query("mlc_room_temperature_celsius")
    got = {dict(s.labels)["room"]: s.value for s in result.samples}
    assert got == TEMPERATURES
    assert result.result_type == "vector"
    assert all(dict(s.labels)["job"] == "exporter" for s in result.samples)
    scalar = backend.instant_query("1 + 2")
    assert scalar.result_type == "scalar" and scalar.samples[0].value == 3.0


def test_range_query_points_step_and_legend(settings):
    backend = PrometheusMetrics.from_settings(settings)
    end = now()
    start = end - timedelta(seconds=30)
    result = backend.range_query("mlc_model_memory_bytes", start, end, step=2)
    assert result.total_series == 2 and result.left_out == 0
    by_model = {s.label("model"): s for s in result.series}
    assert set(by_model) == set(MEMORY_BYTES)
    for model, series in by_model.items():
        assert series.last == MEMORY_BYTES[model] == series.max == series.min
        times = [t for t, _ in series.points]
        assert all(b - a == pytest.approx(2.0) for a, b in zip(times, times[1:]))
    assert legend_names(result.series) == ["model=iris", "model=wine"]
    single = backend.range_query('mlc_model_memory_bytes{model="iris"}', start, end, step=5)
    assert legend_names(single.series)[0].startswith('mlc_model_memory_bytes{')
    assert 'model="iris"' in legend_names(single.series)[0]


def test_rate_of_a_counter(settings):
    backend = PrometheusMetrics.from_settings(settings)
    result = backend.instant_query("sum by (code) (mlc_requests_total)")
    assert {dict(s.labels)["code"]: s.value for s in result.samples} == {"200": 100.0, "500": 3.0}


def test_series_cap_says_how_many_were_left_out(settings):
    backend = PrometheusMetrics.from_settings(settings)
    end = now()
    result = backend.range_query("mlc_many_series", end - timedelta(seconds=20), end, 5,
                                 max_series=20)
    assert len(result.series) == 20
    assert result.total_series == MANY_SERIES and result.left_out == MANY_SERIES - 20
    assert [s.label("idx") for s in result.series] == [f"{i:02d}" for i in range(20)]


def test_invalid_query_carries_prometheus_message(settings):
    backend = PrometheusMetrics.from_settings(settings)
    with pytest.raises(InvalidQuery) as err:
        backend.range_query("sum(rate(mlc_requests_total[1m])", now() - timedelta(minutes=5), now(), 5)
    assert err.value.status == 400
    assert "parse error" in err.value.detail
    assert "rejected the query" in str(err.value) and "127.0.0.1" in str(err.value)
    with pytest.raises(InvalidQuery) as err:
        backend.instant_query("mlc_requests_total{")
    assert "unexpected" in err.value.detail


def test_completion_comes_from_the_server(settings, exporter):
    backend = PrometheusMetrics.from_settings(settings)
    names = backend.metric_names()
    for expected in ("mlc_room_temperature_celsius", "mlc_model_memory_bytes", "mlc_requests_total",
                     "mlc_many_series", "seldon_api_executor_server_requests_seconds_bucket"):
        assert expected in names
    assert "room" in backend.label_names("mlc_room_temperature_celsius")
    assert "idx" not in backend.label_names("mlc_room_temperature_celsius")
    assert backend.label_values("room") == tuple(sorted(TEMPERATURES))
    assert backend.label_values("model", "mlc_model_memory_bytes") == ("iris", "wine")
    with pytest.raises(InvalidQuery):
        backend.label_values("not a label")


def test_alert_goes_pending_then_firing(settings, exporter):
    backend = PrometheusMetrics.from_settings(settings)
    always = [a for a in backend.alerts() if a.name == "MlcAlwaysFiring"]
    assert always and always[0].state == "firing"
    assert dict(always[0].annotations)["summary"] == "always on"
    assert not [a for a in backend.alerts() if a.name == "MlcTriggerHigh"]
    exporter.metrics["trigger"].set(2)
    try:
        pending = wait_for(lambda: [a for a in backend.alerts()
                                    if a.name == "MlcTriggerHigh" and a.state == "pending"],
                           10, what="MlcTriggerHigh pending")[0]
        assert pending.severity == "page"
        assert dict(pending.annotations)["summary"] == "trigger is 2"
        assert pending.active_at is not None
        assert abs((now() - pending.active_at).total_seconds()) < 15
        firing = wait_for(lambda: [a for a in backend.alerts()
                                   if a.name == "MlcTriggerHigh" and a.state == "firing"],
                          15, what="MlcTriggerHigh firing")[0]
        assert firing.active_at == pending.active_at
        # firing alerts sort first
        assert backend.alerts()[0].state == "firing"
    finally:
        exporter.metrics["trigger"].set(0)


def test_target_goes_down(settings, flaky_exporter):
    backend = PrometheusMetrics.from_settings(settings)
    targets = {t.job: t for t in backend.targets()}
    assert targets["flaky"].health == "up" and targets["exporter"].health == "up"
    assert targets["flaky"].instance == flaky_exporter.address
    assert targets["flaky"].last_scrape is not None
    flaky_exporter.stop()
    down = wait_for(lambda: [t for t in backend.targets() if t.job == "flaky" and t.health == "down"],
                    10, what="flaky target down")[0]
    # Prometheus's own words for a target that went away: refused, reset, or the connection closed mid-scrape
    assert any(word in down.last_error for word in ("connection refused", "connection reset", "EOF"))
    assert {t.job: t.health for t in backend.targets()}["exporter"] == "up"


def test_unreachable_says_where():
    port = free_port()
    backend = PrometheusMetrics.from_settings({"prometheus_url": f"http://127.0.0.1:{port}", "timeout": 2})
    with pytest.raises(Unreachable) as err:
        backend.alerts()
    assert f"127.0.0.1:{port}" in str(err.value)
    assert err.value.hint and "prometheus_url" in err.value.hint
    assert err.value.detail == "[Errno 111] Connection refused"  # the cause, not the client's wrapping of it


def test_a_server_that_never_answers_times_out():
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        backend = PrometheusMetrics.from_settings({"prometheus_url": url, "timeout": 0.5})
        started = time.monotonic()
        with pytest.raises(BackendTimeout) as err:
            backend.instant_query("up")
        assert time.monotonic() - started >= 0.45  # it waited for its timeout, and then gave up:
        assert "0.5s" in str(err.value)
        silent.setblocking(False)
        connections = []
        try:
            while True:
                connections.append(silent.accept()[0])
        except BlockingIOError:
            pass
        for connection in connections:
            connection.close()
        assert len(connections) == 1  # once, not again and again


def test_step_fits_the_width_and_time_parsing():
    assert step_for(300, 60) == 3.0
    assert step_for(604800, 100) == 3024.0
    assert step_for(10, 200) == 1.0
    assert parse_time("0001-01-01T00:00:00Z") is None
    parsed = parse_time("2024-05-01T10:20:30.123456789Z")
    assert parsed == datetime(2024, 5, 1, 10, 20, 30, 123456, tzinfo=UTC)


def test_nan_values_survive(settings):
    backend = PrometheusMetrics.from_settings(settings)
    result = backend.instant_query("0/0")
    assert math.isnan(result.samples[0].value)
