"""The ``mlflow`` runs backend: MLflow in a helper process, so the console itself never imports it.

Importing MLflow costs about 200 MB and a couple of seconds of CPU (it pulls in pandas, SQLAlchemy,
FastAPI and its GenAI modules), and a search on a large store keeps a thread busy in Python code
that competes with the UI for the interpreter. Here every call goes to a helper process
(``python -m backends.runs.mlflow_helper``) that runs :class:`backends.runs.mlflow_inprocess.MlflowRuns`, so:

* the console's own memory does not grow by MLflow's size, and the helper gives all of it back to
  the system when it exits (after ``IDLE_EXIT`` seconds without calls; the next call starts it again);
* a search or an import never takes the interpreter away from drawing and keys;
* a helper that dies (crash, OOM kill) fails the calls in flight with a clear message and is
  started again by the next call.

One helper serves every backend object with the same URIs and timeout (a ``:ctx`` back and forth
reuses it). Calls are pickled over the helper's stdin/stdout; both ends are this package.
Results, and errors (:class:`backends.errors.BackendError` and its kinds), are the in-process ones.
"""

from __future__ import annotations

import atexit
import collections
import itertools
import logging
import os
import pickle
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from concurrent.futures import Future, TimeoutError as FutureTimeout
from pathlib import Path
from typing import Any, cast

from backends.errors import BackendError, BackendTimeout, NotConfigured, ServerError
from backends.redact import redact
from backends.registry import Setting
from backends.runs import (
    Experiment,
    ExperimentStats,
    MetricHistory,
    ModelVersion,
    RegisteredModel,
    RunDetail,
    RunPage,
    RunQuery,
)
from backends.runs.mlflow_inprocess import MlflowRuns
from backends.runs.mlflow_settings import CREDENTIALS, context_variables

log = logging.getLogger("mlops_console.mlflow_helper")

HEADER = struct.Struct("!I")
IDLE_EXIT = 600.0  # seconds without a call before the helper is stopped (its memory returned)
METHODS = frozenset({"list_experiments", "experiment_stats", "search_runs", "get_run", "metric_history",
                     "list_registered_models", "model_versions"})
_ROOT = str(Path(__file__).resolve().parents[2])  # the folder that holds the backends package


def write_frame(stream: Any, obj: Any) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(HEADER.pack(len(data)) + data)
    stream.flush()


def read_frame(stream: Any) -> Any:
    """The next object, or raises EOFError when the other end is gone."""
    head = stream.read(HEADER.size)
    if len(head) < HEADER.size:
        raise EOFError
    size = HEADER.unpack(head)[0]
    data = stream.read(size)
    if len(data) < size:
        raise EOFError
    return pickle.loads(data)


class HelperGone(ServerError):
    """The helper process exited while calls were in flight."""


