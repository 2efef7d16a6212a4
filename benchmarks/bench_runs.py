"""Runs pane benchmark: store-side sort and paging vs the bare client and vs loading everything.

    .venv/bin/python benchmarks/bench_runs.py [--runs 10000] [--small 1000] [--repeat 5]

Builds (once, cached under $BENCH_CACHE or /tmp/mlops-console-bench) sqlite MLflow stores with
N runs of 3 metrics and 2 params each, written with MlflowClient.create_run + log_batch. Then
measures, all in this run:

1. time until the first page sorted by rmse is on screen through our backend and pane, vs
   ``MlflowClient.search_runs(max_results=100, order_by=[...])`` alone (goal <= 1.2x), vs
   ``mlflow.search_runs()`` loading every run and sorting in pandas (goal: ours >= 5x faster);
2. resident memory of a fresh app process: idle, after opening the experiment, after scrolling
   1,000 rows, for the small and the big store (goal: <= 100 MB above idle, and the same for both),
   and of the MLflow helper process the console starts (MLflow runs there, see backends/mlflow_process);
   the same again through a real ``mlflow server`` serving the big store (the helper then holds
   MLflow's REST client, not its SQL store);
3. the longest the UI event loop waited (a frame that could not be drawn) while pages load.

Prints figures and ratios; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CACHE = Path(os.environ.get("BENCH_CACHE", "/tmp/mlops-console-bench"))
T0 = 1_700_000_000_000


def build_store(n: int) -> tuple[str, str]:
    """A sqlite store with ``n`` runs in experiment "bench"; returns (uri, experiment id)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    db = CACHE / f"runs-{n}.db"
    meta = CACHE / f"runs-{n}.json"
    uri = f"sqlite:///{db}"
    if meta.exists() and db.exists():
        return uri, json.loads(meta.read_text())["experiment_id"]
    db.unlink(missing_ok=True)
    logging.getLogger("mlflow").setLevel(logging.ERROR)
    from mlflow.entities import Metric, Param

    from mlflow import MlflowClient

    client = MlflowClient(uri)
    eid = client.create_experiment("bench", artifact_location=str(CACHE / f"artifacts-{n}"))
    started = time.perf_counter()
    for i in range(n):
        run = client.create_run(eid, run_name=f"run-{i:05d}", start_time=T0 + i * 1000)
        rmse = 40.0 + (i * 7919 % 10007) / 100.0  # a permutation: every rmse differs
        client.log_batch(run.info.run_id, metrics=[
            Metric("rmse", rmse, T0 + i * 1000, 0),
            Metric("r2", 1.0 - rmse / 200.0, T0 + i * 1000, 0),
            Metric("mae", rmse * 0.8, T0 + i * 1000, 0),
        ], params=[Param("alpha", str(i % 13 / 10)), Param("l1_ratio", str(i % 7 / 7))])
        if (i + 1) % 1000 == 0:
            print(f"  built {i + 1}/{n} runs ({time.perf_counter() - started:.0f} s)", flush=True)
    meta.write_text(json.dumps({"experiment_id": eid}))
    return uri, eid


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def children_rss_mb() -> float:
    """RSS of this process's child processes (the MLflow helper), MB."""
    total = 0.0
    for task in Path("/proc/self/task").iterdir():
        for pid in (task / "children").read_text().split():
            try:
                with open(f"/proc/{pid}/statm") as f:
                    total += int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
            except OSError:
                pass
    return total


def _app(uri: str, initial: str):
    from console.app import make_app
    from console.config import Config, Context

    ctx = Context(name="bench", mlflow_uri=uri, data_backend="fake", deployments_backend="fake",
                  runs_backend=os.environ.get("BENCH_RUNS_BACKEND", "mlflow"),
                  metrics_backend="fake", timeout=60.0)
    config = Config(path=None, default_context="bench", contexts={"bench": ctx})
    return make_app(config, ctx, initial_pane=initial, cursor_blink=False)


async def _until(pilot, predicate, timeout: float = 120.0) -> float:
    """Wait for ``predicate``; returns the moment it became true (before the settling pause)."""
    deadline = time.perf_counter() + timeout
    while not predicate():
        if time.perf_counter() > deadline:
            raise TimeoutError("benchmark step did not finish")
        await asyncio.sleep(0.001)
    done = time.perf_counter()
    await pilot.pause()
    return done


