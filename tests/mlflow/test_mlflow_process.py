"""The ``mlflow`` backend: MLflow in a helper process, answering exactly as the in-process backend."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from backends.errors import InvalidQuery, NotConfigured, NotFound
from backends.redact import redact as redact_text
from backends.registry import create as create_backend
from backends.runs import RunQuery, SortKey, mlflow_process
from backends.runs.mlflow_inprocess import MlflowRuns
from backends.runs.mlflow_process import HelperGone, MlflowProcessRuns

ROOT = Path(__file__).resolve().parents[2]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:  # a zombie is not alive
        return f.read().split(")")[-1].split()[0] != "Z"


def _wait(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def test_the_registry_default_is_the_helper(mlflow_sqlite):
    backend = create_backend("runs", "mlflow", mlflow_sqlite.settings())
    assert isinstance(backend, MlflowProcessRuns)
    assert isinstance(create_backend("runs", "mlflow-inprocess", mlflow_sqlite.settings()), MlflowRuns)


def test_not_configured_is_said_before_any_process(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    with pytest.raises(NotConfigured, match="mlflow_uri"):
        MlflowProcessRuns.from_settings({"repo": str(tmp_path)})


def test_the_helper_runs_this_checkouts_backends():
    # the helper's PYTHONPATH starts with the folder that holds this backends package, so it never runs another
    # copy installed in the same Python (whose contract could differ from what the console pickles)
    assert (Path(mlflow_process._ROOT) / "backends" / "runs" / "mlflow_helper.py").is_file()
    assert Path(mlflow_process._ROOT) == ROOT


def test_answers_are_the_in_process_ones(mlflow_sqlite):
    uri, eid = mlflow_sqlite.uri, mlflow_sqlite.experiment_id
    here, there = MlflowRuns(uri, timeout=10.0), MlflowProcessRuns(uri, timeout=10.0)
    query = RunQuery((eid,), sort=(SortKey("metrics.rmse"),), page_size=3)
    assert there.list_experiments() == here.list_experiments()
    assert there.helper_pid is not None and there.helper_pid != os.getpid()
    first = there.search_runs(query)
    assert first == here.search_runs(query)
    assert there.search_runs(query, first.next_token) == here.search_runs(query, first.next_token)
    run_id = first.runs[0].run_id
    assert there.get_run(run_id) == here.get_run(run_id)
    assert there.experiment_stats(eid) == here.experiment_stats(eid)
    models = there.list_registered_models()
    assert models == here.list_registered_models() and models
    assert there.model_versions(models[0].name) == here.model_versions(models[0].name)
    assert there.metric_history(run_id, "rmse") == here.metric_history(run_id, "rmse")
    # all of that without pandas, pyarrow, numpy, charset_normalizer and psutil in the helper (their compiled
    # parts would be mapped; all five are installed here), while SQLAlchemy's are: MLflow did load the store
    maps = Path(f"/proc/{there.helper_pid}/maps").read_text()
    assert "/sqlalchemy/" in maps
    for held_back in ("pandas", "pyarrow", "numpy", "charset_normalizer", "psutil"):
        assert importlib.util.find_spec(held_back) is not None, f"{held_back} is not installed: nothing to check"
        assert f"/{held_back}/" not in maps, f"{held_back} was loaded"


def test_a_call_that_needs_a_held_back_library_gets_it(tmp_path):
    """An MLflow (or plugin) that does need pandas: the call fails once inside, lets pandas in, and runs
    again; the caller sees only the answer."""
    script = f"""
import sys
sys.path.insert(0, {str(ROOT)!r})
from backends.runs import mlflow_helper
from backends.errors import ServerError

mlflow_helper.hold_back()
calls = []

def describe_frame():  # what a library needing pandas does, wrapped the way the backend translates errors
    calls.append(1)
    try:
        import pandas
    except ImportError as exc:
        raise ServerError("could not describe") from exc
    return str(pandas.DataFrame({{"rmse": [1.5]}}).iloc[0, 0])

print(mlflow_helper.call_letting_in(describe_frame), len(calls))
try:
    mlflow_helper.call_letting_in(lambda: 1 / 0)
except ZeroDivisionError:
    print("other errors pass through")
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split("\n")[:2] == ["1.5 2", "other errors pass through"]


def test_errors_keep_their_kind_and_mlflows_words(mlflow_sqlite):
    uri, eid = mlflow_sqlite.uri, mlflow_sqlite.experiment_id
    here, there = MlflowRuns(uri, timeout=10.0), MlflowProcessRuns(uri, timeout=10.0)
    bad = RunQuery((eid,), filter="metrics.rmse <")
    with pytest.raises(InvalidQuery) as remote:
        there.search_runs(bad)
    with pytest.raises(InvalidQuery) as local:
        here.search_runs(bad)
    assert str(remote.value) == str(local.value) and remote.value.detail == local.value.detail
    assert remote.value.detail
    with pytest.raises(NotFound, match="could not load run 0123"):
        there.get_run("0123")


