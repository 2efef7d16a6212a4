"""The Runs pane's backends: the contract (``contract.py``), a tracking server over REST (``mlflow_rest.py``), the
choice between REST and the helper by URI (``mlflow_auto.py``), MLflow in a helper process (``mlflow_process.py``,
``mlflow_helper.py``), MLflow in this process (``mlflow_inprocess.py``), the SQLite sort (``mlflow_sqlite.py``) and
the in-memory ``fake``.

The contract's names are importable from here too (``from backends.runs import ...``); importing this
package imports nothing else.
"""

from backends.runs.contract import (
    CHART_POINTS as CHART_POINTS,
    RUN_STATUSES as RUN_STATUSES,
    SORT_ATTRIBUTES as SORT_ATTRIBUTES,
    SORT_KINDS as SORT_KINDS,
    Artifact as Artifact,
    ColumnSpec as ColumnSpec,
    DatasetInput as DatasetInput,
    Experiment as Experiment,
    ExperimentRuns as ExperimentRuns,
    ExperimentStats as ExperimentStats,
    LoggedModel as LoggedModel,
    MetricHistory as MetricHistory,
    MetricPoint as MetricPoint,
    ModelVersion as ModelVersion,
    RegisteredModel as RegisteredModel,
    RunDetail as RunDetail,
    RunPage as RunPage,
    RunQuery as RunQuery,
    RunSummary as RunSummary,
    SampledHistories as SampledHistories,
    SortKey as SortKey,
)
