"""An in-memory Deployments backend with frozen data and fixed dates, for snapshot tests only."""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from backends.deployments import (
    AVAILABLE,
    CREATING,
    FAILED,
    RELISTED,
    SELDON_DEPLOYMENT,
    Condition,
    Deployment,
    DeploymentList,
    Event,
    Pod,
    PredictionRequest,
    PredictionResponse,
    Predictor,
    RequestTemplate,
    WatchEvent,
)
from backends.deployments.inference import parse_payload, prediction_url, template_body
from backends.errors import NotFound

T0 = datetime(2026, 1, 15, 9, 30, tzinfo=UTC)


def _at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def _ok_conditions(hours: float) -> tuple[Condition, ...]:
    return tuple(Condition(t, "True", r, "", _at(hours)) for t, r in (
        ("DeploymentsReady", "DeploymentsAvailable"), ("ServicesReady", "ServicesReady"), ("Ready", "Ready")))


DEPLOYMENTS: tuple[Deployment, ...] = (
    Deployment("models", "churn-classifier", AVAILABLE, "", (
        Predictor("main", 2, 2, 80, False, "SKLEARN_SERVER", "gs://ml-models/churn/v7", "", "classifier"),
        Predictor("canary", 1, 1, 20, False, "SKLEARN_SERVER", "gs://ml-models/churn/v8", "", "classifier"),
        Predictor("mirror", 1, 1, None, True, "SKLEARN_SERVER", "gs://ml-models/churn/v9", "", "classifier"),
    ), "seldon", _at(0), _ok_conditions(0.1),
        "http://churn-classifier-main.models.svc.cluster.local:8000/api/v1.0/predictions", "uid-churn", "1201"),
    Deployment("models", "iris", AVAILABLE, "", (
        Predictor("default", 1, 1, 100, False, "SKLEARN_SERVER", "s3://ml-models/iris/3", "", "iris"),
    ), "v2", _at(-30), _ok_conditions(-29.9), "http://iris-default.models.svc.cluster.local:8000/v2/models/iris/infer",
        "uid-iris", "1188"),
    Deployment("models", "price-forecast", FAILED, "model server exited with code 1: OOMKilled", (
        Predictor("default", 0, 3, None, False, "MLFLOW_SERVER", "s3://ml-models/price/12", "", "forecast"),
    ), "seldon", _at(-2), (Condition("DeploymentsReady", "False", "ModelServerFailed", "OOMKilled", _at(-1.5)),),
        "", "uid-price", "1190"),
    Deployment("staging", "fraud-detector", CREATING, "Creating the model servers", (
        Predictor("default", 0, 1, None, False, "", "", "registry.local/fraud:2.1", "detector"),
    ), "v2", _at(0.4), (), "", "uid-fraud", "1210"),
    Deployment("staging", "recommender", AVAILABLE, "", (
        Predictor("default", 1, 1, None, False, "TRITON_SERVER", "gs://ml-models/recsys/4", "", "recsys"),
    ), "v2", _at(-72), (Condition("DeploymentsReady", "True", "DeploymentsAvailable", "", _at(-71)),
                        Condition("ServicesReady", "False", "ServiceMissing", "service recommender-default "
                                  "not found", _at(-1))),
        "http://recommender-default.staging.svc.cluster.local:8000/v2/models/recsys/infer", "uid-rec", "1195"),
)

PODS: Mapping[tuple[str, str], tuple[Pod, ...]] = {
    ("models", "churn-classifier"): (
        Pod("models", "churn-classifier-main-0-classifier-7d9f8-abcde", "Running", 2, 2, 0, _at(0), ("classifier",
                                                                                                      "seldon-container-engine")),
        Pod("models", "churn-classifier-main-0-classifier-7d9f8-fghij", "Running", 2, 2, 1, _at(0), ("classifier",
                                                                                                      "seldon-container-engine")),
        Pod("models", "churn-classifier-canary-0-classifier-5c4b-klmno", "Running", 2, 2, 0, _at(0.2),
            ("classifier", "seldon-container-engine")),
    ),
    ("models", "price-forecast"): (
        Pod("models", "price-forecast-default-0-forecast-6f7d-pqrst", "Running", 1, 2, 5, _at(-2),
            ("forecast", "seldon-container-engine"), "CrashLoopBackOff"),
    ),
}

