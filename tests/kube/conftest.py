"""Real systems for the Deployments pane, started once per test session on 127.0.0.1:
the fake Kubernetes API server (+ simulated Seldon controller running real MLServers, and a simulated KServe
controller whose one MLServer starts at the first InferenceService), a standalone
MLServer (v2), the Seldon Core v1 microservice (Python 3.12 venv) and `mlflow models serve`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from fake_kube_api import (  # noqa: E402
    FakeKubeAPI,
    SimulatedKServeController,
    SimulatedSeldonController,
    SimulatedSeldonCore2Controller,
)
from kube_helpers import GOOD_ROW, IRIS_FEATURES, free_port  # noqa: E402

VENV_BIN = Path(sys.executable).parent


def wait_http(url: str, proc: subprocess.Popen | None, timeout: float, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            text = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
            raise RuntimeError(f"server exited with {proc.returncode} before {url} answered:\n{text}")
        try:
            with urllib.request.urlopen(url, timeout=1) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    text = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
    raise RuntimeError(f"{url} not ready within {timeout} s:\n{text}")


def stop_group(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass


@pytest.fixture(scope="session")
def iris_model_dir(tmp_path_factory) -> Path:
    """A folder with a joblib scikit-learn model of iris, and its v2 input metadata."""
    import joblib
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    folder = tmp_path_factory.mktemp("iris-model")
    X, y = load_iris(return_X_y=True)
    model = LogisticRegression(max_iter=300).fit(X, y)
    joblib.dump(model, folder / "model.joblib")
    (folder / "inputs.json").write_text(json.dumps([{"name": "input-0", "datatype": "FP64", "shape": [-1, 4]}]))
    return folder


@pytest.fixture(scope="session")
def kube_cluster(tmp_path_factory):
    """The fake Kubernetes API server and its simulated Seldon controller (real MLServers)."""
    api = FakeKubeAPI().start()
    ctl = SimulatedSeldonController(api, start_servers=True, workdir=tmp_path_factory.mktemp("fake-seldon"),
                                    mlserver=str(VENV_BIN / "mlserver"))
    kserve = SimulatedKServeController(api, workdir=tmp_path_factory.mktemp("fake-kserve"),
                                       mlserver=str(VENV_BIN / "mlserver"))
    seldon2 = SimulatedSeldonCore2Controller(api, kserve)  # its models go into the KServe controller's MLServer
    yield api, ctl, kserve, seldon2
    seldon2.stop()
    kserve.stop()
    ctl.stop()
    api.stop()


@pytest.fixture
def kube_api(kube_cluster) -> FakeKubeAPI:
    api = kube_cluster[0]
    yield api
    api.denied.clear()
    api.fail_next.clear()


@pytest.fixture
def seldon_controller(kube_cluster) -> SimulatedSeldonController:
    return kube_cluster[1]


@pytest.fixture
def kserve_controller(kube_cluster, kube_api) -> SimulatedKServeController:
    """The KServe controller, with the cluster serving the InferenceService CRD for this test only."""
    kube_api.kserve = True
    yield kube_cluster[2]
    kube_api.kserve = False


@pytest.fixture
def seldon2_controller(kube_cluster, kube_api) -> SimulatedSeldonCore2Controller:
    """The Seldon Core 2 controller, with the cluster serving mlops.seldon.io's CRDs for this test only."""
    kube_api.seldon2 = True
    yield kube_cluster[3]
    kube_api.seldon2 = False


@pytest.fixture
def kubeconfig(kube_api, tmp_path) -> Path:
    return kube_api.write_kubeconfig(tmp_path / "kubeconfig")


@pytest.fixture
def namespace(kube_api) -> str:
    ns = f"t-{uuid.uuid4().hex[:8]}"
    kube_api.add_namespace(ns)
    return ns


@pytest.fixture
def kube_client(kubeconfig):
    """The official client on the fake API server, for tests to change the cluster with."""
    from kubernetes import client, config

    cfg = client.Configuration()
    config.load_kube_config(config_file=str(kubeconfig), client_configuration=cfg, persist_config=False)
    api_client = client.ApiClient(cfg)
    yield client.CustomObjectsApi(api_client)
    api_client.close()


@dataclass
class ModelServer:
    """A running MLServer: its HTTP base URL and its metrics endpoint (host:port, what Prometheus scrapes)."""

    url: str
    metrics_address: str
    proc: subprocess.Popen

    def stop(self) -> None:
        stop_group(self.proc)


