"""The mlflow backend against real stores: sqlite, a ./mlruns file store and an ``mlflow server``."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from backends.errors import BackendError, InvalidQuery, NotConfigured, NotFound, Unreachable
from backends.redact import redact as redact_uri
from backends.runs import ExperimentRuns, RunQuery, SortKey
from backends.runs.mlflow_inprocess import MlflowRuns

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["sqlite", "file", "server"])
def store(request):
    name = {"sqlite": "mlflow_sqlite", "file": "mlflow_filestore", "server": "running_server"}[request.param]
    return request.getfixturevalue(name)


@pytest.fixture
def backend(store) -> MlflowRuns:
    return MlflowRuns.from_settings(store.settings())


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_satisfies_protocol(backend):
    assert isinstance(backend, ExperimentRuns)


def test_lists_the_diabetes_experiment(backend, store):
    names = {e.experiment_id: e.name for e in backend.list_experiments()}
    assert names[store.experiment_id] == "diabetes"
    stats = backend.experiment_stats(store.experiment_id)
    assert stats.run_count == 7 and not stats.capped
    assert stats.last_run is not None
    capped = backend.experiment_stats(store.experiment_id, cap=3)
    assert capped.count_text == "3+"


def test_sort_is_done_by_the_store(backend, store):
    q = RunQuery((store.experiment_id,), sort=(SortKey("metrics.rmse"),), page_size=100)
    page = backend.search_runs(q)
    rmses = [r.metric("rmse") for r in page.runs]
    assert rmses == sorted(x["rmse"] for x in store.runs)
    best = min(store.runs, key=lambda r: r["rmse"])
    assert page.runs[0].run_id == best["run_id"]
    assert page.runs[0].param("alpha") == str(best["alpha"])
    desc = backend.search_runs(RunQuery((store.experiment_id,), sort=(SortKey("metrics.r2", descending=True),)))
    assert desc.runs[0].metric("r2") == max(x["r2"] for x in store.runs)
    assert not page.has_more and page.loaded == 7


def test_pages_come_from_the_store(backend, store):
    q = RunQuery((store.experiment_id,), sort=(SortKey("metrics.rmse"),), page_size=3)
    seen, sizes, token = [], [], None
    while True:
        page = backend.search_runs(q, token)
        sizes.append(page.loaded)
        seen.extend(r.run_id for r in page.runs)
        token = page.next_token
        if not page.has_more:
            break
    assert sizes[:2] == [3, 3] and sum(sizes) == 7
    ranked = [r["run_id"] for r in sorted(store.runs, key=lambda r: r["rmse"])]
    assert seen == ranked


def test_filter_in_mlflow_syntax(backend, store):
    q = RunQuery((store.experiment_id,), filter="metrics.rmse < 70 and params.alpha = '0.01'")
    got = {r.run_id for r in backend.search_runs(q).runs}
    want = {r["run_id"] for r in store.runs if r["rmse"] < 70 and r["alpha"] == 0.01}
    assert got == want and want


def test_bad_filter_gives_mlflows_message(backend, store):
    with pytest.raises(InvalidQuery) as err:
        backend.search_runs(RunQuery((store.experiment_id,), filter="metrics.rmse <<< 3"))
    assert "Invalid comparator" in err.value.detail
    assert err.value.endpoint == store.uri


def test_bad_sort_key_is_rejected(backend, store):
    with pytest.raises(InvalidQuery) as err:
        backend.search_runs(RunQuery((store.experiment_id,), sort=(SortKey("nonsense.rmse"),)))
    assert err.value.detail and err.value.message == "the run search was rejected"
    with pytest.raises(InvalidQuery) as err:  # a name MLflow's parser does not know, said in its words
        backend.search_runs(RunQuery((store.experiment_id,), sort=(SortKey("attributes.colour"),)))
    assert "colour" in err.value.detail and err.value.message == "the run search was rejected"


def test_run_detail(backend, store):
    best = min(store.runs, key=lambda r: r["rmse"])
    detail = backend.get_run(best["run_id"])
    assert detail.summary.run_name == best["run_name"]
    assert detail.git_commit == store.built["git_commit"]
    assert dict(detail.summary.params) == {"alpha": str(best["alpha"]), "l1_ratio": str(best["l1_ratio"])}
    assert detail.summary.metric("mae") == pytest.approx(best["mae"])
    tree = {a.path: a for a in detail.artifacts}
    assert tree["notes.txt"].size == len(f"alpha={best['alpha']} l1_ratio={best['l1_ratio']}\n")
    assert tree["report"].is_dir
    assert [c.path for c in tree["report"].children] == ["report/coefficients.json"]
    assert tree["report"].total_size > 0
    (model,) = detail.models
    assert not model.problem, model.problem
    assert "sklearn" in model.flavors and "python_function" in model.flavors
    assert [c.name for c in model.inputs][:3] == ["age", "sex", "bmi"]
    assert model.inputs[0].type == "double"
    assert model.outputs and "float64" in model.outputs[0].type
    assert any(a.path == "MLmodel" and a.size for a in model.artifacts)
    (ds,) = detail.datasets
    assert ds.name == "diabetes-train" and ds.context == "training" and ds.digest


def test_metric_history(backend, store):
    run = store.runs[3]
    hist = backend.metric_history(run["run_id"], "train_rmse")
    assert [p.step for p in hist.points] == list(range(8))
    assert [p.value for p in hist.points] == pytest.approx(run["train_rmse"])


def test_model_registry(backend, store, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # MLflow's file registry must not leave ./mlflow.db behind
    tracking_before = os.environ.get("MLFLOW_TRACKING_URI")
    (model,) = [m for m in backend.list_registered_models() if m.name == store.built["model_name"]]
    assert dict(model.aliases) == {"champion": "2"}
    versions = backend.model_versions(model.name)
    assert [v.version for v in versions] == ["2", "1"]
    assert versions[0].aliases == ("champion",) and versions[1].aliases == ()
    assert versions[0].run_id == store.built["versions"]["2"]
    assert versions[1].run_id == store.built["versions"]["1"]
    assert versions[0].status == "READY" and versions[0].created is not None
    assert list(tmp_path.iterdir()) == []
    assert os.environ.get("MLFLOW_TRACKING_URI") == tracking_before


def test_missing_run_is_not_found(backend):
    with pytest.raises(NotFound):
        backend.get_run("0" * 32)


def test_unreachable_server_fails_and_names_the_uri():
    uri = f"http://127.0.0.1:{_free_port()}"
    backend = MlflowRuns.from_settings({"mlflow_uri": uri, "timeout": 2})
    with pytest.raises(Unreachable) as err:
        backend.list_experiments()
    assert err.value.endpoint == uri and uri in str(err.value)
    assert "Connection refused" in err.value.detail


def test_a_failing_server_is_asked_once_not_retried():
    # MLflow retries a failed request with backoff for minutes by default: the console asks once and says so
    asked: list[str] = []

    class Unavailable(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_POST = do_GET

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Unavailable)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        uri = f"http://127.0.0.1:{server.server_port}"
        backend = MlflowRuns.from_settings({"mlflow_uri": uri, "timeout": 2})
        with pytest.raises(BackendError) as err:
            backend.list_experiments()
        assert err.value.endpoint == uri
        assert len(asked) == 1 and "experiments/search" in asked[0]
    finally:
        server.shutdown()
        server.server_close()


def test_missing_local_store_is_not_created(tmp_path):
    db = tmp_path / "nope.db"
    backend = MlflowRuns.from_settings({"mlflow_uri": f"sqlite:///{db}"})
    with pytest.raises(NotFound) as err:
        backend.list_experiments()
    assert str(db) in str(err.value)
    assert not db.exists()


def test_not_configured_says_what_to_set(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    with pytest.raises(NotConfigured) as err:
        MlflowRuns.from_settings({"repo": str(tmp_path)})
    assert "MLFLOW_TRACKING_URI" in str(err.value) and "--mlflow-uri" in str(err.value)


def test_env_var_and_repo_fallbacks(tmp_path, monkeypatch, mlflow_sqlite):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_sqlite.uri)
    assert MlflowRuns.from_settings({}).tracking_uri == mlflow_sqlite.uri
    monkeypatch.delenv("MLFLOW_TRACKING_URI")
    (tmp_path / "mlruns").mkdir()
    assert MlflowRuns.from_settings({"repo": str(tmp_path)}).tracking_uri == str(tmp_path / "mlruns")


def test_passwords_never_reach_the_endpoint():
    b = MlflowRuns.from_settings({"mlflow_uri": "postgresql://bob:s3cret@db.example:5432/mlflow"})
    assert "s3cret" not in b.endpoint and b.endpoint == "postgresql://bob:***@db.example:5432/mlflow"
    assert redact_uri("http://127.0.0.1:5000") == "http://127.0.0.1:5000"


def test_server_down_then_back(running_server):
    server = running_server.server
    backend = MlflowRuns.from_settings(running_server.settings(timeout=3))
    q = RunQuery((running_server.experiment_id,), sort=(SortKey("metrics.rmse"),))
    assert backend.search_runs(q).loaded == 7
    server.stop()
    try:
        with pytest.raises(Unreachable) as err:
            backend.search_runs(q)
        assert running_server.uri in str(err.value)
        # a sorted search that never reached the server was not "rejected"
        assert err.value.message == "could not search runs: tracking server unreachable"
    finally:
        server.start()
    assert backend.search_runs(q).loaded == 7


def test_importing_backends_is_cheap():
    code = ("import sys; import backends.runs.mlflow_inprocess, backends.runs, backends.runs.fake; "
            "bad = [m for m in ('mlflow', 'textual', 'widgets', 'console', 'sklearn', 'pandas') "
            "if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.parametrize("column", ['params.a"b', "params.a`b", "attributes.colour"])
@pytest.mark.parametrize("store", ["mlflow_sqlite", "running_server"])
def test_a_sort_key_mlflow_cannot_parse_is_an_invalid_query(store, column, request):
    # MLflow's order_by parser (in the client) splits a clause shell-like, so a quote breaks it, and knows
    # only its own attributes: the query's fault, not the server's (a server answers 500, retried for minutes)
    s = request.getfixturevalue(store)
    backend = MlflowRuns.from_settings(s.settings(timeout=10))
    with pytest.raises(InvalidQuery) as err:
        backend.search_runs(RunQuery((s.experiment_id,), sort=(SortKey(column),)))
    assert "rejected" in str(err.value) and err.value.detail


def test_the_fake_sorts_by_comparing_values():
    from backends.runs.fake import RUNS, FakeRuns

    fake = FakeRuns()

    def order(*keys):
        return [r.run_id for r in fake.search_runs(RunQuery(("1",), sort=keys)).runs]

    assert order(SortKey("metrics.rmse", True)) == [r.run_id for r in sorted(RUNS, key=lambda r: -r.metric("rmse"))]
    by_alpha_then_r2 = sorted(RUNS, key=lambda r: (float(r.param("alpha")), -r.metric("r2")))
    assert order(SortKey("params.alpha"), SortKey("metrics.r2", True)) == [r.run_id for r in by_alpha_then_r2]
    assert order(SortKey("attributes.start_time", True)) == [r.run_id for r in reversed(RUNS)]
    assert order(SortKey("tags.nobody"), SortKey("attributes.run_name")) == order(SortKey("attributes.run_name"))
    with pytest.raises(InvalidQuery) as err:
        order(SortKey("attributes.colour"))
    assert "colour" in err.value.detail
