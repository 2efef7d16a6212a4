"""The ``mlflow-rest`` runs backend: the session's real ``mlflow server`` over REST, answering exactly as the MLflow
client does (the ``mlflow`` helper backend on the same server), and never importing mlflow."""

from __future__ import annotations

import base64
import json
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from backends.errors import Forbidden, InvalidQuery, NotConfigured, NotFound, ServerError, Unreachable
from backends.registry import DEFAULTS, create as create_backend
from backends.runs import ExperimentRuns, RunQuery, SortKey
from backends.runs.mlflow_process import MlflowProcessRuns
from backends.runs.mlflow_rest import MlflowRestRuns
from console.config import parse_config

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def pair(mlflow_server) -> tuple[MlflowRestRuns, MlflowProcessRuns]:
    """The REST backend and the MLflow client (in its helper) on the same server."""
    rest = create_backend("runs", "mlflow-rest", mlflow_server.settings(timeout=20.0))
    client = create_backend("runs", "mlflow", mlflow_server.settings(timeout=20.0))
    return rest, client


def test_the_default_for_a_server_is_rest_and_for_a_local_store_the_helper(mlflow_server, mlflow_sqlite):
    assert DEFAULTS["runs"] == "auto"
    rest = create_backend("runs", "auto", mlflow_server.settings())
    assert isinstance(rest, MlflowRestRuns) and isinstance(rest, ExperimentRuns)
    assert isinstance(create_backend("runs", "auto", mlflow_sqlite.settings()), MlflowProcessRuns)
    assert isinstance(create_backend("runs", "auto", {"mlflow_uri": "postgresql://u:p@db/mlflow"}), MlflowProcessRuns)
    # a registry that is not on a server needs the MLflow client
    assert isinstance(create_backend("runs", "auto", mlflow_server.settings(mlflow_registry_uri=mlflow_sqlite.uri)),
                      MlflowProcessRuns)
    # runs_backend = "mlflow" still forces the client
    assert isinstance(create_backend("runs", "mlflow", mlflow_server.settings()), MlflowProcessRuns)


def test_every_answer_is_the_mlflow_clients(pair, running_server):
    mlflow_server = running_server
    rest, client = pair
    exp = mlflow_server.experiment_id
    assert rest.list_experiments() == client.list_experiments()
    assert rest.experiment_stats(exp) == client.experiment_stats(exp)
    assert rest.experiment_stats(exp, cap=3) == client.experiment_stats(exp, cap=3)
    for query in (RunQuery((exp,), sort=(SortKey("metrics.rmse", True),), page_size=3),
                  RunQuery((exp,), sort=(SortKey("params.alpha"), SortKey("attributes.run_name", True))),
                  RunQuery((exp,), filter="metrics.rmse < 72 and params.l1_ratio = '1.0'"),
                  RunQuery((exp,))):
        mine, theirs = rest.search_runs(query), client.search_runs(query)
        assert mine.runs == theirs.runs and mine.runs, query
        assert bool(mine.next_token) == bool(theirs.next_token)
        if mine.next_token:  # a server's page tokens are its own: each backend follows the one it was given
            assert rest.search_runs(query, mine.next_token).runs == client.search_runs(query, theirs.next_token).runs
    for run in mlflow_server.runs[:2]:
        detail = rest.get_run(run["run_id"])
        assert detail == client.get_run(run["run_id"])
        assert detail.models and not detail.models[0].problem and detail.models[0].artifacts
    for run in mlflow_server.runs:
        assert rest.metric_history(run["run_id"], "train_rmse") == client.metric_history(run["run_id"], "train_rmse")
    assert rest.list_registered_models() == client.list_registered_models()
    name = mlflow_server.built["model_name"]
    assert rest.model_versions(name) == client.model_versions(name)
    versions = rest.model_versions(name)
    assert [v.aliases for v in versions] == [("champion",), ()]
    assert all(v.model_id.startswith("m-") for v in versions)  # MLflow 3: the logged model each registers


