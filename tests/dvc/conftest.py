"""Real git + DVC workspaces built the way a user builds them.

One template is built per test session (git init, dvc init, dvc add, commits, a local-directory
remote, dvc push); each test gets its own copy of it, so tests may change anything.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ENV = {**os.environ, "DVC_NO_ANALYTICS": "1", "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0"}
for _key in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
    ENV.pop(_key, None)


def run(cwd: Path, *cmd: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(cmd, cwd=cwd, env=ENV, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return run(cwd, "git", *args, check=check)


def dvc(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return run(cwd, sys.executable, "-m", "dvc", *args, check=check)


def commit(cwd: Path, message: str, *paths: str) -> None:
    git(cwd, "add", *(paths or (".",)))
    git(cwd, "commit", "-q", "-m", message)


@dataclass
class Workspace:
    """A copy of the template: ``ws`` the git + DVC workspace, ``remote`` its default remote folder."""

    base: Path
    ws: Path
    remote: Path

    @property
    def cache(self) -> Path:
        return self.ws / ".dvc" / "cache"

    def git(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return git(self.ws, *args, check=check)

    def dvc(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return dvc(self.ws, *args, check=check)

    def read(self, rel: str) -> bytes:
        return (self.ws / rel).read_bytes()

    def write(self, rel: str, data: str | bytes) -> None:
        path = self.ws / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)

    def rev(self, spec: str) -> str:
        return self.git("rev-parse", spec).stdout.strip()

    def snapshot(self) -> dict[str, bytes]:
        """Every workspace file outside .git and .dvc/cache, and the git index, byte for byte."""
        files: dict[str, bytes] = {}
        for path in sorted(self.ws.rglob("*")):
            rel = path.relative_to(self.ws).as_posix()
            if rel.startswith((".git/", ".dvc/cache", ".dvc/tmp")) or not path.is_file():
                continue
            files[rel] = path.read_bytes()
        files["<git status>"] = self.git("status", "--porcelain").stdout.encode()
        files["<git index>"] = self.git("ls-files", "-s").stdout.encode()
        return files

    def backend(self, **settings):
        from backends.data.dvc import DvcDatasets

        return DvcDatasets.from_settings({"repo": str(self.ws), "timeout": 30, **settings})


def _build_template(base: Path) -> None:
    ws = base / "ws"
    ws.mkdir(parents=True)
    git(ws, "init", "-q", "-b", "main")
    git(ws, "config", "user.name", "Ada Lovelace")
    git(ws, "config", "user.email", "ada@example.com")
    git(ws, "config", "commit.gpgsign", "false")
    dvc(ws, "init", "-q")
    dvc(ws, "config", "core.analytics", "false")
    commit(ws, "Initialize DVC")

    # the seed's steps: data/demo.txt, "version1", then "update demo.txt"
    (ws / "data").mkdir()
    (ws / "data" / "demo.txt").write_text("version1\n")
    dvc(ws, "add", "-q", "data/demo.txt")
    commit(ws, "add demo.txt version1", "data/demo.txt.dvc", "data/.gitignore")
    dvc(ws, "remote", "add", "-d", "storage", "../remote")
    commit(ws, "configure the storage remote", ".dvc/config")
    dvc(ws, "push", "-q")
    (ws / "data" / "demo.txt").write_text("version2 is longer\n")
    dvc(ws, "add", "-q", "data/demo.txt")
    commit(ws, "update demo.txt", "data/demo.txt.dvc")

    # a directory output with two versions: one file changed, one added, one deleted
    images = ws / "data" / "images"
    images.mkdir()
    for name, text in (("cat.png", "cat v1"), ("dog.png", "dog v1"), ("owl.png", "owl v1")):
        (images / name).write_text(text)
    dvc(ws, "add", "-q", "data/images")
    commit(ws, "add images", "data/images.dvc", "data/.gitignore")
    dvc(ws, "push", "-q")
    (images / "cat.png").write_text("cat v2, bigger")
    (images / "owl.png").unlink()
    (images / "sub").mkdir()
    (images / "sub" / "eel.png").write_text("eel v1")
    dvc(ws, "add", "-q", "data/images")
    commit(ws, "update images", "data/images.dvc")

    # an output whose .dvc file is malformed at one commit
    (ws / "data" / "labels.csv").write_text("id,label\n1,cat\n")
    dvc(ws, "add", "-q", "data/labels.csv")
    commit(ws, "add labels", "data/labels.csv.dvc", "data/.gitignore")
    good = (ws / "data" / "labels.csv.dvc").read_text()
    (ws / "data" / "labels.csv.dvc").write_text("outs:\n- md5: [unclosed\n  path: labels.csv\n")
    commit(ws, "break labels.csv.dvc by hand", "data/labels.csv.dvc")
    (ws / "data" / "labels.csv.dvc").write_text(good)
    (ws / "data" / "labels.csv").write_text("id,label\n1,cat\n2,dog\n")
    dvc(ws, "add", "-q", "data/labels.csv")
    commit(ws, "more labels", "data/labels.csv.dvc")

    # a pipeline stage output (dvc.yaml + dvc.lock)
    dvc(ws, "stage", "add", "-q", "-n", "train", "-d", "data/labels.csv", "-o", "model/model.txt",
        "mkdir -p model && wc -l data/labels.csv > model/model.txt")
    dvc(ws, "repro", "-q")
    commit(ws, "train the model", "dvc.yaml", "dvc.lock", "model/.gitignore")
    dvc(ws, "push", "-q")


@pytest.fixture(scope="session")
def dvc_template(tmp_path_factory) -> Path:
    os.environ.setdefault("DVC_SITE_CACHE_DIR", str(tmp_path_factory.mktemp("dvc-site-cache")))
    ENV.setdefault("DVC_SITE_CACHE_DIR", os.environ["DVC_SITE_CACHE_DIR"])
    base = tmp_path_factory.mktemp("dvc-template")
    _build_template(base)
    return base


@pytest.fixture
def seed_repo(dvc_template: Path, tmp_path: Path) -> Workspace:
    """The seed's workspace: demo.txt in two versions, images, labels, a stage; all pushed."""
    base = tmp_path / "copy"
    shutil.copytree(dvc_template, base, symlinks=True)
    return Workspace(base=base, ws=base / "ws", remote=base / "remote")


