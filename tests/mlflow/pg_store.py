"""An MLflow store on a real PostgreSQL holding 100,000 runs, served by ``mlflow server``.

A throwaway cluster is made with ``initdb`` / ``pg_ctl`` in a temporary folder (its unix socket there too) on
a free loopback port; ``mlflow db upgrade`` creates MLflow's own schema, then one experiment of ``runs`` runs
with the metrics :data:`METRICS` and the params :data:`PARAMS` each is written by SQL inside the server
(``INSERT ... SELECT`` over ``generate_series``: no row crosses the wire), which fills 100,000 runs in seconds.
Every value is a function of the run's index, so a test knows the answer to a query without asking MLflow:
see :func:`run_id`, :func:`rmse`, :func:`params_of`.

The filled cluster is kept under the system temp folder, named by the MLflow release and the fill, and each
user gets a copy of it: tests and benchmarks running at once never share one server's files.

PostgreSQL refuses to run as root: as root the cluster belongs to ``nobody`` and its commands run through
``runuser``. Used by tests/mlflow/conftest.py (the ``mlflow_postgres`` fixture) and benchmarks/bench_runs_rest.py.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

import httpx

RUNS = 100_000
METRICS = ("rmse", "mae", "r2")
PARAMS = ("alpha", "l1_ratio", "max_depth")
EXPERIMENT = "pg-bench"
T0 = 1_700_000_000_000  # the first run's start, ms; run i starts i seconds later
FILL = 1  # bump when the fill below changes: the cached cluster is named after it
OWNER = "nobody"
VENV_BIN = Path(sys.executable).parent


def pg_bin(name: str) -> str | None:
    """A PostgreSQL program: on PATH, or in Debian's versioned folder (the newest)."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    return candidates[-1] if candidates else None


def available() -> str | None:
    """Why a PostgreSQL store cannot be built here, or None when it can."""
    missing = [n for n in ("initdb", "pg_ctl") if not pg_bin(n)]
    if missing:
        return f"PostgreSQL is not installed ({', '.join(missing)} not found)"
    if os.geteuid() == 0 and not shutil.which("runuser"):
        return "PostgreSQL refuses to run as root, and runuser (util-linux) is not here to run it as nobody"
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        return "psycopg2 is not installed (pip install psycopg2-binary)"
    return None


# -- what the fill holds: run i's values ---------------------------------------------------------------

def run_name(i: int) -> str:
    return f"run-{i:06d}"


def run_id(i: int) -> str:
    import hashlib

    return hashlib.md5(run_name(i).encode()).hexdigest()


def rmse(i: int) -> float:
    return (i * 7919 % 100_003) / 1000.0  # a permutation of the indexes: every rmse differs