def test_a_chart_of_many_runs_is_sampled_by_the_server(pair, running_server):
    mlflow_server = running_server
    rest, _client = pair
    ids = [r["run_id"] for r in mlflow_server.runs]
    full = rest.metric_histories(ids, "train_rmse")
    assert full == tuple(rest.metric_history(run_id, "train_rmse") for run_id in ids)
    sampled = rest.metric_histories(list(reversed(ids)), "train_rmse", max_points=3)
    assert [h.run_id for h in sampled] == list(reversed(ids))
    for h in sampled:
        steps = [p.step for p in h.points]
        assert len(steps) <= 3 and steps[0] == 0 and steps[-1] == 7


def test_errors_are_mlflows_words(pair, running_server):
    mlflow_server = running_server
    rest, client = pair
    exp = mlflow_server.experiment_id
    bad = RunQuery((exp,), filter="metrics.rmse <")
    with pytest.raises(InvalidQuery) as mine:
        rest.search_runs(bad)
    with pytest.raises(InvalidQuery) as theirs:
        client.search_runs(bad)
    assert mine.value.message == theirs.value.message == "the run search was rejected"
    assert mine.value.detail == theirs.value.detail and "Invalid clause(s) in filter string" in mine.value.detail
    assert mine.value.endpoint == mlflow_server.uri
    with pytest.raises(InvalidQuery) as unknown:  # the server's parser, said in its words
        rest.search_runs(RunQuery((exp,), sort=(SortKey("attributes.colour"),)))
    assert "colour" in unknown.value.detail
    with pytest.raises(InvalidQuery):  # a quote MLflow's parser chokes on is refused before it is sent
        rest.search_runs(RunQuery((exp,), sort=(SortKey('params.a"b'),)))
    with pytest.raises(NotFound) as missing:
        rest.get_run("0" * 32)
    assert "not found" in missing.value.detail
    with pytest.raises(NotFound):
        rest.model_versions("no-such-model")


def test_an_unreachable_server_is_named():
    uri = f"http://127.0.0.1:{_free_port()}"
    backend = MlflowRestRuns.from_settings({"mlflow_uri": uri, "timeout": 2})
    with pytest.raises(Unreachable) as err:
        backend.search_runs(RunQuery(("1",)))
    assert err.value.message == "could not search runs: tracking server unreachable"
    assert err.value.endpoint == uri and uri in str(err.value) and "Connection refused" in err.value.detail


