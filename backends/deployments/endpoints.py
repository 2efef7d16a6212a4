"""Deployments that are plain model-server URLs listed in the context (no Kubernetes).

For models served by ``mlflow models serve``, MLServer, the Seldon microservice or any Flask app:

    [[contexts.local.endpoints]]
    name = "iris"
    url = "http://127.0.0.1:8080"
    protocol = "v2"          # seldon | v2 | mlflow
    model = "iris"           # the v2 model name
    model_uri = "models:/iris/1"   # optional: an MLflow model whose signature shapes the template

A deployment's state comes from the server's own readiness endpoint; "watching" re-probes every
``refresh_interval`` seconds (there is no change stream to follow).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from backends.deployments import (
    AVAILABLE,
    FAILED,
    MODIFIED,
    PROTOCOLS,
    RELISTED,
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
from backends.deployments.inference import RequestSender, base_url, build_template, prediction_url
from backends.errors import BackendError, NotConfigured, NotFound

NAMESPACE = "endpoints"


class _PollWatch:
    def __init__(self, gen_factory: Callable[[_PollWatch], Iterator[WatchEvent]]) -> None:
        self.stopped = threading.Event()
        self._gen = gen_factory(self)

    def __iter__(self) -> _PollWatch:
        return self

    def __next__(self) -> WatchEvent:
        if self.stopped.is_set():
            raise StopIteration
        return next(self._gen)

    def stop(self) -> None:
        self.stopped.set()


class EndpointDeployments:
    """The ``endpoints`` Deployments backend. The constructor does no I/O."""

    def __init__(self, endpoints: Sequence[Mapping[str, Any]], *, timeout: float = 10.0, read_only: bool = False,
                 refresh_interval: float = 5.0, mlflow_uri: str = "", name: str = "") -> None:
        self.endpoints = tuple(dict(e) for e in endpoints)
        self.timeout = float(timeout)
        self.read_only = read_only
        self.refresh_interval = float(refresh_interval)
        self.mlflow_uri = mlflow_uri
        self.namespaces: tuple[str, ...] = ()
        self.sender = RequestSender(self.timeout)
        self.endpoint = ", ".join(e["url"] for e in self.endpoints)
        self._by_name = {e["name"]: e for e in self.endpoints}
        self._watches: list[_PollWatch] = []

    @staticmethod
    def import_library() -> None:
        """What health checks and test requests use (httpx, and the transport it loads at the first client),
        imported where the app builds the backend so that it is among the objects the app moves out of the
        garbage collector's way."""
        import httpcore  # noqa: F401
        import httpx  # noqa: F401

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> EndpointDeployments:
        raw = settings.get("endpoints") or ()
        if not raw:
            raise NotConfigured("no model endpoints configured",
                                hint="add `endpoints = [{name, url, protocol, model}]` to the context")
        endpoints = []
        for i, e in enumerate(raw):
            if not isinstance(e, Mapping) or not e.get("url"):
                raise NotConfigured(f"endpoint #{i + 1} has no url", hint="each endpoint needs name, url, protocol")
            protocol = str(e.get("protocol") or "v2").lower()
            if protocol not in PROTOCOLS:
                raise NotConfigured(f"endpoint {e.get('name') or i + 1!s}: unknown protocol {protocol!r}",
                                    hint=f"one of {', '.join(PROTOCOLS)}")
            name = str(e.get("name") or f"endpoint-{i + 1}")
            endpoints.append({"name": name, "url": str(e["url"]), "protocol": protocol,
                              "model": str(e.get("model") or name), "model_uri": str(e.get("model_uri") or "")})
        return cls(endpoints, timeout=float(settings.get("timeout") or 10.0),
                   read_only=bool(settings.get("read_only", False)),
                   refresh_interval=float(settings.get("refresh_interval") or 5.0),
                   mlflow_uri=str(settings.get("mlflow_uri") or ""), name=str(settings.get("name") or ""))

    # ---- probing -------------------------------------------------------------------------
    def _ready_url(self, e: Mapping[str, Any]) -> str:
        base = base_url(e["url"])
        if e["protocol"] == "v2":
            return f"{base}/v2/models/{e['model']}/ready" if e.get("model") else f"{base}/v2/health/ready"
        if e["protocol"] == "mlflow":
            return f"{base}/ping"
        return f"{base}/api/v1.0/health/status"

    def _probe(self, e: Mapping[str, Any]) -> Deployment:
        import httpx

        url = self._ready_url(e)
        state, reason = AVAILABLE, ""
        try:
            resp = self.sender.client().get(url, timeout=min(self.timeout, 3.0))
            if resp.status_code >= 400:
                state, reason = FAILED, f"{url} answered HTTP {resp.status_code}: {resp.text[:200].strip()}"
        except httpx.TimeoutException:
            state, reason = FAILED, f"no answer from {url} in time"
        except httpx.HTTPError as exc:
            state, reason = FAILED, f"cannot reach {url}: {exc}"
        return self._deployment(e, state, reason)

    def _deployment(self, e: Mapping[str, Any], state: str, reason: str) -> Deployment:
        impl = {"v2": "MLServer / OIP v2", "mlflow": "MLflow scoring", "seldon": "Seldon microservice"}[e["protocol"]]
        pred = Predictor(name="default", replicas_ready=1 if state == AVAILABLE else 0, replicas_desired=1,
                         traffic=100, implementation=impl, model_uri=e.get("model_uri", ""), model_name=e["model"])
        return Deployment(namespace=NAMESPACE, name=e["name"], state=state, reason=reason, predictors=(pred,),
                          protocol=e["protocol"], address_url=e["url"])

    def list_deployments(self, namespaces: Sequence[str] | None = None) -> DeploymentList:
        if not self.endpoints:
            return DeploymentList(())
        with ThreadPoolExecutor(max_workers=min(8, len(self.endpoints))) as pool:
            items = tuple(pool.map(self._probe, self.endpoints))
        return DeploymentList(items)

    def watch(self, namespaces: Sequence[str] | None = None, resource_version: str = "",
              stop: threading.Event | None = None) -> _PollWatch:
        def gen(handle: _PollWatch) -> Iterator[WatchEvent]:
            known: dict[str, Deployment] = {}
            first = True
            while not handle.stopped.is_set() and not (stop is not None and stop.is_set()):
                items = self.list_deployments().items
                if first:
                    yield WatchEvent(RELISTED, deployments=items)
                    first = False
                else:
                    for d in items:
                        if known.get(d.name) != d:
                            yield WatchEvent(MODIFIED, deployment=d)
                known = {d.name: d for d in items}
                if handle.stopped.wait(self.refresh_interval):
                    return

        handle = _PollWatch(gen)
        self._watches.append(handle)
        return handle

    def close(self) -> None:
        for w in self._watches:
            w.stop()
        self._watches.clear()
        self.sender.close()

    # ---- details -------------------------------------------------------------------------
    def _entry(self, name: str) -> Mapping[str, Any]:
        e = self._by_name.get(name)
        if e is None:
            raise NotFound(f"no endpoint named {name!r}", hint="see `endpoints` in the context")
        return e

    def get_yaml(self, namespace: str, name: str) -> str:
        import yaml

        text: str = yaml.safe_dump({"endpoint": dict(self._entry(name))}, sort_keys=False)
        return text

    def pods(self, namespace: str, name: str) -> tuple[Pod, ...]:
        self._entry(name)
        return ()

    def events(self, namespace: str, name: str) -> tuple[Event, ...]:
        self._entry(name)
        return ()

    def pod_log(self, namespace: str, pod: str, tail: int = 200) -> str:
        raise NotFound("plain endpoints have no pods or logs", hint="use the kubernetes backend for that")

    def list_namespaces(self) -> tuple[str, ...]:
        return ()

    # ---- test requests -------------------------------------------------------------------
    def prediction_url(self, deployment: Deployment) -> str:
        return prediction_url(deployment.protocol, base_url(deployment.address_url), deployment.model_name)

    def request_template(self, deployment: Deployment) -> RequestTemplate:
        e = self._by_name.get(deployment.name, {})
        return build_template(self.sender, deployment, base_url(deployment.address_url),
                              model_uri=str(e.get("model_uri") or ""), tracking_uri=self.mlflow_uri,
                              metadata_timeout=min(self.timeout, 3.0))

    def send(self, deployment: Deployment, body: str, url: str | None = None) -> tuple[PredictionRequest,
                                                                                         PredictionResponse]:
        return self.sender.send(url or self.prediction_url(deployment), body, protocol=deployment.protocol)


__all__ = ["EndpointDeployments", "BackendError"]
