"""SeldonDeployments, KServe InferenceServices and Seldon Core 2 Models, Pipelines and Experiments on Kubernetes,
through the official ``kubernetes`` client (imported lazily).

One discovery call says which of these CRDs the cluster serves; only those are listed and watched. The
table is kept live by a WATCH (not polling): a list, then a watch from the list's resourceVersion; a
dropped stream reconnects with exponential backoff from the last version seen, and an expired version
(410 Gone) leads to a clean relist. A 403 says which verb on which resource in which namespace was refused;
with several kinds, a kind that may not be listed is said once and the others still show.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from functools import lru_cache
from importlib.util import find_spec
from typing import Any, NamedTuple

from backends.deployments import (
    AVAILABLE,
    CREATING,
    FAILED,
    INFERENCE_SERVICE,
    MODIFIED,
    PROBLEM,
    RELISTED,
    SELDON_DEPLOYMENT,
    SELDON_EXPERIMENT,
    SELDON_MODEL,
    SELDON_PIPELINE,
    UNKNOWN,
    Condition,
    Deployment,
    DeploymentList,
    Event,
    ModelServer,
    Pod,
    PredictionRequest,
    PredictionResponse,
    Predictor,
    RequestTemplate,
    Revision,
    WatchEvent,
)
from backends.deployments.inference import (
    JSON_HEADERS,
    RequestSender,
    base_url,
    build_template,
    deployment_base,
    prediction_url,
)
from backends.errors import (
    BackendError,
    BackendTimeout,
    Forbidden,
    NotConfigured,
    NotFound,
    ServerError,
    Unreachable,
)
from backends.redact import is_secret_name, redact as redact_text, redact_args

GROUP = "machinelearning.seldon.io"
VERSION = "v1"
PLURAL = "seldondeployments"
SDEP = f"{PLURAL}.{GROUP}"
KSERVE_GROUP = "serving.kserve.io"
KSERVE_VERSION = "v1beta1"
KSERVE_PLURAL = "inferenceservices"
#: an InferenceService's conditions that say why it is not ready, in the order they are looked at
ISVC_CONDITIONS = ("PredictorReady", "IngressReady", "RoutesReady", "LatestDeploymentReady", "Ready")
#: the predictor frameworks of the older InferenceService form (``predictor: {sklearn: {storageUri: ...}}``)
ISVC_FRAMEWORKS = ("sklearn", "xgboost", "lightgbm", "tensorflow", "pytorch", "onnx", "triton", "pmml", "paddle",
                   "huggingface")
#: Seldon Core 2 (field names and condition types from its CRDs and operator/apis/mlops/v1alpha1)
MLOPS_GROUP = "mlops.seldon.io"
MLOPS_VERSION = "v1alpha1"
SERVER_LABEL = "seldon-server-name"  # the label of a Server's pods, with its name as the value
#: scheduler states (a condition's reason or message) that mean "still on its way", not failed
SC2_PENDING = ("ModelStateUnknown", "ModelProgressing", "PipelineStatusUnknown", "PipelineCreate", "PipelineCreating",
               "PipelineRebalancing")
REDACTED = "<redacted>"
_EMPTY: Mapping[str, Any] = {}


def parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    return _parse_time(value if isinstance(value, str) else str(value))


@lru_cache(maxsize=4096)
def _parse_time(text: str) -> datetime | None:
    """Kubernetes timestamps repeat (a deployment's conditions often share one): parsed once each."""
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _protocol(spec: Mapping[str, Any]) -> str:
    p = str(spec.get("protocol") or "seldon").lower()
    if p in ("v2", "kfserving", "kserve", "oip"):
        return "v2"
    return "seldon" if p in ("seldon", "") else p


def to_deployment(obj: Mapping[str, Any]) -> Deployment:
    """A SeldonDeployment object (as JSON) as a :class:`Deployment` (positional arguments: this runs for
    every object of every list)."""
    meta = obj.get("metadata") or _EMPTY
    spec = obj.get("spec") or _EMPTY
    status = obj.get("status") or _EMPTY
    name = meta.get("name", "")
    dep_status = status.get("deploymentStatus") or _EMPTY
    predictors = []
    default_replicas = spec.get("replicas")
    for p in spec.get("predictors") or ():
        graph = p.get("graph") or _EMPTY
        pname = p.get("name", "")
        model = graph.get("name", "")
        image = ""
        for cs in p.get("componentSpecs") or ():
            for c in ((cs.get("spec") or _EMPTY).get("containers") or ()):
                if c.get("image") and (c.get("name") == model or not image):
                    image = c["image"]
        desired = p.get("replicas", default_replicas if default_replicas is not None else 1)
        ready = None
        if dep_status:
            prefix = f"{name}-{pname}-"
            found = [v for k, v in dep_status.items() if k.startswith(prefix)]
            ready = min(int(v.get("availableReplicas") or 0) for v in found) if found else 0
        elif status.get("state"):
            ready = 0
        # name, ready, desired, traffic, shadow, implementation, model_uri, image, model_name
        predictors.append(Predictor(pname, ready, None if desired is None else int(desired), p.get("traffic"),
                                    bool(p.get("shadow", False)), str(graph.get("implementation") or ""),
                                    str(graph.get("modelUri") or ""), image, model))
    # type, status, reason, message, last_transition
    conditions = tuple([Condition(str(c.get("type", "")), str(c.get("status", "")), str(c.get("reason") or ""),
                                  str(c.get("message") or ""), parse_time(c.get("lastTransitionTime")))
                        for c in status.get("conditions") or ()])
    # namespace, name, state, reason, predictors, protocol, created, conditions, address_url, uid,
    # resource_version, labels
    return Deployment(meta.get("namespace", ""), name, str(status.get("state") or UNKNOWN),
                      str(status.get("description") or ""), tuple(predictors), _protocol(spec),
                      parse_time(meta.get("creationTimestamp")), conditions,
                      str((status.get("address") or _EMPTY).get("url") or ""), meta.get("uid", ""),
                      meta.get("resourceVersion", ""), tuple(sorted((meta.get("labels") or _EMPTY).items())),
                      generation=_generation(meta))


def _generation(meta: Mapping[str, Any]) -> int | None:
    value = meta.get("generation")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _conditions(status: Mapping[str, Any]) -> tuple[Condition, ...]:
    return tuple([Condition(str(c.get("type", "")), str(c.get("status", "")), str(c.get("reason") or ""),
                            str(c.get("message") or ""), parse_time(c.get("lastTransitionTime")))
                  for c in status.get("conditions") or ()])


def to_inference_service(obj: Mapping[str, Any]) -> Deployment:
    """A KServe InferenceService object (as JSON) as a :class:`Deployment`: Ready condition as the state, the
    failing condition's reason and message (or the model's last failure) as the reason, one predictor per
    traffic target."""
    meta = obj.get("metadata") or _EMPTY
    spec = obj.get("spec") or _EMPTY
    status = obj.get("status") or _EMPTY
    name = str(meta.get("name", ""))
    annotations = meta.get("annotations") or _EMPTY
    predictor = spec.get("predictor") or _EMPTY
    model = predictor.get("model") or _EMPTY
    model_format = str((model.get("modelFormat") or _EMPTY).get("name") or "")
    storage = str(model.get("storageUri") or predictor.get("storageUri") or "")
    protocol_version = str(model.get("protocolVersion") or "")
    if not model:
        for framework in ISVC_FRAMEWORKS:
            if isinstance(predictor.get(framework), Mapping):
                model_format = framework
                storage = str(predictor[framework].get("storageUri") or storage)
                protocol_version = str(predictor[framework].get("protocolVersion") or "")
                break
    runtime = str(model.get("runtime") or status.get("servingRuntimeName")
                  or status.get("clusterServingRuntimeName") or "")
    implementation = f"{model_format}/{runtime}" if model_format and runtime else (model_format or runtime)
    component = (status.get("components") or _EMPTY).get("predictor") or _EMPTY
    traffic = component.get("traffic") or ()
    canary = predictor.get("canaryTrafficPercent")
    predictors: list[Predictor]
    if traffic:
        # name, ready, desired, traffic, shadow, implementation, model_uri, image, model_name
        predictors = [Predictor(str(t.get("tag") or t.get("revisionName") or "latest"), None, None,
                                None if t.get("percent") is None else int(t["percent"]), False, implementation,
                                storage, "", name) for t in traffic]
    else:
        predictors = [Predictor("canary" if canary is not None else "predictor", None, None,
                                None if canary is None else int(canary), False, implementation, storage, "", name)]
    conditions = _conditions(status)
    by_type = {c.type: c for c in conditions}
    model_status = status.get("modelStatus") or _EMPTY
    transition = str(model_status.get("transitionStatus") or "")
    failure = model_status.get("lastFailureInfo") or _EMPTY
    ready = by_type.get("Ready")
    stopped = by_type.get("Stopped")
    if stopped is not None and stopped.status == "True":
        state = "Stopped"
    elif ready is None or ready.status == "Unknown":
        state = CREATING
    elif ready.status == "True":
        state = AVAILABLE
    else:
        state = FAILED
    reason = ""
    if stopped is not None and stopped.status == "True":
        reason = ": ".join(p for p in ("Stopped", stopped.reason, stopped.message) if p)
    else:
        for kind in ISVC_CONDITIONS:
            c = by_type.get(kind)
            if c is not None and c.status == "False":
                reason = ": ".join(p for p in (c.type, c.reason, c.message) if p)
                break
    if failure and not reason:
        reason = ": ".join(str(p) for p in (failure.get("reason"), failure.get("message")) if p)
    mode = str(annotations.get("serving.kserve.io/deploymentMode") or status.get("deploymentMode") or "Serverless")
    # fewer words for the detail box, a few lines at 80x24: the protocol is a column of the table, and the latest
    # ready revision, when it is the latest created too (the usual case), is said once
    ready_rev = str(component.get("latestReadyRevision") or "")
    created_rev = str(component.get("latestCreatedRevision") or "")
    details = [("URL", str(status.get("url") or "")), ("mode", mode)]
    details += ([("revision", ready_rev)] if ready_rev == created_rev else
                [("latest ready", ready_rev), ("latest created", created_rev)])
    if canary is not None:
        details.append(("canary", f"{canary}%"))
    if transition:
        details.append(("model", transition))
    if failure:
        details.append(("last failure", ": ".join(str(p) for p in (failure.get("reason"), failure.get("message"))
                                                  if p)))
    address = str((status.get("address") or _EMPTY).get("url") or "")
    rolled_out = {str(component.get("previousRolledoutRevision") or ""): "previous",
                  str(component.get("latestRolledoutRevision") or ""): "latest"}
    rolled_out.pop("", None)
    revisions = tuple(Revision(str(t["tag"]), str(t.get("revisionName") or ""),
                               None if t.get("percent") is None else int(t["percent"]), str(t.get("url") or ""),
                               bool(t.get("latestRevision")), rolled_out.get(str(t.get("revisionName") or ""), ""))
                      for t in traffic if t.get("tag"))
    protocol = "v2" if protocol_version in ("v2", "grpc-v2") else "kserve"
    return Deployment(str(meta.get("namespace", "")), name, state, reason, tuple(predictors), protocol,
                      parse_time(meta.get("creationTimestamp")), conditions, address, str(meta.get("uid") or ""),
                      str(meta.get("resourceVersion") or ""), tuple(sorted((meta.get("labels") or _EMPTY).items())),
                      INFERENCE_SERVICE, str(status.get("url") or ""), tuple((k, v) for k, v in details if v),
                      revisions, _generation(meta))


def _sc2_state(conditions: tuple[Condition, ...], main: str, others: tuple[str, ...]) -> tuple[str, str]:
    """A Seldon Core 2 resource's state and reason from its conditions: ``main`` (ModelReady, PipelineReady ...)
    True is Available; False is Failed unless its reason says the scheduler is still at work; the reason is
    the first False condition's type, reason and message."""
    by_type = {c.type: c for c in conditions}
    ready = by_type.get(main) or by_type.get("Ready")
    failing = next((c for t in (main, *others, "Ready") if (c := by_type.get(t)) is not None
                    and c.status == "False"), None)
    reason = ": ".join(p for p in (failing.type, failing.reason, failing.message) if p) if failing else ""
    if ready is None or ready.status == "Unknown":
        return CREATING, reason
    if ready.status == "True":
        return AVAILABLE, reason
    words = {ready.reason, ready.message}
    if words & set(SC2_PENDING):
        return CREATING, reason
    if words & {"ModelTerminating", "PipelineTerminating", "PipelineTerminate"}:
        return "Terminating", reason
    if "ModelScaledDown" in words:
        return "Stopped", reason
    return FAILED, reason


def _sc2_base(obj: Mapping[str, Any]) -> tuple[Mapping[str, Any], Mapping[str, Any], Mapping[str, Any],
                                               tuple[Condition, ...]]:
    return (obj.get("metadata") or _EMPTY, obj.get("spec") or _EMPTY, obj.get("status") or _EMPTY,
            _conditions(obj.get("status") or _EMPTY))


def _sc2_row(meta: Mapping[str, Any], kind: str, state: str, reason: str, predictors: list[Predictor],
             conditions: tuple[Condition, ...], details: list[tuple[str, str]]) -> Deployment:
    return Deployment(str(meta.get("namespace", "")), str(meta.get("name", "")), state, reason, tuple(predictors),
                      "v2", parse_time(meta.get("creationTimestamp")), conditions, "", str(meta.get("uid") or ""),
                      str(meta.get("resourceVersion") or ""), tuple(sorted((meta.get("labels") or _EMPTY).items())),
                      kind, "", tuple((k, v) for k, v in details if v), generation=_generation(meta))


def model_server_name(status: Mapping[str, Any], spec: Mapping[str, Any]) -> str:
    """The Server a Model is loaded on: its status.selector (``server=NAME``), else the one its spec asks for."""
    selector = str(status.get("selector") or "")
    if selector.startswith("server="):
        return selector[len("server="):]
    return str(spec.get("server") or "")


def to_seldon_model(obj: Mapping[str, Any]) -> Deployment:
    """A Seldon Core 2 Model: ModelReady as the state, its replicas (available of desired), storageUri,
    requirements and the server it is loaded on."""
    meta, spec, status, conditions = _sc2_base(obj)
    state, reason = _sc2_state(conditions, "ModelReady", ())
    requirements = [str(r) for r in spec.get("requirements") or ()]
    desired = spec.get("replicas")
    # name, ready, desired, traffic, shadow, implementation, model_uri, image, model_name
    predictor = Predictor("model", int(status.get("availableReplicas") or 0), 1 if desired is None else int(desired),
                          None, False, ",".join(requirements), str(spec.get("storageUri") or ""), "",
                          str(meta.get("name", "")))
    details = [("server", model_server_name(status, spec)), ("requirements", ", ".join(requirements)),
               ("modelgw", str(status.get("modelgwReady") or "").strip())]
    return _sc2_row(meta, SELDON_MODEL, state, reason, [predictor], conditions, details)


def to_seldon_pipeline(obj: Mapping[str, Any]) -> Deployment:
    """A Seldon Core 2 Pipeline: PipelineReady as the state (PipelineGwReady, ModelsReady said when False), its
    steps in order as the model column."""
    meta, spec, status, conditions = _sc2_base(obj)
    state, reason = _sc2_state(conditions, "PipelineReady", ("PipelineGwReady", "ModelsReady"))
    steps = [str(s.get("name", "")) for s in spec.get("steps") or () if isinstance(s, Mapping)]
    output = [str(s) for s in ((spec.get("output") or _EMPTY).get("steps") or ())]
    predictor = Predictor("pipeline", None, None, None, False, "pipeline", " > ".join(steps), "",
                          str(meta.get("name", "")))
    ready = {c.type: c for c in conditions}.get("PipelineReady")
    details = [("steps", str(len(steps))), ("output", ", ".join(output)),
               ("status", ready.reason if ready is not None else "")]  # the scheduler's state
    return _sc2_row(meta, SELDON_PIPELINE, state, reason, [predictor], conditions, details)


def to_seldon_experiment(obj: Mapping[str, Any]) -> Deployment:
    """A Seldon Core 2 Experiment: ExperimentReady as the state, its candidates with their share of the traffic
    (weights made percents) and its mirror as a shadow, its default."""
    meta, spec, status, conditions = _sc2_base(obj)
    state, reason = _sc2_state(conditions, "ExperimentReady", ("CandidatesReady", "MirrorReady"))
    of = str(spec.get("resourceType") or "model")
    candidates = [c for c in spec.get("candidates") or () if isinstance(c, Mapping)]
    total = sum(int(c.get("weight") or 0) for c in candidates)
    predictors = [Predictor(str(c.get("name", "")), None, None,
                            round(100 * int(c.get("weight") or 0) / total) if total else 0, False, of, "", "",
                            str(meta.get("name", ""))) for c in candidates]
    mirror = spec.get("mirror") or _EMPTY
    if mirror.get("name"):
        predictors.append(Predictor(str(mirror["name"]), None, None, None, True, of, "", "", str(meta.get("name"))))
    details = [("default", str(spec.get("default") or "")),
               ("weights", " ".join(f"{c.get('name')}={c.get('weight')}" for c in candidates)),
               ("mirror", f"{mirror.get('name')} {mirror.get('percent', 100)}%" if mirror.get("name") else "")]
    return _sc2_row(meta, SELDON_EXPERIMENT, state, reason, predictors, conditions, details)


def to_model_server(obj: Mapping[str, Any]) -> ModelServer:
    """A Seldon Core 2 Server: its Ready condition (StatefulSetOrDeploymentReady said when False), replicas and
    the model replicas loaded on it."""
    meta, spec, status, conditions = _sc2_base(obj)
    state, reason = _sc2_state(conditions, "Ready", ("StatefulSetOrDeploymentReady",))
    desired = spec.get("replicas")
    return ModelServer(str(meta.get("namespace", "")), str(meta.get("name", "")), state, reason,
                       int(status.get("replicas") or 0), None if desired is None else int(desired),
                       int(status.get("loadedModels") or 0), str(spec.get("serverConfig") or ""),
                       parse_time(meta.get("creationTimestamp")))


class _Kind(NamedTuple):
    """A kind of serving resource: where its API is and how its objects read."""

    name: str  # SeldonDeployment / InferenceService
    group: str
    version: str
    plural: str
    convert: Any  # the object's JSON -> Deployment
    pod_label: str  # the label its pods carry, with its name as the value


SELDON_KIND = _Kind(SELDON_DEPLOYMENT, GROUP, VERSION, PLURAL, to_deployment, "seldon-deployment-id")
KSERVE_KIND = _Kind(INFERENCE_SERVICE, KSERVE_GROUP, KSERVE_VERSION, KSERVE_PLURAL, to_inference_service,
                    "serving.kserve.io/inferenceservice")
MODEL_KIND = _Kind(SELDON_MODEL, MLOPS_GROUP, MLOPS_VERSION, "models", to_seldon_model, SERVER_LABEL)
PIPELINE_KIND = _Kind(SELDON_PIPELINE, MLOPS_GROUP, MLOPS_VERSION, "pipelines", to_seldon_pipeline, "")
EXPERIMENT_KIND = _Kind(SELDON_EXPERIMENT, MLOPS_GROUP, MLOPS_VERSION, "experiments", to_seldon_experiment, "")
KINDS = {k.name: k for k in (SELDON_KIND, KSERVE_KIND, MODEL_KIND, PIPELINE_KIND, EXPERIMENT_KIND)}


def _secret_field(key: str, value: Any) -> bool:
    """A field whose value is itself a secret. ``key`` alone names a key in Kubernetes (tolerations,
    selectors, ``secretKeyRef.key``), and ``...Ref`` / ``...Name`` fields name where a secret is kept."""
    return (isinstance(value, (str, int, float)) and not isinstance(value, bool) and key != "key"
            and not key.endswith(("Ref", "RefName", "Name")) and is_secret_name(key))


def redact(obj: Any) -> Any:
    """A copy of ``obj`` with secrets replaced by name (fields, env entries, annotations, ``--flag value``
    pairs in args) and by value shape (see backends.redact); the last-applied-configuration annotation
    hidden and managedFields dropped. Values behind ``secretKeyRef`` are never fetched."""
    if isinstance(obj, list):
        items = [redact(v) for v in obj]
        return redact_args(items, REDACTED) if any(isinstance(v, str) for v in items) else items
    if isinstance(obj, str):
        return redact_text(obj, REDACTED)
    if not isinstance(obj, dict):
        return obj
    out: dict[str, Any] = {}
    named_secret = isinstance(obj.get("name"), str) and is_secret_name(obj["name"])
    for k, v in obj.items():
        if k == "managedFields":
            continue
        if k == "annotations" and isinstance(v, dict):
            out[k] = {ak: (REDACTED if ak == "kubectl.kubernetes.io/last-applied-configuration"
                           or (isinstance(av, str) and is_secret_name(ak)) else redact(av))
                      for ak, av in v.items()}
        elif k == "value" and named_secret and v is not None:
            out[k] = REDACTED
        elif _secret_field(k, v):
            out[k] = REDACTED
        else:
            out[k] = redact(v)
    return out


def _to_pod(obj: Mapping[str, Any]) -> Pod:
    meta = obj.get("metadata") or {}
    status = obj.get("status") or {}
    cstats = status.get("containerStatuses") or ()
    containers = tuple(c.get("name", "") for c in (obj.get("spec") or {}).get("containers") or ())
    reason = status.get("reason") or ""
    for c in cstats:
        waiting = (c.get("state") or {}).get("waiting") or {}
        if waiting.get("reason"):
            reason = waiting["reason"]
    phase = status.get("phase") or "Unknown"
    if meta.get("deletionTimestamp"):
        phase = "Terminating"
    return Pod(namespace=meta.get("namespace", ""), name=meta.get("name", ""), phase=phase,
               ready_containers=sum(1 for c in cstats if c.get("ready")),
               total_containers=len(containers) or len(cstats),
               restarts=sum(int(c.get("restartCount") or 0) for c in cstats),
               created=parse_time(meta.get("creationTimestamp")), containers=containers, reason=reason)


def _to_event(obj: Mapping[str, Any]) -> Event:
    meta = obj.get("metadata") or {}
    inv = obj.get("involvedObject") or obj.get("regarding") or {}
    last = (obj.get("lastTimestamp") or obj.get("eventTime") or obj.get("firstTimestamp")
            or meta.get("creationTimestamp"))
    return Event(namespace=meta.get("namespace", ""), type=str(obj.get("type") or "Normal"),
                 reason=str(obj.get("reason") or ""), message=str(obj.get("message") or obj.get("note") or ""),
                 object_kind=str(inv.get("kind") or ""), object_name=str(inv.get("name") or ""),
                 count=int(obj.get("count") or 1), last_seen=parse_time(last))


class DeploymentWatch:
    """An iterator of :class:`WatchEvent` that another thread can :meth:`stop` at once."""

    def __init__(self, gen_factory: Any) -> None:
        self.stopped = threading.Event()
        self._responses: set[Any] = set()
        self._lock = threading.Lock()
        self._gen: Iterator[WatchEvent] = gen_factory(self)

    def __iter__(self) -> DeploymentWatch:
        return self

    def __next__(self) -> WatchEvent:
        if self.stopped.is_set():
            raise StopIteration
        return next(self._gen)

    def track(self, resp: Any) -> None:
        with self._lock:
            self._responses.add(resp)
        if self.stopped.is_set():
            self._shutdown(resp)

    def untrack(self, resp: Any) -> None:
        with self._lock:
            self._responses.discard(resp)

    @staticmethod
    def _shutdown(resp: Any) -> None:
        try:
            shutdown = getattr(resp, "shutdown", None)
            if shutdown is not None:
                shutdown()
            else:
                resp.close()
        except Exception:  # noqa: BLE001 - closing a dying socket
            pass

    def stop(self) -> None:
        self.stopped.set()
        with self._lock:
            responses = list(self._responses)
        for resp in responses:
            self._shutdown(resp)


FIRST_LISTS_WAIT_S = 1.0  # how long the first list of one kind (or namespace) waits for the others


def _merged_lists(lists: Sequence[WatchEvent]) -> WatchEvent:
    """The first lists of several (kind, namespace) pairs as one RELISTED of all of them."""
    scopes = [e.scope for e in lists]
    scope = () if any(not sc for sc in scopes) else tuple(dict.fromkeys(ns for sc in scopes for ns in sc))
    kinds = tuple(dict.fromkeys(k for e in lists for k in e.kinds))
    deployments = tuple(sorted((d for e in lists for d in e.deployments), key=lambda d: (d.namespace, d.name)))
    notes = tuple(dict.fromkeys(n for e in lists for n in e.notes))
    return WatchEvent(RELISTED, deployments=deployments, scope=scope, kinds=kinds, notes=notes)


class KubernetesDeployments:
    """The ``kubernetes`` Deployments backend. The constructor does no I/O."""

    WATCH_TIMEOUT_S = 290  # server-side timeoutSeconds of one watch request; then it resumes
    BACKOFF_START_S = 0.5
    BACKOFF_MAX_S = 30.0

    def __init__(self, *, kubeconfig: str = "", kube_context: str = "", namespaces: Sequence[str] = (),
                 ingress_url: str = "", timeout: float = 10.0, read_only: bool = False, in_cluster: bool = False,
                 mlflow_uri: str = "", name: str = "") -> None:
        self.kubeconfig = kubeconfig
        self.kube_context = kube_context
        self.namespaces = tuple(namespaces)
        self.ingress_url = ingress_url
        self.timeout = float(timeout)
        self.read_only = read_only
        self.in_cluster = in_cluster
        self.mlflow_uri = mlflow_uri
        self.context_name = name
        self.sender = RequestSender(self.timeout, in_cluster_hint=(
            "set `ingress_url` in the context (or --ingress-url) to send through the ingress, or "
            f"{RequestSender.IN_CLUSTER_HINT}"))
        self._client: Any = None
        self._server = ""
        self._lock = threading.Lock()
        self._watches: set[DeploymentWatch] = set()
        where = "in-cluster" if in_cluster else (kubeconfig or "kubeconfig")
        self.endpoint = f"{where}{'#' + kube_context if kube_context else ''}"

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> KubernetesDeployments:
        if find_spec("kubernetes") is None:  # a lean install: say which extra brings the client
            raise NotConfigured("the Kubernetes client is not installed in this Python environment",
                                hint="pip install 'mlops-console[kubernetes]'")
        kubeconfig = str(settings.get("kubeconfig") or os.environ.get("KUBECONFIG") or "")
        in_cluster = False
        candidates = [os.path.expanduser(p) for p in kubeconfig.split(os.pathsep) if p] if kubeconfig else []
        if not candidates and not os.environ.get("KUBERNETES_SERVICE_HOST"):
            default = os.path.expanduser("~/.kube/config")
            if os.path.isfile(default):
                candidates = [default]
        existing = [p for p in candidates if os.path.isfile(p)]
        if not existing:
            if os.environ.get("KUBERNETES_SERVICE_HOST"):
                in_cluster = True
            elif candidates:
                raise NotConfigured(f"no kubeconfig file at {os.pathsep.join(candidates)}",
                                    endpoint=os.pathsep.join(candidates),
                                    hint="give --kubeconfig PATH, set KUBECONFIG, or `kubeconfig` in the context")
            else:
                raise NotConfigured("no Kubernetes cluster configured",
                                    hint="give --kubeconfig PATH, set KUBECONFIG, or `kubeconfig` in the context "
                                         "(or use the `endpoints` backend for plain model-server URLs)")
        namespaces = settings.get("namespaces") or ()
        if isinstance(namespaces, str):
            namespaces = [n for n in namespaces.split(",") if n]
        return cls(kubeconfig=os.pathsep.join(existing), kube_context=str(settings.get("kube_context") or ""),
                   namespaces=tuple(namespaces), ingress_url=str(settings.get("ingress_url") or ""),
                   timeout=float(settings.get("timeout") or 10.0), read_only=bool(settings.get("read_only", False)),
                   in_cluster=in_cluster, mlflow_uri=str(settings.get("mlflow_uri") or ""),
                   name=str(settings.get("name") or ""))

    # ---- client --------------------------------------------------------------------------
    @staticmethod
    def import_library() -> None:
        """Import the client library and the API classes it loads lazily. The app calls this where it builds
        the backend, in a worker, so that their objects (about 60,000) are among those it moves out of the
        garbage collector's way; imported at the first list, every full collection walked them (pauses of
        10-50 ms while the table filled)."""
        import httpcore  # noqa: F401 - test requests: httpx loads its transport (and h11) at the first client
        import httpx  # noqa: F401
        import kubernetes.config  # noqa: F401
        import kubernetes.watch  # noqa: F401
        from kubernetes.client import ApiClient, CoreV1Api, CustomObjectsApi  # noqa: F401 - loaded lazily

    def _api_client(self) -> Any:
        with self._lock:
            if self._client is not None:
                return self._client
            from kubernetes import client, config
            from kubernetes.config.config_exception import ConfigException

            try:
                if self.in_cluster:
                    cfg = client.Configuration()
                    config.load_incluster_config(client_configuration=cfg)
                else:
                    self._check_context()
                    cfg = client.Configuration()
                    config.load_kube_config(config_file=self.kubeconfig, context=self.kube_context or None,
                                            client_configuration=cfg, persist_config=False)
            except ConfigException as exc:
                raise NotConfigured("cannot use the kubeconfig", endpoint=self.endpoint, detail=str(exc),
                                    hint="check the file, or choose another context with --kube-context") from None
            except (OSError, ValueError) as exc:
                raise NotConfigured("cannot read the kubeconfig", endpoint=self.endpoint, detail=str(exc)) from None
            cfg.retries = 1
            self._server = cfg.host
            self.endpoint = cfg.host + (f" ({self.kube_context})" if self.kube_context else "")
            self._client = client.ApiClient(cfg)
            return self._client

    def _check_context(self) -> None:
        """A context the kubeconfig does not have is named, with the ones it has (the client's own message,
        "Invalid kube-config file. Expected object with name ...", reads as a broken file)."""
        import yaml

        names: list[str] = []
        current = ""
        for path in self.kubeconfig.split(os.pathsep):
            try:
                with open(path, encoding="utf-8") as fh:
                    data = yaml.safe_load(fh)
            except (OSError, ValueError, yaml.YAMLError):
                return  # the client says what is wrong with the file
            if not isinstance(data, dict):
                return
            names += [str(c["name"]) for c in data.get("contexts") or () if isinstance(c, dict) and c.get("name")]
            current = current or str(data.get("current-context") or "")
        wanted = self.kube_context or current
        if wanted and wanted in names:
            return
        if self.kube_context:
            problem = f"no context {wanted!r} in the kubeconfig"
        elif current:
            problem = f"the kubeconfig's current-context {current!r} is not one of its contexts"
        else:
            problem = "the kubeconfig sets no current-context"
        have = ", ".join(dict.fromkeys(names)) or "none"
        raise NotConfigured(f"{problem}; it has: {have}", endpoint=self.kubeconfig,
                            hint="choose one with --kube-context or `kube_context` in the config")

    def _custom(self) -> Any:
        from kubernetes.client import CustomObjectsApi

        return CustomObjectsApi(self._api_client())

    def _core(self) -> Any:
        from kubernetes.client import CoreV1Api

        return CoreV1Api(self._api_client())

    def _error(self, exc: BaseException, verb: str, resource: str, namespace: str | None,
               name: str = "") -> BackendError:
        """The BackendError for a failed call: names verb, resource, namespace (never a secret)."""
        from kubernetes.client.exceptions import ApiException

        where = f"in namespace {namespace!r}" if namespace else "across all namespaces"
        thing = f"{resource} {name!r}" if name else resource
        if isinstance(exc, ApiException):
            detail = ""
            try:
                body = json.loads(exc.body) if exc.body else {}
                detail = body.get("message", "") if isinstance(body, dict) else str(body)
            except (ValueError, TypeError):
                detail = str(exc.body or exc.reason or "")
            status = exc.status or None
            if status == 403:
                return Forbidden(f"not allowed to {verb} {thing} {where}", endpoint=self._server or self.endpoint,
                                 status=403, detail=detail,
                                 hint=f"ask for RBAC '{verb}' on {resource}" + (
                                     f" in {namespace}" if namespace else " cluster-wide, or choose one with :ns NAME"))
            if status == 401:
                return Forbidden(f"not authenticated to {verb} {thing}", endpoint=self._server or self.endpoint,
                                 status=401, detail=detail,
                                 hint=("the pod's service account token was refused" if self.in_cluster
                                       else "your credentials in the kubeconfig were refused"))
            if status == 404:
                return NotFound(f"{thing} not found {where}", endpoint=self._server or self.endpoint, status=404,
                                detail=detail)
            if status == 0 or status is None:
                return Unreachable(f"cannot {verb} {thing}", endpoint=self._server or self.endpoint,
                                   detail=str(exc.reason or exc))
            return ServerError(f"{verb} {thing} {where} failed", endpoint=self._server or self.endpoint,
                               status=status, detail=detail or str(exc.reason or ""))
        import urllib3.exceptions as u3

        reason = exc.reason if isinstance(exc, u3.MaxRetryError) else exc
        where_set = ("KUBERNETES_SERVICE_HOST / KUBERNETES_SERVICE_PORT" if self.in_cluster
                     else "the kubeconfig's server address")
        if isinstance(reason, u3.NewConnectionError):  # (a subclass of ConnectTimeoutError)
            return Unreachable(f"cannot reach the Kubernetes API to {verb} {thing}",
                               endpoint=self._server or self.endpoint, detail=str(reason),
                               hint=f"is the cluster up and {where_set} right?")
        if isinstance(reason, u3.SSLError) or "CERTIFICATE_VERIFY_FAILED" in str(reason):
            ca = ("the service account's ca.crt" if self.in_cluster
                  else "the kubeconfig's certificate-authority")
            return Unreachable(f"the Kubernetes API's certificate was not trusted ({verb} {thing})",
                               endpoint=self._server or self.endpoint, detail=str(reason),
                               hint=f"it must be signed by the CA in {ca}")
        if isinstance(exc, (u3.ReadTimeoutError, u3.ConnectTimeoutError, TimeoutError)) or (
                isinstance(exc, u3.MaxRetryError) and isinstance(exc.reason, (u3.ConnectTimeoutError,
                                                                              u3.ReadTimeoutError))):
            return BackendTimeout(f"no answer to {verb} {thing} within {self.timeout:g} s",
                                  endpoint=self._server or self.endpoint, hint="raise `timeout` in the context")
        if isinstance(exc, BackendError):
            return exc
        return Unreachable(f"cannot reach the Kubernetes API to {verb} {thing}",
                           endpoint=self._server or self.endpoint, detail=str(getattr(exc, "reason", exc)),
                           hint=f"is the cluster up and {where_set} right?")

    def _call(self, fn: Any, _verb: str, _resource: str, _namespace: str | None, _name: str = "",
              **kwargs: Any) -> Any:
        """Call ``fn`` raw (no model deserialisation) and return the decoded JSON."""
        try:
            resp = fn(_preload_content=False, _request_timeout=self.timeout, **kwargs)
            data = resp.data
        except BackendError:
            raise
        except Exception as exc:  # noqa: BLE001 - mapped to a BackendError saying what failed
            raise self._error(exc, _verb, _resource, _namespace, _name) from None
        try:
            return json.loads(data)
        except ValueError:
            return data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data

    def _scope(self, namespaces: Sequence[str] | None) -> tuple[str, ...]:
        return tuple(self.namespaces if namespaces is None else namespaces)

    # ---- reading -------------------------------------------------------------------------
    def served_kinds(self) -> tuple[_Kind, ...]:
        """The kinds of serving resource the cluster serves, from one discovery call (the API groups and their
        versions). When discovery itself fails, every kind: the lists then say what is wrong, and a kind the
        cluster lacks answers 404 and is left out."""
        from kubernetes.client import ApisApi

        try:
            data = self._call(ApisApi(self._api_client()).get_api_versions, "get", "API groups", None)
        except NotConfigured:
            raise
        except BackendError:
            return tuple(KINDS.values())
        served = {(str(g.get("name")), str(v.get("version"))) for g in (data or {}).get("groups") or ()
                  for v in g.get("versions") or ()}
        return tuple(k for k in KINDS.values() if (k.group, k.version) in served)

    def _list_one(self, namespace: str | None, kind: _Kind = SELDON_KIND) -> tuple[list[Deployment], str]:
        api = self._custom()
        if namespace:
            data = self._call(api.list_namespaced_custom_object, "list", kind.plural, namespace, group=kind.group,
                              version=kind.version, namespace=namespace, plural=kind.plural)
        else:
            data = self._call(api.list_cluster_custom_object, "list", kind.plural, None, group=kind.group,
                              version=kind.version, plural=kind.plural)
        items = [kind.convert(o) for o in data.get("items") or ()]
        return items, str((data.get("metadata") or {}).get("resourceVersion") or "")

    def list_deployments(self, namespaces: Sequence[str] | None = None) -> DeploymentList:
        scope = self._scope(namespaces)
        kinds = self.served_kinds()
        items: list[Deployment] = []
        rvs: list[str] = []
        refused: list[Forbidden] = []
        for kind in kinds:
            for ns in scope or (None,):
                try:
                    got, rv = self._list_one(ns, kind)
                except Forbidden as exc:
                    if len(kinds) == 1:
                        raise
                    refused.append(exc)  # said once; the other kind still lists
                    break
                except NotFound:
                    if len(kinds) == 1:
                        raise
                    break  # the cluster does not serve it after all
                items.extend(got)
                rvs.append(rv)
        if refused and len(refused) == len(kinds):
            raise refused[0]
        rv = max(rvs, key=lambda v: int(v) if v.isdigit() else 0) if rvs else ""
        items.sort(key=lambda d: (d.namespace, d.name))
        return DeploymentList(tuple(items), rv, tuple(str(e) for e in refused))

    def _kind(self, kind: str) -> _Kind:
        found = KINDS.get(kind)
        if found is None:
            raise NotFound(f"no such kind of deployment: {kind}", hint=f"one of {', '.join(KINDS)}")
        return found

    def _get(self, namespace: str, name: str, kind: str) -> Any:
        k = self._kind(kind)
        return self._call(self._custom().get_namespaced_custom_object, "get", k.plural, namespace, name,
                          group=k.group, version=k.version, namespace=namespace, plural=k.plural, name=name)

    def get_deployment(self, namespace: str, name: str, kind: str = SELDON_DEPLOYMENT) -> Deployment:
        converted: Deployment = self._kind(kind).convert(self._get(namespace, name, kind))
        return converted

    def get_yaml(self, namespace: str, name: str, kind: str = SELDON_DEPLOYMENT) -> str:
        import yaml

        obj = self._get(namespace, name, kind)
        text: str = yaml.safe_dump(redact(obj), sort_keys=False, default_flow_style=False)
        return text

    def pods(self, namespace: str, name: str, kind: str = SELDON_DEPLOYMENT) -> tuple[Pod, ...]:
        k = self._kind(kind)
        if not k.pod_label:
            return ()  # a Pipeline or an Experiment runs in Seldon's shared gateways, no pods of its own
        owner = name
        if kind == SELDON_MODEL:  # a Model has no pods: those of the Server it is loaded on
            obj = self._get(namespace, name, kind)
            owner = model_server_name(obj.get("status") or _EMPTY, obj.get("spec") or _EMPTY)
            if not owner:
                return ()
        core = self._core()
        data = self._call(core.list_namespaced_pod, "list", "pods", namespace, namespace=namespace,
                          label_selector=f"{k.pod_label}={owner}")
        return tuple(sorted((_to_pod(o) for o in data.get("items") or ()), key=lambda p: p.name))

    def events(self, namespace: str, name: str, kind: str = SELDON_DEPLOYMENT) -> tuple[Event, ...]:
        core = self._core()
        # an InferenceService's events by kind too: a SeldonDeployment may have its name
        selector = (f"involvedObject.name={name}" if kind == SELDON_DEPLOYMENT
                    else f"involvedObject.name={name},involvedObject.kind={kind}")
        data = self._call(core.list_namespaced_event, "list", "events", namespace, namespace=namespace,
                          field_selector=selector)
        raw = list(data.get("items") or ())
        pod_names = {p.name for p in self.pods(namespace, name, kind)}
        if pod_names:
            data = self._call(core.list_namespaced_event, "list", "events", namespace, namespace=namespace,
                              field_selector="involvedObject.kind=Pod")
            raw.extend(o for o in data.get("items") or () if (o.get("involvedObject") or {}).get("name") in pod_names)
        found = [(_to_event(o), str((o.get("metadata") or {}).get("resourceVersion") or "0")) for o in raw]
        epoch = datetime.min

        def newest(pair: tuple[Event, str]) -> tuple[datetime, int]:
            ev, rv = pair
            when = ev.last_seen.replace(tzinfo=None) if ev.last_seen else epoch
            return (when, int(rv) if rv.isdigit() else 0)

        found.sort(key=newest, reverse=True)
        return tuple(ev for ev, _ in found)

    def list_servers(self, namespaces: Sequence[str] | None = None) -> tuple[ModelServer, ...]:
        """The Seldon Core 2 Servers in ``namespaces`` (None: the configured ones; (): all); () when the cluster
        does not serve them."""
        api = self._custom()
        found: list[ModelServer] = []
        for ns in self._scope(namespaces) or (None,):
            kwargs = dict(group=MLOPS_GROUP, version=MLOPS_VERSION, plural="servers")
            try:
                if ns:
                    data = self._call(api.list_namespaced_custom_object, "list", "servers", ns, namespace=ns,
                                      **kwargs)
                else:
                    data = self._call(api.list_cluster_custom_object, "list", "servers", None, **kwargs)
            except NotFound:
                return ()
            found.extend(to_model_server(o) for o in data.get("items") or ())
        return tuple(sorted(found, key=lambda s: (s.namespace, s.name)))

    def pod_log(self, namespace: str, pod: str, tail: int = 200) -> str:
        core = self._core()
        try:
            resp = core.read_namespaced_pod_log(pod, namespace, tail_lines=tail, _preload_content=False,
                                                _request_timeout=self.timeout)
            text: str = resp.data.decode("utf-8", errors="replace")
            return text
        except Exception as exc:  # noqa: BLE001
            raise self._error(exc, "get", "pods/log", namespace, pod) from None

    def list_namespaces(self) -> tuple[str, ...]:
        core = self._core()
        try:
            data = self._call(core.list_namespace, "list", "namespaces", None)
        except Forbidden:
            return self.namespaces
        return tuple(sorted(o["metadata"]["name"] for o in data.get("items") or ()))

    # ---- watching ------------------------------------------------------------------------
    def watch(self, namespaces: Sequence[str] | None = None, resource_version: str = "",
              stop: threading.Event | None = None) -> DeploymentWatch:
        scope = self._scope(namespaces)

        def factory(handle: DeploymentWatch) -> Iterator[WatchEvent]:
            if stop is not None:
                def relay() -> None:
                    while not handle.stopped.is_set():
                        if stop.wait(0.5):
                            handle.stop()

                threading.Thread(target=relay, name="watch-stop", daemon=True).start()
            return self._watch_kinds(handle, scope, resource_version)

        handle = DeploymentWatch(factory)
        with self._lock:
            self._watches.add(handle)
        return handle

    def _watch_kinds(self, handle: DeploymentWatch, scope: tuple[str, ...],
                     resource_version: str) -> Iterator[WatchEvent]:
        """Discover the kinds served, then watch each of them in each namespace of ``scope``."""
        try:
            kinds = self.served_kinds()
        except NotConfigured as exc:
            yield WatchEvent(PROBLEM, error=exc, retry_in=0, scope=scope, resource_version=resource_version)
            return
        if not kinds:
            yield WatchEvent(RELISTED, scope=scope, notes=(
                f"this cluster serves none of {SDEP}, {KSERVE_PLURAL}.{KSERVE_GROUP}, "
                f"models/pipelines/experiments.{MLOPS_GROUP}",))
            return
        pairs = [(kind, ns) for kind in kinds for ns in (scope or (None,))]
        if len(pairs) == 1:
            yield from self._watch_one(handle, pairs[0][1], resource_version, pairs[0][0])
            return
        yield from self._watch_many(handle, pairs, alone=len(kinds) == 1)

    def _watch_many(self, handle: DeploymentWatch, pairs: list[tuple[_Kind, str | None]],
                    alone: bool = True) -> Iterator[WatchEvent]:
        import queue
        import time

        q: queue.Queue[tuple[int, WatchEvent]] = queue.Queue()

        def pump(index: int, kind: _Kind, ns: str | None) -> None:
            for ev in self._watch_one(handle, ns, "", kind, alone=alone):
                q.put((index, ev))

        for index, (kind, ns) in enumerate(pairs):
            threading.Thread(target=pump, args=(index, kind, ns), name=f"watch-{kind.plural}-{ns or 'all'}",
                             daemon=True).start()
        # the first lists come as one RELISTED (the table is built once, not once a kind), or, if one is slow,
        # what has come FIRST_LISTS_WAIT_S after the first of them
        waiting = set(range(len(pairs)))  # pairs whose first list has not come yet
        lists: list[WatchEvent] = []  # the first lists so far
        held: list[WatchEvent] = []  # what came after them meanwhile, in order
        deadline = time.monotonic() + self.timeout  # nothing is held longer than this
        first_at = 0.0  # when the first of the first lists came
        while not handle.stopped.is_set():
            item: tuple[int, WatchEvent] | None
            try:
                item = q.get(timeout=0.05 if waiting else 0.2)
            except queue.Empty:
                item = None
            if not waiting:
                if item is not None:
                    yield item[1]
                continue
            if item is not None:
                index, ev = item
                if index in waiting and ev.kind == RELISTED:
                    lists.append(ev)
                    first_at = first_at or time.monotonic()
                else:
                    held.append(ev)  # a problem ends that pair's first round too
                waiting.discard(index)
            now = time.monotonic()
            if now >= deadline or (lists and now >= first_at + FIRST_LISTS_WAIT_S):
                waiting.clear()  # a slow one comes later, on its own
            if not waiting:
                if lists:
                    yield _merged_lists(lists)
                yield from held
                lists, held = [], []

    def _watch_one(self, handle: DeploymentWatch, namespace: str | None, resource_version: str,
                   kind: _Kind = SELDON_KIND, alone: bool = True) -> Iterator[WatchEvent]:
        """One kind in one namespace (or all). Not ``alone`` (the cluster serves another kind too), a kind that
        may not be listed is said once, in a RELISTED's notes, and not watched (r tries again)."""
        from kubernetes.client.exceptions import ApiException
        from kubernetes.watch.watch import iter_resp_lines

        scope = (namespace,) if namespace else ()
        kinds = (kind.name,)
        rv = resource_version
        need_list = not rv
        backoff = self.BACKOFF_START_S
        api = None
        while not handle.stopped.is_set():
            error: BackendError | None = None
            try:
                if api is None:
                    api = self._custom()
                if need_list:
                    try:
                        items, rv = self._list_one(namespace, kind)
                    except (Forbidden, NotFound) as exc:
                        if alone:
                            raise
                        notes = (str(exc),) if isinstance(exc, Forbidden) else ()
                        yield WatchEvent(RELISTED, scope=scope, kinds=kinds, notes=notes)
                        return
                    items.sort(key=lambda d: (d.namespace, d.name))
                    need_list = False
                    yield WatchEvent(RELISTED, deployments=tuple(items), resource_version=rv, scope=scope,
                                     kinds=kinds)
                    backoff = self.BACKOFF_START_S
                kwargs = dict(group=kind.group, version=kind.version, plural=kind.plural, watch=True,
                              resource_version=rv,
                              allow_watch_bookmarks=True, timeout_seconds=self.WATCH_TIMEOUT_S,
                              _preload_content=False,
                              _request_timeout=(self.timeout, self.WATCH_TIMEOUT_S + self.timeout))
                if namespace:
                    resp = api.list_namespaced_custom_object(namespace=namespace, **kwargs)
                else:
                    resp = api.list_cluster_custom_object(**kwargs)
                handle.track(resp)
                try:
                    for line in iter_resp_lines(resp):
                        if handle.stopped.is_set():
                            return
                        if not line:
                            continue
                        event = json.loads(line)
                        etype = event.get("type")
                        obj = event.get("object") or {}
                        if etype == "ERROR":
                            if obj.get("code") == 410:
                                need_list = True
                                break
                            raise ServerError(f"the watch of {kind.plural} failed", endpoint=self._server,
                                              status=obj.get("code"), detail=obj.get("message", ""))
                        new_rv = (obj.get("metadata") or {}).get("resourceVersion")
                        if new_rv:
                            rv = new_rv
                        if etype == "BOOKMARK":
                            continue
                        backoff = self.BACKOFF_START_S
                        yield WatchEvent(str(etype), deployment=kind.convert(obj), resource_version=rv, scope=scope,
                                         kinds=kinds)
                finally:
                    handle.untrack(resp)
                    try:
                        resp.close()
                        resp.release_conn()
                    except Exception:  # noqa: BLE001
                        pass
                continue  # the server ended the stream (timeoutSeconds) or 410: go on at once
            except ApiException as exc:
                if exc.status == 410:
                    need_list = True
                    continue
                error = self._error(exc, "watch", kind.plural, namespace)
            except NotConfigured as exc:
                # the configuration is wrong, not the network: trying again changes nothing (r does, after a fix)
                yield WatchEvent(PROBLEM, error=exc, retry_in=0, scope=scope, resource_version=rv)
                return
            except BackendError as exc:
                error = exc
            except Exception as exc:  # noqa: BLE001 - connection dropped, refused, timed out
                if handle.stopped.is_set():
                    return
                error = self._error(exc, "watch", kind.plural, namespace)
            if handle.stopped.is_set():
                return
            yield WatchEvent(PROBLEM, error=error, retry_in=backoff, scope=scope, resource_version=rv)
            if handle.stopped.wait(backoff):
                return
            backoff = min(backoff * 2, self.BACKOFF_MAX_S)

    def close(self) -> None:
        with self._lock:
            watches = list(self._watches)
            self._watches.clear()
        for w in watches:
            w.stop()
        self.sender.close()

    # ---- test requests -------------------------------------------------------------------
    def _base(self, deployment: Deployment) -> str:
        return deployment_base(deployment, self.ingress_url)

    def prediction_url(self, deployment: Deployment) -> str:
        base = self._base(deployment)
        return prediction_url(deployment.protocol, base, deployment.model_name) if base else ""

    def request_headers(self, deployment: Deployment, url: str = "") -> tuple[tuple[str, str], ...]:
        """The headers of a test request to ``url``: through the ingress, an InferenceService's requests carry
        its host name (from status.url) as ``Host``, which is how the ingress gateway routes them; a Seldon Core 2
        resource's carry ``Seldon-Model`` (``NAME``, ``NAME.pipeline``, ``NAME.experiment``)."""
        from urllib.parse import urlsplit

        if deployment.seldon_model_header:  # Seldon Core 2: the mesh routes by this header, whatever the URL
            return (*JSON_HEADERS, ("Seldon-Model", deployment.seldon_model_header))
        ingress = self.ingress_url.rstrip("/")
        host = urlsplit(deployment.url).netloc if deployment.kind == INFERENCE_SERVICE and deployment.url else ""
        if host and ingress and (url or self.prediction_url(deployment)).startswith(ingress):
            return (*JSON_HEADERS, ("Host", host))
        return JSON_HEADERS

    def revision_url(self, deployment: Deployment, revision: Revision) -> str:
        """Where a test request to one tagged revision goes: the ingress (routed by the tag's host), else the
        tag URL itself."""
        base = self.ingress_url.rstrip("/") or base_url(revision.url)
        return prediction_url(deployment.protocol, base, deployment.model_name) if base else ""

    def send_revision(self, deployment: Deployment, revision: Revision, body: str) -> tuple[PredictionRequest,
                                                                                             PredictionResponse]:
        from urllib.parse import urlsplit

        headers: tuple[tuple[str, str], ...] = JSON_HEADERS
        if self.ingress_url:
            headers = (*JSON_HEADERS, ("Host", urlsplit(revision.url).netloc))
        return self.sender.send(self.revision_url(deployment, revision), body, protocol=deployment.protocol,
                                headers=headers)

    def request_template(self, deployment: Deployment) -> RequestTemplate:
        model_uri = ""
        for p in deployment.predictors:
            if p.implementation == "MLFLOW_SERVER" and p.model_uri:
                model_uri = p.model_uri
        return build_template(self.sender, deployment, self._base(deployment), model_uri=model_uri,
                              tracking_uri=self.mlflow_uri, metadata_timeout=min(self.timeout, 3.0),
                              headers=self.request_headers(deployment))

    def send(self, deployment: Deployment, body: str, url: str | None = None) -> tuple[PredictionRequest,
                                                                                         PredictionResponse]:
        target = url or self.prediction_url(deployment)
        return self.sender.send(target, body, protocol=deployment.protocol,
                                headers=self.request_headers(deployment, target))


__all__ = ["KubernetesDeployments", "DeploymentWatch", "to_deployment", "to_inference_service", "to_seldon_model",
           "to_seldon_pipeline", "to_seldon_experiment", "to_model_server", "redact", "FAILED", "MODIFIED"]
