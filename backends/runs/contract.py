"""The Runs pane's backend contract: experiments, runs, metric histories, the model registry.

Plain Python, no heavy imports: an implementation (``backends.runs.mlflow_inprocess.MlflowRuns``) imports
its library only when first used. Every call may raise a :class:`backends.errors.BackendError`
subclass: ``InvalidQuery`` for a filter or sort the store rejects (``detail`` is the store's own
message), ``Unreachable`` / ``BackendTimeout`` when the store cannot be reached, ``NotFound`` for a
run or model that does not exist, ``ServerError`` for anything else the store answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

#: Points a run that a chart of several runs asks a :class:`SampledHistories` store for.
CHART_POINTS = 320

#: Status values MLflow uses for runs.
RUN_STATUSES = ("RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED")


@dataclass(frozen=True)
class Experiment:
    experiment_id: str
    name: str
    lifecycle_stage: str = "active"
    artifact_location: str = ""
    created: datetime | None = None
    last_update: datetime | None = None
    tags: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ExperimentStats:
    """How many runs an experiment holds (counted up to ``cap``) and when the last one started."""

    experiment_id: str
    run_count: int
    capped: bool = False
    last_run: datetime | None = None

    @property
    def count_text(self) -> str:
        return f"{self.run_count}+" if self.capped else str(self.run_count)


@dataclass(frozen=True)
class RunSummary:
    """One row of the runs table."""

    run_id: str
    run_name: str
    experiment_id: str
    status: str
    start_time: datetime | None
    end_time: datetime | None = None
    params: tuple[tuple[str, str], ...] = ()
    metrics: tuple[tuple[str, float], ...] = ()
    tags: tuple[tuple[str, str], ...] = ()
    user: str = ""

    @property
    def duration(self) -> timedelta | None:
        if self.start_time is None or self.end_time is None:
            return None
        return self.end_time - self.start_time

    def param(self, key: str) -> str | None:
        for k, v in self.params:
            if k == key:
                return v
        return None

    def metric(self, key: str) -> float | None:
        for k, v in self.metrics:
            if k == key:
                return v
        return None

    def tag(self, key: str) -> str | None:
        for k, v in self.tags:
            if k == key:
                return v
        return None


#: The run attributes a :class:`SortKey` can name as ``attributes.<name>``.
SORT_ATTRIBUTES = ("run_name", "status", "start_time", "end_time")
#: The kinds of column a :class:`SortKey` can name: ``<kind>.<name>``.
SORT_KINDS = ("attributes", "metrics", "params", "tags")


@dataclass(frozen=True)
class SortKey:
    """Sort runs by one column, named as the runs table names it: ``metrics.rmse``, ``params.alpha``,
    ``tags.team`` or ``attributes.start_time`` (one of :data:`SORT_ATTRIBUTES`). The name after the first
    dot is taken as it is (it may hold dots and spaces). Runs without a value come last in either direction.
    Each backend translates it to its store's own syntax and raises ``InvalidQuery`` for a key it cannot sort by.
    """

    column: str
    descending: bool = False

    @property
    def kind(self) -> str:
        return self.column.partition(".")[0]

    @property
    def name(self) -> str:
        return self.column.partition(".")[2]


@dataclass(frozen=True)
class RunQuery:
    """What the runs table asks the store for; sort and filter are done by the store. ``sort`` holds the keys
    most significant first; ``filter`` is in the store's own search syntax (MLflow's for the built-in backends)."""

    experiment_ids: tuple[str, ...]
    filter: str = ""
    sort: tuple[SortKey, ...] = ()
    page_size: int = 100


@dataclass(frozen=True)
class RunPage:
    """One page of runs. ``next_token`` is None on the last page."""

    runs: tuple[RunSummary, ...]
    next_token: str | None = None
    query: RunQuery | None = None

    @property
    def loaded(self) -> int:
        return len(self.runs)

    @property
    def has_more(self) -> bool:
        return bool(self.next_token)


@dataclass(frozen=True)
class Artifact:
    """One entry of a run's artifacts tree. ``size`` is None for directories (see ``total_size``)."""

    path: str
    is_dir: bool
    size: int | None = None
    depth: int = 0
    children: tuple[Artifact, ...] = ()
    truncated: bool = False

    @property
    def name(self) -> str:
        return self.path.rstrip("/").rsplit("/", 1)[-1]

    @property
    def total_size(self) -> int:
        if not self.is_dir:
            return self.size or 0
        return sum(child.total_size for child in self.children)