EVENTS: Mapping[tuple[str, str], tuple[Event, ...]] = {
    ("models", "churn-classifier"): (
        Event("models", "Normal", "Available", "All model servers are ready", "SeldonDeployment",
              "churn-classifier", 1, _at(0.1)),
        Event("models", "Normal", "Pulled", "Container image \"seldonio/sklearnserver:1.19.0\" already present",
              "Pod", "churn-classifier-main-0-classifier-7d9f8-abcde", 1, _at(0.05)),
        Event("models", "Normal", "CreateResourceSuccess", "Created Deployment churn-classifier-main-0-classifier",
              "SeldonDeployment", "churn-classifier", 1, _at(0)),
    ),
    ("models", "price-forecast"): (
        Event("models", "Warning", "BackOff", "Back-off restarting failed container forecast", "Pod",
              "price-forecast-default-0-forecast-6f7d-pqrst", 14, _at(-1.4)),
        Event("models", "Warning", "ModelServerFailed", "model server exited with code 1: OOMKilled",
              "SeldonDeployment", "price-forecast", 1, _at(-1.5)),
        Event("models", "Normal", "CreateResourceSuccess", "Created Deployment price-forecast-default-0-forecast",
              "SeldonDeployment", "price-forecast", 1, _at(-2)),
    ),
}

LOG = """2026-01-15 09:30:12,101 - seldon_core.microservice:main:578 - INFO:  Starting microservice.py:main
2026-01-15 09:30:12,102 - seldon_core.microservice:main:579 - INFO:  Seldon Core version: 1.19.0
2026-01-15 09:30:13,440 - seldon_core.microservice:main:386 - INFO:  Parse JAEGER_EXTRA_TAGS []
2026-01-15 09:30:13,441 - seldon_core.microservice:load_annotations:161 - INFO:  Found annotation
2026-01-15 09:30:14,012 - root:load:31 - INFO:  Loading model gs://ml-models/churn/v7
2026-01-15 09:30:15,730 - seldon_core.microservice:main:490 - INFO:  REST gunicorn microservice running on port 9000
"""

RESPONSES = {
    "seldon": (200, {"data": {"names": ["t:0", "t:1"], "ndarray": [[0.8731, 0.1269]]}, "meta": {}}),
    "v2": (200, {"model_name": "iris", "model_version": "3", "id": "5f2b1c8e-0000-4000-8000-000000000001",
                 "parameters": {}, "outputs": [{"name": "predict", "shape": [1, 1], "datatype": "INT64",
                                                "data": [0]}]}),
    "mlflow": (200, {"predictions": [0]}),
}
BAD = (400, {"status": {"code": -1, "info": "Invalid request data type: {'foo': 1}",
                        "reason": "MICROSERVICE_BAD_DATA", "status": 1}})


class _Still:
    """A watch that reports the frozen list once and then nothing until stopped."""

    def __init__(self, items: tuple[Deployment, ...]) -> None:
        self.stopped = threading.Event()
        self._sent = False
        self._items = items

    def __iter__(self) -> _Still:
        return self

    def __next__(self) -> WatchEvent:
        if not self._sent:
            self._sent = True
            return WatchEvent(RELISTED, deployments=self._items, resource_version="1210")
        self.stopped.wait()
        raise StopIteration

    def stop(self) -> None:
        self.stopped.set()