def params_of(i: int) -> dict[str, str]:
    return {"alpha": str((i % 10) / 10), "l1_ratio": str((i // 10 % 10) / 10), "max_depth": str(2 + i % 7)}


# the same values in SQL (numeric division, so 3/10 prints as 0.3, as Python's str does)
_FILL_SQL = """
INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, user_id, status, start_time,
                  end_time, source_version, lifecycle_stage, artifact_uri, experiment_id)
SELECT md5('run-' || lpad(i::text, 6, '0')), 'run-' || lpad(i::text, 6, '0'), 'LOCAL', '', '', 'bench',
       CASE WHEN i %% 50 = 49 THEN 'FAILED' ELSE 'FINISHED' END, %(t0)s + i * 1000, %(t0)s + i * 1000 + 500, '',
       'active', %(artifacts)s || '/' || md5('run-' || lpad(i::text, 6, '0')) || '/artifacts', %(eid)s
FROM generate_series(0::bigint, %(n)s - 1) AS i;

CREATE TEMP TABLE fill_metrics AS
SELECT md5('run-' || lpad(i::text, 6, '0')) AS run_uuid, %(t0)s + i * 1000 AS ts, m.key,
       CASE m.key WHEN 'rmse' THEN (i * 7919 %% 100003) / 1000.0
                  WHEN 'mae' THEN (i * 104729 %% 100003) / 1000.0
                  ELSE 1 - (i * 7919 %% 100003) / 100003.0 END AS value
FROM generate_series(0::bigint, %(n)s - 1) AS i, (VALUES ('rmse'), ('mae'), ('r2')) AS m(key);

INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan)
SELECT key, value, ts, run_uuid, 0, false FROM fill_metrics ORDER BY key, run_uuid;
INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid)
SELECT key, value, ts, 0, false, run_uuid FROM fill_metrics ORDER BY key, run_uuid;

INSERT INTO params (key, value, run_uuid)
SELECT p.key, CASE p.key WHEN 'alpha' THEN ((i %% 10) / 10.0)::numeric(3, 1)::text
                         WHEN 'l1_ratio' THEN ((i / 10 %% 10) / 10.0)::numeric(3, 1)::text
                         ELSE (2 + i %% 7)::text END,
       md5('run-' || lpad(i::text, 6, '0'))
FROM generate_series(0::bigint, %(n)s - 1) AS i, (VALUES ('alpha'), ('l1_ratio'), ('max_depth')) AS p(key)
ORDER BY 1, 3;

INSERT INTO tags (key, value, run_uuid)
SELECT t.key, CASE t.key WHEN 'mlflow.runName' THEN 'run-' || lpad(i::text, 6, '0') ELSE 'bench' END,
       md5('run-' || lpad(i::text, 6, '0'))
FROM generate_series(0::bigint, %(n)s - 1) AS i, (VALUES ('mlflow.runName'), ('mlflow.user')) AS t(key)
ORDER BY 1, 3;
"""


_FILLED = ("metrics", "latest_metrics", "params", "tags")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_owner(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", OWNER, "--", *cmd] if os.geteuid() == 0 else cmd


def _own(path: Path) -> None:
    if os.geteuid() == 0:
        shutil.chown(path, OWNER)


def _run(cmd: list[str], what: str, **kw) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed ({done.returncode}):\n{(done.stdout + done.stderr)[-3000:]}")


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_") and not k.startswith("PG")}
    env["PYTHONWARNINGS"] = "ignore"
    return env


class Cluster:
    """A PostgreSQL cluster in ``root`` (data in root/data, socket in root); user ``mlflow``, trust auth."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.port = 0

    def uri(self, db: str = "mlflow") -> str:
        # the psycopg2 driver named: SQLAlchemy 2.1's default PostgreSQL driver is psycopg 3
        return f"postgresql+psycopg2://mlflow@127.0.0.1:{self.port}/{db}"

    def init(self) -> None:
        _run(_as_owner([pg_bin("initdb") or "initdb", "-D", str(self.data), "-U", "mlflow", "--auth=trust",
                        "-E", "UTF8", "--no-sync", "--no-locale"]), "initdb", env=_clean_env())

    def start(self) -> None:
        self.port = _free_port()
        # a throwaway store: durability off, which also makes the fill several times faster
        opts = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c wal_level=minimal -c max_wal_senders=0 "
                "-c max_wal_size=64MB -c min_wal_size=32MB")
        _run(_as_owner([pg_bin("pg_ctl") or "pg_ctl", "-D", str(self.data), "-o", opts, "-l",
                        str(self.root / "postgres.log"), "-w", "-t", "60", "start"]), "pg_ctl start",
             env=_clean_env())

    def stop(self) -> None:
        if self.port:
            subprocess.run(_as_owner([pg_bin("pg_ctl") or "pg_ctl", "-D", str(self.data), "-m", "fast", "-w",
                                      "stop"]), capture_output=True, env=_clean_env())
            self.port = 0

    def connect(self, db: str = "mlflow"):
        import psycopg2

        return psycopg2.connect(host="127.0.0.1", port=self.port, user="mlflow", dbname=db)


def _build(root: Path, runs: int) -> None:
    """initdb, MLflow's schema, the fill; leaves the cluster stopped."""
    root.mkdir(parents=True)
    _own(root)
    cluster = Cluster(root)
    cluster.init()
    cluster.start()
    try:
        conn = cluster.connect("postgres")
        conn.autocommit = True
        conn.cursor().execute("CREATE DATABASE mlflow")
        conn.close()
        _run([str(VENV_BIN / "mlflow"), "db", "upgrade", cluster.uri()], "mlflow db upgrade", env=_clean_env())
        conn = cluster.connect()
        with conn, conn.cursor() as cur:
            cur.execute("INSERT INTO experiments (name, artifact_location, lifecycle_stage, creation_time, "
                        "last_update_time) VALUES (%s, %s, 'active', %s, %s) RETURNING experiment_id",
                        (EXPERIMENT, str(root / "artifacts"), T0, T0))
            eid = cur.fetchone()[0]
            # a bulk load: the rows are consistent by construction, so no per-row foreign key checks, and the
            # indexes are built once at the end (from their own definitions) rather than row by row
            cur.execute("SET LOCAL session_replication_role = replica")
            cur.execute("SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
                        "WHERE contype = 'p' AND conrelid::regclass::text = ANY(%s)", (list(_FILLED),))
            keys = cur.fetchall()
            cur.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) "
                        "AND indexname NOT IN (SELECT conname FROM pg_constraint)", (list(_FILLED),))
            indexes = cur.fetchall()
            for table, key, _ in keys:
                cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{key}"')
            for index, _ in indexes:
                cur.execute(f'DROP INDEX "{index}"')
            cur.execute(_FILL_SQL, {"t0": T0, "n": runs, "eid": eid, "artifacts": str(root / "artifacts")})
            for table, key, definition in keys:
                cur.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{key}" {definition}')
            for _, definition in indexes:
                cur.execute(definition)
        conn.autocommit = True
        conn.cursor().execute("ANALYZE")
        conn.close()
    finally:
        cluster.stop()


def cached_cluster(runs: int = RUNS) -> Path:
    """The filled cluster's folder under the system temp, built on first use (a few tens of seconds)."""
    major = Path(os.path.realpath(pg_bin("initdb") or "initdb")).parts[-3:-2]  # /usr/lib/postgresql/15/bin
    name = f"mlops-console-pg{''.join(major)}-mlflow{version('mlflow')}-{runs}-fill{FILL}"
    cached = Path(tempfile.gettempdir()) / name
    if (cached / "data" / "PG_VERSION").exists():
        return cached
    building = cached.with_name(f"{name}.building-{os.getpid()}")
    shutil.rmtree(building, ignore_errors=True)
    _build(building, runs)
    try:
        building.rename(cached)
    except OSError:  # built meanwhile by another process: use that one
        shutil.rmtree(building, ignore_errors=True)
    return cached


class PostgresMlflow:
    """A copy of the filled cluster running, and ``mlflow server`` on it: ``url``, ``experiment_id``."""

    def __init__(self, runs: int = RUNS, workers: int = 1) -> None:
        self.runs = runs
        self.workers = workers
        self.root = Path(tempfile.mkdtemp(prefix="mlops-pg-"))
        self.cluster = Cluster(self.root / "pg")
        self.server: subprocess.Popen | None = None
        self.port = 0
        self.url = ""
        self.experiment_id = ""

    def start(self, timeout: float = 120.0) -> PostgresMlflow:
        try:
            self._start(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self, timeout: float) -> None:
        _own(self.root)
        _run(["cp", "-a", str(cached_cluster(self.runs)), str(self.cluster.root)], "copying the cluster")
        self.cluster.start()
        conn = self.cluster.connect()
        with conn, conn.cursor() as cur:
            cur.execute("SELECT experiment_id FROM experiments WHERE name = %s", (EXPERIMENT,))
            self.experiment_id = str(cur.fetchone()[0])
        conn.close()
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        log = self.root / "server.log"
        cmd = [str(VENV_BIN / "mlflow"), "server", "--backend-store-uri", self.cluster.uri(),
               "--default-artifact-root", str(self.root / "artifacts"), "--host", "127.0.0.1",
               "--port", str(self.port), "--workers", str(self.workers)]
        with open(log, "ab") as out:
            env = {**_clean_env(), "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
            self.server = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=self.root, env=env,
                                           start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                raise RuntimeError(f"mlflow server exited: {log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1.0).status_code == 200:
                    self._touch()
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"mlflow server not healthy after {timeout}s: {log.read_text()[-2000:]}")

    def _touch(self) -> None:
        """Make the filled experiment the one written to last (the server has just created "Default"), so that
        the Runs pane opens it."""
        conn = self.cluster.connect()
        with conn, conn.cursor() as cur:
            cur.execute("UPDATE experiments SET last_update_time = %s WHERE experiment_id = %s",
                        (int(time.time() * 1000) + 1000, int(self.experiment_id)))
        conn.close()

    def stop(self) -> None:
        if self.server is not None:
            try:
                os.killpg(self.server.pid, signal.SIGTERM)
                self.server.wait(timeout=15)
            except ProcessLookupError:
                pass
            except subprocess.TimeoutExpired:
                os.killpg(self.server.pid, signal.SIGKILL)
                self.server.wait(timeout=5)
            self.server = None
        self.cluster.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def settings(self, **extra) -> dict:
        return {"name": "pg", "mlflow_uri": self.url, "timeout": 30.0, **extra}

    def __enter__(self) -> PostgresMlflow:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


if __name__ == "__main__":  # build (or find) the cached cluster and say how long it took
    started = time.perf_counter()
    print(cached_cluster(int(sys.argv[1]) if len(sys.argv) > 1 else RUNS),
          f"{time.perf_counter() - started:.1f} s")
