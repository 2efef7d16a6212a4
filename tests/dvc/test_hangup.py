"""A real `mlops-console` on a pseudo-terminal, checking out a 2,000-file directory, loses its terminal or
is killed half way: afterwards the .dvc file, git's index and the workspace hold one version whole."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import shutil
import signal
import struct
import sys
import termios
import threading
import time
from pathlib import Path

import pytest

from tests.dvc.conftest import commit, dvc, git

ROOT = Path(__file__).resolve().parents[2]
JOURNAL = Path(".dvc") / "tmp" / "mlops-console-checkout.json"
ANSI = re.compile(rb"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>78cM]|\x1b\][^\x07]*\x07")
MANY = 2000


@pytest.fixture(scope="module")
def big_template(tmp_path_factory) -> Path:
    """data/big: 2,000 files of 20 KB at HEAD~1, ten small files at HEAD (checked out)."""
    ws = tmp_path_factory.mktemp("big") / "ws"
    ws.mkdir()
    git(ws, "init", "-q", "-b", "main")
    git(ws, "config", "user.name", "Ada Lovelace")
    git(ws, "config", "user.email", "ada@example.com")
    dvc(ws, "init", "-q")
    commit(ws, "Initialize DVC")
    big = ws / "data" / "big"
    big.mkdir(parents=True)
    for i in range(MANY):
        (big / f"part-{i:04d}.bin").write_bytes(i.to_bytes(4, "big") * 5000)
    dvc(ws, "add", "-q", "data/big")
    commit(ws, "2,000 parts", "data/big.dvc", "data/.gitignore")
    shutil.rmtree(big)
    big.mkdir()
    for i in range(10):
        (big / f"small-{i}.txt").write_text(f"small {i}\n")
    dvc(ws, "add", "-q", "data/big")
    commit(ws, "ten small files", "data/big.dvc")
    return ws


@pytest.fixture
def big_repo(big_template: Path, tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    shutil.copytree(big_template, ws, symlinks=True)
    return ws


class Terminal:
    """The console on a pseudo-terminal of its own, its output drained and kept (escape codes removed)."""

    def __init__(self, ws: Path, tmp: Path) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "DVC_NO_ANALYTICS": "1", "TERM": "xterm-256color",
               "XDG_CONFIG_HOME": str(tmp / "xdg"), "COLUMNS": "120", "LINES": "34"}
        env.pop("MLOPS_CONSOLE_CONFIG", None)
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: the console, as a user starts it
            os.chdir(ws)
            os.execve(sys.executable, [sys.executable, "-m", "console", "--repo", str(ws)], env)
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", 34, 120, 0, 0))
        self.output = b""
        self.status: int | None = None
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        while True:
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.output += chunk

    def text(self) -> str:
        return ANSI.sub(b"", self.output).decode("utf-8", "replace")

    def wait_for(self, condition, what: str, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"{what}: not seen in time; screen ends with {self.text()[-1500:]!r}")
            time.sleep(0.02)

    def wait_text(self, text: str, timeout: float = 90.0) -> None:
        start = len(self.output)
        self.wait_for(lambda: text in ANSI.sub(b"", self.output[max(0, start - 4096):]).decode("utf-8", "replace"),
                      repr(text), timeout)

    def send(self, keys: str) -> None:
        os.write(self.fd, keys.encode())

    def hang_up(self) -> None:
        """Close the terminal: the kernel sends SIGHUP, as when an SSH session ends."""
        os.close(self.fd)

    def wait_exit(self, timeout: float = 120.0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = status
                return status
            time.sleep(0.05)
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        raise AssertionError("the console did not exit")

    def close(self) -> None:
        if self.status is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        try:
            os.close(self.fd)
        except OSError:
            pass


def start_checkout_of_the_big_version(term: Terminal, ws: Path) -> None:
    """Select the 2,000-file version of data/big, press c, confirm; return once part of it is written."""
    term.wait_text("version(s)")
    term.send("\t")
    time.sleep(0.3)
    term.send("j")
    time.sleep(0.3)
    term.send("c")
    term.wait_text("Check out data/big @")
    term.send("y")
    big = ws / "data" / "big"
    term.wait_for(lambda: sum(1 for _ in big.iterdir()) > 300, "part of the new version written")


def one_version_whole(ws: Path) -> str:
    """Which commit's version of data/big the .dvc file, the index and the workspace all hold; fails if
    they disagree, if files are missing or extra, or if a checkout left a temporary file behind."""
    record = (ws / "data" / "big.dvc").read_bytes()
    index_blob = git(ws, "ls-files", "-s", "--", "data/big.dvc").stdout.split()[1]
    assert git(ws, "hash-object", "data/big.dvc").stdout.strip() == index_blob, "index and .dvc file differ"
    which = None
    for rev in ("HEAD", "HEAD~1"):
        if git(ws, "show", f"{rev}:data/big.dvc").stdout.encode() == record:
            which = rev
    assert which is not None, "the .dvc file is neither version"
    files = sorted(p.relative_to(ws / "data" / "big").as_posix() for p in (ws / "data" / "big").rglob("*"))
    if which == "HEAD":
        assert files == [f"small-{i}.txt" for i in range(10)]
    else:
        assert files == [f"part-{i:04d}.bin" for i in range(MANY)]
        assert all(p.stat().st_size == 20000 for p in (ws / "data" / "big").iterdir())
    assert dvc(ws, "status", "data/big.dvc").stdout.strip().endswith("up to date.")
    zero = [p for p in ws.rglob("*") if p.is_file() and p.stat().st_size == 0 and ".git" not in p.parts
            and ".dvc" not in p.parts]
    assert zero == [], f"temporary files left: {zero}"
    return which


def test_a_hang_up_mid_checkout_leaves_one_version_whole(big_repo, tmp_path):
    term = Terminal(big_repo, tmp_path)
    try:
        start_checkout_of_the_big_version(term, big_repo)
        term.hang_up()
        status = term.wait_exit()
    finally:
        term.close()
    assert one_version_whole(big_repo) == "HEAD"  # stopped and put back
    assert not (big_repo / JOURNAL).exists()
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 128 + signal.SIGHUP, status


def dvc_lock_free(ws: Path) -> bool:
    import zc.lockfile

    try:
        zc.lockfile.LockFile(str(ws / ".dvc" / "tmp" / "lock")).close()
    except zc.lockfile.LockError:
        return False
    return True


def test_the_next_start_offers_to_put_back_a_checkout_whose_console_was_killed(big_repo, tmp_path):
    term = Terminal(big_repo, tmp_path)
    try:
        start_checkout_of_the_big_version(term, big_repo)
        os.kill(term.pid, signal.SIGKILL)
        term.wait_exit()
    finally:
        term.close()
    assert (big_repo / JOURNAL).is_file()
    # the DVC it had started runs on in a session of its own; the next start comes after it
    deadline = time.monotonic() + 120
    while not dvc_lock_free(big_repo):
        assert time.monotonic() < deadline, "DVC did not finish"
        time.sleep(0.2)

    term = Terminal(big_repo, tmp_path)
    try:
        term.wait_text("Interrupted checkout of data/big")
        assert "put the old version back" in term.text()
        term.send("o")
        term.wait_text("is back to the version it had before the interrupted checkout")
        term.send("q")
        term.wait_exit()
    finally:
        term.close()
    assert one_version_whole(big_repo) == "HEAD"
    assert not (big_repo / JOURNAL).exists()


def kill_dvc_children_in(ws: Path, sig: int = signal.SIGKILL) -> int:
    """SIGKILL every `dvc` checkout working in ``ws`` (what a power cut does to them), or send it ``sig`` (0: only
    count them); how many there were."""
    killed = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        if b"dvc" in cmdline and b"checkout" in cmdline and cwd == str(ws):
            os.kill(int(entry.name), sig)
            killed += 1
    return killed


def stop_dvc_in(ws: Path) -> int:
    """Kill every `dvc` checkout in ``ws`` until none has been seen for 0.3 s (one started by the killed
    console just before it died is caught too); how many were killed."""
    killed, quiet_since = 0, time.monotonic()
    while time.monotonic() - quiet_since < 0.3:
        found = kill_dvc_children_in(ws)
        if found:
            killed, quiet_since = killed + found, time.monotonic()
        time.sleep(0.02)
    return killed


def test_an_interrupted_checkout_can_be_finished(big_repo):
    """The console and its DVC both killed half way (temporary file and all): finishing it gives the new
    version whole, and checkouts are refused until then."""
    import subprocess

    from backends.data.dvc import DvcDatasets

    code = ("import sys; from backends.data.dvc import DvcDatasets; "
            "DvcDatasets(sys.argv[1]).checkout('data/big', 'HEAD~1')")
    proc = subprocess.Popen([sys.executable, "-c", code, str(big_repo)], cwd=ROOT,
                            env={**os.environ, "DVC_NO_ANALYTICS": "1"})
    big = big_repo / "data" / "big"
    deadline = time.monotonic() + 90
    while sum(1 for _ in big.iterdir()) <= 300:
        assert time.monotonic() < deadline and proc.poll() is None, "the checkout did not get going"
        time.sleep(0.02)
    proc.kill()
    proc.wait()
    assert kill_dvc_children_in(big_repo) == 1
    backend = DvcDatasets(big_repo)
    interrupted = backend.interrupted_checkout()
    assert interrupted is not None and interrupted.output == "data/big"
    assert interrupted.rev == git(big_repo, "rev-parse", "HEAD~1").stdout.strip()
    plan = backend.plan_checkout("data/big", "HEAD")
    assert "an earlier checkout of data/big was interrupted" in plan.problem
    result = backend.recover_checkout(finish=True)
    assert result.ok and "finished" in result.message
    assert one_version_whole(big_repo) == "HEAD~1"
    assert backend.interrupted_checkout() is None and not (big_repo / JOURNAL).exists()


def test_every_temporary_file_name_dvc_draws_is_recognised(tmp_path):
    """DVC names the copy of a file output with ``secrets.token_urlsafe``: letters and digits, and also '-'
    and '_'. Putting an interrupted checkout back removes every such file, whatever the draw, and only those."""
    from dvc_objects.fs.utils import tmp_fname

    from backends.data.dvc_rollback import dvc_temporaries, remove_dvc_temporaries

    output = tmp_path / "huge.bin"
    output.write_bytes(b"old version\n")
    drawn = {tmp_fname() for _ in range(64)} | {".A-_" + "b" * 19 + ".tmp"}
    for name in drawn:
        (tmp_path / name).write_bytes(b"half copied")
    others = {"huge.bin.bak", ".short.tmp", "notes.tmp"}
    for name in others:
        (tmp_path / name).write_bytes(b"not DVC's")
    assert dvc_temporaries(output) == drawn
    there_before = sorted(drawn)[0]
    remove_dvc_temporaries(output, keep=[there_before])
    assert {p.name for p in tmp_path.iterdir()} == {"huge.bin", there_before} | others


def test_an_interrupted_checkout_of_a_large_file_is_put_back_without_its_temporary_file(tmp_path):
    """DVC copies a file output into a temporary file beside it; killed half way, that file stays. Putting
    the old version back removes it and brings the old file back."""
    import subprocess

    from backends.data.dvc import DvcDatasets

    ws = tmp_path / "ws"
    ws.mkdir()
    git(ws, "init", "-q", "-b", "main")
    git(ws, "config", "user.name", "Ada Lovelace")
    git(ws, "config", "user.email", "ada@example.com")
    dvc(ws, "init", "-q")
    (ws / "data").mkdir()
    (ws / "data" / "huge.bin").write_bytes(os.urandom(1 << 20) * 150)
    dvc(ws, "add", "-q", "data/huge.bin")
    commit(ws, "150 MB")
    (ws / "data" / "huge.bin").write_bytes(b"small\n")
    dvc(ws, "add", "-q", "data/huge.bin")
    commit(ws, "small", "data/huge.bin.dvc")
    before = {p.name: p.read_bytes() for p in (ws / "data").iterdir()}

    code = ("import sys; from backends.data.dvc import DvcDatasets; "
            "DvcDatasets(sys.argv[1]).checkout('data/huge.bin', 'HEAD~1')")
    for _attempt in range(4):  # the kill must land while DVC copies; on a fast disk the copy can win the race
        proc = subprocess.Popen([sys.executable, "-c", code, str(ws)], cwd=ROOT,
                                env={**os.environ, "DVC_NO_ANALYTICS": "1"})
        deadline = time.monotonic() + 90
        while not any(p.name.endswith(".tmp") for p in (ws / "data").iterdir()) and proc.poll() is None:
            assert time.monotonic() < deadline, "the copy did not start"
            time.sleep(0.002)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
            if stop_dvc_in(ws) >= 1 and any(p.name.endswith(".tmp") for p in (ws / "data").iterdir()):
                break
        else:  # it finished first: put the small version back whole and try again
            proc.wait()
        again = DvcDatasets(ws)
        if again.interrupted_checkout() is not None:
            assert again.recover_checkout(finish=False).ok
        else:
            again.checkout("data/huge.bin", "HEAD")
        assert {p.name: p.read_bytes() for p in (ws / "data").iterdir()} == before
    else:
        pytest.fail("the checkout always finished before it could be killed")
    assert any(p.name.endswith(".tmp") for p in (ws / "data").iterdir())  # what DVC leaves behind

    backend = DvcDatasets(ws)
    assert backend.interrupted_checkout() is not None
    assert backend.recover_checkout(finish=False).ok
    assert {p.name: p.read_bytes() for p in (ws / "data").iterdir()} == before
    assert git(ws, "status", "--porcelain").stdout == ""
    assert backend.interrupted_checkout() is None


async def test_quitting_mid_checkout_asks_then_puts_the_old_version_back(big_repo):
    """`q` (or ctrl+c, or :quit) while 2,000 files are being checked out: a question first; `n` keeps working, `y`
    stops the checkout, puts the old version back whole, and only then quits."""
    from console.app import make_app
    from console.config import Config, Context
    from widgets.confirm import ConfirmDialog

    from .test_data_pane_pilot import open_history, wait_for

    context = Context(name="big", repo=str(big_repo), timeout=60)
    config = Config(default_context="big", contexts={"big": context})
    app = make_app(config, context, cursor_blink=False)
    async with app.run_test(size=(120, 34)) as pilot:
        await open_history(pilot, "data/big", "2,000 parts")
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("y")
        backend = app.current_pane().backend
        # under way, and DVC started (not the git step before it): DVC gone later means it has done its part
        await wait_for(pilot, lambda: kill_dvc_children_in(big_repo, 0) or not backend.operation_running(),
                       timeout=60)
        await pilot.press("ctrl+c")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog)
                       and "under way" in app.screen.title_text)
        await pilot.press("n")  # keep working: the question closes, the app stays
        await wait_for(pilot, lambda: not isinstance(app.screen, ConfirmDialog))
        assert app.is_running
        if backend.operation_running():  # :quit asks too
            await pilot.press("colon", *"quit", "enter")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog) or not app.is_running)
            if not app.is_running:  # the checkout finished just before: nothing to ask, it quit
                assert not backend.operation_running() and one_version_whole(big_repo) == "HEAD~1"
                assert not (big_repo / JOURNAL).exists()
                return
            await pilot.press("n")
            await wait_for(pilot, lambda: not isinstance(app.screen, ConfirmDialog))
        # DVC is held still while the question is asked, so that the stop lands before it can finish; if it has
        # already exited, the checkout is being completed and quitting waits for it
        paused = kill_dvc_children_in(big_repo, signal.SIGSTOP) if backend.operation_running() else 0
        if backend.operation_running():
            await pilot.press("q")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
            await pilot.press("y")
            await wait_for(pilot, lambda: not app.is_running, timeout=120)
            # stopped and put back; or, when DVC had already done its part, the new version completed
            assert one_version_whole(big_repo) == ("HEAD" if paused else "HEAD~1")
        else:  # the machine finished the checkout before the second question: it is whole too
            assert one_version_whole(big_repo) == "HEAD~1"
    assert not (big_repo / JOURNAL).exists()
