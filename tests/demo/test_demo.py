"""`mlops-console demo`: what it builds and starts, checked through the backends the panes use; stopping it
leaves nothing running or listening; then the real command in tmux, on the same workspace, as a user runs it.

The tests run in this order (one module): the stack is stopped by ``test_stop_leaves_nothing`` before the tmux
test starts its own on the workspace built here."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from backends.metrics.dashboards import expand, load_folders
from backends.registry import create
from backends.runs import RunQuery
from console.demo import train as training, workspace as ws
from tmux import COMMAND, Tmux, have_tmux

ROOT = Path(__file__).resolve().parent.parent.parent
# the first test also builds the workspace, the tmux one starts the whole stack again: on a busy machine either
# can take minutes
pytestmark = pytest.mark.timeout(900)


def wait_for(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
        except Exception as exc:  # noqa: BLE001 - reported if it never holds
            last = exc
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout} s waiting for {what} (last error: {last})")


def test_three_data_versions(built_demo):
    data = create("data", "dvc", built_demo.settings)
    history = data.history(ws.DATA_FILE)
    expected = ws.versions(built_demo.workspace)
    assert len(history) == 3
    assert {v.rev for v in history} == {v.commit for v in expected}
    assert {v.md5 for v in history} == {v.md5 for v in expected}
    assert all(v.in_remote for v in history), "every version is pushed to the DVC remote"
    assert [o.path for o in data.outputs()] == [ws.DATA_FILE]


@pytest.fixture(scope="module")
def runs_backend(built_demo):
    return create("runs", "mlflow", built_demo.settings)


def test_21_runs_tagged_with_their_data_version(built_demo, runs_backend):
    experiment = next(e for e in runs_backend.list_experiments() if e.name == training.EXPERIMENT)
    page = runs_backend.search_runs(RunQuery((experiment.experiment_id,), page_size=100))
    assert len(page.runs) == 21
    versions = {v.tag: v for v in ws.versions(built_demo.workspace)}
    assert Counter(r.tag("data.version") for r in page.runs) == {tag: 7 for tag in versions}
    for run in page.runs:
        version = versions[run.tag("data.version")]
        assert run.tag("data.git_commit") == version.commit
        assert run.tag("data.dvc_md5") == version.md5
        assert {"rmse", "r2", "mae"} <= {k for k, _ in run.metrics}
    assert {(float(r.param("alpha")), float(r.param("l1_ratio"))) for r in page.runs} == set(training.PAIRS)
    history = runs_backend.metric_history(page.runs[0].run_id, "rmse")
    assert len(history.points) > 1, "rmse is logged per step"
    detail = runs_backend.get_run(page.runs[0].run_id)
    assert detail.models and detail.models[0].inputs, "the model is logged with its signature"


def test_champion_alias(built_demo, runs_backend):
    versions = runs_backend.model_versions(training.MODEL_NAME)
    assert len(versions) == 3  # the best run of each data version
    champions = [v for v in versions if training.ALIAS in v.aliases]
    assert len(champions) == 1


def test_both_served_models_answer(built_demo):
    deployments = create("deployments", "endpoints", built_demo.settings)
    try:
        items = {d.name: d for d in deployments.list_deployments().items}
        assert set(items) == {"diabetes-v2", "diabetes-mlflow"}
        for d in items.values():
            assert d.state == "Available", d.reason
            template = deployments.request_template(d)
            _request, response = deployments.send(d, template.body)
            assert response.ok, (d.name, response.status, response.body, response.error)
            answer = json.loads(response.body)
            predictions = answer["outputs"][0]["data"] if d.protocol == "v2" else answer["predictions"]
            assert len(predictions) == 1 and isinstance(predictions[0], float)
    finally:
        deployments.close()


def test_prometheus_has_the_serving_metrics(built_demo):
    metrics = create("metrics", "prometheus", built_demo.settings)

    def total(query: str) -> float:
        return sum(s.value for s in metrics.instant_query(query).samples)

    wait_for(lambda: total("sum(model_infer_request_success_total)") > 0, 60, "successful inferences")
    wait_for(lambda: total("sum(model_infer_request_failure_total)") > 0, 120, "the malformed requests' failures")
    # the built-in dashboard's queries find MLServer's series once two scrapes are in
    dashboard = next(r.dashboard for r in load_folders() if r.dashboard and "golden" in r.dashboard.title)
    values = {"deployment": ".*", "namespace": ".*"}
    for title in ("Latency p50 / p95 / p99", "Traffic", "Errors (5xx share)", "Saturation (CPU cores)"):
        panel = next(p for p in dashboard.panels if p.title == title)
        query = expand(panel.targets[0].expr, values, step=2.0)

        def has_points(q: str = query) -> bool:
            end = datetime.now(UTC)
            result = metrics.range_query(q, end - timedelta(minutes=5), end, 2.0)
            return any(s.points for s in result.series)

        wait_for(has_points, 90, f"samples for the {title!r} panel")


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _group_alive(pgid: int) -> bool:
    """Whether a process of the group still runs (a zombie does not: a killed server's orphaned workers are
    reaped by whoever is PID 1, which in a container may never do it)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        state, pgrp = fields[0], int(fields[2])
        if pgrp == pgid and state not in ("Z", "X"):
            return True
    return False


