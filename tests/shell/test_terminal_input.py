"""The real `mlops-console` command on a pseudo-terminal: bytes that are not UTF-8 do not end it, and an
unexpected exception ends it with status 1 and one line naming the crash report."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import stat
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent

# what the installed `mlops-console` script runs, with this tree's code first on the path
COMMAND = [sys.executable, "-c", "import sys; from console.cli import main; sys.exit(main())"]


class Terminal:
    """A process on an 80x24 pseudo-terminal; ``screen`` is everything it has written so far."""

    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        self.proc = subprocess.Popen(COMMAND, cwd=cwd, env=env, stdin=slave, stdout=slave, stderr=slave,
                                     start_new_session=True)
        os.close(slave)
        self.screen = b""

    def read_until(self, needle: bytes, timeout: float = 60) -> None:
        """Read output until ``needle`` has been written after what was seen so far (or fail)."""
        start = len(self.screen)
        deadline = time.monotonic() + timeout
        while needle not in self.screen[start:]:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{needle!r} never written; last output: {self.screen[-1500:]!r}")
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:  # the process ended and closed the terminal
                    chunk = b""
                if not chunk:
                    raise AssertionError(f"{needle!r} never written before the end; last output: "
                                         f"{self.screen[-1500:]!r}")
                self.screen += chunk

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    def wait(self, timeout: float = 30) -> int:
        """Exit status, reading the terminal meanwhile (a full terminal would block the process)."""
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if ready:
                try:
                    self.screen += os.read(self.master, 65536)
                except OSError:
                    break
        return self.proc.wait(timeout=max(deadline - time.monotonic(), 1))

    def drain(self) -> None:
        while True:
            ready, _, _ = select.select([self.master], [], [], 0.5)
            if not ready:
                return
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.screen += chunk

    def close(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        os.close(self.master)


@pytest.fixture
def workdir(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """An empty directory (every pane says it is not configured) and the environment to run in it."""
    cwd = tmp_path / "work"
    cwd.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TERM": "xterm-256color", "COLUMNS": "80", "LINES": "24",
           "XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_STATE_HOME": str(tmp_path / "state")}
    for name in ("MLOPS_CONSOLE_CONFIG", "MLFLOW_TRACKING_URI", "PROMETHEUS_URL", "TEXTUAL_DRIVER"):
        env.pop(name, None)
    env["KUBECONFIG"] = str(tmp_path / "no-kubeconfig")
    return cwd, env


def test_bytes_that_are_not_utf8_do_not_end_the_app(workdir, tmp_path):
    cwd, env = workdir
    term = Terminal(cwd, env)
    try:
        term.read_until(b"Data pane")
        term.send(b"\xff\xe9")  # an 8-bit Alt+key, a Latin-1 paste
        term.send(b"2")
        term.read_until(b"Runs pane")  # the key after them still works
        term.send(b"\xc3")  # half a character, then a key
        term.send(b"1")
        term.read_until(b"Data pane")
        term.send(b"q")
        assert term.wait() == 0
        term.drain()
    finally:
        term.close()
    assert b"UnicodeDecodeError" not in term.screen and b"Traceback" not in term.screen
    state = tmp_path / "state" / "mlops-console"
    assert not list(state.glob("crash-*")) if state.exists() else True


PLUGIN = '''
class _Broken:
    @property
    def root(self):
        raise RuntimeError("plugin answer broken, see http://alice:s3cr3t-pw@example.com/x")

class BrokenDatasets:
    """A data backend whose answer breaks the pane that shows it."""
    @classmethod
    def from_settings(cls, settings):
        return cls()
    def workspace(self):
        return _Broken()
    def outputs(self):
        return ()
'''


def test_an_unexpected_exception_exits_1_with_one_line_naming_the_report(workdir, tmp_path):
    cwd, env = workdir
    # a third-party backend, installed the way pip installs one (a module and its dist-info entry point)
    site = tmp_path / "site"
    (site / "brokenplugin-0.1.dist-info").mkdir(parents=True)
    (site / "brokenplugin.py").write_text(PLUGIN)
    (site / "brokenplugin-0.1.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: brokenplugin\nVersion: 0.1\n")
    (site / "brokenplugin-0.1.dist-info" / "entry_points.txt").write_text(
        "[mlops_console.backends]\ndata.broken = brokenplugin:BrokenDatasets.from_settings\n")
    env["PYTHONPATH"] = f"{ROOT}{os.pathsep}{site}"
    config = tmp_path / "config" / "mlops-console" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('[contexts.default]\ndata_backend = "broken"\n')
    term = Terminal(cwd, env)
    try:
        status = term.wait(timeout=60)
        term.drain()
    finally:
        term.close()
    assert status == 1
    state = tmp_path / "state" / "mlops-console"
    reports = list(state.glob("crash-*.txt"))
    assert len(reports) == 1
    report = reports[0]
    assert stat.S_IMODE(report.stat().st_mode) == 0o600
    details = report.read_text()
    assert "RuntimeError: plugin answer broken" in details and "Traceback" in details
    assert "s3cr3t-pw" not in details
    # after the terminal is restored: one line, naming the file, and no traceback
    tail = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", term.screen.rsplit(b"\x1b[?1049l", 1)[-1].decode(errors="replace"))
    lines = [line for line in tail.replace("\r", "").split("\n") if line.strip()]
    assert lines == [f"mlops-console: unexpected error; details written to {report}"], tail