@pytest.fixture
def dirty_repo(seed_repo: Workspace) -> Workspace:
    """demo.txt edited in the workspace and not saved anywhere."""
    seed_repo.write("data/demo.txt", "my unsaved edit\n")
    return seed_repo


@pytest.fixture
def no_cache_repo(seed_repo: Workspace) -> Workspace:
    """The local cache and the workspace copy of demo.txt are gone; the remote still has the data."""
    shutil.rmtree(seed_repo.cache)
    (seed_repo.ws / "data" / "demo.txt").unlink()
    return seed_repo


@pytest.fixture
def nowhere_repo(no_cache_repo: Workspace) -> Workspace:
    """The data is neither in the cache nor in the remote."""
    shutil.rmtree(no_cache_repo.remote)
    no_cache_repo.remote.mkdir()
    return no_cache_repo


@pytest.fixture
def read_only_backend(seed_repo: Workspace):
    return seed_repo.backend(read_only=True)


@pytest.fixture
def repo_tools():
    """The helpers above, for tests that build a workspace of their own."""
    from types import SimpleNamespace

    return SimpleNamespace(git=git, dvc=dvc, commit=commit, run=run)


@pytest.fixture
def merge_conflict(seed_repo: Workspace) -> Workspace:
    """Two branches changed data/demo.txt; `git merge` stopped with data/demo.txt.dvc unmerged (UU)."""
    ws = seed_repo
    ws.git("checkout", "-q", "-b", "other")
    ws.write("data/demo.txt", "the other branch's version\n")
    ws.dvc("add", "-q", "data/demo.txt")
    commit(ws.ws, "demo.txt on the other branch", "data/demo.txt.dvc")
    ws.git("checkout", "-q", "main")
    ws.dvc("checkout", "-q", "data/demo.txt.dvc")
    ws.write("data/demo.txt", "main's version\n")
    ws.dvc("add", "-q", "data/demo.txt")
    commit(ws.ws, "demo.txt on main", "data/demo.txt.dvc")
    merged = ws.git("merge", "other", check=False)
    assert merged.returncode != 0 and "UU data/demo.txt.dvc" in ws.git("status", "--porcelain").stdout, merged
    return ws


class DvcLockHolder:
    """Another process holding the workspace's DVC lock (.dvc/tmp/lock), as a running `dvc` command does."""

    def __init__(self, ws: Path) -> None:
        code = ("import sys, time, zc.lockfile; lock = zc.lockfile.LockFile(sys.argv[1]); "
                "print('held', flush=True); time.sleep(600)")
        self.proc = subprocess.Popen([sys.executable, "-c", code, str(ws / ".dvc" / "tmp" / "lock")],
                                     stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None and self.proc.stdout.readline().strip() == "held"

    def release(self) -> None:
        self.proc.kill()
        self.proc.wait()


@pytest.fixture
def dvc_lock_held(seed_repo: Workspace):
    holder = DvcLockHolder(seed_repo.ws)
    yield holder
    holder.release()