class _Fake:
    """A tracking server stand-in on loopback that records what it is asked and answers as told."""

    def __init__(self, answer, tls: ssl.SSLContext | None = None) -> None:
        self.asked: list[tuple[str, dict[str, str]]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake.asked.append((self.path, dict(self.headers)))
                status, kind, body = answer(self)
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_POST = do_GET

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_server() -> Iterator[_Fake]:
    def answer(handler):
        auth = handler.headers.get("Authorization", "")
        if auth not in ("Bearer tok-123", "Basic " + base64.b64encode(b"ann:pw-456").decode()):
            return 401, "application/json", json.dumps({"error_code": "UNAUTHENTICATED", "message": "who are you?"})
        if "experiments/search" in handler.path:
            return 200, "application/json", json.dumps({"experiments": [{"experiment_id": "7", "name": "e"}]})
        if "runs/search" in handler.path:
            return 503, "text/plain", "overloaded"
        return 404, "text/html", "<h1>Not Found</h1>"

    fake = _Fake(answer)
    yield fake
    fake.close()


def test_credentials_from_the_context_or_mlflows_variables(fake_server, monkeypatch):
    for var in ("MLFLOW_TRACKING_TOKEN", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(Forbidden) as err:
        MlflowRestRuns.from_settings({"mlflow_uri": fake_server.url}).list_experiments()
    assert err.value.status == 401 and err.value.detail == "who are you?" and "MLFLOW_TRACKING_TOKEN" in err.value.hint
    # a bearer token from a context key (a secret the config hides)
    ctx = parse_config(f'[contexts.a]\nmlflow_uri = "{fake_server.url}"\nmlflow_token = "tok-123"\n').context("a")
    assert "mlflow_token" in ctx.secret_settings and "tok-123" not in str(ctx.shown_settings())
    backend = create_backend("runs", "auto", ctx.as_settings())
    assert [e.name for e in backend.list_experiments()] == ["e"]
    assert "tok-123" not in repr(backend) and "tok-123" not in backend.endpoint
    # basic auth from MLflow's variables, preferred to a token as MLflow does
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "ann")
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "pw-456")
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", "wrong")
    assert MlflowRestRuns.from_settings({"mlflow_uri": fake_server.url}).list_experiments()[0].experiment_id == "7"
    assert fake_server.asked[-1][1]["Authorization"].startswith("Basic ")
    # what the server says when it fails, asked once, never with the secret in the message
    backend = MlflowRestRuns.from_settings({"mlflow_uri": fake_server.url})
    asked = len(fake_server.asked)
    with pytest.raises(ServerError) as failed:
        backend.search_runs(RunQuery(("7",)))
    assert failed.value.status == 503 and failed.value.detail == "overloaded" and len(fake_server.asked) == asked + 1
    with pytest.raises(NotFound) as no_route:  # not an MLflow server there (or a path prefix missing)
        backend.get_run("abc")
    assert no_route.value.detail == "the server has no /api/2.0/mlflow/runs/get"
    assert not any(s in str(e.value) for e in (err, failed, no_route) for s in ("pw-456", "tok-123"))
    # or a user and password in the URI, never shown
    for var in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_TOKEN"):
        monkeypatch.delenv(var)
    in_uri = MlflowRestRuns.from_settings({"mlflow_uri": fake_server.url.replace("//", "//ann:pw-456@")})
    assert in_uri.list_experiments()[0].name == "e" and "pw-456" not in in_uri.endpoint


def test_proxies_come_from_the_environment(monkeypatch):
    proxy = _Fake(lambda h: (200, "application/json", json.dumps({"experiments": [{"experiment_id": "1",
                                                                                      "name": "via proxy"}]})))
    try:
        for var in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
            monkeypatch.delenv(var, raising=False)
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        backend = MlflowRestRuns.from_settings({"mlflow_uri": "http://mlflow.invalid:5000", "timeout": 5})
        assert [e.name for e in backend.list_experiments()] == ["via proxy"]
        assert proxy.asked[0][0] == "http://mlflow.invalid:5000/api/2.0/mlflow/experiments/search"
    finally:
        proxy.close()


