"""Real MLflow stores and a real ``mlflow server``, built once per test session.

* ``mlflow_sqlite``: ``sqlite:///.../mlflow.db`` filled by ``mlflow_seed.py`` (the seed's train_diabetes
  runs, a metric over steps, logged models with signatures, a registered model with two versions
  and an alias).
* ``mlflow_filestore``: the same into a ``./mlruns`` file store.
* ``mlflow_server``: ``mlflow server`` on 127.0.0.1 serving a copy of the sqlite store; it can be
  stopped and started again on the same port.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

HERE = Path(__file__).resolve().parent
VENV_BIN = Path(sys.executable).parent
if str(HERE) not in sys.path:  # pg_store.py, shared with the benchmarks
    sys.path.append(str(HERE))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Store:
    uri: str
    root: Path
    built: dict = field(default_factory=dict)

    @property
    def experiment_id(self) -> str:
        return str(self.built["experiment_id"])

    @property
    def runs(self) -> list[dict]:
        return self.built["runs"]

    def settings(self, **extra) -> dict:
        return {"name": "test", "mlflow_uri": self.uri, "timeout": 5.0, **extra}


def _seed_env(extra: dict | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env.update(extra or {})
    env["PYTHONWARNINGS"] = "ignore"
    return env


def _start_seed(uri: str, root: Path, env: dict) -> subprocess.Popen:
    root.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [sys.executable, str(HERE / "mlflow_seed.py"), uri, str(root / "built.json")],
        cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def _finish_seed(proc: subprocess.Popen, uri: str, root: Path) -> Store:
    out, _ = proc.communicate(timeout=180)
    if proc.returncode != 0:
        raise RuntimeError(f"seeding {uri} failed:\n{out[-3000:]}")
    return Store(uri=uri, root=root, built=json.loads((root / "built.json").read_text()))


@pytest.fixture(scope="session")
def _mlflow_seeded(tmp_path_factory) -> dict[str, Store]:
    base = tmp_path_factory.mktemp("mlflow-stores")
    sqlite_root, file_root = base / "sqlite", base / "files"
    sqlite_uri = f"sqlite:///{sqlite_root / 'mlflow.db'}"
    file_uri = str(file_root / "mlruns")
    p1 = _start_seed(sqlite_uri, sqlite_root, _seed_env())
    p2 = _start_seed(file_uri, file_root, _seed_env({"MLFLOW_ALLOW_FILE_STORE": "true"}))
    return {"sqlite": _finish_seed(p1, sqlite_uri, sqlite_root),
            "file": _finish_seed(p2, file_uri, file_root)}


@pytest.fixture(scope="session")
def mlflow_sqlite(_mlflow_seeded) -> Store:
    return _mlflow_seeded["sqlite"]


@pytest.fixture(scope="session")
def mlflow_filestore(_mlflow_seeded) -> Store:
    return _mlflow_seeded["file"]


class MlflowServer:
    """``mlflow server`` on loopback; ``stop()`` and ``start()`` keep the same port and store."""

    def __init__(self, db: Path | str, artifacts: Path, log: Path) -> None:
        """``db``: a SQLite file, or any backend store URI."""
        self.store_uri = db if isinstance(db, str) else f"sqlite:///{db}"
        self.artifacts, self.log = artifacts, log
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 90.0) -> None:
        cmd = [str(VENV_BIN / "mlflow"), "server", "--backend-store-uri", self.store_uri,
               "--default-artifact-root", str(self.artifacts), "--host", "127.0.0.1",
               "--port", str(self.port), "--workers", "1"]
        with open(self.log, "ab") as log:
            # the server's background job runner (huey workers) is not used by the console
            env = {**_seed_env(), "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=self.log.parent,
                                         env=env, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mlflow server exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"mlflow server not healthy after {timeout}s: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)
        self.proc = None
        # the port must really be closed before a test relies on it being down
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) != 0:
                    return
            time.sleep(0.1)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


@pytest.fixture(scope="session")
def mlflow_server(mlflow_sqlite, tmp_path_factory):
    root = tmp_path_factory.mktemp("mlflow-server")
    db = root / "server.db"
    shutil.copy(mlflow_sqlite.root / "mlflow.db", db)
    server = MlflowServer(db, root / "artifacts", root / "server.log")
    server.start()
    store = Store(uri=server.url, root=root, built=mlflow_sqlite.built)
    store.server = server  # type: ignore[attr-defined]
    yield store
    server.stop()


@pytest.fixture
def running_server(mlflow_server):
    """The server, started again if an earlier test left it stopped."""
    if not mlflow_server.server.running:
        mlflow_server.server.start()
    return mlflow_server


@pytest.fixture(scope="session")
def mlflow_postgres_seeded(mlflow_postgres, tmp_path_factory):
    """The pane tests' seeded store on PostgreSQL: its own database in the cluster of ``mlflow_postgres``, filled
    by the same seeding as the SQLite store and served by its own ``mlflow server``."""
    conn = mlflow_postgres.cluster.connect("postgres")
    conn.autocommit = True
    conn.cursor().execute("CREATE DATABASE seeded")
    conn.close()
    root = tmp_path_factory.mktemp("mlflow-postgres-seeded")
    uri = mlflow_postgres.cluster.uri("seeded")
    seeded = _finish_seed(_start_seed(uri, root, _seed_env()), uri, root)
    server = MlflowServer(uri, root / "artifacts", root / "server.log")
    server.start()
    store = Store(uri=server.url, root=root, built=seeded.built)
    store.server = server  # type: ignore[attr-defined]
    yield store
    server.stop()


@pytest.fixture(scope="session")
def mlflow_postgres():
    """``mlflow server`` on a real PostgreSQL holding 100,000 runs (see pg_store.py); skipped where PostgreSQL is
    not installed. Built once per session, on first use."""
    import pg_store

    why = pg_store.available()
    if why:
        pytest.skip(why)
    with pg_store.PostgresMlflow() as server:
        yield server
