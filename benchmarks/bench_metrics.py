"""Metrics pane benchmark: a dashboard of 6 panels, 20 series x 720 points each, on a real Prometheus.

Prints, all measured in this run:
  1. drawing one full refresh vs the range queries alone (goal: drawing adds <= 50%),
  2. CPU of the real app (in a pseudo-terminal, 120x40) over N seconds of live refresh every 5 s,
     against the same app paused (goal: < 5% of one core),
  3. bytes written to the terminal per refresh, against one full-screen paint.

    .venv/bin/python benchmarks/bench_metrics.py [--seconds 60]

Needs the `prometheus` and `promtool` commands (Debian's prometheus package). The data (6 metrics x
20 series, one sample every 10 s over the last 2 h) is backfilled with promtool, so every range
query of 2 h at a 10 s step returns 20 series of 721 points.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import math
import os
import pty
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PANELS, SERIES, STEP, WINDOW = 6, 20, 10, 7200  # 721 points per series


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def backfill(folder: Path, end: float) -> Path:
    """Write the OpenMetrics samples and turn them into TSDB blocks with promtool."""
    lines = []
    first = int(end) - WINDOW - 600
    for p in range(PANELS):
        name = f"bench_metric_{p}"
        lines.append(f"# TYPE {name} gauge")
        for s in range(SERIES):
            for t in range(first, int(end) + 1, STEP):
                value = 10 * (p + 1) + s + 3 * math.sin(t / 600 + s) + math.sin(t / 37 + p)
                lines.append(f'{name}{{series="s{s:02d}",panel="{p}"}} {value:.4f} {t}')
    lines.append("# EOF")
    source = folder / "bench.om"
    source.write_text("\n".join(lines) + "\n")
    data = folder / "data"
    subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", "-q", str(source), str(data)],
                   check=True, timeout=300)
    return data


def start_prometheus(folder: Path, data: Path) -> tuple[subprocess.Popen, str]:
    import httpx

    config = folder / "prom.yml"
    config.write_text("global:\n  scrape_interval: 15s\nscrape_configs: []\n")
    port = free_port()
    proc = subprocess.Popen(
        ["prometheus", f"--config.file={config}", f"--web.listen-address=127.0.0.1:{port}",
         f"--storage.tsdb.path={data}", "--log.level=error"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if httpx.get(f"{url}/-/ready", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    else:
        raise SystemExit("Prometheus did not become ready")
    return proc, url


def write_dashboard(folder: Path) -> Path:
    boards = folder / "dashboards"
    boards.mkdir()
    panels = "\n".join(f"  - title: Panel {p}\n    kind: line\n    promql: bench_metric_{p}"
                       for p in range(PANELS))
    (boards / "bench.yaml").write_text(f"title: Bench\npanels:\n{panels}\n")
    return boards


# -- 1. drawing vs querying ----------------------------------------------------------------------
def bench_draw(url: str, boards: Path, repeats: int) -> None:
    from textual.geometry import Region

    from backends.metrics.prometheus import PrometheusMetrics
    from console.app import make_app
    from console.config import Config, Context
    from console.panes.metrics.polling import Job, run_poll
    from widgets.chart import LineChart

    backend = PrometheusMetrics.from_settings({"prometheus_url": url, "timeout": 30})
    end = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=30)
    start = end - timedelta(seconds=WINDOW)
    jobs = [Job(p, 0, "range", f"bench_metric_{p}") for p in range(PANELS)]
    run_poll(backend, jobs, start, end, STEP)  # warm up (connections, Prometheus caches)
    query_times, answers = [], []
    for index in range(repeats):
        shift = timedelta(seconds=STEP * (index % 2))  # two different windows: every draw is a real one
        t0 = time.perf_counter()
        results = run_poll(backend, jobs, start - shift, end - shift, STEP)
        query_times.append(time.perf_counter() - t0)
        answers.append((start - shift, end - shift, results))
        shapes = {(len(r.series), len(r.series[0].points)) for _, r in results}
        assert shapes == {(SERIES, 721)}, shapes

    context = Context(name="bench", prometheus_url=url, dashboards=(str(boards),), data_backend="fake",
                      runs_backend="fake", deployments_backend="fake", refresh_interval=3600)
    app = make_app(Config(path=None, default_context="bench", contexts={"bench": context}), context,
                   initial_pane="metrics", cursor_blink=False)
    draw_times: list[float] = []

    async def run() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            screen = app.current_pane()
            while screen.last_range is None:
                await pilot.pause(0.05)
            app.run_command_line("dashboard Bench")
            while screen.dashboard is None or screen.is_busy("poll"):
                await pilot.pause(0.05)
            await pilot.pause(0.2)
            screen.live = False
            charts = list(screen.query("#dashboard LineChart").results(LineChart))
            assert len(charts) == PANELS
            for first, last, results in answers:
                t0 = time.perf_counter()
                screen._show_dashboard(first, last, results)
                for chart in charts:  # what the compositor asks of each widget for one frame
                    chart.render_lines(Region(0, 0, chart.size.width, chart.size.height))
                draw_times.append(time.perf_counter() - t0)
                await pilot.pause(0.01)

    asyncio.run(run())
    q, d = statistics.median(query_times), statistics.median(draw_times)
    print(f"1. one full refresh of {PANELS} panels x {SERIES} series x 721 points (120x40, median of {repeats}):")
    print(f"   range queries alone  {q * 1000:8.1f} ms")
    print(f"   drawing              {d * 1000:8.1f} ms")
    print(f"   drawing / queries    {d / q:8.2f}   (goal <= 0.50: drawing adds at most 50%)")


# -- 2 and 3. CPU and terminal bytes of the real app ------------------------------------------------
def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def bench_live(url: str, boards: Path, folder: Path, seconds: float, interval: float) -> None:
    xdg = folder / "xdg"
    (xdg / "mlops-console").mkdir(parents=True)
    (xdg / "mlops-console" / "config.toml").write_text(
        'default_context = "bench"\n[contexts.bench]\n'
        f'prometheus_url = "{url}"\ndashboards = ["{boards}"]\nrefresh_interval = {interval}\n'
        'data_backend = "fake"\nruns_backend = "fake"\ndeployments_backend = "fake"\n')
    env = dict(os.environ, XDG_CONFIG_HOME=str(xdg), TERM="xterm-256color")
    env.pop("COLUMNS", None)
    env.pop("LINES", None)
    env.pop("NO_COLOR", None)
    pid, master = pty.fork()
    if pid == 0:
        os.chdir(folder)
        os.execve(sys.executable, [sys.executable, "-m", "console", "--pane", "metrics"],
                  dict(env, PYTHONPATH=str(ROOT)))
    fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    received = [0]
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            try:
                chunk = os.read(master, 65536)
            except OSError:
                return
            if not chunk:
                return
            received[0] += len(chunk)

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()

    def send(text: str, pause: float = 0.3) -> None:
        for char in text:
            os.write(master, char.encode())
            time.sleep(0.03)
        time.sleep(pause)

    try:
        time.sleep(4)
        send(":", 0.5)
        send("dashboard Bench\r", 0.2)
        time.sleep(interval + 1)

        def resize(rows: int, cols: int) -> None:
            fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
            time.sleep(2.0)

        resize(40, 119)  # a resize makes the app paint the whole screen: measure one full paint
        before_paint = received[0]
        resize(40, 120)
        full_paint = received[0] - before_paint
        time.sleep(interval)

        def measure(span: float) -> tuple[float, int]:
            cpu0, bytes0 = cpu_seconds(pid), received[0]
            time.sleep(span)
            return (cpu_seconds(pid) - cpu0) / span, received[0] - bytes0

        live_cpu, live_bytes = measure(seconds)
        send(" ", 1.0)  # pause live refresh: the baseline is the same app, idle
        idle_cpu, idle_bytes = measure(seconds)
        send("q", 1.0)
    finally:
        stop.set()
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)
    refreshes = seconds / interval
    print(f"2. CPU of the app over {seconds:g} s, live refresh every {interval:g} s ({PANELS} panels, 120x40):")
    print(f"   live      {live_cpu * 100:6.2f}% of one core   (goal < 5%)")
    print(f"   paused    {idle_cpu * 100:6.2f}% of one core   (baseline)")
    print(f"   live / paused {live_cpu / idle_cpu if idle_cpu else float('inf'):6.1f}x")
    print("3. bytes written to the terminal:")
    print(f"   per refresh (live)       {live_bytes / refreshes:10.0f} B")
    print(f"   per {interval:g} s (paused)        {idle_bytes / refreshes:10.0f} B")
    print(f"   one full-screen paint    {full_paint:10d} B   "
          f"(per refresh / full paint = {live_bytes / refreshes / max(1, full_paint):.2f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each CPU measurement")
    parser.add_argument("--interval", type=float, default=5.0, help="live refresh interval")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    for tool in ("prometheus", "promtool"):
        if shutil.which(tool) is None:
            raise SystemExit(f"needs `{tool}` (apt-get install prometheus)")
    with tempfile.TemporaryDirectory(prefix="bench-metrics-") as tmp:
        folder = Path(tmp)
        data = backfill(folder, time.time())
        proc, url = start_prometheus(folder, data)
        try:
            boards = write_dashboard(folder)
            bench_draw(url, boards, args.repeats)
            bench_live(url, boards, folder, args.seconds, args.interval)
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(10)


if __name__ == "__main__":
    main()
