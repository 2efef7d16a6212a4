"""Frozen in-memory runs, experiments and registry: the ``fake`` runs backend for snapshot tests.

Everything here is fixed (ids, times, values), so screens built on it look the same on every
machine. The seven runs are the seed's train_diabetes alpha / l1_ratio pairs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from backends.errors import InvalidQuery, NotFound
from backends.runs import (
    SORT_ATTRIBUTES,
    SORT_KINDS,
    Artifact,
    ColumnSpec,
    DatasetInput,
    Experiment,
    ExperimentStats,
    LoggedModel,
    MetricHistory,
    MetricPoint,
    ModelVersion,
    RegisteredModel,
    RunDetail,
    RunPage,
    RunQuery,
    RunSummary,
    SortKey,
)

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
_PAIRS = ((0.01, 0.01), (0.01, 0.75), (0.01, 1.0), (0.05, 1.0), (0.05, 0.01), (0.5, 0.8), (0.8, 1.0))
_RMSE = (71.40, 65.29, 63.25, 63.20, 78.72, 70.60, 66.97)
_R2 = (0.229, 0.349, 0.389, 0.390, 0.063, 0.246, 0.314)
_MAE = (60.09, 53.60, 51.88, 51.91, 66.49, 60.10, 56.22)
_FEATURES = ("age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6")


def _run(i: int) -> RunSummary:
    alpha, l1 = _PAIRS[i]
    start = T0 + timedelta(minutes=7 * i)
    return RunSummary(
        run_id=f"{i + 1:02d}" + "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5"[: 30],
        run_name=f"enet-{alpha}-{l1}",
        experiment_id="1",
        status="FAILED" if i == 4 else "FINISHED",
        start_time=start,
        end_time=start + timedelta(seconds=4 + i),
        params=(("alpha", str(alpha)), ("l1_ratio", str(l1))),
        metrics=(("mae", _MAE[i]), ("r2", _R2[i]), ("rmse", _RMSE[i]), ("train_rmse", _RMSE[i] - 8.0)),
        tags=(("mlflow.runName", f"enet-{alpha}-{l1}"), ("mlflow.source.git.commit", "3fba1072c0ffee5e")),
        user="mlops",
    )


RUNS = tuple(_run(i) for i in range(len(_PAIRS)))
EXPERIMENTS = (
    Experiment("0", "Default", created=T0 - timedelta(days=30), last_update=T0 - timedelta(days=30)),
    Experiment("1", "diabetes", artifact_location="/srv/mlruns/1", created=T0 - timedelta(days=1),
               last_update=T0 + timedelta(minutes=45)),
    Experiment("2", "wine-quality", artifact_location="/srv/mlruns/2", created=T0 - timedelta(days=9),
               last_update=T0 - timedelta(days=2)),
)
MODELS = (
    RegisteredModel("diabetes-elasticnet", "ElasticNet on the diabetes data", T0 + timedelta(hours=1),
                    T0 + timedelta(hours=2), aliases=(("champion", "2"),), latest_versions=("2",)),
)
VERSIONS = (
    ModelVersion("diabetes-elasticnet", "2", "READY", "", ("champion",), T0 + timedelta(hours=2),
                 RUNS[3].run_id, "models:/m-0002"),
    ModelVersion("diabetes-elasticnet", "1", "READY", "", (), T0 + timedelta(hours=1),
                 RUNS[2].run_id, "models:/m-0001"),
)


def _key(run: RunSummary, column: str) -> Any:
    kind, _, name = column.partition(".")
    name = name.strip("`\"")
    if kind == "metrics":
        return run.metric(name)
    if kind == "params":
        return run.param(name)
    if kind == "tags":
        return run.tag(name)
    return {"run_name": run.run_name, "start_time": run.start_time, "end_time": run.end_time,
            "status": run.status}.get(name)


def _sorted(runs: list[RunSummary], key: SortKey) -> list[RunSummary]:
    """``runs`` in ``key``'s order, as MLflow orders them: values, then NaN, then runs without one."""
    values = [(run, _key(run, key.column)) for run in runs]
    present = [(run, v) for run, v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    present.sort(key=lambda pair: pair[1], reverse=key.descending)  # stable: ties keep the earlier order
    nan = [run for run, v in values if isinstance(v, float) and math.isnan(v)]
    return [run for run, _ in present] + nan + [run for run, v in values if v is None]


class FakeRuns:
    """A frozen experiment of seven runs; sorts and pages like a store, knows a tiny filter syntax."""

    endpoint = "fake://runs"

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> FakeRuns:
        return cls()

    def list_experiments(self) -> tuple[Experiment, ...]:
        return EXPERIMENTS

    def experiment_stats(self, experiment_id: str, cap: int = 1000) -> ExperimentStats:
        runs = [r for r in RUNS if r.experiment_id == experiment_id]
        counts = {"2": 12}
        last = max((r.start_time for r in runs if r.start_time is not None), default=None)
        if experiment_id == "2":
            last = T0 - timedelta(days=2)
        return ExperimentStats(experiment_id, counts.get(experiment_id, len(runs)), False, last)

    def search_runs(self, query: RunQuery, page_token: str | None = None) -> RunPage:
        runs = [r for r in RUNS if r.experiment_id in query.experiment_ids]
        text = query.filter.strip()
        if text:
            field, _, rest = text.partition(" ")
            op, _, value = rest.strip().partition(" ")
            if op not in ("<", ">", "=", "<=", ">=", "!=") or not value:
                raise InvalidQuery(f"the run search was rejected: Invalid filter '{text}'",
                                   endpoint=self.endpoint, detail=f"Invalid filter '{text}'")
            val: Any = value.strip("'\"")
            ops = {"<": lambda a, b: a < b, ">": lambda a, b: a > b, "=": lambda a, b: a == b,
                   "<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b, "!=": lambda a, b: a != b}
            if field.startswith("metrics."):
                val = float(val)
            runs = [r for r in runs if _key(r, field) is not None and ops[op](_key(r, field), val)]
        for key in query.sort:
            if key.kind not in SORT_KINDS or not key.name or (
                    key.kind == "attributes" and key.name not in SORT_ATTRIBUTES):
                raise InvalidQuery("the run search was rejected", endpoint=self.endpoint,
                                   detail=f"bad sort key {key.column!r}")
        for key in reversed(query.sort):  # least significant first: each stable sort keeps the previous order
            runs = _sorted(runs, key)
        start = int(page_token or 0)
        chunk = runs[start:start + query.page_size]
        nxt = start + query.page_size
        return RunPage(tuple(chunk), str(nxt) if nxt < len(runs) else None, query)

    def get_run(self, run_id: str) -> RunDetail:
        summary = next((r for r in RUNS if r.run_id == run_id), None)
        if summary is None:
            raise NotFound(f"could not load run {run_id}: Run with id={run_id} not found",
                           endpoint=self.endpoint)
        model_files = (Artifact("MLmodel", False, 1421), Artifact("conda.yaml", False, 126),
                       Artifact("model.skops", False, 11007), Artifact("python_env.yaml", False, 112),
                       Artifact("requirements.txt", False, 27))
        return RunDetail(
            summary=summary,
            git_commit=summary.tag("mlflow.source.git.commit"),
            source="train_diabetes.py",
            artifact_uri=f"/srv/mlruns/1/{run_id}/artifacts",
            artifacts=(
                Artifact("report", True, None, 0,
                         (Artifact("report/coefficients.json", False, 230, 1),)),
                Artifact("notes.txt", False, 24),
            ),
            models=(LoggedModel(
                "model", "m-" + run_id[:8], "models:/m-" + run_id[:8], ("python_function", "sklearn"),
                tuple(ColumnSpec(f, "double") for f in _FEATURES),
                (ColumnSpec("-", "tensor float64 (-1,)"),), model_files),),
            datasets=(DatasetInput("diabetes-train", "fae4d82d", "code", "training",
                                   '{"num_rows": 331, "num_elements": 3310}'),),
        )

    def metric_history(self, run_id: str, key: str) -> MetricHistory:
        summary = next((r for r in RUNS if r.run_id == run_id), None)
        if summary is None:
            raise NotFound(f"no run {run_id}", endpoint=self.endpoint)
        final = summary.metric(key) or 0.0
        idx = RUNS.index(summary)
        points = tuple(
            MetricPoint(step, round(final + (12.0 + idx) / (step + 1), 3), T0 + timedelta(seconds=step))
            for step in range(8)
        )
        return MetricHistory(run_id, key, points, summary.run_name)

    def list_registered_models(self) -> tuple[RegisteredModel, ...]:
        return MODELS

    def model_versions(self, name: str) -> tuple[ModelVersion, ...]:
        if name not in {m.name for m in MODELS}:
            raise NotFound(f"no registered model {name!r}", endpoint=self.endpoint)
        return VERSIONS
