"""Start-up: time to the first frame of mlops-console vs a bare Textual app with the same widget tree
(the same widgets, and a footer showing the same keys).

Each measurement is a fresh process (interpreter start, imports, compose, first paint), headless, in a
real git + DVC workspace so the Data pane has work to start. Prints medians and the ratio (goal <= 1.3x).

    .venv/bin/python benchmarks/bench_startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CONSOLE = """
import time
t0 = time.perf_counter()
from console.app import make_app
from console.config import Config, Context
app = make_app(Config(), Context(name="bench", repo="."))
def first_frame():
    print(f"FRAME {time.perf_counter() - t0:.4f}", flush=True)
    app.exit()
app.call_after_refresh(lambda: app.call_after_refresh(first_frame))
app.run(headless=True, size=(120, 34))
"""

BARE = """
import time
t0 = time.perf_counter()
from textual.app import App
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Label, ProgressBar, Static
from textual.binding import Binding
class Pane(Screen):
    BINDINGS = [Binding(k, "noop", d) for k, d in (("r", "Refresh"), ("d", "Diff"), ("c", "Checkout"),
                ("p", "Pull"), ("P", "Push"), ("slash", "Filter"))]
    def compose(self):
        yield Static("mlops-console  1 Data  2 Runs  3 Deployments  4 Metrics  ctx: bench")
        yield Label("Outputs")
        i = Input(); i.display = False; yield i
        t = DataTable(); t.add_columns("path", "kind", "size", "files", "status"); yield t
        yield Label("History")
        h = DataTable(); h.add_columns(" ", "commit", "date", "message", "size", "files", "cache", "remote", "md5", "author"); yield h
        p = ProgressBar(); p.display = False; yield p
        yield Static("status")
        yield Footer()
class Bare(App):
    BINDINGS = [Binding("colon", "noop", ":cmd"), Binding("question_mark", "noop", "Help"), Binding("q", "quit", "Quit")]
    def on_mount(self):
        self.push_screen(Pane())
        self.call_after_refresh(lambda: self.call_after_refresh(first_frame))
def first_frame():
    print(f"FRAME {time.perf_counter() - t0:.4f}", flush=True)
    app.exit()
app = Bare()
app.run(headless=True, size=(120, 34))
"""


def measure(code: str, cwd: Path) -> float:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DVC_NO_ANALYTICS": "1"}
    done = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, env=env,
                          timeout=120)
    for line in done.stdout.splitlines():
        if line.startswith("FRAME "):
            return float(line.split()[1])
    raise RuntimeError(f"no frame: {done.stderr[-2000:]}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp)
        env = {**os.environ, "DVC_NO_ANALYTICS": "1"}
        subprocess.run(["git", "init", "-q"], cwd=ws, check=True)
        subprocess.run([sys.executable, "-m", "dvc", "init", "-q"], cwd=ws, check=True, env=env)
        (ws / "data.csv").write_text("a,b\n1,2\n")
        subprocess.run([sys.executable, "-m", "dvc", "add", "-q", "data.csv"], cwd=ws, check=True, env=env)
        measure(BARE, ws), measure(CONSOLE, ws)  # warm the file cache
        bare, console = [], []
        for _ in range(args.runs):  # interleaved, so both see the same machine load
            bare.append(measure(BARE, ws))
            console.append(measure(CONSOLE, ws))
    b, c = statistics.median(bare), statistics.median(console)
    print(f"first frame, median of {args.runs}: bare Textual app {b * 1000:.0f} ms, "
          f"mlops-console {c * 1000:.0f} ms")
    print(f"ratio mlops-console / bare: {c / b:.2f}x (goal <= 1.3x)")


if __name__ == "__main__":
    main()
