"""Deployments that are plain model-server URLs listed in the context (no Kubernetes).

For models served by ``mlflow models serve``, MLServer, the Seldon microservice or any Flask app:

    [[contexts.local.endpoints]]
    name = "iris"
    url = "http://127.0.0.1:8080"
    protocol = "v2"          # seldon | v2 | mlflow | json
    model = "iris"           # the v2 model name
    model_uri = "models:/iris/1"   # optional: an MLflow model whose signature shapes the template

    [[contexts.local.endpoints]]
    name = "iris-flask"
    url = "http://127.0.0.1:5000/predict"   # json: the whole path, the body sent to it as typed
    protocol = "json"
    method = "POST"          # or PUT (json only)
    example = '{"sepal_length": 5.9, "sepal_width": 3.0, "petal_length": 5.1, "petal_width": 1.8}'
    # or example_file = "iris.json": read at each test request, so that a missing file stops nothing else

An example (any protocol) is the body the request editor opens with, instead of one built from metadata.

A deployment's state comes from the server's own readiness endpoint; "watching" re-probes every
``refresh_interval`` seconds (there is no change stream to follow).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

from backends.deployments import (
    AVAILABLE,
    ENDPOINT,
    FAILED,
    MODIFIED,
    PROTOCOLS,
    RELISTED,
    SELDON_DEPLOYMENT,
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
from backends.deployments.inference import (
    InvalidPayload,
    RequestSender,
    base_url,
    build_template,
    parse_payload,
    prediction_url,
    pretty_json,
)
from backends.errors import BackendError, NotConfigured, NotFound

NAMESPACE = "endpoints"
METHODS = ("POST", "PUT")  # a json endpoint's; the other protocols always POST
EXAMPLE_FILE_HINT = "example_file is relative to the config file's folder, or absolute"


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
            method = str(e.get("method") or "POST").upper()
            if method not in METHODS:
                raise NotConfigured(f"endpoint {name}: method {method!r} is not allowed",
                                    hint="POST (the default) or PUT")
            if method != "POST" and protocol != "json":
                raise NotConfigured(f"endpoint {name}: method {method} is for json endpoints only",
                                    hint=f"the {protocol} protocol always POSTs")
            example = str(e.get("example") or "")
            if example:
                try:
                    parse_payload(example)
                except InvalidPayload as exc:
                    raise NotConfigured(f"endpoint {name}: example is not valid JSON: {exc.message}") from None
            endpoints.append({"name": name, "url": str(e["url"]), "protocol": protocol,
                              "model": str(e.get("model") or name), "model_uri": str(e.get("model_uri") or ""),
                              "method": method, "example": example,
                              "example_file": str(e.get("example_file") or "")})
        return cls(endpoints, timeout=float(settings.get("timeout") or 10.0),
                   read_only=bool(settings.get("read_only", False)),
                   refresh_interval=float(settings.get("refresh_interval") or 5.0),
                   mlflow_uri=str(settings.get("mlflow_uri") or ""), name=str(settings.get("name") or ""))

    # ---- probing -------------------------------------------------------------------------
    def _ready_url(self, e: Mapping[str, Any]) -> str:
        if e["protocol"] == "json":
            return str(e["url"])
        base = base_url(e["url"])
        if e["protocol"] == "v2":
            return f"{base}/v2/models/{e['model']}/ready" if e.get("model") else f"{base}/v2/health/ready"
        if e["protocol"] == "mlflow":
            return f"{base}/ping"
        if e["protocol"] == "kserve":  # KServe v1: a model's status, or the server's liveness at its root
            return f"{base}/v1/models/{e['model']}" if e.get("model") else f"{base}/"
        return f"{base}/api/v1.0/health/status"

    def _probe(self, e: Mapping[str, Any]) -> Deployment:
        import httpx

        url = self._ready_url(e)
        state, reason = AVAILABLE, ""
        try:
            resp = self.sender.client().get(url, timeout=min(self.timeout, 3.0))
            # a json endpoint has no health path: any answer to a GET on its URL but a 404 (wrong path) or a
            # server error says it is up; a POST-only route answers 405, as Flask's does
            if resp.status_code >= 500 or resp.status_code == 404 or (
                    resp.status_code >= 400 and e["protocol"] != "json"):
                state, reason = FAILED, f"{url} answered HTTP {resp.status_code}: {resp.text[:200].strip()}"
        except httpx.TimeoutException:
            state, reason = FAILED, f"no answer from {url} in time"
        except httpx.HTTPError as exc:
            state, reason = FAILED, f"cannot reach {url}: {exc}"
        return self._deployment(e, state, reason)

    def _deployment(self, e: Mapping[str, Any], state: str, reason: str) -> Deployment:
        impl = {"v2": "MLServer / OIP v2", "mlflow": "MLflow scoring", "seldon": "Seldon microservice",
                "json": "JSON over HTTP"}[e["protocol"]]
        pred = Predictor(name="default", replicas_ready=1 if state == AVAILABLE else 0, replicas_desired=1,
                         traffic=100, implementation=impl, model_uri=e.get("model_uri", ""), model_name=e["model"])
        return Deployment(namespace=NAMESPACE, name=e["name"], kind=ENDPOINT, state=state, reason=reason,
                          predictors=(pred,), protocol=e["protocol"], address_url=e["url"])

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

    def get_yaml(self, namespace: str, name: str, kind: str = SELDON_DEPLOYMENT) -> str:
        import yaml

        entry = {key: value for key, value in self._entry(name).items() if value != ""}  # the keys it was given
        text: str = yaml.safe_dump({"endpoint": entry}, sort_keys=False)
        return text

    def pods(self, namespace: str, name: str, kind: str = SELDON_DEPLOYMENT) -> tuple[Pod, ...]:
        self._entry(name)
        return ()

    def events(self, namespace: str, name: str, kind: str = SELDON_DEPLOYMENT) -> tuple[Event, ...]:
        self._entry(name)
        return ()

    def pod_log(self, namespace: str, pod: str, tail: int = 200) -> str:
        raise NotFound("plain endpoints have no pods or logs", hint="use the kubernetes backend for that")

    def list_namespaces(self) -> tuple[str, ...]:
        return ()

    # ---- test requests -------------------------------------------------------------------
    @staticmethod
    def _base(deployment: Deployment) -> str:
        # a json endpoint's URL is the whole path: nothing in it is the protocol's own
        return deployment.address_url if deployment.protocol == "json" else base_url(deployment.address_url)

    def prediction_url(self, deployment: Deployment) -> str:
        return prediction_url(deployment.protocol, self._base(deployment), deployment.model_name)

    def request_template(self, deployment: Deployment) -> RequestTemplate:
        e = self._by_name.get(deployment.name, {})
        method = str(e.get("method") or "POST")
        example = self._example(e)
        if example is not None:
            body, source = example
            return RequestTemplate(deployment.protocol, self.prediction_url(deployment), body, method=method,
                                   source=source)
        template = build_template(self.sender, deployment, self._base(deployment),
                                  model_uri=str(e.get("model_uri") or ""), tracking_uri=self.mlflow_uri,
                                  metadata_timeout=min(self.timeout, 3.0))
        return replace(template, method=method) if method != template.method else template

    @staticmethod
    def _example(e: Mapping[str, Any]) -> tuple[str, str] | None:
        """The endpoint's configured example body and where it came from; None when it has none. The file
        is read each time (an edit shows at the next request); one that cannot be read is said, by name."""
        if e.get("example"):
            text = str(e["example"])
            # a TOML string is mostly one line, too long for the editor: laid out, as ctrl+f would
            return (text if "\n" in text else pretty_json(parse_payload(text))), "example"
        name = str(e.get("example_file") or "")
        if not name:
            return None
        path = Path(name).expanduser()
        try:
            return path.read_text(encoding="utf-8"), path.name
        except OSError as exc:
            raise NotConfigured(f"endpoint {e['name']}: cannot read example_file {name}: {exc.strerror or exc}",
                                hint=EXAMPLE_FILE_HINT) from None
        except UnicodeDecodeError as exc:
            raise NotConfigured(f"endpoint {e['name']}: example_file {name} is not UTF-8 text (byte {exc.start})",
                                hint="save it as UTF-8") from None

    def send(self, deployment: Deployment, body: str, url: str | None = None) -> tuple[PredictionRequest,
                                                                                         PredictionResponse]:
        method = str(self._by_name.get(deployment.name, {}).get("method") or "POST")
        return self.sender.send(url or self.prediction_url(deployment), body, protocol=deployment.protocol,
                                method=method)


__all__ = ["EndpointDeployments", "BackendError"]
