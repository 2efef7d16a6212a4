"""Canary vs main: the sides of a deployment (a SeldonDeployment's predictors, an InferenceService's revisions) and
the golden-signal queries of each side, from the built-in model-serving dashboard's own expressions.

A side is told apart in PromQL only by what the series carry:
- Seldon Core v1 executor metrics (``seldon_api_executor_*``) carry ``predictor_name``;
- MLServer metrics scraped in a cluster carry the pod name: a SeldonDeployment's pods are
  ``<sdep>-<predictor>-<n>-<container>-...``, a KServe revision's are ``<revisionName>-deployment-...``.
The dashboard's ``deployment_name=~"$deployment"`` matchers get ``predictor_name`` beside them and its
``pod=~"$deployment.*"`` matchers become the side's pod pattern; everything else in the queries stays as it is.

Plain Python (called from worker threads), no Textual.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from backends.deployments.contract import ENDPOINT, INFERENCE_SERVICE, SELDON_DEPLOYMENT, Deployment
from backends.errors import InvalidQuery
from backends.metrics import MetricsSource, RangeResult
from backends.metrics.dashboards import exact_regex, expand, promql_string, regex_literal
from console.links import golden_exprs

#: the golden signals compared: (key, name, unit of widgets.chart.format_value)
SIGNALS = (("rate", "request rate", "req/s"), ("p95", "p95 latency", "seconds"), ("errors", "error ratio", "ratio"))
MAX_SERIES = 20

_EXECUTOR = re.compile(r'deployment_name\s*=~\s*"\$deployment"')
_POD = re.compile(r'pod\s*=~\s*"\$deployment\.\*"')


@dataclass(frozen=True)
class Side:
    """One side of a comparison: a predictor of a SeldonDeployment or a revision of an InferenceService."""

    kind: str  # "predictor" / "revision"
    name: str  # the predictor's name, or the revision's name
    traffic: int | None = None  # percent of the requests
    shadow: bool = False
    tag: str = ""  # a revision's traffic tag (prev, latest)
    main: bool = False
    pod_pattern: str = ""  # the regex its pods' names match
    predictor_name: str = ""  # the executor metrics' predictor_name ("" : no executor in front of it)

    @property
    def label(self) -> str:
        """Short, for a chart's heading and a table's column: ``canary 25%``, ``latest 10%``."""
        name = self.tag or self.name
        share = "shadow" if self.shadow else "" if self.traffic is None else f"{self.traffic}%"
        return f"{name} {share}".strip()

    @property
    def title(self) -> str:
        role = "main" if self.main else "shadow" if self.shadow else "canary"
        what = f"{self.kind} {self.name}" + (f" (tag {self.tag})" if self.tag else "")
        share = "" if self.traffic is None or self.shadow else f", {self.traffic}% of the traffic"
        return f"{role}: {what}{share}"

    def selector_text(self, namespace: str) -> str:
        """How its series are picked out, in PromQL words."""
        parts = []
        if self.predictor_name:
            parts.append(f"predictor_name={promql_string(self.predictor_name)} (Seldon executor)")
        parts.append(f"pod=~{promql_string(self.pod_pattern)} (MLServer)")
        return " or ".join(parts) + f", namespace {namespace or 'any'}"

    def no_series_text(self, namespace: str) -> str:
        return f"no series for {self.kind} {self.name}: {self.selector_text(namespace)} match nothing"


def sides_of(d: Deployment) -> tuple[list[Side], str]:
    """The sides of ``d`` to compare (the main one first) and, when there are fewer than two, why not."""
    sides: list[Side] = []
    if d.kind == SELDON_DEPLOYMENT:
        for p in d.predictors:
            if p.traffic == 0 and not p.shadow:
                continue  # sent nothing: no series to compare
            pattern = f"{regex_literal(d.name)}-{regex_literal(p.name)}-[0-9]+-.*"
            sides.append(Side("predictor", p.name, p.traffic, p.shadow, pod_pattern=pattern, predictor_name=p.name))
        what = "predictor"
    elif d.kind == INFERENCE_SERVICE:
        tags = {r.tag: r for r in d.revisions}
        seen: set[str] = set()
        for p in d.predictors:  # one per traffic target of status.components.predictor
            revision = tags[p.name].revision if p.name in tags else p.name
            if p.traffic == 0 or revision in seen or not revision.startswith(f"{d.name}-"):
                continue  # no traffic, the same revision twice, or no revision named yet (before the first status)
            seen.add(revision)
            sides.append(Side("revision", revision, p.traffic, tag=p.name if p.name in tags else "",
                              pod_pattern=f"{regex_literal(revision)}-deployment-.*"))
        what = "revision"
    else:
        what = "a model server's URL" if d.kind == ENDPOINT else f"{'an' if d.kind[0] in 'AEIOU' else 'a'} {d.kind}"
        return [], (f"{d.name} is {what} (kind {d.kind_short}): only a SeldonDeployment's predictors and an "
                    "InferenceService's revisions have sides to compare")
    if len(sides) < 2:
        listed = ", ".join(p.name + (":shadow" if p.shadow else "" if p.traffic is None else f":{p.traffic}%")
                           for p in d.predictors) or "none"
        return [], (f"{d.name} has one {what} taking traffic ({listed}): nothing to compare it with "
                    f"(a canary is a second {what} with a share of the traffic)")
    serving = [s for s in sides if not s.shadow] or sides
    top = max(serving, key=lambda s: -1 if s.traffic is None else s.traffic)  # the first of equals
    sides.remove(top)
    return [Side(top.kind, top.name, top.traffic, top.shadow, top.tag, True, top.pod_pattern, top.predictor_name),
            *sides], ""


def side_expr(expr: str, d: Deployment, side: Side, step: float, window: float) -> str:
    """``expr`` narrowed to ``side`` of ``d``; InvalidQuery when it has no matcher a side can be told apart by."""
    predictor = side.predictor_name or side.name
    executor = f"deployment_name={promql_string(d.name)}, predictor_name={promql_string(predictor)}"
    pod = f"pod=~{promql_string(side.pod_pattern)}"
    narrowed, executors = _EXECUTOR.subn(lambda _m: executor, expr)  # functions: the texts hold backslashes
    narrowed, pods = _POD.subn(lambda _m: pod, narrowed)
    if not executors and not pods:
        raise InvalidQuery(f"the query has neither deployment_name=~\"$deployment\" nor pod=~\"$deployment.*\" "
                           f"to narrow to {side.kind} {side.name}: {expr}")
    # the rest of the query's $deployment and $namespace: inside "..." regex matchers
    values = {"deployment": exact_regex(d.name), "namespace": exact_regex(d.namespace) if d.namespace else ".*"}
    return expand(narrowed, values, step, window)


@dataclass(frozen=True)
class Plan:
    """What a comparison asks: each side's query of each signal."""

    deployment: Deployment
    sides: tuple[Side, ...]
    queries: Mapping[str, Mapping[str, str]]  # side name -> signal key -> PromQL (with $__rate_interval)