@dataclass(frozen=True)
class ColumnSpec:
    """One input or output column of a model signature."""

    name: str
    type: str
    required: bool = True


@dataclass(frozen=True)
class LoggedModel:
    """A model a run logged: where, which flavors, and its signature."""

    name: str
    model_id: str = ""
    uri: str = ""
    flavors: tuple[str, ...] = ()
    inputs: tuple[ColumnSpec, ...] = ()
    outputs: tuple[ColumnSpec, ...] = ()
    artifacts: tuple[Artifact, ...] = ()
    problem: str = ""


@dataclass(frozen=True)
class DatasetInput:
    name: str
    digest: str = ""
    source_type: str = ""
    context: str = ""
    profile: str = ""
    schema: str = ""


@dataclass(frozen=True)
class RunDetail:
    summary: RunSummary
    git_commit: str | None = None
    source: str | None = None
    artifact_uri: str = ""
    artifacts: tuple[Artifact, ...] = ()
    models: tuple[LoggedModel, ...] = ()
    datasets: tuple[DatasetInput, ...] = ()
    artifacts_problem: str = ""

    @property
    def run_id(self) -> str:
        return self.summary.run_id


@dataclass(frozen=True)
class MetricPoint:
    step: int
    value: float
    timestamp: datetime


@dataclass(frozen=True)
class MetricHistory:
    run_id: str
    key: str
    points: tuple[MetricPoint, ...] = ()
    run_name: str = ""


@dataclass(frozen=True)
class ModelVersion:
    name: str
    version: str
    status: str = "READY"
    stage: str = ""
    aliases: tuple[str, ...] = ()
    created: datetime | None = None
    run_id: str | None = None
    source: str = ""
    description: str = ""
    model_id: str = ""  # MLflow 3: the logged model this version registers


@dataclass(frozen=True)
class RegisteredModel:
    name: str
    description: str = ""
    created: datetime | None = None
    updated: datetime | None = None
    aliases: tuple[tuple[str, str], ...] = ()
    latest_versions: tuple[str, ...] = ()
    tags: tuple[tuple[str, str], ...] = field(default=())


@runtime_checkable
class ExperimentRuns(Protocol):
    """What the Runs pane needs from a tracking store."""

    @property
    def endpoint(self) -> str:
        """The store's URI, safe to show (no password)."""
        ...

    def list_experiments(self) -> tuple[Experiment, ...]: ...

    def experiment_stats(self, experiment_id: str, cap: int = 1000) -> ExperimentStats: ...

    def search_runs(self, query: RunQuery, page_token: str | None = None) -> RunPage: ...

    def get_run(self, run_id: str) -> RunDetail: ...

    def metric_history(self, run_id: str, key: str) -> MetricHistory: ...

    def list_registered_models(self) -> tuple[RegisteredModel, ...]: ...

    def model_versions(self, name: str) -> tuple[ModelVersion, ...]: ...


@runtime_checkable
class SampledHistories(Protocol):
    """Optional: a store that answers the history of a metric for many runs in one call, each run's history
    sampled by the store to at most ``max_points`` points (its first and last step kept)."""

    def metric_histories(self, run_ids: Sequence[str], key: str,
                         max_points: int = CHART_POINTS) -> tuple[MetricHistory, ...]:
        """One history a run, in the order of ``run_ids``."""
        ...
