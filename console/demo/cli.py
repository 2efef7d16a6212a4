"""`mlops-console demo`: build (or reuse) the demo workspace, start its processes with progress on stdout,
write a config with a ``demo`` context, open the console on it, and stop every process when the console quits."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from console.demo import train as training, workspace as ws
from console.demo.stack import TRAFFIC_RATE, Stack, StackError, find_prometheus

STEPS = 7
LOCK = "demo.lock"
CONTEXT = "demo"
MODEL = "diabetes"
NO_CLUSTER_NOTE = ("No Kubernetes cluster is configured: these are the demo's model servers on 127.0.0.1 "
                   "(deployments_backend = \"endpoints\"). To watch a cluster, set kubeconfig, kube_context and "
                   "namespaces in a context (README: Deployments pane).")


def default_dir(environ: dict[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "mlops-console" / "demo"


# ---- one demo at a time -----------------------------------------------------------------------------
class DemoRunning(Exception):
    """Another `mlops-console demo` holds the workspace."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def take_lock(workspace: Path) -> Path:
    """The lock file with our pid; a lock whose pid is dead is taken over."""
    path = workspace / LOCK
    for _ in range(2):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                pid = int(path.read_text().strip() or 0)
            except (OSError, ValueError):
                pid = 0
            if pid and pid != os.getpid() and _alive(pid):
                raise DemoRunning(f"a demo is already running (pid {pid}) on {workspace}: use its console, "
                                  f"or quit it first") from None
            path.unlink(missing_ok=True)  # stale: its process is gone
            continue
        with os.fdopen(fd, "w") as fh:
            fh.write(f"{os.getpid()}\n")
        return path
    raise DemoRunning(f"cannot take the lock {path}")


def release_lock(path: Path) -> None:
    try:
        if path.read_text().strip() == str(os.getpid()):
            path.unlink()
    except OSError:
        pass