def _pane(app):
    from console.panes.runs.screen import RunsScreen

    return next((s for s in app.pane_screens() if isinstance(s, RunsScreen)), None)


class LoopLag:
    """The longest the event loop could not run a 5 ms tick (what a frame or key press would wait)."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._task: asyncio.Task | None = None

    async def _run(self) -> None:
        while True:
            t = time.perf_counter()
            await asyncio.sleep(0.005)
            self.worst = max(self.worst, time.perf_counter() - t - 0.005)

    def __enter__(self) -> LoopLag:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc) -> None:
        self._task.cancel()


async def time_pane_first_page(uri: str, eid: str, repeat: int, column: str, attr: str,
                               rewrite: bool = True) -> tuple[list[float], list[float], float]:
    """Seconds from `:sort COLUMN` (asc, then desc, ...) until that first page is in the table, and,
    interleaved with them in alternating order, the bare client's same query (both after the same pause;
    ``rewrite``: see ``_bare_client``)."""
    app = _app(uri, "runs")
    times: list[float] = []
    bare_times: list[float] = []
    client = _bare_client(uri, rewrite)
    async with app.run_test(size=(120, 40)) as pilot:
        await _until(pilot, lambda: _pane(app) is not None and _pane(app).applied is not None)
        screen = _pane(app)
        table = screen.query_one("#runs")
        # the moment the pane's handler has put the page in the table, without polling for it
        # (a polling loop would compete with the worker thread for the GIL and skew the figure)
        arrived = asyncio.Event()
        stamp = [0.0]
        handler = screen._first_page

        def first_page(*args):
            handler(*args)
            stamp[0] = time.perf_counter()
            arrived.set()

        screen._first_page = first_page

        async def one(i: int) -> float:
            want = (column, i % 2 == 1)
            arrived.clear()
            stamp[0] = 0.0
            guard = asyncio.get_running_loop().call_later(120, arrived.set)  # cheaper than wait_for's task
            started = time.perf_counter()
            app.run_command_line(":sort " + ("-" if want[1] else "") + column)
            await arrived.wait()
            guard.cancel()
            assert stamp[0], "no page within 120 s"
            assert screen.sort == want and table.row_count == len(screen.runs) > 0
            await pilot.pause()
            return stamp[0] - started

        def bare(i: int) -> float:
            started = time.perf_counter()
            client.search_runs([eid], "", max_results=100, order_by=[f"{attr} {'DESC' if i % 2 else 'ASC'}"])
            return time.perf_counter() - started

        # timed without the lag probe (its ticks would compete with the worker), then probed apart
        for i in range(repeat * 2):
            for who in ("bare", "pane") if i % 2 == 0 else ("pane", "bare"):
                await asyncio.sleep(0.02)
                if who == "bare":
                    bare_times.append(bare(i))
                else:
                    times.append(await one(i))
        with LoopLag() as lag:
            for i in range(repeat * 2):
                await one(i)
        return times, bare_times, lag.worst


def _bare_client(uri: str, rewrite: bool = True):
    """MlflowClient alone; ``rewrite``: with the console's SQLite sort rewrite on its engine (the same SQL
    the console sends), else MLflow's statement as it ships."""
    from sqlalchemy import event

    from backends.runs import mlflow_sqlite
    from mlflow import MlflowClient

    client = MlflowClient(uri)
    engine = client._tracking_client.store.engine
    if rewrite:
        mlflow_sqlite.install(client._tracking_client.store)
    elif event.contains(engine, "before_cursor_execute", mlflow_sqlite._before_cursor_execute):
        event.remove(engine, "before_cursor_execute", mlflow_sqlite._before_cursor_execute)
    return client


def time_bare(uri: str, eid: str, repeat: int, attr: str, rewrite: bool = True) -> list[float]:
    """``MlflowClient.search_runs`` back to back (see ``_bare_client`` for ``rewrite``)."""
    client = _bare_client(uri, rewrite)
    times = []
    for i in range(repeat * 2):
        order = "DESC" if i % 2 else "ASC"
        started = time.perf_counter()
        client.search_runs([eid], "", max_results=100, order_by=[f"{attr} {order}"])
        times.append(time.perf_counter() - started)
    return times


def time_naive(uri: str, eid: str, column: str) -> float:
    import mlflow

    mlflow.set_tracking_uri(uri)
    started = time.perf_counter()
    df = mlflow.search_runs(experiment_ids=[eid])
    df.sort_values(column).head(100)
    return time.perf_counter() - started


