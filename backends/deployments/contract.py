"""The Deployments pane's Protocol: model deployments, their pods and events, and test requests.

Two implementations ship: ``kubernetes`` (SeldonDeployments, KServe InferenceServices and Seldon Core 2
Models, Pipelines and Experiments read with the official client, kept live by a watch) and ``endpoints``
(plain model-server URLs from the context). Everything here is plain data: frozen dataclasses and named tuples
(the three a list builds hundreds of: cheaper to make), no I/O.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import NamedTuple, Protocol, runtime_checkable

#: how a test request is shaped and where it goes: Seldon v1, Open Inference Protocol v2, MLflow scoring, or
#: "json": any JSON body sent as it is to the endpoint's own URL (a Flask app's ``POST /predict``), or KServe's
#: own v1 ("kserve": ``/v1/models/<name>:predict`` with ``{"instances": ...}``)
PROTOCOLS = ("seldon", "v2", "mlflow", "json", "kserve")

#: the kinds of serving resource a row can be, and their short names (the table's kind column, ``:kind``)
SELDON_DEPLOYMENT = "SeldonDeployment"
INFERENCE_SERVICE = "InferenceService"
#: Seldon Core 2 (``mlops.seldon.io``): requests go through the ``seldon-mesh`` service with a Seldon-Model header
SELDON_MODEL = "Model"
SELDON_PIPELINE = "Pipeline"
SELDON_EXPERIMENT = "Experiment"
SELDON_CORE_2 = (SELDON_MODEL, SELDON_PIPELINE, SELDON_EXPERIMENT)
#: a model server the context names by its URL (the ``endpoints`` backend), not a cluster resource
ENDPOINT = "Endpoint"
KIND_SHORT = {SELDON_DEPLOYMENT: "sdep", INFERENCE_SERVICE: "isvc", SELDON_MODEL: "mlm", SELDON_PIPELINE: "mlp",
              SELDON_EXPERIMENT: "mlx", ENDPOINT: "url"}

AVAILABLE = "Available"
CREATING = "Creating"
FAILED = "Failed"
UNKNOWN = "Unknown"


class Condition(NamedTuple):
    type: str
    status: str  # "True" / "False" / "Unknown"
    reason: str = ""
    message: str = ""
    last_transition: datetime | None = None


class Predictor(NamedTuple):
    """One predictor of a deployment (a SeldonDeployment predictor, or the one model of an endpoint)."""

    name: str
    replicas_ready: int | None = None
    replicas_desired: int | None = None
    traffic: int | None = None  # percent
    shadow: bool = False
    implementation: str = ""  # SKLEARN_SERVER, MLFLOW_SERVER, ... or "" for a custom image
    model_uri: str = ""
    image: str = ""
    model_name: str = ""  # the graph's (or endpoint's) model name

    @property
    def replicas_text(self) -> str:
        ready = "?" if self.replicas_ready is None else str(self.replicas_ready)
        desired = "?" if self.replicas_desired is None else str(self.replicas_desired)
        return f"{ready}/{desired}"


class Revision(NamedTuple):
    """A tagged traffic target of an InferenceService's predictor (``status.components.predictor.traffic[]``,
    Knative's TrafficTarget): KServe tags the previous rolled-out revision ``prev`` and, with the annotation
    ``serving.kserve.io/enable-tag-routing: "true"``, the latest one ``latest``; each tag has its own URL."""

    tag: str
    revision: str  # revisionName
    percent: int | None = None
    url: str = ""  # the tag's own URL: its host routes to this revision alone
    latest: bool = False  # latestRevision: follows the latest ready revision
    rolled_out: str = ""  # "previous" / "latest": previousRolledoutRevision / latestRolledoutRevision


class Deployment(NamedTuple):
    """One deployment: a SeldonDeployment, a KServe InferenceService, or a model server listed in the context."""

    namespace: str
    name: str
    state: str = UNKNOWN  # Available / Creating / Failed / Unknown
    reason: str = ""
    predictors: tuple[Predictor, ...] = ()
    protocol: str = "seldon"  # seldon / v2 / mlflow / json
    created: datetime | None = None
    conditions: tuple[Condition, ...] = ()
    address_url: str = ""  # status.address.url, or the endpoint's URL
    uid: str = ""
    resource_version: str = ""
    labels: tuple[tuple[str, str], ...] = ()
    kind: str = SELDON_DEPLOYMENT  # SeldonDeployment / InferenceService / Model / Pipeline / Experiment
    url: str = ""  # an InferenceService's status.url: its host name is the Host header through the ingress
    details: tuple[tuple[str, str], ...] = ()  # more of its status, as (label, value), for the detail line
    revisions: tuple[Revision, ...] = ()  # an InferenceService's tagged traffic targets
    generation: int | None = None  # metadata.generation: counts the changes of its spec

    @property
    def tag_targets(self) -> tuple[Revision, ...]:
        """The revisions a request can be sent to one by one: tagged, with a URL of their own."""
        return tuple(r for r in self.revisions if r.tag and r.url)

    @property
    def key(self) -> tuple[str, ...]:
        """Unique in a cluster: a SeldonDeployment and an InferenceService may share a namespace and name."""
        # endpoints have a namespace of their own ("endpoints"): their name alone tells them apart
        return (self.namespace, self.name) if self.kind in (SELDON_DEPLOYMENT, ENDPOINT) else (
            self.namespace, self.name, self.kind)

    @property
    def kind_short(self) -> str:
        return KIND_SHORT.get(self.kind, self.kind.lower())

    @property  # worked out each time: a comparison, and for an Available one a look at its conditions
    def flagged(self) -> bool:
        """Available, yet one of its conditions says False: something is not what it claims."""
        return self.state == AVAILABLE and any(c.status == "False" for c in self.conditions)

    @property
    def false_conditions(self) -> tuple[Condition, ...]:
        return tuple(c for c in self.conditions if c.status == "False")

    @property
    def model_name(self) -> str:
        for p in self.predictors:
            if p.model_name:
                return p.model_name
        return self.name

    # the table asks these of every row of every list: one predictor (the usual case) takes a short way
    @property
    def implementation(self) -> str:
        if len(self.predictors) == 1:
            return self.predictors[0].implementation or "custom"
        return ", ".join(dict.fromkeys(p.implementation or "custom" for p in self.predictors))

    @property
    def model_text(self) -> str:
        if len(self.predictors) == 1:
            p = self.predictors[0]
            return p.model_uri or p.image
        return ", ".join(dict.fromkeys(p.model_uri or p.image for p in self.predictors if p.model_uri or p.image))

    @property
    def seldon_model_header(self) -> str:
        """The Seldon-Model header that routes a request to this Seldon Core 2 resource; "" for other kinds."""
        if self.kind == SELDON_MODEL:
            return self.name
        if self.kind in (SELDON_PIPELINE, SELDON_EXPERIMENT):
            return f"{self.name}.{self.kind.lower()}"
        return ""

    @property
    def replicas_text(self) -> str:
        if self.kind in (SELDON_PIPELINE, SELDON_EXPERIMENT):
            return "-"  # no replicas of their own
        if len(self.predictors) == 1:
            return self.predictors[0].replicas_text
        if self.predictors and all(p.replicas_ready is None and p.replicas_desired is None for p in self.predictors):
            return "?/?"  # an InferenceService's traffic targets: one set of replicas unknown, said once
        return " ".join(p.replicas_text for p in self.predictors) or "-"

    @property
    def traffic_text(self) -> str:
        parts = []
        for p in self.predictors:
            if p.shadow:
                parts.append(f"{p.name}:shadow")
            elif p.traffic is not None:
                parts.append(f"{p.name}:{p.traffic}%")
        return " ".join(parts)


@dataclass(frozen=True)
class DeploymentList:
    items: tuple[Deployment, ...]
    resource_version: str = ""  # the list's resourceVersion (where a watch resumes)
    notes: tuple[str, ...] = ()  # kinds that could not be listed (not allowed), in words; the others are listed


class ModelServer(NamedTuple):
    """A Seldon Core 2 ``Server``: the replicas the models of a namespace are loaded into."""

    namespace: str
    name: str
    state: str = UNKNOWN
    reason: str = ""
    replicas: int = 0  # status.replicas
    desired: int | None = None  # spec.replicas
    loaded_models: int = 0  # status.loadedModels: model replicas loaded on it
    server_config: str = ""  # spec.serverConfig (mlserver, triton ...)
    created: datetime | None = None


@dataclass(frozen=True)
class Pod:
    namespace: str
    name: str
    phase: str
    ready_containers: int = 0
    total_containers: int = 0
    restarts: int = 0
    created: datetime | None = None
    containers: tuple[str, ...] = ()
    reason: str = ""

    @property
    def ready(self) -> str:
        return f"{self.ready_containers}/{self.total_containers}"


@dataclass(frozen=True)
class Event:
    namespace: str
    type: str  # Normal / Warning
    reason: str
    message: str
    object_kind: str = ""
    object_name: str = ""
    count: int = 1
    last_seen: datetime | None = None

    @property
    def warning(self) -> bool:
        return self.type == "Warning"


# kinds of WatchEvent
ADDED = "ADDED"
MODIFIED = "MODIFIED"
DELETED = "DELETED"
RELISTED = "RELISTED"  # a full, clean list replaces everything shown (start, or after 410 Gone)
PROBLEM = "PROBLEM"  # the watch failed; it retries by itself after ``retry_in`` seconds


@dataclass(frozen=True)
class WatchEvent:
    kind: str
    deployment: Deployment | None = None  # ADDED / MODIFIED / DELETED
    deployments: tuple[Deployment, ...] = ()  # RELISTED
    resource_version: str = ""
    error: Exception | None = None  # PROBLEM: a BackendError saying what failed
    retry_in: float = 0.0
    scope: tuple[str, ...] = ()  # the namespaces a RELISTED covers; () = all of them
    kinds: tuple[str, ...] = ()  # the kinds a RELISTED covers; () = all of them
    notes: tuple[str, ...] = ()  # RELISTED: a kind that may not be listed, in words (said once; r tries again)


@dataclass(frozen=True)
class RequestTemplate:
    """A ready-to-edit request for one deployment."""

    protocol: str
    url: str
    body: str  # pretty JSON text
    method: str = "POST"  # PUT for a json endpoint configured so
    headers: tuple[tuple[str, str], ...] = (("Content-Type", "application/json"),)
    source: str = ""  # where the shape came from: "v2 metadata", "MLflow signature", "example", "default"
    features: tuple[str, ...] = ()


@dataclass(frozen=True)
class PredictionRequest:
    url: str
    body: str
    method: str = "POST"
    headers: tuple[tuple[str, str], ...] = (("Content-Type", "application/json"),)
    protocol: str = ""
    body_cut: int = 0  # characters of the body sent that are not kept in ``body`` (see inference.keep_prefix)


@dataclass(frozen=True)
class PredictionResponse:
    status: int | None  # None: nothing came back (see ``error``)
    latency_s: float
    body: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    error: str = ""  # connection refused, timeout ... (the client's own words)
    body_cut: int = 0  # characters of the answer that are not kept in ``body``

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def content_type(self) -> str:
        for k, v in self.headers:
            if k.lower() == "content-type":
                return v
        return ""

    @cached_property
    def pretty_body(self) -> str:
        """The body pretty-printed when it is JSON, else as it came (worked out once)."""
        import json

        from backends.deployments.inference import pretty_json

        try:
            return pretty_json(json.loads(self.body))
        except (ValueError, TypeError):
            return self.body


@dataclass(frozen=True)
class Exchange:
    """One test request and what came back, for the per-deployment history."""

    deployment: tuple[str, ...]
    request: PredictionRequest
    response: PredictionResponse
    sent_at: datetime | None = None
    notes: tuple[str, ...] = field(default=())


class WatchStream(Protocol):
    """An iterator of :class:`WatchEvent` that another thread may stop at once."""

    def __iter__(self) -> Iterator[WatchEvent]: ...

    def __next__(self) -> WatchEvent: ...

    def stop(self) -> None: ...


@runtime_checkable
class Deployments(Protocol):
    """What the Deployments pane needs from a backend. Every call may block; call from a worker."""

    endpoint: str  # what it talks to, for the status bar (never a secret)
    read_only: bool
    namespaces: tuple[str, ...]  # the configured namespaces; () = all

    def list_deployments(self, namespaces: Sequence[str] | None = None) -> DeploymentList:
        """All deployments in ``namespaces`` (None: the configured ones; () : all)."""
        ...

    def watch(self, namespaces: Sequence[str] | None = None, resource_version: str = "",
              stop: object | None = None) -> WatchStream:
        """Changes, forever: a RELISTED first (unless resuming from ``resource_version``), then
        ADDED/MODIFIED/DELETED; PROBLEM while reconnecting; RELISTED again after 410 Gone.
        Ends when the stream's ``stop()`` is called, ``stop`` (a ``threading.Event``) is set, or
        :meth:`close` is called."""
        ...

    def close(self) -> None:
        """Stop any watch in progress and release connections."""
        ...

    def get_yaml(self, namespace: str, name: str, kind: str = SELDON_DEPLOYMENT) -> str:
        """The deployment's manifest as YAML, secrets redacted."""
        ...

    def pods(self, namespace: str, name: str, kind: str = SELDON_DEPLOYMENT) -> tuple[Pod, ...]: ...

    def events(self, namespace: str, name: str, kind: str = SELDON_DEPLOYMENT) -> tuple[Event, ...]:
        """Events of the deployment and its pods, newest first."""
        ...

    def pod_log(self, namespace: str, pod: str, tail: int = 200) -> str: ...

    def list_namespaces(self) -> tuple[str, ...]: ...

    def request_template(self, deployment: Deployment) -> RequestTemplate: ...

    def prediction_url(self, deployment: Deployment) -> str:
        """Where a test request to ``deployment`` goes (the configured ingress, else its status address);
        "" when it has none yet."""
        ...

    def send(self, deployment: Deployment, body: str, url: str | None = None) -> tuple[PredictionRequest,
                                                                                         PredictionResponse]:
        """Validate ``body`` (InvalidQuery with line/column: nothing sent) and send it (POST, or the PUT a
        json endpoint may be configured with)."""
        ...


@runtime_checkable
class RevisionRequests(Protocol):
    """Optional: a Deployments backend that sends a test request to one tagged revision of an InferenceService
    (the Kubernetes one)."""

    def send_revision(self, deployment: Deployment, revision: Revision, body: str) -> tuple[PredictionRequest,
                                                                                             PredictionResponse]:
        """As :meth:`Deployments.send`, to the revision's tag URL (through the ingress: with its host as Host)."""
        ...


@runtime_checkable
class ModelServers(Protocol):
    """Optional: a Deployments backend that lists Seldon Core 2 Servers (the Kubernetes one)."""

    def list_servers(self, namespaces: Sequence[str] | None = None) -> tuple[ModelServer, ...]:
        """The Servers in ``namespaces`` (None: the configured ones; (): all); () when the cluster has none."""
        ...