class FakeDeployments:
    endpoint = "https://fake-cluster.example:6443 (fake)"

    def __init__(self, namespaces: Sequence[str] = (), read_only: bool = False, ingress_url: str = "") -> None:
        self.namespaces = tuple(namespaces)
        self.read_only = read_only
        self.ingress_url = ingress_url
        self._watches: list[_Still] = []

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> FakeDeployments:
        return cls(tuple(settings.get("namespaces") or ()), bool(settings.get("read_only", False)),
                   str(settings.get("ingress_url") or ""))

    def _items(self, namespaces: Sequence[str] | None) -> tuple[Deployment, ...]:
        scope = tuple(self.namespaces if namespaces is None else namespaces)
        return tuple(d for d in DEPLOYMENTS if not scope or d.namespace in scope)

    def list_deployments(self, namespaces: Sequence[str] | None = None) -> DeploymentList:
        return DeploymentList(self._items(namespaces), "1210")

    def watch(self, namespaces: Sequence[str] | None = None, resource_version: str = "",
              stop: threading.Event | None = None) -> _Still:
        w = _Still(self._items(namespaces))
        self._watches.append(w)
        return w

    def close(self) -> None:
        for w in self._watches:
            w.stop()

    def _find(self, namespace: str, name: str) -> Deployment:
        for d in DEPLOYMENTS:
            if d.key == (namespace, name):
                return d
        raise NotFound(f"seldondeployments {name!r} not found in namespace {namespace!r}")

    def get_yaml(self, namespace: str, name: str, kind: str = SELDON_DEPLOYMENT) -> str:
        import yaml

        d = self._find(namespace, name)
        preds = [{"name": p.name, "replicas": p.replicas_desired, **({"traffic": p.traffic} if p.traffic else {}),
                  **({"shadow": True} if p.shadow else {}),
                  "graph": {"name": p.model_name, "implementation": p.implementation or None,
                            "modelUri": p.model_uri or None}} for p in d.predictors]
        obj = {"apiVersion": "machinelearning.seldon.io/v1", "kind": "SeldonDeployment",
               "metadata": {"name": d.name, "namespace": d.namespace, "uid": d.uid,
                            "creationTimestamp": d.created.strftime("%Y-%m-%dT%H:%M:%SZ") if d.created else None},
               "spec": {"protocol": d.protocol, "predictors": preds,
                        "componentSpecs": [{"spec": {"containers": [{"name": d.model_name, "env": [
                            {"name": "AWS_SECRET_ACCESS_KEY", "value": "<redacted>"}]}]}}]},
               "status": {"state": d.state, "description": d.reason or None}}
        text: str = yaml.safe_dump(obj, sort_keys=False)
        return text

    def pods(self, namespace: str, name: str, kind: str = SELDON_DEPLOYMENT) -> tuple[Pod, ...]:
        self._find(namespace, name)
        return PODS.get((namespace, name), ())

    def events(self, namespace: str, name: str, kind: str = SELDON_DEPLOYMENT) -> tuple[Event, ...]:
        self._find(namespace, name)
        return EVENTS.get((namespace, name), ())

    def pod_log(self, namespace: str, pod: str, tail: int = 200) -> str:
        return "\n".join(LOG.splitlines()[-tail:]) + "\n"

    def list_namespaces(self) -> tuple[str, ...]:
        return ("default", "models", "staging")

    def _base(self, d: Deployment) -> str:
        if self.ingress_url:
            return f"{self.ingress_url.rstrip('/')}/seldon/{d.namespace}/{d.name}"
        from backends.deployments.inference import base_url

        return base_url(d.address_url) if d.address_url else ""

    def prediction_url(self, d: Deployment) -> str:
        base = self._base(d)
        return prediction_url(d.protocol, base, d.model_name) if base else ""

    def request_template(self, deployment: Deployment) -> RequestTemplate:
        if deployment.protocol == "v2":
            body = template_body("v2", deployment.model_name,
                                 v2_inputs=[{"name": "input-0", "datatype": "FP64", "shape": [-1, 4]}])
            return RequestTemplate("v2", self.prediction_url(deployment), body, source="v2 metadata",
                                   features=("input-0",))
        features = ("tenure", "monthly_charges", "total_charges", "contract_months")
        return RequestTemplate(deployment.protocol, self.prediction_url(deployment),
                               template_body(deployment.protocol, deployment.model_name, features=features),
                               source="Seldon metadata", features=features)

    def send(self, deployment: Deployment, body: str, url: str | None = None) -> tuple[PredictionRequest,
                                                                                         PredictionResponse]:
        payload = parse_payload(body)
        target = url or self.prediction_url(deployment)
        if not target:
            raise NotFound("this deployment has no address to send to",
                           hint="set ingress_url in the context, or wait until status.address.url is set")
        status, answer = RESPONSES.get(deployment.protocol, RESPONSES["seldon"])
        if isinstance(payload, dict) and "foo" in payload:
            status, answer = BAD
        request = PredictionRequest(target, body, protocol=deployment.protocol)
        return request, PredictionResponse(status, 0.042, json.dumps(answer),
                                           (("content-type", "application/json"),))