# ---- the steps ------------------------------------------------------------------------------------
@dataclass
class Demo:
    """What came up; the config is written from it."""

    workspace: Path
    stack: Stack
    out: Callable[[str], None] = print
    mlflow_url: str = ""
    mlserver_url: str = ""
    mlflow_serve_url: str = ""
    prometheus_url: str = ""
    n_features: int = 0
    failures: list[str] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)

    def step(self, number: int, title: str, action: Callable[[], str | None]) -> bool:
        """Run one step, saying what it is, how long it took and, if it failed, why."""
        sys.stdout.write(f"[{number}/{STEPS}] {title} ... ")
        sys.stdout.flush()
        started = time.monotonic()
        try:
            said = action()
        except Exception as exc:  # noqa: BLE001 - any failure is named, and the steps that can still run do
            self.out(f"FAILED after {time.monotonic() - started:.1f} s: {exc}")
            self.failures.append(f"{title}: {exc}")
            return False
        self.out(f"{time.monotonic() - started:.1f} s" + (f" ({said})" if said else ""))
        return True

    def data(self) -> str:
        repo = ws.repo_path(self.workspace)
        try:
            found = ws.versions(self.workspace)
            return f"reused {repo}, {len(found)} versions"
        except (ws.WorkspaceError, OSError, KeyError, TypeError):
            pass
        shutil.rmtree(repo, ignore_errors=True)
        shutil.rmtree(self.workspace / "dvc-remote", ignore_errors=True)
        made = ws.build(self.workspace)
        return f"{repo}: {', '.join(v.tag for v in made)}"

    def trained(self) -> dict[str, Any] | None:
        try:
            result: dict[str, Any] = json.loads(training.result_file(self.workspace).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return result if (training.champion_dir(self.workspace) / "model.pkl").exists() else None

    def mlflow_server(self) -> str:
        if self.trained() is None:  # a training cut short is started again from an empty store
            shutil.rmtree(self.workspace / "mlflow", ignore_errors=True)
            shutil.rmtree(self.workspace / "serving", ignore_errors=True)
        self.mlflow_url = self.stack.start_mlflow()
        return self.mlflow_url

    def train(self) -> str:
        if not self.mlflow_url:
            raise StackError("needs the tracking server")
        result = self.trained()
        if result is None:
            env = {**os.environ, "PYTHONPATH": _source_root(), "PYTHONWARNINGS": "ignore"}
            env = {k: v for k, v in env.items() if k != "MLFLOW_TRACKING_URI"}
            log = self.stack.logs / "train.log"
            with open(log, "wb") as fh:
                proc = subprocess.run([sys.executable, "-m", "console.demo.train", self.mlflow_url,
                                       str(self.workspace)], stdout=fh, stderr=subprocess.STDOUT, env=env,
                                      stdin=subprocess.DEVNULL, timeout=1800)
            result = self.trained()
            if proc.returncode != 0 or result is None:
                tail = " | ".join(log.read_text(errors="replace").strip().splitlines()[-4:])
                raise StackError(f"training exited with status {proc.returncode}: {tail} (log: {log})")
            said = "trained"
        else:
            said = "reused"
        champion = result["champion"]
        self.n_features = _features(training.champion_dir(self.workspace))
        return (f"{said}: {len(result['runs'])} runs; champion {champion['version']} alpha={champion['alpha']} "
                f"l1_ratio={champion['l1_ratio']} rmse={champion['rmse']:.2f}")

    def _champion(self) -> Path:
        champion = training.champion_dir(self.workspace)
        if not (champion / "model.pkl").exists():
            raise StackError("no champion model: the training did not finish")
        return champion

    def mlserver(self) -> str:
        self.mlserver_url = self.stack.start_mlserver(self._champion(), MODEL, self.n_features)
        return f"{self.mlserver_url} (Open Inference Protocol v2)"

    def mlflow_serve(self) -> str:
        self.mlflow_serve_url = self.stack.start_mlflow_serve(self._champion())
        return f"{self.mlflow_serve_url} (MLflow scoring)"

    def prometheus(self) -> str:
        binary, missing = find_prometheus()
        if binary is None:
            self.notes["metrics"] = f"No Prometheus for the demo: {missing}; then run `mlops-console demo` again."
            raise StackError(missing)
        targets = {"mlserver": self.stack.mlserver_metrics} if self.stack.mlserver_metrics else {}
        self.prometheus_url = self.stack.start_prometheus(binary, targets)
        return self.prometheus_url

    def traffic(self) -> str:
        if not self.mlserver_url:
            raise StackError("needs MLServer")
        self.stack.start_traffic(self.mlserver_url, MODEL, self.n_features)
        return f"{TRAFFIC_RATE:g} requests/s to MLServer, about 5% malformed"

    def config_text(self) -> str:
        lines = [f'default_context = "{CONTEXT}"', "", f"[contexts.{CONTEXT}]",
                 f"repo = {json.dumps(str(ws.repo_path(self.workspace)))}"]
        if self.mlflow_url:
            lines.append(f'mlflow_uri = "{self.mlflow_url}"')
        if self.prometheus_url:
            lines.append(f'prometheus_url = "{self.prometheus_url}"')
        lines += ['deployments_backend = "endpoints"', "refresh_interval = 2"]
        for name, url, protocol in (("diabetes-v2", self.mlserver_url, "v2"),
                                    ("diabetes-mlflow", self.mlflow_serve_url, "mlflow")):
            if url:
                lines += ["", f"[[contexts.{CONTEXT}.endpoints]]", f'name = "{name}"', f'url = "{url}"',
                          f'protocol = "{protocol}"', f'model = "{MODEL}"',
                          f'model_uri = "models:/{MODEL}@{training.ALIAS}"']
        return "\n".join(lines) + "\n"


def _source_root() -> str:
    """The folder holding the ``console`` package, for the demo's own Python processes."""
    return str(Path(__file__).resolve().parents[2])


def _features(model_dir: Path) -> int:
    import yaml

    meta = yaml.safe_load((model_dir / "MLmodel").read_text(encoding="utf-8"))
    return len(json.loads(meta["signature"]["inputs"]))


def bring_up(workspace: Path, stack: Stack) -> Demo:
    """The seven steps; a failed one is said and the others go on where they can."""
    demo = Demo(workspace, stack)
    demo.step(1, "data: git + DVC repository, 3 versions of data/diabetes.csv", demo.data)
    demo.step(2, "runs: mlflow server (SQLite store)", demo.mlflow_server)
    demo.step(3, f"training {len(training.PAIRS) * len(ws.VERSIONS)} runs", demo.train)
    demo.step(4, "deployments: MLServer serving the champion", demo.mlserver)
    demo.step(5, "deployments: mlflow models serve", demo.mlflow_serve)
    demo.step(6, "metrics: Prometheus", demo.prometheus)
    demo.step(7, "traffic generator", demo.traffic)
    demo.notes.setdefault("deployments", NO_CLUSTER_NOTE)
    return demo


def write_config(demo: Demo) -> Path:
    path = demo.workspace / "config.toml"
    path.write_text(demo.config_text(), encoding="utf-8")
    return path


# ---- the command ----------------------------------------------------------------------------------
class _Stopped(Exception):
    pass


def _raise_stopped(signum: int, _frame: Any) -> None:
    raise _Stopped(signum)


def run_demo(directory: Path | None = None, *, reset: bool = False, pane: str = "data") -> int:
    workspace = (directory or default_dir()).expanduser().resolve()
    try:
        workspace.mkdir(parents=True, exist_ok=True)
        lock = take_lock(workspace)
    except DemoRunning as exc:
        print(f"mlops-console demo: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"mlops-console demo: cannot use {workspace}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    stack = Stack(workspace)
    previous = {s: signal.signal(s, _raise_stopped) for s in (signal.SIGHUP, signal.SIGTERM)}
    started = time.monotonic()
    try:
        if reset:
            for child in workspace.iterdir():
                if child.name != LOCK:
                    shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
        print(f"mlops-console demo in {workspace}" + (" (rebuilt)" if reset else ""))
        demo = bring_up(workspace, stack)
        config_path = write_config(demo)
        total = time.monotonic() - started
        failed = f"; {len(demo.failures)} step(s) failed, the console opens on the rest" if demo.failures else ""
        print(f"ready in {total:.1f} s{failed}. Config: {config_path} (context {CONTEXT!r}); logs: {stack.logs}")
        return open_console(config_path, demo, pane)
    except (_Stopped, KeyboardInterrupt):
        print("\nstopped", file=sys.stderr)
        return 130
    finally:
        stack.stop()
        for s, handler in previous.items():
            signal.signal(s, handler)
        release_lock(lock)


def open_console(config_path: Path, demo: Demo, pane: str) -> int:
    from console.cli import exit_cleanly_on_hangup
    from console.config import load_config
    from console.demo.app import DemoConsole

    config = load_config(config_path)
    context = config.context(CONTEXT, environ={})
    app = DemoConsole(config, context, initial_pane=pane, notes=demo.notes)
    exit_cleanly_on_hangup(app)
    app.run()
    if app.crash_line:
        print(app.crash_line, file=sys.stderr)
        return 1
    return app.return_code or 0