def bare_memory(uri: str) -> dict:
    """RSS of a fresh process before and after MlflowClient fetched one page (what mlflow itself costs)."""
    before = rss_mb()
    from mlflow import MlflowClient

    eid = MlflowClient(uri).search_experiments(filter_string="name = 'bench'")[0].experiment_id
    MlflowClient(uri).search_runs([eid], "", max_results=100, order_by=["attributes.start_time DESC"])
    return {"idle": before, "page": rss_mb()}


async def memory_profile(uri: str) -> dict:
    """RSS of this (fresh) process: idle app, runs pane opened, 1,000 rows scrolled; max loop lag."""
    app = _app(uri, "data")
    out: dict = {}
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.5)
        out["idle"] = rss_mb()
        await pilot.press("2")
        await _until(pilot, lambda: _pane(app) is not None and _pane(app).applied is not None
                     and not _pane(app).is_busy("more"))
        out["opened"] = rss_mb()
        out["helper_opened"] = children_rss_mb()
        screen = _pane(app)
        table = screen.query_one("#runs")
        # when the event loop first saw the cursor on each row: the key had taken effect. Pilot's press()
        # itself also waits for the whole process to go idle, page-fetching thread included.
        seen: dict[int, float] = {}

        async def watch() -> None:
            while True:
                seen.setdefault(table.cursor_row, time.perf_counter())
                await asyncio.sleep(0.005)

        watcher = asyncio.get_running_loop().create_task(watch())
        with LoopLag() as lag:
            worst_press = worst_handled = 0.0
            for _ in range(1000):
                row = table.cursor_row
                started = time.perf_counter()
                await pilot.press("down")
                worst_press = max(worst_press, time.perf_counter() - started)
                if row + 1 in seen:
                    worst_handled = max(worst_handled, seen[row + 1] - started)
            await _until(pilot, lambda: not screen.is_busy("more"))
        watcher.cancel()
        out["worst_press_ms"] = worst_press * 1000
        out["worst_handled_ms"] = worst_handled * 1000
        out["scrolled"] = rss_mb()
        out["helper_scrolled"] = children_rss_mb()
        out["loaded"] = len(screen.runs)
        out["cursor"] = table.cursor_row
        out["lag_scroll_ms"] = lag.worst * 1000
    return out