def test_stop_leaves_nothing(built_demo):
    pids, ports = built_demo.stack.pids(), built_demo.stack.ports()
    assert len(pids) == 5 and all(_group_alive(p) for p in pids)
    assert all(_listening(p) for p in ports)
    built_demo.stack.stop()
    assert [p for p in pids if _group_alive(p)] == []
    assert [p for p in ports if _listening(p)] == []


def _processes_in(workspace: Path) -> list[str]:
    """Processes whose command line or working folder is in the workspace."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            cwd = os.readlink(entry / "cwd")
            state = (entry / "stat").read_text().split(") ")[-1][:1]
        except OSError:
            continue
        if state != "Z" and (str(workspace) in cmdline or cwd.startswith(str(workspace))):
            found.append(f"{entry.name}: {cmdline}")
    return found


@pytest.mark.skipif(not have_tmux(), reason="tmux is not installed")
def test_demo_command_in_tmux(built_demo):
    """`mlops-console demo --dir` on the workspace built above (reused: no training), as a user runs it."""
    workspace = built_demo.workspace
    assert not built_demo.stack.services, "the session's stack is stopped first"
    gone = subprocess.Popen(["true"])
    gone.wait()
    (workspace / "demo.lock").write_text(f"{gone.pid}\n")  # left by a demo that died: taken over
    with Tmux(["demo", "--dir", str(workspace)], size=(100, 30), env={"PYTHONPATH": str(ROOT)},
              cwd=workspace) as term:
        term.wait_for("3 version(s)", 300, "the Data pane on the demo repository")
        screen = term.screen()
        assert "data/diabetes.csv" in screen and "ctx: demo" in screen
        term.keys("2")
        screen = term.wait_for("21 runs loaded", 60, "the Runs pane with the 21 runs")
        assert "v3-no-outliers alpha=" in screen
        term.keys("3")
        screen = term.wait_for(lambda s: s.count("Available") >= 2, 60, "both model servers available")
        assert "diabetes-v2" in screen and "diabetes-mlflow" in screen
        # the demo's notice follows when the pane is first shown (its timer may come after the rows)
        term.wait_for("No Kubernetes cluster is configured", 30, "the notice that no cluster is configured")
        term.keys("4")
        term.wait_for("job=mlserver", 60, "the Metrics pane with MLServer's scrape target")
        config = (workspace / "config.toml").read_text()
        mlserver = json.loads((workspace / "serving" / "mlserver" / "settings.json").read_text())
        ports = [int(p) for p in re.findall(r"127\.0\.0\.1:(\d+)", config)]
        ports += [mlserver["http_port"], mlserver["grpc_port"], mlserver["metrics_port"]]
        assert len(set(ports)) == 6 and all(_listening(p) for p in ports)
        second = subprocess.run([COMMAND, "demo", "--dir", str(workspace)], capture_output=True, text=True,
                                timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert second.returncode == 1
        assert "a demo is already running" in second.stderr and str(workspace) in second.stderr
        term.keys("q")
        term.wait_for("EXIT=0", 60, "the demo to stop and exit")
    assert [p for p in ports if _listening(p)] == []
    assert _processes_in(workspace) == []
    assert not (workspace / "demo.lock").exists()