def make_plan(d: Deployment, sides: Sequence[Side], board: Any) -> Plan:
    exprs = golden_exprs(board)  # the ones `:trace` reads too
    if "rate" in exprs:
        exprs["rate"] = f"sum({exprs['rate']})"  # one line a side, whatever the query sums by
    missing = [name for key, name, _ in SIGNALS if key not in exprs]
    if missing:
        raise InvalidQuery(f"the model-serving dashboard has no {', '.join(missing)} query to compare")
    return Plan(d, tuple(sides), {s.name: dict(exprs) for s in sides})


@dataclass
class SideAnswer:
    """One poll of one side: each signal's series (summed into one line) or why there is none."""

    points: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)  # signal -> the server's words
    matched: bool = False  # any series matched the side's selector (its request rate query)

    def last(self, key: str) -> float | None:
        for _, value in reversed(self.points.get(key, ())):
            if not math.isnan(value):
                return value
        return None


def read_sides(metrics: MetricsSource, plan: Plan, start: datetime, end: datetime,
               step: float) -> dict[str, SideAnswer]:
    """Every side's golden signals over ``start..end`` (in a worker thread). A query the server rejects gives
    its words for that signal; anything else (unreachable, timeout) ends the poll."""
    window = (end - start).total_seconds()
    answers: dict[str, SideAnswer] = {}
    for side in plan.sides:
        answer = answers[side.name] = SideAnswer()
        for key, _name, _unit in SIGNALS:
            try:
                query = side_expr(plan.queries[side.name][key], plan.deployment, side, step, window)
                result: RangeResult = metrics.range_query(query, start, end, step, MAX_SERIES)
            except InvalidQuery as exc:
                answer.errors[key] = exc.detail or str(exc)
                continue
            if key == "rate" and result.series:
                answer.matched = True
            # a side is one line: its series (one, as the queries sum) added up at each time
            summed: dict[float, float] = {}
            for series in result.series:
                for t, v in series.points:
                    if not math.isnan(v):
                        summed[t] = summed.get(t, 0.0) + v
                    else:
                        summed.setdefault(t, v)
            answer.points[key] = sorted(summed.items())
    return answers


def difference(main: float | None, other: float | None) -> tuple[float, float | None] | None:
    """``other - main`` and that as a percentage of ``main`` (None when main is 0); None when either is unknown."""
    if main is None or other is None:
        return None
    delta = other - main
    return delta, (delta / main * 100.0 if main else None)
