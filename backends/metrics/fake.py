"""Frozen in-memory metrics: the ``fake`` metrics backend for snapshot tests.

Values are pure functions of the timestamps asked for (no clock, no randomness), the alerts and
targets carry fixed times, so a screen drawn at a frozen "now" looks the same on every machine.
The metric names are those of Seldon Core and MLServer deployments.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from backends.errors import InvalidQuery
from backends.metrics import (
    Alert,
    InstantResult,
    InstantSample,
    RangeResult,
    Series,
    Target,
    labels_of,
)
from backends.metrics.dashboards import ImportReport, load_folders

_DEPLOYMENTS = (("iris", "seldon"), ("wine", "seldon"), ("income", "models"))

#: metric name -> (label sets, base value per label set, kind)
_FAMILIES: dict[str, tuple[tuple[dict[str, str], ...], tuple[float, ...], str]] = {
    "seldon_api_executor_server_requests_seconds_count": (
        tuple({"deployment_name": d, "namespace": n, "code": "200", "method": "POST"}
              for d, n in _DEPLOYMENTS), (42.0, 17.0, 5.5), "counter"),
    "seldon_api_executor_server_requests_seconds_bucket": (
        tuple({"deployment_name": d, "namespace": n, "le": "0.1"} for d, n in _DEPLOYMENTS),
        (40.0, 15.0, 5.0), "counter"),
    "seldon_api_executor_client_requests_seconds_count": (
        tuple({"deployment_name": d, "namespace": n, "code": "200"} for d, n in _DEPLOYMENTS),
        (41.0, 16.5, 5.4), "counter"),
    "rest_server_requests_total": (
        ({"method": "POST", "path": "/v2/models/income/infer", "status_code": "200", "pod": "income-0"},
         {"method": "POST", "path": "/v2/models/income/infer", "status_code": "500", "pod": "income-0"}),
        (5.5, 0.2), "counter"),
    "rest_server_request_duration_seconds_bucket": (
        ({"le": "0.05", "pod": "income-0"},), (5.0,), "counter"),
    "rest_server_requests_in_progress": (({"pod": "income-0"},), (3.0,), "gauge"),
    "model_infer_request_success": (({"model": "income", "version": "v1", "pod": "income-0"},), (5.3,),
                                    "counter"),
    "model_infer_request_failure": (({"model": "income", "version": "v1", "pod": "income-0"},), (0.2,),
                                    "counter"),
    "container_cpu_usage_seconds_total": (
        tuple({"namespace": n, "pod": f"{d}-default-0-classifier-7d9f", "container": "classifier"}
              for d, n in _DEPLOYMENTS), (0.45, 0.21, 0.08), "counter"),
    "container_memory_working_set_bytes": (
        tuple({"namespace": n, "pod": f"{d}-default-0-classifier-7d9f", "container": "classifier"}
              for d, n in _DEPLOYMENTS), (412e6, 268e6, 151e6), "gauge"),
    "process_resident_memory_bytes": (
        ({"job": "mlserver", "instance": "10.1.2.7:8082"},), (289e6,), "gauge"),
    "model_queue_length": (
        tuple({"shard": f"{i:02d}"} for i in range(40)), tuple(2.0 + (i * 7) % 11 for i in range(40)),
        "gauge"),
    "up": (({"job": "seldon-iris", "instance": "10.1.2.5:8000"},
            {"job": "seldon-wine", "instance": "10.1.2.6:8000"},
            {"job": "mlserver-income", "instance": "10.1.2.7:8082"}), (1.0, 1.0, 0.0), "constant"),
}

_ALERTS = (
    Alert("ModelLatencyHigh", "firing",
          labels_of({"alertname": "ModelLatencyHigh", "deployment_name": "iris", "namespace": "seldon",
                     "severity": "page"}),
          labels_of({"summary": "p99 latency of iris above 250ms for 10m",
                     "runbook_url": "https://runbooks.example/latency"}),
          datetime(2026, 1, 15, 11, 42, 5, tzinfo=UTC), "3.1e-01"),
    Alert("ErrorRateHigh", "pending",
          labels_of({"alertname": "ErrorRateHigh", "deployment_name": "income", "namespace": "models",
                     "severity": "warning"}),
          labels_of({"summary": "3.5% of income's requests fail"}),
          datetime(2026, 1, 15, 11, 58, 30, tzinfo=UTC), "3.5e-02"),
)

_TARGETS = (
    Target("mlserver-income", "10.1.2.7:8082", "http://10.1.2.7:8082/metrics", "down",
           datetime(2026, 1, 15, 11, 59, 58, tzinfo=UTC),
           'Get "http://10.1.2.7:8082/metrics": dial tcp 10.1.2.7:8082: connect: connection refused', 0.0011,
           labels_of({"job": "mlserver-income", "instance": "10.1.2.7:8082"})),
    Target("seldon-iris", "10.1.2.5:8000", "http://10.1.2.5:8000/prometheus", "up",
           datetime(2026, 1, 15, 11, 59, 57, tzinfo=UTC), "", 0.0042,
           labels_of({"job": "seldon-iris", "instance": "10.1.2.5:8000"})),
    Target("seldon-wine", "10.1.2.6:8000", "http://10.1.2.6:8000/prometheus", "up",
           datetime(2026, 1, 15, 11, 59, 59, tzinfo=UTC), "", 0.0038,
           labels_of({"job": "seldon-wine", "instance": "10.1.2.6:8000"})),
)


def _check_syntax(query: str) -> None:
    depth = {"(": 0, "{": 0, "[": 0}
    closing = {")": "(", "}": "{", "]": "["}
    for index, char in enumerate(query, 1):
        if char in depth:
            depth[char] += 1
        elif char in closing:
            depth[closing[char]] -= 1
            if depth[closing[char]] < 0:
                raise InvalidQuery("Prometheus rejected the query", endpoint="fake://prometheus", status=400,
                                   detail=f"1:{index}: parse error: unexpected '{char}'")
    for char, count in depth.items():
        if count > 0:
            detail = f"1:{len(query) + 1}: parse error: unclosed left " + \
                     {"(": "parenthesis", "{": "brace", "[": "bracket"}[char]
            raise InvalidQuery("Prometheus rejected the query", endpoint="fake://prometheus",
                               status=400, detail=detail)


def _value(base: float, kind: str, t: float, phase: float, rate: bool) -> float:
    wave = 1 + 0.25 * math.sin(t / 900.0 + phase) + 0.08 * math.sin(t / 97.0 + 2 * phase)
    if kind == "constant":
        return base
    if kind == "counter" and not rate:
        return round(base * (t - 1.7e9) / 10.0, 0)
    return base * wave


class FakeMetrics:
    """:class:`backends.metrics.MetricsSource` on frozen data."""

    endpoint = "fake://prometheus"

    def __init__(self, refresh_interval: float = 5.0, dashboard_folders: tuple[str, ...] = ()) -> None:
        self.refresh_interval = refresh_interval
        self.dashboard_folders = dashboard_folders

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> FakeMetrics:
        return cls(float(settings.get("refresh_interval") or 5.0),
                   tuple(str(f) for f in settings.get("dashboards") or ()))

    # -- the query "engine": enough PromQL shape to look right ------------------------------
    def _series(self, query: str) -> list[tuple[dict[str, str], float, str, bool]]:
        _check_syntax(query)
        name = next((n for n in _FAMILIES if n in query), None)
        if name is None:
            return []
        label_sets, bases, kind = _FAMILIES[name]
        rate = "rate(" in query or "increase(" in query
        quantile = re.search(r"histogram_quantile\(\s*([0-9.]+)", query)
        if quantile:
            q = float(quantile.group(1))
            return [({}, 0.012 + 0.25 * q ** 6, "gauge", True)]
        if re.search(r"\)\s*/\s*\(?\s*sum", query):  # a share of a total: errors over requests
            share = 0.012 + 0.02 * (len(query) % 3)
            return [({}, share, "gauge", True)]
        by = re.search(r"\b(?:sum|avg|max|min|count)\s+by\s*\(([^)]*)\)", query)
        if by:
            keys = [k.strip() for k in by.group(1).split(",") if k.strip()]
            grouped: dict[tuple[tuple[str, str], ...], float] = {}
            for labels, base in zip(label_sets, bases):
                key = tuple((k, labels[k]) for k in keys if k in labels)
                grouped[key] = grouped.get(key, 0.0) + base
            return [(dict(k), v, kind, rate) for k, v in grouped.items()]
        if re.match(r"\s*(sum|avg|max|min|count)\s*\(", query):
            return [({}, sum(bases), kind, rate)]
        return [({"__name__": name, **labels}, base, kind, rate) for labels, base in zip(label_sets, bases)]

    def range_query(self, query: str, start: datetime, end: datetime, step: float,
                    max_series: int = 50) -> RangeResult:
        found = self._series(query)
        t0, t1 = start.timestamp(), end.timestamp()
        first = math.ceil(t0 / step) * step
        count = int((t1 - first) // step) + 1
        series = []
        for index, (labels, base, kind, rate) in enumerate(found):
            points = tuple((first + i * step, _value(base, kind, first + i * step, index * 1.3, rate))
                           for i in range(max(0, count)))
            series.append(Series(labels_of(labels), points))
        series.sort(key=lambda s: s.labels)
        return RangeResult(query, start, end, float(step), tuple(series[:max_series]), len(series))

    def instant_query(self, query: str, time: datetime | None = None,
                      max_series: int = 200) -> InstantResult:
        when = time or datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
        t = when.timestamp()
        samples = [InstantSample(labels_of(labels), _value(base, kind, t, i * 1.3, rate), when)
                   for i, (labels, base, kind, rate) in enumerate(self._series(query))]
        samples.sort(key=lambda s: s.labels)
        return InstantResult(query, when, "vector", tuple(samples[:max_series]), len(samples))

    # -- completion, alerts, targets ----------------------------------------------------------
    def metric_names(self) -> tuple[str, ...]:
        return tuple(sorted(_FAMILIES))

    def label_names(self, match: str | None = None) -> tuple[str, ...]:
        names: set[str] = set()
        for name, (label_sets, _, _) in _FAMILIES.items():
            if match is None or name in match:
                for labels in label_sets:
                    names.update(labels)
        return tuple(sorted(names))

    def label_values(self, label: str, match: str | None = None) -> tuple[str, ...]:
        values: set[str] = set()
        for name, (label_sets, _, _) in _FAMILIES.items():
            if match is None or name in match:
                values.update(labels[label] for labels in label_sets if label in labels)
        if label == "__name__":
            values.update(_FAMILIES)
        return tuple(sorted(values))

    def alerts(self) -> tuple[Alert, ...]:
        return _ALERTS

    def targets(self) -> tuple[Target, ...]:
        return _TARGETS

    def dashboards(self) -> tuple[ImportReport, ...]:
        return load_folders(self.dashboard_folders)
