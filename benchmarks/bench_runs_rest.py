"""Runs over MLflow's REST API: a 100,000-run PostgreSQL store behind ``mlflow server``, and the lean install.

    .venv/bin/python benchmarks/bench_runs_rest.py [--repeat 15] [--no-install]

The store is tests/mlflow/pg_store.py's (a throwaway PostgreSQL cluster, filled once and cached under the
system temp; needs Debian's ``postgresql`` and psycopg2-binary). Measures, all in this run:

1. the first page of 100 runs, newest first and sorted by a metric: the console's REST backend
   (``backends.runs.mlflow_rest``) vs a bare httpx POST of the same ``runs/search`` body on a kept-alive
   connection, interleaved (goal <= 1.1x);
2. resident memory of a fresh app process: idle, the Runs pane open over REST, 1,000 rows scrolled (goal:
   <= +30 MB above idle), and that no helper process was started and mlflow was never imported;
3. the lean install: a fresh virtualenv with ``pip install .`` (no extras) vs ``pip install '.[all]'``, each
   timed and measured (du), from the pip cache as a user's second install would be (goal: lean <= 150 MB);
   then, in the lean virtualenv, the console opens the Runs pane over REST, the Metrics pane, and names the
   extras of the Data and Deployments panes and of a local MLflow store.

Prints figures and ratios; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(1, str(ROOT / "tests" / "mlflow"))
sys.path.insert(2, str(ROOT / "benchmarks"))


def time_first_pages(url: str, eid: str, repeat: int) -> None:
    import httpx

    from backends.registry import create
    from backends.runs import RunQuery, SortKey
    from backends.runs.mlflow_rest import MlflowRestRuns

    backend = create("runs", "auto", {"mlflow_uri": url, "timeout": 120.0})
    assert isinstance(backend, MlflowRestRuns)
    bare = httpx.Client(timeout=120.0)
    for label, key, clause in (("newest first", SortKey("attributes.start_time", True), "attributes.start_time DESC"),
                               ("sorted by a metric (rmse)", SortKey("metrics.rmse"), "metrics.rmse ASC")):
        query = RunQuery((eid,), sort=(key,))
        body = {"experiment_ids": [eid], "max_results": 100, "order_by": [clause]}
        ours: list[float] = []
        theirs: list[float] = []

        def console(query: RunQuery = query, ours: list[float] = ours) -> None:
            started = time.perf_counter()
            page = backend.search_runs(query)
            ours.append(time.perf_counter() - started)
            assert len(page.runs) == 100

        def plain(body: dict = body, theirs: list[float] = theirs) -> None:
            started = time.perf_counter()
            answer = bare.post(f"{url}/api/2.0/mlflow/runs/search", json=body)
            answer.raise_for_status()
            runs = answer.json()["runs"]
            theirs.append(time.perf_counter() - started)
            assert len(runs) == 100

        console(), plain()  # warm both connections and the server's caches alike
        ours.clear(), theirs.clear()
        for i in range(repeat):  # interleaved, alternating who goes first
            for step in ((console, plain) if i % 2 == 0 else (plain, console)):
                step()
        med_ours, med_bare = statistics.median(ours), statistics.median(theirs)
        print(f"   {label:28} console {med_ours * 1000:7.1f} ms   bare httpx {med_bare * 1000:7.1f} ms"
              f"   ratio {med_ours / med_bare:5.2f}x  (goal <= 1.1x; median of {repeat})")
    bare.close()
    backend.close()


def memory_child(url: str) -> None:
    os.environ["BENCH_RUNS_BACKEND"] = "auto"
    from bench_runs import memory_profile

    out = asyncio.run(memory_profile(url))
    out["mlflow_imported"] = sorted(m for m in sys.modules if m.partition(".")[0] == "mlflow")
    out["children"] = [pid for task in Path("/proc/self/task").iterdir()
                       for pid in (task / "children").read_text().split()]
    print(json.dumps(out))


def memory(url: str) -> None:
    proc = subprocess.run([sys.executable, __file__, "--memory-child", url], capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        print(proc.stderr[-3000:])
        return
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"   idle {r['idle']:6.1f}  Runs pane open {r['opened']:6.1f} (+{r['opened'] - r['idle']:5.1f})"
          f"  after 1,000 rows {r['scrolled']:6.1f} (+{r['scrolled'] - r['idle']:5.1f}, goal <= +30 MB)"
          f"  [{r['loaded']} runs loaded, cursor row {r['cursor']}]")
    print(f"   helper processes: {len(r['children'])} (RSS {r['helper_scrolled']:.1f} MB);"
          f" mlflow modules imported: {len(r['mlflow_imported'])}")
    print(f"   longest key press {r['worst_press_ms']:.0f} ms, longest UI loop wait while scrolling "
          f"{r['lag_scroll_ms']:.0f} ms")


def _du_mb(path: Path) -> float:
    out = subprocess.run(["du", "-sk", str(path)], capture_output=True, text=True, check=True).stdout
    return int(out.split()[0]) / 1024


def install(target: Path, spec: str) -> tuple[float, float]:
    """(seconds, MB) of a fresh virtualenv with ``pip install spec``."""
    shutil.rmtree(target, ignore_errors=True)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "venv", str(target)], check=True)
    subprocess.run([str(target / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", spec],
                   check=True, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started, _du_mb(target)


LEAN_CHECK = """
import asyncio, json, sys, tempfile
from pathlib import Path
from backends.errors import BackendError
from backends.registry import create
from console.app import make_app
from console.config import Config, Context

