"""Start-up: time to the first frame of mlops-console vs a bare Textual app with the same widget tree
(the same widgets, and a footer showing the same keys).

Each measurement is a fresh process on a pseudo-terminal (interpreter start, imports, compose, first paint
written to the terminal), in a real git + DVC workspace so the Data pane has work to start. Prints medians and
the ratio (goal <= 1.3x).

    .venv/bin/python benchmarks/bench_startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import select
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CONSOLE = """
from console.cli import main
main([])
"""

BARE = """
from textual.app import App
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Label, ProgressBar, Static
from textual.binding import Binding
class Pane(Screen):
    AUTO_FOCUS = "DataTable"  # as the Data pane: the outputs table has the focus, the filter box is hidden
    BINDINGS = [Binding(k, f"noop('{d}')", d) for k, d in (("r", "Refresh"), ("d", "Diff"), ("c", "Checkout"),
                ("p", "Pull"), ("P", "Push"), ("slash", "Filter"))]
    def action_noop(self, what=""):
        pass
    def compose(self):
        yield Static("mlops-console  1 Data  2 Runs  3 Deployments  4 Metrics  ctx: bench")
        yield Label("Outputs")
        i = Input(); i.display = False; yield i
        t = DataTable(); t.add_columns("path", "kind", "size", "files", "status"); yield t
        yield Label("History")
        h = DataTable()
        h.add_columns(" ", "commit", "date", "message", "size", "files", "cache", "remote", "md5", "author")
        yield h
        p = ProgressBar(); p.display = False; yield p
        yield Static("status")
        yield Footer()
class Bare(App):
    BINDINGS = [Binding("colon", "noop('cmd')", ":cmd"), Binding("question_mark", "noop('help')", "Help"),
                Binding("q", "quit", "Quit")]
    def action_noop(self, what=""):
        pass
    def on_mount(self):
        self.push_screen(Pane())
app = Bare()
app.run()
"""


def measure(code: str, cwd: Path) -> float:
    """Seconds from spawning the program on a 120x34 pseudo-terminal until its first frame is on it
    (the frame's last widget, the footer with its "palette" key, has been written)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DVC_NO_ANALYTICS": "1", "TERM": "xterm-256color",
           "COLUMNS": "120", "LINES": "34", "MLOPS_CONSOLE_CONFIG": str(cwd / "no-config.toml")}
    env.pop("MLOPS_CONSOLE_CONFIG")
    env["XDG_CONFIG_HOME"] = str(cwd / "xdg")
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 34, 120, 0, 0))
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=cwd, env=env, stdin=slave, stdout=slave,
                            stderr=slave, start_new_session=True)
    os.close(slave)
    seen = b""
    try:
        while True:
            ready, _, _ = select.select([master], [], [], 60)
            if not ready:
                raise RuntimeError(f"no frame after 60 s: {seen[-500:]!r}")
            chunk = os.read(master, 65536)
            seen += chunk
            if b"palette" in seen and b"History" in seen:
                return time.perf_counter() - start
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        os.close(master)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    # as after an install: the project's modules load from bytecode, like Textual's own
    subprocess.run([sys.executable, "-m", "compileall", "-q", *(str(ROOT / p) for p in ("console", "widgets",
                    "backends"))], check=True)
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
