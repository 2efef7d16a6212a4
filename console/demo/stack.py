"""The demo's processes, all on 127.0.0.1: ``mlflow server``, MLServer and ``mlflow models serve`` serving the
champion, Prometheus scraping MLServer, and the traffic generator. Each runs in a process group of its own, so
that stopping it stops its workers too; each listens on a port found free when it starts."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

HOST = "127.0.0.1"
SCRAPE_INTERVAL = "2s"
TRAFFIC_RATE = 5.0  # requests a second
INSTALL_PROMETHEUS = "apt-get install prometheus (Debian, Ubuntu), or put the prometheus binary on PATH"


class StackError(Exception):
    """A process did not come up; the message says which and ends with its log's last lines."""


def free_port() -> int:
    """A port nothing listens on now (the kernel's pick for port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def venv_command(name: str) -> str:
    """A console script installed beside this Python (the venv's ``bin``), else the one on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise StackError(f"the `{name}` command is missing: pip install 'mlops-console[demo]'")
    return found


@dataclass
class Service:
    name: str
    proc: subprocess.Popen[bytes]
    log: Path
    ports: tuple[int, ...] = ()
    url: str = ""


@dataclass
class Stack:
    workspace: Path
    services: list[Service] = field(default_factory=list)

    @property
    def logs(self) -> Path:
        path = self.workspace / "logs"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def url(self, name: str) -> str:
        for s in self.services:
            if s.name == name:
                return s.url
        return ""

    def pids(self) -> list[int]:
        return [s.proc.pid for s in self.services]

    def ports(self) -> list[int]:
        return [p for s in self.services for p in s.ports]

    # ---- starting ------------------------------------------------------------------------
    def _spawn(self, name: str, cmd: list[str], *, ports: tuple[int, ...] = (), url: str = "",
               cwd: Path | None = None, env: dict[str, str] | None = None) -> Service:
        log = self.logs / f"{name}.log"
        full_env = {**os.environ, **(env or {})}
        full_env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{full_env.get('PATH', '')}"
        with open(log, "ab") as fh:
            proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    cwd=cwd or self.workspace, env=full_env, start_new_session=True)
        service = Service(name, proc, log, ports, url)
        self.services.append(service)
        return service

    def _wait_ready(self, service: Service, probe: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if service.proc.poll() is not None:
                raise StackError(f"{service.name} exited with status {service.proc.returncode}: "
                                 f"{self._tail(service.log)}")
            try:
                with urllib.request.urlopen(probe, timeout=2) as resp:
                    if resp.status == 200:
                        return
            except (OSError, urllib.error.HTTPError):
                pass
            time.sleep(0.25)
        raise StackError(f"{service.name} did not answer {probe} within {timeout:.0f} s: {self._tail(service.log)}")

    @staticmethod
    def _tail(log: Path, lines: int = 6) -> str:
        try:
            text = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        except OSError:
            return f"(no log at {log})"
        return " | ".join(text[-lines:]) + f" (log: {log})"

    def start_mlflow(self, timeout: float = 120.0) -> str:
        store = self.workspace / "mlflow"
        store.mkdir(parents=True, exist_ok=True)
        port = free_port()
        url = f"http://{HOST}:{port}"
        service = self._spawn("mlflow-server", [
            venv_command("mlflow"), "server", "--backend-store-uri", f"sqlite:///{store / 'mlflow.db'}",
            "--default-artifact-root", str(store / "artifacts"), "--host", HOST, "--port", str(port),
            "--workers", "1"], ports=(port,), url=url, cwd=store,
            # the server's background job runner is not used here
            env={"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"})
        self._wait_ready(service, f"{url}/health", timeout)
        return url

    def start_mlserver(self, champion: Path, model: str, n_features: int, timeout: float = 120.0) -> str:
        folder = self.workspace / "serving" / "mlserver"
        (folder / model).mkdir(parents=True, exist_ok=True)
        (folder / model / "model-settings.json").write_text(json.dumps({
            "name": model, "implementation": "mlserver_sklearn.SKLearnModel",
            "parameters": {"uri": str(champion / "model.pkl"), "version": "champion"},
            "inputs": [{"name": "input-0", "datatype": "FP64", "shape": [-1, n_features]}]}, indent=1))
        http_port, grpc_port, metrics_port = free_port(), free_port(), free_port()
        (folder / "settings.json").write_text(json.dumps({
            "host": HOST, "http_port": http_port, "grpc_port": grpc_port, "metrics_port": metrics_port,
            "parallel_workers": 0, "load_models_at_startup": True}, indent=1))
        url = f"http://{HOST}:{http_port}"
        service = self._spawn("mlserver", [venv_command("mlserver"), "start", str(folder)],
                              ports=(http_port, grpc_port, metrics_port), url=url, cwd=folder)
        self._wait_ready(service, f"{url}/v2/models/{model}/ready", timeout)
        return url

    @property
    def mlserver_metrics(self) -> str:
        for s in self.services:
            if s.name == "mlserver":
                return f"{HOST}:{s.ports[2]}"
        return ""

    def start_mlflow_serve(self, champion: Path, timeout: float = 180.0) -> str:
        port = free_port()
        url = f"http://{HOST}:{port}"
        service = self._spawn("mlflow-serve", [
            venv_command("mlflow"), "models", "serve", "-m", str(champion), "--env-manager", "local",
            "-h", HOST, "-p", str(port), "-w", "1"], ports=(port,), url=url)
        self._wait_ready(service, f"{url}/ping", timeout)
        return url

    def start_prometheus(self, binary: str, targets: dict[str, str], timeout: float = 60.0) -> str:
        folder = self.workspace / "prometheus"
        folder.mkdir(parents=True, exist_ok=True)
        port = free_port()
        url = f"http://{HOST}:{port}"
        jobs = {"prometheus": f"{HOST}:{port}", **targets}
        scrape = "".join(f"  - job_name: {job}\n    static_configs:\n      - targets: ['{target}']\n"
                         for job, target in jobs.items())
        (folder / "prometheus.yml").write_text(
            f"global:\n  scrape_interval: {SCRAPE_INTERVAL}\n  scrape_timeout: {SCRAPE_INTERVAL}\n"
            f"  evaluation_interval: {SCRAPE_INTERVAL}\nscrape_configs:\n{scrape}", encoding="utf-8")
        service = self._spawn("prometheus", [
            binary, f"--config.file={folder / 'prometheus.yml'}", f"--web.listen-address={HOST}:{port}",
            f"--storage.tsdb.path={folder / 'data'}", "--storage.tsdb.retention.time=2d", "--log.level=warn"],
            ports=(port,), url=url, cwd=folder)
        self._wait_ready(service, f"{url}/-/ready", timeout)
        return url

    def start_traffic(self, url: str, model: str, n_features: int, rate: float = TRAFFIC_RATE) -> None:
        self._spawn("traffic", [sys.executable, "-m", "console.demo.traffic", url, model, str(n_features),
                                str(rate)], env={"PYTHONPATH": str(Path(__file__).resolve().parents[2])})

    # ---- stopping ------------------------------------------------------------------------
    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM to every process group, a wait, then SIGKILL to what is left."""
        for s in reversed(self.services):
            _signal_group(s.proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for s in self.services:
            try:
                s.proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for s in self.services:
            # also the workers a server leaves behind when its main process ends first
            _signal_group(s.proc.pid, signal.SIGKILL)
            try:
                s.proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
        # a killed worker takes a moment to go: return only once nothing of the stack runs
        deadline = time.monotonic() + 5
        while any(_group_running(s.proc.pid) for s in self.services) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.services.clear()


def _group_running(pgid: int) -> bool:
    """Whether a process of the group still runs (a zombie waiting to be reaped does not count)."""
    proc = Path("/proc")
    if not proc.is_dir():  # not Linux: ask the kernel, zombies included
        try:
            os.killpg(pgid, 0)
        except (ProcessLookupError, PermissionError):
            return False
        return True
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            return True
    return False


def _signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def find_prometheus(install: bool = True) -> tuple[str | None, str]:
    """The prometheus binary, installed with apt-get first where it is missing and we are root; else None and
    what to install."""
    found = shutil.which("prometheus")
    if found:
        return found, ""
    if not install or os.geteuid() != 0 or shutil.which("apt-get") is None:
        return None, f"prometheus is not installed: {INSTALL_PROMETHEUS}"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "--no-install-recommends",
                                                "prometheus"]):
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900,
                              stdin=subprocess.DEVNULL)
        if proc.returncode != 0:
            return None, (f"`{' '.join(cmd)}` failed ({(proc.stderr or proc.stdout).strip()[-300:]}); "
                          f"prometheus is needed for the Metrics pane: {INSTALL_PROMETHEUS}")
    found = shutil.which("prometheus") or ("/usr/bin/prometheus" if Path("/usr/bin/prometheus").exists() else None)
    return found, "" if found else f"prometheus is still missing after apt-get: {INSTALL_PROMETHEUS}"