work = Path(tempfile.mkdtemp())
(work / "ws" / ".dvc").mkdir(parents=True)
(work / "ws" / ".git").mkdir()
(work / "kubeconfig").write_text("apiVersion: v1\\nkind: Config\\nclusters: []\\ncontexts: []\\nusers: []\\n")
(work / "mlflow.db").write_bytes(b"")
ctx = Context(name="lean", repo=str(work / "ws"), mlflow_uri=sys.argv[1], kubeconfig=str(work / "kubeconfig"),
              prometheus_url="http://127.0.0.1:9", timeout=60.0)
app = make_app(Config(path=None, default_context="lean", contexts={"lean": ctx}), ctx, initial_pane="runs")
seen = {}

def text():
    return " ".join(" ".join(s.text for s in app.screen._compositor.render_strips()).split())

async def until(pilot, predicate):
    for _ in range(2400):
        await pilot.pause(0.05)
        if predicate():
            return

async def main():
    async with app.run_test(size=(120, 34)) as pilot:
        await until(pilot, lambda: getattr(app.screen, "runs", None))
        seen["runs"] = len(getattr(app.screen, "runs", None) or ())
        for key, pane, expect in (("1", "data", "[dvc]"), ("3", "deployments", "[kubernetes]"),
                                  ("4", "metrics", "Prometheus")):
            await pilot.press(key)
            await until(pilot, lambda: expect in text())
            seen[pane] = text()
    try:
        create("runs", "auto", {"mlflow_uri": "sqlite:///" + str(work / "mlflow.db"), "timeout": 60}).list_experiments()
    except BackendError as exc:
        seen["local store"] = str(exc)
    seen["imported"] = sorted({m.partition(".")[0] for m in sys.modules} & {"mlflow", "dvc", "kubernetes"})

asyncio.run(main())
print(json.dumps(seen))
"""


def lean_check(venv: Path, url: str) -> None:
    """The installed console (not this checkout) in the lean virtualenv, against the server."""
    with tempfile.TemporaryDirectory() as cwd:
        proc = subprocess.run([str(venv / "bin" / "python"), "-c", LEAN_CHECK, url], capture_output=True, text=True,
                              cwd=cwd, timeout=600)
    if proc.returncode != 0:
        print("   the console FAILED in the lean install:\n" + proc.stderr[-3000:])
        return
    seen = json.loads(proc.stdout.strip().splitlines()[-1])

    def said(pane: str, words: str) -> str:
        return "yes" if words in seen.get(pane, "") else f"NO: {seen.get(pane, '')[-300:]!r}"

    print(f"   Runs pane over REST: {seen['runs']} runs on screen")
    print(f"   Metrics pane asks Prometheus: {said('metrics', 'cannot connect to Prometheus')}")
    print(f"   Data pane names [dvc]: {said('data', 'mlops-console[dvc]')}")
    print(f"   Deployments pane names [kubernetes]: {said('deployments', 'mlops-console[kubernetes]')}")
    print(f"   a local store names [mlflow]: {said('local store', 'mlops-console[mlflow]')}")
    print(f"   mlflow / dvc / kubernetes imported: {seen['imported'] or 'none'}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--no-install", action="store_true", help="skip the virtualenv installs (part 3)")
    parser.add_argument("--memory-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args.memory_child)
        return

    import pg_store

    why = pg_store.available()
    if why:
        sys.exit(why)
    started = time.perf_counter()
    with pg_store.PostgresMlflow() as server:
        print(f"mlflow server on PostgreSQL, {pg_store.RUNS:,} runs x {len(pg_store.METRICS)} metrics x "
              f"{len(pg_store.PARAMS)} params: ready in {time.perf_counter() - started:.0f} s "
              f"(cluster cached under {pg_store.cached_cluster().parent})")
        print("\n1. first page of 100 runs")
        time_first_pages(server.url, server.experiment_id, args.repeat)
        print("\n2. memory of a fresh app process over REST (RSS, MB)")
        memory(server.url)
        if args.no_install:
            return
        print("\n3. install into a fresh virtualenv (pip cache warm)")
        base = Path(tempfile.mkdtemp(prefix="mlops-console-venvs-"))
        try:
            lean_s, lean_mb = install(base / "lean", ".")
            print(f"   pip install .          {lean_s:6.0f} s  {lean_mb:7.0f} MB  (goal <= 150 MB)")
            all_s, all_mb = install(base / "all", ".[all]")
            print(f"   pip install '.[all]'   {all_s:6.0f} s  {all_mb:7.0f} MB")
            print(f"   lean / all: {lean_mb / all_mb:.2f}x the size, {lean_s / all_s:.2f}x the time")
            print("\n4. the console in the lean virtualenv")
            lean_check(base / "lean", server.url)
        finally:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