def test_a_killed_helper_fails_the_call_in_flight_and_comes_back(mlflow_sqlite, tmp_path):
    # a copy of the store, locked by the test, so the helper's query waits inside SQLite
    db = tmp_path / "locked.db"
    db.write_bytes(Path(mlflow_sqlite.uri.removeprefix("sqlite:///")).read_bytes())
    uri = f"sqlite:///{db}"
    backend = MlflowProcessRuns(uri, timeout=10.0)
    eid = mlflow_sqlite.experiment_id
    assert backend.list_experiments()  # the helper is up, MLflow imported
    pid = backend.helper_pid
    lock = sqlite3.connect(db, isolation_level=None)
    lock.execute("BEGIN EXCLUSIVE")
    outcome: list[BaseException | object] = []
    caller = threading.Thread(target=lambda: _catch(outcome, backend.search_runs, RunQuery((eid,))))
    caller.start()
    try:
        # the call is out (sent, and no answer can come while the store is locked)
        _wait(lambda: backend._helper._conn is not None and backend._helper._conn.pending)
        os.kill(pid, signal.SIGKILL)
        caller.join(15)
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    assert not caller.is_alive()
    assert isinstance(outcome[0], HelperGone), outcome
    assert "exited" in str(outcome[0]) and "started again" in str(outcome[0])
    page = backend.search_runs(RunQuery((eid,)))
    assert len(page.runs) == len(mlflow_sqlite.runs)
    assert backend.helper_pid not in (None, pid) and backend._helper.started == 2


def _catch(out, fn, *args):
    try:
        out.append(fn(*args))
    except BaseException as exc:  # noqa: BLE001 - the test looks at it
        out.append(exc)


def test_an_idle_helper_exits_and_the_next_call_starts_one(mlflow_sqlite, monkeypatch):
    monkeypatch.setattr(mlflow_process, "IDLE_EXIT", 1.0)
    backend = MlflowProcessRuns(mlflow_sqlite.uri, timeout=7.25)  # a helper of its own
    assert backend.list_experiments()
    pid = backend.helper_pid  # idle time counts from the answer: the helper is still there
    assert pid is not None and _alive(pid)
    _wait(lambda: backend.helper_pid is None and not _alive(pid))
    assert backend.list_experiments()
    assert backend._helper.started == 2


def test_the_console_never_imports_mlflow(mlflow_sqlite, tmp_path):
    """A whole Runs pane session on a real store: runs on screen, a run's detail, and MLflow stays out."""
    script = f"""
import asyncio, json, sys
sys.path.insert(0, {str(ROOT)!r})
from console.app import make_app
from console.config import Config, Context

ctx = Context(name="t", mlflow_uri={mlflow_sqlite.uri!r}, timeout=30.0)
app = make_app(Config(path=None, default_context="t", contexts={{"t": ctx}}), ctx, initial_pane="runs")

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
        heavy = sorted(m for m in ("mlflow", "pandas", "sqlalchemy") if m in sys.modules)
        built = sorted(kind for kind in ("data", "deployments", "metrics") if app.backends.peek(kind) is not None)
        print(json.dumps({{"runs": len(screen.runs), "heavy": heavy, "backend": type(screen.backend).__name__,
                          "other backends built": built, "on screen": type(app.screen).__name__}}))

asyncio.run(main())
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    # the data backend is built (no I/O) for the rows' "cannot be reproduced" badges; no Kubernetes or Prometheus
    # client is built for a Runs pane session
    assert result == {"runs": len(mlflow_sqlite.runs), "heavy": [], "backend": "MlflowProcessRuns",
                      "other backends built": ["data"], "on screen": "TextView"}


def test_passwords_in_helper_output_are_masked():
    line = "could not connect to postgresql://ml:s3cret@db:5432/mlflow and https://u:tok@host/x"
    masked = redact_text(line)
    assert "s3cret" not in masked and "tok@" not in masked
    assert "postgresql://ml:***@db:5432/mlflow" in masked and "https://u:***@host/x" in masked


def test_mlflow_missing_in_the_helpers_python_says_what_to_install(mlflow_sqlite, tmp_path):
    """``mlflow_python`` naming a real interpreter without MLflow (a fresh virtualenv)."""
    venv = tmp_path / "no-mlflow"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    assert subprocess.run([str(python), "-c", "import mlflow"], capture_output=True).returncode != 0
    backend = MlflowProcessRuns.from_settings({"mlflow_uri": mlflow_sqlite.uri, "timeout": 6.5,
                                               "mlflow_python": str(python)})
    with pytest.raises(NotConfigured) as err:
        backend.list_experiments()
    assert "MLflow is not installed" in str(err.value) and "mlops-console[mlflow]" in str(err.value)
    assert str(python) in str(err.value) and err.value.endpoint == mlflow_sqlite.uri


def test_an_interpreter_that_does_not_exist_is_named(mlflow_sqlite, tmp_path):
    missing = tmp_path / "nowhere" / "python"
    backend = MlflowProcessRuns(mlflow_sqlite.uri, timeout=6.5, python=str(missing))
    with pytest.raises(NotConfigured) as err:
        backend.search_runs(RunQuery((mlflow_sqlite.experiment_id,)))
    assert f"cannot start the MLflow helper with {missing}" in str(err.value)
    assert "mlflow_python" in str(err.value)