def start_mlserver(folder: Path, model_dir: Path, name: str = "iris") -> ModelServer:
    """A real MLServer in ``folder`` serving ``model_dir``'s iris model as ``name``, ready; stop with stop_group."""
    (folder / name).mkdir(parents=True)
    (folder / name / "model-settings.json").write_text(json.dumps({
        "name": name, "implementation": "mlserver_sklearn.SKLearnModel",
        "parameters": {"uri": str(model_dir / "model.joblib")},
        "inputs": [{"name": "input-0", "datatype": "FP64", "shape": [-1, 4]}]}))
    port, metrics_port = free_port(), free_port()
    (folder / "settings.json").write_text(json.dumps({
        "host": "127.0.0.1", "http_port": port, "grpc_port": free_port(), "metrics_port": metrics_port,
        "parallel_workers": 0}))
    log = folder / "server.log"
    with open(log, "wb") as fh:
        proc = subprocess.Popen([str(VENV_BIN / "mlserver"), "start", str(folder)], stdout=fh,
                                stderr=subprocess.STDOUT, cwd=folder, start_new_session=True)
    try:
        wait_http(f"http://127.0.0.1:{port}/v2/models/{name}/ready", proc, 60, log)
    except BaseException:
        stop_group(proc)
        raise
    return ModelServer(f"http://127.0.0.1:{port}", f"127.0.0.1:{metrics_port}", proc)


@pytest.fixture(scope="session")
def mlserver(iris_model_dir, tmp_path_factory) -> ModelServer:
    """A real MLServer (Open Inference Protocol v2) serving model `iris`."""
    server = start_mlserver(tmp_path_factory.mktemp("mlserver"), iris_model_dir)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def start_model_server():
    """``start_mlserver(folder, model_dir)``: another MLServer, for a test that needs more than one; it stops it."""
    return start_mlserver


@pytest.fixture(scope="session")
def mlserver_url(mlserver) -> str:
    """The base URL of the session's MLServer serving model `iris`."""
    return mlserver.url


SELDON_MODEL = '''
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression


class IrisModel:
    def __init__(self):
        X, y = load_iris(return_X_y=True)
        self.model = LogisticRegression(max_iter=300).fit(X, y)

    def predict(self, X, features_names=None):
        return self.model.predict_proba(X)

    def init_metadata(self):
        return {"name": "iris", "versions": ["v1"], "platform": "seldon",
                "inputs": [{"messagetype": "ndarray", "schema": {"names": %r, "shape": [4]}}],
                "outputs": [{"messagetype": "ndarray", "schema": {"shape": [3]}}]}
''' % (IRIS_FEATURES,)


def seldon_venv() -> Path | None:
    env = os.environ.get("SELDON_VENV")
    candidates = [Path(env)] if env else []
    candidates.append(ROOT / ".venv-seldon")
    for c in candidates:
        if (c / "bin" / "seldon-core-microservice").exists():
            return c
    return None


@pytest.fixture(scope="session")
def seldon_url(tmp_path_factory) -> str:
    """A real Seldon Core v1 microservice (from the Python 3.12 venv); its base URL."""
    venv = seldon_venv()
    if venv is None:
        pytest.skip("seldon-core venv missing: run .ci/seldon-venv.sh (or set SELDON_VENV)")
    folder = tmp_path_factory.mktemp("seldon")
    (folder / "IrisModel.py").write_text(SELDON_MODEL)
    port = free_port()
    log = folder / "server.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["PATH"] = f"{venv / 'bin'}:{env.get('PATH', '')}"
    with open(log, "wb") as fh:
        proc = subprocess.Popen([str(venv / "bin" / "seldon-core-microservice"), "IrisModel", "--service-type",
                                 "MODEL", "--http-port", str(port), "--grpc-port", str(free_port()),
                                 "--metrics-port", str(free_port()), "--workers", "1"],
                                stdout=fh, stderr=subprocess.STDOUT, cwd=folder, env=env, start_new_session=True)
    try:
        wait_http(f"http://127.0.0.1:{port}/health/ping", proc, 60, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_group(proc)


@pytest.fixture(scope="session")
def mlflow_model_dir(tmp_path_factory) -> Path:
    """An MLflow model folder (scikit-learn iris, with its input signature)."""
    import mlflow.sklearn
    import pandas as pd
    from mlflow.models import infer_signature
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    data = load_iris(as_frame=True)
    X = data.data
    model = LogisticRegression(max_iter=300).fit(X, data.target)
    path = tmp_path_factory.mktemp("mlflow-model") / "iris"
    mlflow.sklearn.save_model(model, str(path), signature=infer_signature(X, model.predict(X)),
                              input_example=pd.DataFrame([GOOD_ROW], columns=X.columns))
    return path


@pytest.fixture(scope="session")
def mlflow_serve_url(mlflow_model_dir, tmp_path_factory) -> str:
    """`mlflow models serve --env-manager local` on the iris model; its base URL."""
    port = free_port()
    log = tmp_path_factory.mktemp("mlflow-serve") / "server.log"
    env = dict(os.environ)
    env["PATH"] = f"{VENV_BIN}:{env.get('PATH', '')}"
    mlflow_bin = VENV_BIN / "mlflow"
    if not mlflow_bin.exists():
        pytest.skip("the mlflow command is missing from the venv")
    with open(log, "wb") as fh:
        proc = subprocess.Popen([str(mlflow_bin), "models", "serve", "-m", str(mlflow_model_dir), "--env-manager",
                                 "local", "-h", "127.0.0.1", "-p", str(port), "-w", "1"],
                                stdout=fh, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        wait_http(f"http://127.0.0.1:{port}/ping", proc, 90, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_group(proc)