class _Conn:
    """One helper process and the calls waiting on it."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc
        self.pending: dict[int, Future[Any]] = {}
        self.write_lock = threading.Lock()

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None


Spec = tuple[str, str, float, str, tuple[tuple[str, str], ...]]


class _Helper:
    """The helper process for one (tracking URI, registry URI, timeout), started when needed."""

    def __init__(self, spec: Spec) -> None:
        # (tracking URI, registry URI, timeout, the Python that runs the helper, MLflow variables from the context)
        self.spec = spec
        self.endpoint = redact(spec[0])
        self._lock = threading.Lock()  # the connection and every pending table
        self._conn: _Conn | None = None
        self._ids = itertools.count(1)
        self._stderr: collections.deque[str] = collections.deque(maxlen=12)
        self._last_use = time.monotonic()
        self._reaper: threading.Thread | None = None
        self.started = 0  # how many helper processes were started (for tests and the log)

    @property
    def pid(self) -> int | None:
        conn = self._conn
        return conn.proc.pid if conn is not None and conn.alive else None

    # -- process ------------------------------------------------------------------------------

    def _ensure(self) -> _Conn:
        """The live connection, starting a helper if there is none. Called with the lock held."""
        conn = self._conn
        if conn is not None and conn.alive:
            return conn
        env = dict(os.environ)
        env.update(self.spec[4])  # the context's credentials, as MLflow's variables (never logged)
        env["PYTHONPATH"] = _ROOT + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        env.setdefault("PYTHONWARNINGS", "ignore")
        env.setdefault("MALLOC_ARENA_MAX", "2")  # its call threads share two malloc arenas, not one each
        python = self.spec[3]
        try:
            proc = subprocess.Popen(
                [python, "-m", "backends.runs.mlflow_helper"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, close_fds=True,
            )
        except OSError as exc:
            raise NotConfigured(f"cannot start the MLflow helper with {python}", endpoint=self.endpoint,
                                detail=str(exc), hint="check mlflow_python in the context") from None
        conn = self._conn = _Conn(proc)
        self.started += 1
        self._stderr.clear()  # what a previous helper printed says nothing about this one
        log.info("started the MLflow helper (pid %s) for %s", proc.pid, self.endpoint)
        with conn.write_lock:
            write_frame(proc.stdin, self.spec[:3])
        threading.Thread(target=self._read, args=(conn,), name="mlflow-helper-read", daemon=True).start()
        threading.Thread(target=self._drain_stderr, args=(proc,), name="mlflow-helper-stderr",
                         daemon=True).start()
        if self._reaper is None:
            self._reaper = threading.Thread(target=self._reap_when_idle, name="mlflow-helper-idle", daemon=True)
            self._reaper.start()
        return conn

    def _read(self, conn: _Conn) -> None:
        while True:
            try:
                call_id, ok, value = read_frame(conn.proc.stdout)
            except (EOFError, OSError, pickle.UnpicklingError, ValueError, TypeError):
                break
            with self._lock:
                fut = conn.pending.pop(call_id, None)
                self._last_use = time.monotonic()  # idle counts from the last answer
            if fut is None:
                continue
            if ok:
                fut.set_result(value)
            else:
                fut.set_exception(value)
        code = conn.proc.wait()
        with self._lock:
            if self._conn is conn:
                self._conn = None
            failed, conn.pending = conn.pending, {}
        if failed:
            last = next((line for line in reversed(self._stderr) if line.strip()), "")
            error = HelperGone(f"the MLflow helper process exited (code {code}) during the call",
                               endpoint=self.endpoint, detail=last or None,
                               hint="it is started again on the next refresh")
            for fut in failed.values():
                fut.set_exception(error)
        log.info("the MLflow helper (pid %s) exited with code %s", conn.proc.pid, code)

    def _drain_stderr(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stderr is not None  # started with stderr=PIPE
        for raw in proc.stderr:
            line = redact(raw.decode("utf-8", "replace").rstrip())
            if line:
                self._stderr.append(line)
                log.debug("helper: %s", line)

    def _reap_when_idle(self) -> None:
        while True:
            time.sleep(min(30.0, IDLE_EXIT / 4))
            with self._lock:
                conn = self._conn
                if (conn is None or conn.pending
                        or time.monotonic() - self._last_use <= IDLE_EXIT):
                    continue
                self._conn = None  # a call from now on starts a new helper
            self._close(conn)

    def stop(self) -> None:
        with self._lock:
            conn, self._conn = self._conn, None
        if conn is not None:
            self._close(conn)

    @staticmethod
    def _close(conn: _Conn) -> None:
        if not conn.alive:
            return
        try:
            with conn.write_lock:
                assert conn.proc.stdin is not None  # started with stdin=PIPE
                conn.proc.stdin.close()  # the helper answers what it has, then exits at end of input
            conn.proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            conn.proc.kill()
            conn.proc.wait(timeout=5)

    # -- calls --------------------------------------------------------------------------------

    def call(self, method: str, args: tuple[Any, ...], wait: float) -> Any:
        fut: Future[Any] = Future()
        with self._lock:
            self._last_use = time.monotonic()
            conn = self._ensure()
            call_id = next(self._ids)
            conn.pending[call_id] = fut
        try:
            with conn.write_lock:
                write_frame(conn.proc.stdin, (call_id, method, args))
        except (OSError, ValueError):
            pass  # the helper is gone: its reader fails this call with what the helper printed
        try:
            return fut.result(timeout=wait)
        except FutureTimeout:
            with self._lock:
                conn.pending.pop(call_id, None)
            raise BackendTimeout(f"MLflow did not answer in {wait:g} s", endpoint=self.endpoint,
                                 hint="the helper process is still working on it; refresh to try again") from None


_HELPERS: dict[Spec, _Helper] = {}
_HELPERS_LOCK = threading.Lock()


def helper_for(spec: Spec) -> _Helper:
    with _HELPERS_LOCK:
        helper = _HELPERS.get(spec)
        if helper is None:
            helper = _HELPERS[spec] = _Helper(spec)
        return helper


@atexit.register
def stop_all() -> None:
    with _HELPERS_LOCK:
        helpers = list(_HELPERS.values())
    for helper in helpers:
        helper.stop()


class MlflowProcessRuns:
    """Runs backend ``mlflow``: :class:`MlflowRuns` served by a shared helper process."""

    SETTINGS = (*MlflowRuns.SETTINGS,
                Setting("mlflow_python", str, "the Python that runs MLflow (default: the console's own)"),
                *CREDENTIALS)

    def __init__(self, tracking_uri: str, *, registry_uri: str | None = None, timeout: float = 10.0,
                 python: str | None = None, variables: Mapping[str, str] | None = None) -> None:
        """``python``: the interpreter that runs MLflow (default: the console's own), e.g. a project's
        virtualenv whose MLflow version matches the tracking server. ``variables``: MLflow's variables to
        set for it (``MLFLOW_TRACKING_TOKEN``, ...), over the console's environment."""
        self.tracking_uri = tracking_uri
        self.registry_uri = registry_uri or tracking_uri
        self.timeout = float(timeout)
        self.python = str(Path(python).expanduser()) if python else sys.executable
        self._helper = helper_for((self.tracking_uri, self.registry_uri, self.timeout, self.python,
                                   tuple(sorted((variables or {}).items()))))

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> MlflowProcessRuns:
        inner = MlflowRuns.from_settings(settings)  # the same URI resolution and NotConfigured message
        return cls(inner.tracking_uri, registry_uri=inner.registry_uri, timeout=inner.timeout,
                   python=settings.get("mlflow_python") or None, variables=context_variables(settings))

    def __repr__(self) -> str:  # no credentials, ever
        return f"MlflowProcessRuns({self.endpoint!r})"

    @property
    def endpoint(self) -> str:
        return redact(self.tracking_uri)

    @property
    def helper_pid(self) -> int | None:
        return self._helper.pid

    def _call(self, method: str, *args: Any) -> Any:
        # MLflow's own timeouts apply inside; this only bounds a helper that stopped answering.
        # The helper answers with what the same method of MlflowRuns returns (hence the casts below).
        return self._helper.call(method, args, wait=max(60.0, 6 * self.timeout))

    def list_experiments(self) -> tuple[Experiment, ...]:
        return cast("tuple[Experiment, ...]", self._call("list_experiments"))

    def experiment_stats(self, experiment_id: str, cap: int = 1000) -> ExperimentStats:
        return cast("ExperimentStats", self._call("experiment_stats", experiment_id, cap))

    def search_runs(self, query: RunQuery, page_token: str | None = None) -> RunPage:
        return cast("RunPage", self._call("search_runs", query, page_token))

    def get_run(self, run_id: str) -> RunDetail:
        return cast("RunDetail", self._call("get_run", run_id))

    def metric_history(self, run_id: str, key: str) -> MetricHistory:
        return cast("MetricHistory", self._call("metric_history", run_id, key))

    def list_registered_models(self) -> tuple[RegisteredModel, ...]:
        return cast("tuple[RegisteredModel, ...]", self._call("list_registered_models"))

    def model_versions(self, name: str) -> tuple[ModelVersion, ...]:
        return cast("tuple[ModelVersion, ...]", self._call("model_versions", name))


__all__ = ["BackendError", "HelperGone", "MlflowProcessRuns", "helper_for", "stop_all"]