@contextlib.contextmanager
def mlflow_server(store_uri: str):
    """``mlflow server`` on loopback over ``store_uri``; yields its URL."""
    import signal
    import socket

    import httpx

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = open(CACHE / "mlflow-server.log", "wb")
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    proc = subprocess.Popen([str(Path(sys.executable).parent / "mlflow"), "server", "--backend-store-uri",
                             store_uri, "--default-artifact-root", str(CACHE / "artifacts"), "--host", "127.0.0.1",
                             "--port", str(port), "--workers", "1"],
                            stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"mlflow server did not start (see {CACHE / 'mlflow-server.log'})")
            try:
                if httpx.get(f"{url}/health", timeout=1.0).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)
        log.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--memory-child", help=argparse.SUPPRESS)
    parser.add_argument("--bare-memory-child", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.memory_child:
        print(json.dumps(asyncio.run(memory_profile(args.memory_child))))
        return
    if args.bare_memory_child:
        print(json.dumps(bare_memory(args.bare_memory_child)))
        return

    logging.getLogger("mlflow").setLevel(logging.ERROR)
    print(f"building stores (cached in {CACHE}) ...", flush=True)
    big_uri, big_eid = build_store(args.runs)
    small_uri, _ = build_store(args.small)

    # warm caches and imports the same way for every contender
    time_bare(big_uri, big_eid, 1, "attributes.start_time")
    contenders = (("start time (the default order)", "attributes.start_time", "-start", "start", "start_time"),
                  ("rmse", "metrics.rmse", "metrics.rmse", "metrics.rmse", "metrics.rmse"))
    for n, (label, attr, _cmd, column, df_column) in enumerate(contenders, start=1):
        # a sort by an attribute has no sort join: the console sends MLflow's own SQL, and the bare client
        # is MLflow exactly as it ships; a sort by a metric is compared with the same (rewritten) SQL
        joined = attr.startswith(("metrics.", "params.", "tags."))
        as_shipped = statistics.median(time_bare(big_uri, big_eid, 1, attr, rewrite=False)) if joined else None
        pane, bare, lag = asyncio.run(time_pane_first_page(big_uri, big_eid, args.repeat, column, attr,
                                                           rewrite=joined))
        naive = time_naive(big_uri, big_eid, df_column)
        med_bare, med_pane = statistics.median(bare), statistics.median(pane)
        print(f"\n1.{n} first page sorted by {label}, {args.runs} runs (median of {len(pane)})")
        print("   MlflowClient.search_runs(max_results=100, order_by),")
        if as_shipped is not None:
            print(f"     MLflow's SQL as it ships (back to back)             {as_shipped * 1000:8.1f} ms"
                  f"   ours is {as_shipped / med_pane:5.1f}x faster")
            print(f"     the same SQL the console sends (sort join rewritten) {med_bare * 1000:8.1f} ms"
                  "   (interleaved with the pane's)")
        else:
            print(f"     as it ships (no sort join: the console sends the same SQL) {med_bare * 1000:5.1f} ms"
                  "   (interleaved with the pane's)")
        print(f"   our backend + pane, rows on screen                     {med_pane * 1000:8.1f} ms"
              f"   ratio {med_pane / med_bare:5.2f}x  (goal <= 1.2x)")
        print(f"   mlflow.search_runs() loading all {args.runs} runs          {naive * 1000:8.1f} ms"
              f"   ours is {naive / med_pane:5.1f}x faster (goal >= 5x)")
        print(f"   longest UI loop wait while those pages loaded          {lag * 1000:8.1f} ms (goal <= 100 ms)")

    proc = subprocess.run([sys.executable, __file__, "--bare-memory-child", big_uri], capture_output=True,
                          text=True, cwd=ROOT)
    if proc.returncode == 0:
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        print(f"\n   (for reference: a bare python process importing mlflow and fetching one page: "
              f"{r['idle']:.1f} -> {r['page']:.1f} MB, +{r['page'] - r['idle']:.1f} MB)")

    print("\n2. memory of a fresh app process (RSS, MB)")
    results = {}
    for label, uri in ((f"{args.small} runs", small_uri), (f"{args.runs} runs", big_uri)):
        proc = subprocess.run([sys.executable, __file__, "--memory-child", uri], capture_output=True, text=True,
                              cwd=ROOT)
        if proc.returncode != 0:
            print(proc.stderr[-2000:])
            continue
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        results[label] = r
        print(f"   {label:>11}: idle {r['idle']:6.1f}  opened {r['opened']:6.1f} (+{r['opened'] - r['idle']:5.1f})"
              f"  after 1,000 rows {r['scrolled']:6.1f} (+{r['scrolled'] - r['idle']:5.1f})"
              f"  [{r['loaded']} runs loaded, cursor row {r['cursor']}]\n"
              f"{'':15}MLflow helper process: opened {r['helper_opened']:6.1f}, after 1,000 rows "
              f"{r['helper_scrolled']:6.1f}; console + helper above idle "
              f"+{r['scrolled'] + r['helper_scrolled'] - r['idle']:5.1f}\n"
              f"{'':15}longest loop wait while scrolling and loading pages {r['lag_scroll_ms']:.0f} ms, "
              f"slowest key press {r['worst_press_ms']:.0f} ms (until the process is idle), "
              f"slowest key to take effect {r['worst_handled_ms']:.0f} ms")
    with mlflow_server(big_uri) as url:
        proc = subprocess.run([sys.executable, __file__, "--memory-child", url], capture_output=True, text=True,
                              cwd=ROOT)
    if proc.returncode == 0:
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        print(f"   {args.runs} runs through `mlflow server` (the same store): console after 1,000 rows "
              f"+{r['scrolled'] - r['idle']:.1f}, MLflow helper {r['helper_scrolled']:.1f}; console + helper above "
              f"idle +{r['scrolled'] + r['helper_scrolled'] - r['idle']:.1f} [{r['loaded']} runs loaded]")
    else:
        print(proc.stderr[-2000:])
    if len(results) == 2:
        small, big = results.values()
        def grown(r: dict) -> float:
            return r["scrolled"] + r["helper_scrolled"] - r["idle"]

        print(f"   growth above idle (console + helper), big / small store: "
              f"{grown(big) / max(1e-9, grown(small)):.2f}x "
              "(goal ~1.0x: memory does not grow with the experiment)")


if __name__ == "__main__":
    main()
