"""The REST runs backend against ``mlflow server`` on a real PostgreSQL store of 100,000 runs (pg_store.py):
first pages in start-time order and sorted by a metric, a filter, the second page, the run count, each checked
against the values the store was filled with and against the MLflow client's own answer."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

import pg_store
from backends.registry import create as create_backend
from backends.runs import RunQuery, SortKey
from backends.runs.mlflow_rest import MlflowRestRuns

N = pg_store.RUNS
NEWEST_FIRST = (SortKey("attributes.start_time", descending=True),)


@pytest.fixture(scope="module")
def rest(mlflow_postgres) -> MlflowRestRuns:
    backend = create_backend("runs", "auto", mlflow_postgres.settings())
    assert isinstance(backend, MlflowRestRuns)
    return backend


def _indexes(page) -> list[int]:
    by_id = {pg_store.run_id(i): i for i in range(N)}
    return [by_id[r.run_id] for r in page.runs]


def test_the_first_page_newest_first_and_the_second_through_its_token(rest, mlflow_postgres):
    eid = mlflow_postgres.experiment_id
    assert [e.experiment_id for e in rest.list_experiments() if e.name == pg_store.EXPERIMENT] == [eid]
    first = rest.search_runs(RunQuery((eid,), sort=NEWEST_FIRST))
    assert _indexes(first) == list(range(N - 1, N - 101, -1))
    assert first.next_token
    newest = first.runs[0]
    assert newest.run_name == pg_store.run_name(N - 1) and newest.status == "FAILED"  # every 50th failed
    assert dict(newest.metrics)["rmse"] == pytest.approx(pg_store.rmse(N - 1))
    assert set(dict(newest.metrics)) == set(pg_store.METRICS)
    assert dict(newest.params) == pg_store.params_of(N - 1)
    assert newest.start_time == datetime.fromtimestamp((pg_store.T0 + (N - 1) * 1000) / 1000, UTC)

    second = rest.search_runs(RunQuery((eid,), sort=NEWEST_FIRST), first.next_token)
    assert _indexes(second) == list(range(N - 101, N - 201, -1))


def test_the_first_page_sorted_by_a_metric(rest, mlflow_postgres):
    eid = mlflow_postgres.experiment_id
    page = rest.search_runs(RunQuery((eid,), sort=(SortKey("metrics.rmse"),)))
    assert _indexes(page) == sorted(range(N), key=pg_store.rmse)[:100]
    assert [dict(r.metrics)["rmse"] for r in page.runs] == sorted(dict(r.metrics)["rmse"] for r in page.runs)
    worst = rest.search_runs(RunQuery((eid,), sort=(SortKey("metrics.rmse", descending=True),), page_size=5))
    assert _indexes(worst) == sorted(range(N), key=pg_store.rmse, reverse=True)[:5]


def test_a_filter_on_a_metric_and_a_param(rest, mlflow_postgres):
    eid = mlflow_postgres.experiment_id
    query = RunQuery((eid,), filter="metrics.rmse < 2 and params.alpha = '0.3'", sort=NEWEST_FIRST)
    expected = [i for i in range(N - 1, -1, -1) if pg_store.rmse(i) < 2 and pg_store.params_of(i)["alpha"] == "0.3"]
    assert len(expected) > 100  # so the filtered result has a second page too
    page = rest.search_runs(query)
    assert _indexes(page) == expected[:100] and page.next_token
    assert _indexes(rest.search_runs(query, page.next_token)) == expected[100:200]


def test_the_run_count_is_capped_and_says_so(rest, mlflow_postgres):
    stats = rest.experiment_stats(mlflow_postgres.experiment_id)
    assert (stats.run_count, stats.capped, stats.count_text) == (1000, True, "1000+")
    assert stats.last_run == datetime.fromtimestamp((pg_store.T0 + (N - 1) * 1000) / 1000, UTC)


def test_the_mlflow_client_gives_the_same_pages(rest, mlflow_postgres):
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=mlflow_postgres.url)
    eid = mlflow_postgres.experiment_id
    for sort, order_by in ((NEWEST_FIRST, ["attributes.start_time DESC"]),
                           ((SortKey("metrics.rmse"),), ["metrics.rmse ASC"])):
        mine = rest.search_runs(RunQuery((eid,), sort=sort))
        theirs = client.search_runs([eid], order_by=order_by, max_results=100)
        assert [r.run_id for r in mine.runs] == [r.info.run_id for r in theirs]
        assert [dict(r.metrics) for r in mine.runs] == [r.data.metrics for r in theirs]
        assert [dict(r.params) for r in mine.runs] == [r.data.params for r in theirs]
        assert [r.run_id for r in rest.search_runs(RunQuery((eid,), sort=sort), mine.next_token).runs] == \
            [r.info.run_id for r in client.search_runs([eid], order_by=order_by, max_results=100,
                                                       page_token=theirs.token)]
