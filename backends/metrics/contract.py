"""The Metrics pane's backend contract: PromQL range and instant queries, completion, alerts,
targets and dashboards.

Plain Python (no textual). Implementations: :mod:`backends.metrics.prometheus` (a real
Prometheus over HTTP) and :mod:`backends.metrics.fake` (frozen data for snapshot tests).
Times are timezone-aware :class:`datetime` objects; chart points are ``(unix seconds, value)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from backends.metrics.dashboards import Dashboard, ImportReport, Panel, PanelTarget, Variable

__all__ = [
    "Alert", "Dashboard", "ImportReport", "InstantResult", "InstantSample", "MetricsSource",
    "Panel", "PanelTarget", "RangeResult", "Series", "Target", "Variable", "WINDOWS",
    "legend_names", "step_for",
]

Labels = tuple[tuple[str, str], ...]

#: the time windows ``[`` and ``]`` step through, in seconds, with their names
WINDOWS: tuple[tuple[str, int], ...] = (
    ("5m", 300), ("15m", 900), ("1h", 3600), ("6h", 21600), ("24h", 86400), ("7d", 604800),
)


def labels_of(mapping: dict[str, str]) -> Labels:
    """A sorted tuple of label pairs (hashable, comparable) from a dict."""
    return tuple(sorted(mapping.items()))


@dataclass(frozen=True)
class Series:
    """One time series of a range query: its labels (with ``__name__`` when the result has one)
    and its points ``(unix seconds, value)`` in time order (NaN for Prometheus' NaN)."""

    labels: Labels
    points: tuple[tuple[float, float], ...]

    @property
    def name(self) -> str:
        return self.label("__name__")

    def label(self, key: str, default: str = "") -> str:
        for k, v in self.labels:
            if k == key:
                return v
        return default

    def _values(self) -> list[float]:
        return [v for _, v in self.points if not math.isnan(v)]

    @property
    def last(self) -> float | None:
        values = self._values()
        return values[-1] if values else None

    @property
    def min(self) -> float | None:
        values = self._values()
        return min(values) if values else None

    @property
    def max(self) -> float | None:
        values = self._values()
        return max(values) if values else None


@dataclass(frozen=True)
class RangeResult:
    """The answer to a range query. ``series`` is capped at the caller's ``max_series``;
    ``total_series`` says how many the server returned (``left_out`` how many were dropped)."""

    query: str
    start: datetime
    end: datetime
    step: float
    series: tuple[Series, ...]
    total_series: int
    warnings: tuple[str, ...] = ()

    @property
    def left_out(self) -> int:
        return self.total_series - len(self.series)


@dataclass(frozen=True)
class InstantSample:
    """One value of an instant query (a vector element, or the scalar with no labels)."""

    labels: Labels
    value: float
    timestamp: datetime

    @property
    def name(self) -> str:
        return dict(self.labels).get("__name__", "")


@dataclass(frozen=True)
class InstantResult:
    query: str
    time: datetime
    result_type: str  # vector | scalar | string
    samples: tuple[InstantSample, ...]
    total_samples: int
    warnings: tuple[str, ...] = ()

    @property
    def left_out(self) -> int:
        return self.total_samples - len(self.samples)


@dataclass(frozen=True)
class Alert:
    """A pending or firing alert (``/api/v1/alerts``)."""

    name: str
    state: str  # pending | firing
    labels: Labels
    annotations: Labels
    active_at: datetime | None
    value: str = ""

    @property
    def severity(self) -> str:
        return dict(self.labels).get("severity", "")


@dataclass(frozen=True)
class Target:
    """A scrape target (``/api/v1/targets``, active ones)."""

    job: str
    instance: str
    scrape_url: str
    health: str  # up | down | unknown
    last_scrape: datetime | None
    last_error: str
    last_scrape_duration: float
    labels: Labels = field(default=())


@runtime_checkable
class MetricsSource(Protocol):
    """What the Metrics pane needs from a metrics system. Every call may raise
    :class:`backends.errors.BackendError` subclasses: ``Unreachable``, ``BackendTimeout``,
    ``ServerError``, ``Forbidden``, and ``InvalidQuery`` (``detail`` = the server's message)."""

    endpoint: str
    refresh_interval: float

    def range_query(self, query: str, start: datetime, end: datetime, step: float,
                    max_series: int = 50) -> RangeResult: ...

    def instant_query(self, query: str, time: datetime | None = None,
                      max_series: int = 200) -> InstantResult: ...

    def metric_names(self) -> tuple[str, ...]: ...

    def label_names(self, match: str | None = None) -> tuple[str, ...]: ...

    def label_values(self, label: str, match: str | None = None) -> tuple[str, ...]: ...

    def alerts(self) -> tuple[Alert, ...]: ...

    def targets(self) -> tuple[Target, ...]: ...

    def dashboards(self) -> tuple[ImportReport, ...]:
        """The built-in dashboards and those in the context's ``dashboards`` folders, each with
        what could not be loaded from it (empty for a clean load)."""
        ...


def step_for(window_seconds: float, width_cells: int) -> float:
    """A query step that gives about one point per braille dot column of a chart ``width_cells``
    wide (two dots per cell), rounded up to whole seconds and at least 1 s."""
    dots = max(2, width_cells * 2)
    return float(max(1, math.ceil(window_seconds / dots)))


class Labelled(Protocol):
    """What legend names are built from: a label set (a range series, or an instant sample's labels)."""

    @property
    def labels(self) -> Labels: ...

    @property
    def name(self) -> str: ...

    def label(self, key: str, default: str = "") -> str: ...


def legend_names(series: Sequence[Labelled]) -> list[str]:
    """Legend texts built from the labels that differ between ``series``.

    One series: its full label set (``name{a="x"}``). Several: only the distinguishing labels
    (``pod=a, code=500``), falling back to the metric name when nothing differs.
    """
    if not series:
        return []
    if len(series) == 1:
        only = series[0]
        inner = ", ".join(f'{k}="{v}"' for k, v in only.labels if k != "__name__")
        name = only.name
        if not inner:
            return [name or "value"]
        return [f"{name}{{{inner}}}"]
    keys: set[str] = set()
    for s in series:
        keys.update(k for k, _ in s.labels)
    varying = sorted(k for k in keys if len({s.label(k) for s in series}) > 1)
    names = []
    for s in series:
        parts = [f"{k}={s.label(k)}" if k != "__name__" else s.label(k) for k in varying]
        names.append(", ".join(p for p in parts if p) or s.name or "value")
    return names