def test_a_session_with_a_server_never_imports_mlflow_or_starts_a_helper(running_server, tmp_path):
    mlflow_server = running_server
    """A whole Runs pane session against the server: runs on screen, a run's detail, a chart; no MLflow anywhere."""
    script = f"""
import asyncio, json, os, sys
sys.path.insert(0, {str(ROOT)!r})
from console.app import make_app
from console.config import Config, Context

ctx = Context(name="t", mlflow_uri={mlflow_server.uri!r}, timeout=30.0)
app = make_app(Config(path=None, default_context="t", contexts={{"t": ctx}}), ctx, initial_pane="runs")

def children():
    out = []
    for pid in os.listdir("/proc"):
        try:
            with open(f"/proc/{{pid}}/stat") as f:
                if int(f.read().split(")")[-1].split()[1]) == os.getpid():
                    out.append(pid)
        except (OSError, ValueError, IndexError):
            pass
    return out

async def main():
    async with app.run_test(size=(120, 34)) as pilot:
        for _ in range(600):
            await pilot.pause(0.05)
            screen = app.screen
            if getattr(screen, "runs", None):
                break
        await pilot.press("enter")
        for _ in range(600):
            await pilot.pause(0.05)
            if type(app.screen).__name__ == "TextView":
                break
        detail = type(app.screen).__name__
        heavy = sorted(m for m in sys.modules if m.partition(".")[0] in ("mlflow", "pandas", "sqlalchemy"))
        print(json.dumps({{"runs": len(screen.runs), "heavy": heavy, "backend": type(screen.backend).__name__,
                          "on screen": detail, "children": children()}}))

asyncio.run(main())
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"runs": len(mlflow_server.runs), "heavy": [], "backend": "MlflowRestRuns",
                      "on screen": "TextView", "children": []}


def test_the_mlflow_client_gets_the_contexts_credentials_too(fake_server, monkeypatch):
    for var in ("MLFLOW_TRACKING_TOKEN", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"):
        monkeypatch.delenv(var, raising=False)
    ctx = parse_config(f'[contexts.a]\nruns_backend = "mlflow"\nmlflow_uri = "{fake_server.url}"\n'
                       'mlflow_token = "tok-123"\n').context("a")
    backend = create_backend("runs", "mlflow", ctx.as_settings())
    assert isinstance(backend, MlflowProcessRuns) and "tok-123" not in repr(backend)
    try:
        # MLflow reads only its variables: the helper process is given them
        assert [e.name for e in backend.list_experiments()] == ["e"]
        assert fake_server.asked[-1][1]["Authorization"] == "Bearer tok-123"
    finally:
        backend._helper.stop()


def _self_signed(folder: Path, name: str) -> Path:
    """A certificate for 127.0.0.1 and its key, in one PEM file."""
    cert, key = folder / f"{name}.crt", folder / f"{name}.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    both = folder / f"{name}.pem"
    both.write_text(cert.read_text() + key.read_text())
    return both


def test_tls_settings(tmp_path, monkeypatch):
    for var in ("MLFLOW_TRACKING_INSECURE_TLS", "MLFLOW_TRACKING_SERVER_CERT_PATH", "MLFLOW_TRACKING_CLIENT_CERT_PATH"):
        monkeypatch.delenv(var, raising=False)
    server_pem, client_pem = _self_signed(tmp_path, "server"), _self_signed(tmp_path, "client")
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(server_pem)
    tls.load_verify_locations(client_pem)
    tls.verify_mode = ssl.CERT_REQUIRED  # the server wants the client's certificate too
    fake = _Fake(lambda h: (200, "application/json", json.dumps({"experiments": [{"experiment_id": "1",
                                                                                     "name": "over TLS"}]})), tls)
    try:
        with pytest.raises(Unreachable) as err:  # a certificate nobody vouches for
            MlflowRestRuns.from_settings({"mlflow_uri": fake.url}).list_experiments()
        assert "CERTIFICATE_VERIFY_FAILED" in err.value.detail
        settings = {"mlflow_uri": fake.url, "mlflow_server_cert_path": str(server_pem),
                    "mlflow_client_cert_path": str(client_pem)}
        assert [e.name for e in create_backend("runs", "auto", settings).list_experiments()] == ["over TLS"]
        # from MLflow's variables, and without checking the server
        monkeypatch.setenv("MLFLOW_TRACKING_CLIENT_CERT_PATH", str(client_pem))
        monkeypatch.setenv("MLFLOW_TRACKING_INSECURE_TLS", "true")
        assert MlflowRestRuns.from_settings({"mlflow_uri": fake.url}).list_experiments()[0].name == "over TLS"
        with pytest.raises(NotConfigured) as unreadable:
            MlflowRestRuns.from_settings({"mlflow_uri": fake.url, "mlflow_insecure_tls": False,
                                          "mlflow_server_cert_path": str(tmp_path / "missing.pem")}).list_experiments()
        assert "mlflow_server_cert_path" in unreadable.value.hint
    finally:
        fake.close()
