"""A lean install (``pip install mlops-console``, no extras): the console runs with MLflow, DVC and the Kubernetes
client absent. Each pane either works (Runs over REST, Metrics) or names the extra that brings what it lacks.

The three libraries are hidden from a fresh process (and from the MLflow helper it starts) by a
``sitecustomize`` that marks them unimportable, as they are in a virtualenv without the extras; building such a
virtualenv here would cost most of a minute, so benchmarks/bench_runs_rest.py checks a real one."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HIDDEN = ("mlflow", "dvc", "kubernetes")

SCRIPT = """
import asyncio, json, sys
sys.path.insert(0, %(root)r)
sys.path.insert(1, %(tests)r)
from backends.errors import BackendError
from backends.registry import create
from conftest import screen_text
from console.app import make_app
from console.config import Config, Context

ctx = Context(name="lean", repo=%(repo)r, mlflow_uri=%(uri)r, kubeconfig=%(kubeconfig)r,
              prometheus_url="http://127.0.0.1:9", timeout=30.0)
app = make_app(Config(path=None, default_context="lean", contexts={"lean": ctx}), ctx, initial_pane="runs")
seen = {}

async def until(pilot, predicate):
    for _ in range(1200):
        await pilot.pause(0.05)
        if predicate():
            return True
    return False

async def main():
    async with app.run_test(size=(120, 34)) as pilot:
        await until(pilot, lambda: getattr(app.screen, "runs", None))
        seen["runs"] = len(getattr(app.screen, "runs", None) or ())
        for key, pane, expect in (("1", "data", "mlops-console[dvc]"),
                                  ("3", "deployments", "mlops-console[kubernetes]"),
                                  ("4", "metrics", "cannot connect to Prometheus")):
            await pilot.press(key)
            await until(pilot, lambda: expect in " ".join(screen_text(app).split()))
            seen[pane] = " ".join(screen_text(app).split())
    try:
        create("runs", "auto", {"mlflow_uri": %(local)r, "timeout": 60.0}).list_experiments()
    except BackendError as exc:
        seen["local store"] = str(exc)
    seen["imported"] = sorted(m for m in sys.modules
                              if sys.modules[m] is not None and m.partition(".")[0] in %(hidden)r)

asyncio.run(main())
print(json.dumps(seen))
"""


def test_a_lean_install_runs_the_panes_it_can_and_names_the_extras_of_the_others(running_server, tmp_path):
    hide = tmp_path / "hide"
    hide.mkdir()
    (hide / "sitecustomize.py").write_text(f"import sys\nsys.modules.update(dict.fromkeys({HIDDEN!r}))\n")
    repo = tmp_path / "ws"
    (repo / ".dvc").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n")
    local = tmp_path / "mlflow.db"
    local.write_bytes(b"")
    script = SCRIPT % {"root": str(ROOT), "tests": str(ROOT / "tests"), "repo": str(repo), "uri": running_server.uri,
                       "kubeconfig": str(kubeconfig), "local": f"sqlite:///{local}", "hidden": HIDDEN}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=240, cwd=tmp_path,
                         env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(hide)})
    assert out.returncode == 0, out.stderr[-3000:]
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["runs"] == len(running_server.runs)
    assert "DVC is not installed" in seen["data"] and "pip install 'mlops-console[dvc]'" in seen["data"]
    assert "pip install 'mlops-console[kubernetes]'" in seen["deployments"]
    assert "cannot connect to Prometheus" in seen["metrics"] and "not configured" not in seen["metrics"]
    assert "MLflow is not installed" in seen["local store"] and "mlops-console[mlflow]" in seen["local store"]
    assert seen["imported"] == []
