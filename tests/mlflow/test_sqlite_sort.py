"""Sorting by metrics, params and tags on a SQLite store goes through the table's index.

The oracle is MLflow's own query without the rewrite, on the same store: the pages must be the same
runs in the same order, including ties, NaN and runs without the sort key.
"""

from __future__ import annotations

import math
import re
import sqlite3

import pytest

from backends.runs import RunQuery, SortKey, mlflow_sqlite
from backends.runs.mlflow_inprocess import MlflowRuns

# the console's sort keys and MLflow's own order_by for the same order (the oracle's query)
ORDERS = [
    ((SortKey("metrics.rmse"),), ("metrics.rmse",)),
    ((SortKey("metrics.rmse", True),), ("metrics.rmse DESC",)),
    ((SortKey("params.alpha", True), SortKey("metrics.r2")), ("params.alpha DESC", "metrics.r2")),
    ((SortKey("tags.team"), SortKey("metrics.rmse", True)), ("tags.team", "metrics.rmse DESC")),
    ((SortKey("attributes.start_time"),), ("attributes.start_time",)),
]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    from mlflow.entities import Metric, Param, RunTag

    from mlflow import MlflowClient

    root = tmp_path_factory.mktemp("sqlite-sort")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    client = MlflowClient(uri)
    eid = client.create_experiment("sort", artifact_location=str(root / "artifacts"))
    t0 = 1_700_000_000_000
    for i in range(30):
        run = client.create_run(eid, run_name=f"r{i:02d}", start_time=t0 + (i % 7) * 1000)  # start-time ties
        metrics, params, tags = [], [], []
        if i % 5 != 0:  # every fifth run has no rmse at all
            rmse = float("nan") if i % 9 == 0 else 50.0 + (i % 4)  # ties and a NaN
            metrics.append(Metric("rmse", rmse, t0, 0))
        metrics.append(Metric("r2", 0.1 * (i % 6), t0, 0))
        if i % 3:
            params.append(Param("alpha", f"0.{i % 4}"))
        if i % 2:
            tags.append(RunTag("team", "ab"[i % 4 // 2]))
        client.log_batch(run.info.run_id, metrics=metrics, params=params, tags=tags)
    return uri, eid, root / "mlflow.db"


def _engine(uri):
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    return SqlAlchemyStore._engine_map[uri]


def _mlflows_own_pages(uri, eid, order_by, page_size):
    """Run ids page by page from MLflow's own, unrewritten query."""
    from sqlalchemy import event

    from mlflow import MlflowClient

    engine = _engine(uri)
    hooked = event.contains(engine, "before_cursor_execute", mlflow_sqlite._before_cursor_execute)
    if hooked:
        event.remove(engine, "before_cursor_execute", mlflow_sqlite._before_cursor_execute)
    try:
        client, pages, token = MlflowClient(uri), [], None
        while True:
            page = client.search_runs([eid], max_results=page_size, order_by=list(order_by), page_token=token)
            pages.append([r.info.run_id for r in page])
            token = page.token
            if not token:
                return pages
    finally:
        if hooked:
            event.listen(engine, "before_cursor_execute", mlflow_sqlite._before_cursor_execute, retval=True)


@pytest.mark.parametrize("sort, order_by", ORDERS, ids=[",".join(o) for _, o in ORDERS])
def test_sorted_pages_are_mlflows_own(store, sort, order_by):
    uri, eid, _ = store
    backend = MlflowRuns(uri, timeout=10.0)
    ours, token = [], None
    while True:
        page = backend.search_runs(RunQuery((eid,), sort=sort, page_size=7), token)
        ours.append([r.run_id for r in page.runs])
        token = page.next_token
        if not token:
            break
    assert event_is_installed(uri)
    assert ours == _mlflows_own_pages(uri, eid, order_by, 7)
    assert sum(len(p) for p in ours) == 30


def event_is_installed(uri):
    from sqlalchemy import event

    return event.contains(_engine(uri), "before_cursor_execute", mlflow_sqlite._before_cursor_execute)


def test_nan_and_missing_sort_last_both_ways(store):
    uri, eid, _ = store
    backend = MlflowRuns(uri, timeout=10.0)
    for descending in (False, True):
        page = backend.search_runs(RunQuery((eid,), sort=(SortKey("metrics.rmse", descending),), page_size=30))
        values = [r.metric("rmse") for r in page.runs]
        present = [v for v in values if v is not None and not math.isnan(v)]
        assert present == sorted(present, reverse=descending)
        tail = values[len(present):]
        assert tail and all(v is None or math.isnan(v) for v in tail)
        kinds = ["nan" if v is not None else "none" for v in tail]
        assert "nan" in kinds and "none" in kinds and kinds == sorted(kinds), "NaN, then runs without it"


def test_the_rewritten_query_uses_the_index(store):
    """MLflow's statement for a metric sort, rewritten, is answered through latest_metrics' key."""
    from sqlalchemy import event

    from mlflow import MlflowClient

    uri, eid, path = store
    seen: list[tuple[str, tuple]] = []

    def spy(conn, cursor, statement, parameters, context, executemany):
        if "FROM runs" in statement:
            seen.append((statement, parameters))

    engine = _engine(uri)
    event.listen(engine, "before_cursor_execute", spy)
    try:
        MlflowClient(uri).search_runs([eid], max_results=5, order_by=["metrics.rmse"])
    finally:
        event.remove(engine, "before_cursor_execute", spy)
    statement, parameters = next((s, p) for s, p in seen if "latest_metrics" in s)
    if event_is_installed(uri):  # the spy ran after the rewrite: it saw the rewritten statement
        rewritten = statement
        assert "LEFT OUTER JOIN (SELECT" not in rewritten
    else:
        rewritten = mlflow_sqlite.rewrite_sort_joins(statement)
        assert rewritten != statement
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    plan = " | ".join(row[3] for row in con.execute("EXPLAIN QUERY PLAN " + rewritten, parameters))
    assert re.search(r"SEARCH anon_\d+ USING INDEX \S+ \(key=\? AND run_uuid=\?\)", plan), plan
    assert "SCAN anon" not in plan, plan
    assert con.execute(rewritten, parameters).fetchall()


def test_other_statements_pass_unchanged():
    inner = ('SELECT runs.run_uuid FROM runs JOIN (SELECT latest_metrics."key" AS "key", latest_metrics.value '
             'AS value, latest_metrics.run_uuid AS run_uuid \nFROM latest_metrics \nWHERE latest_metrics."key" = ? '
             'AND latest_metrics.value > ?) AS anon_1 ON runs.run_uuid = anon_1.run_uuid')
    renamed = ('SELECT runs.run_uuid FROM runs LEFT OUTER JOIN (SELECT params."key" AS "key", params.value AS v '
               '\nFROM params \nWHERE params."key" = ?) AS anon_1 ON runs.run_uuid = anon_1.run_uuid')
    for statement in (inner, renamed, "UPDATE runs SET status = ?", "SELECT 1"):
        assert mlflow_sqlite.rewrite_sort_joins(statement) == statement
