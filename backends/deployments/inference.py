"""Test prediction requests, shared by every Deployments backend.

Builds a JSON payload that fits the deployment's protocol (Seldon v1 ``ndarray``, Open Inference
Protocol v2 ``inputs``, MLflow scoring ``dataframe_split``) using the model's input signature where
it can be had, computes where to send it, refuses invalid JSON before anything is sent, and sends
it under a timeout with one pooled httpx client, which is not imported until a request is sent.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from backends.deployments import (
    INFERENCE_SERVICE,
    Deployment,
    PredictionRequest,
    PredictionResponse,
    RequestTemplate,
)
from backends.errors import BackendTimeout, InvalidQuery, NotFound, ServerError, Unreachable
from backends.redact import redact

DEFAULT_FEATURES = 4
JSON_HEADERS = (("Content-Type", "application/json"),)
#: of each payload and answer, what a request's record keeps: the history holds records, and whole
#: 100 MB answers kept there would hold hundreds of MB
KEPT_BODY_CHARS = 256 * 1024

_SUFFIXES = (
    re.compile(r"/api/v1\.0/(predictions|metadata)(/[^/]*)?/?$"),
    re.compile(r"/v2/models/[^/]+(/versions/[^/]+)?/(infer|ready)/?$"),
    re.compile(r"/v2/models/infer/?$"),
    re.compile(r"/v2/models/[^/]+/?$"),
    re.compile(r"/invocations/?$"),
    re.compile(r"/v1/models/[^/]+(:predict)?/?$"),
)


class InvalidPayload(InvalidQuery):
    """The request body is not valid JSON; ``line`` and ``column`` (1-based) point at the error."""

    def __init__(self, message: str, *, line: int, column: int, detail: str) -> None:
        super().__init__(message, detail=detail, hint="fix the JSON; nothing was sent")
        self.line = line
        self.column = column


def parse_payload(text: str) -> Any:
    """The JSON in ``text``, or :class:`InvalidPayload` saying where it breaks."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidPayload(
            f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
            line=exc.lineno, column=exc.colno, detail=exc.msg,
        ) from None


def keep_prefix(text: str, limit: int = KEPT_BODY_CHARS) -> tuple[str, int]:
    """The first ``limit`` characters of ``text`` and how many more there were."""
    if len(text) <= limit:
        return text, 0
    return text[:limit], len(text) - limit


def request_record(url: str, body: str, protocol: str = "",
                   headers: Sequence[tuple[str, str]] = JSON_HEADERS, method: str = "POST") -> PredictionRequest:
    """What is kept of a request that was (or was to be) sent: its payload cut by :func:`keep_prefix`."""
    kept, cut = keep_prefix(body)
    return PredictionRequest(url=url, body=kept, method=method, headers=tuple(headers), protocol=protocol,
                             body_cut=cut)


def _response(status: int, latency: float, text: str, headers: tuple[tuple[str, str], ...]) -> PredictionResponse:
    kept, cut = keep_prefix(text)
    return PredictionResponse(status=status, latency_s=latency, body=kept, headers=headers, body_cut=cut)


def base_url(url: str) -> str:
    """``url`` without the protocol's own path (predictions, infer, invocations)."""
    url = url.rstrip("/")
    for pattern in _SUFFIXES:
        stripped = pattern.sub("", url)
        if stripped != url:
            return stripped.rstrip("/")
    return url


def deployment_base(deployment: Deployment, ingress_url: str = "") -> str:
    """Where the deployment is reached: through the ingress, else its own address. Through the ingress an
    InferenceService has no path of its own: the gateway routes it by the Host header (a Seldon Core 2 resource:
    by its Seldon-Model header)."""
    if ingress_url and (deployment.kind == INFERENCE_SERVICE or deployment.seldon_model_header):
        return ingress_url.rstrip("/")
    if deployment.seldon_model_header:  # Seldon Core 2: the namespace's seldon-mesh service (from inside the cluster)
        return f"http://seldon-mesh.{deployment.namespace}.svc.cluster.local"
    if ingress_url:
        return f"{ingress_url.rstrip('/')}/seldon/{deployment.namespace}/{deployment.name}"
    return base_url(deployment.address_url) if deployment.address_url else ""


def prediction_url(protocol: str, base: str, model: str) -> str:
    if protocol == "json":  # the endpoint's URL is the whole path, as configured
        return base
    base = base.rstrip("/")
    if protocol == "v2":
        return f"{base}/v2/models/{model}/infer"
    if protocol == "mlflow":
        return f"{base}/invocations"
    if protocol == "kserve":
        return f"{base}/v1/models/{model}:predict"
    return f"{base}/api/v1.0/predictions"


_encode = json.JSONEncoder(ensure_ascii=False).encode  # json.dumps(v, ensure_ascii=False) builds an encoder a call


def pretty_json(value: Any, indent: int = 2, _level: int = 0) -> str:
    """Indented JSON that keeps lists of numbers (and lists of such lists) on one line."""
    def flat(v: Any) -> bool:
        return not isinstance(v, (dict, list)) or (isinstance(v, list) and all(flat(x) for x in v))

    if isinstance(value, list) and flat(value):
        return _encode(value)
    pad = " " * (indent * (_level + 1))
    end = " " * (indent * _level)
    if isinstance(value, dict):
        if not value:
            return "{}"
        parts = [f"{pad}{_encode(k)}: {pretty_json(v, indent, _level + 1)}"
                 for k, v in value.items()]
        return "{\n" + ",\n".join(parts) + "\n" + end + "}"
    if isinstance(value, list):
        parts = [pad + pretty_json(v, indent, _level + 1) for v in value]
        return "[\n" + ",\n".join(parts) + "\n" + end + "]"
    return _encode(value)


def _example_value(datatype: str) -> Any:
    dt = datatype.upper()
    if dt in ("BYTES", "STRING", "STR"):
        return ""
    if dt == "BOOL":
        return False
    if dt.startswith(("INT", "UINT", "LONG", "INTEGER")):
        return 0
    return 0.0


def _v2_type(mlflow_type: str) -> str:
    return {"double": "FP64", "float": "FP32", "long": "INT64", "integer": "INT32", "boolean": "BOOL",
            "string": "BYTES", "binary": "BYTES"}.get(mlflow_type, "FP64")


def template_body(protocol: str, model: str, features: Sequence[str] = (), n_features: int | None = None,
                  v2_inputs: Sequence[Mapping[str, Any]] = (), types: Sequence[str] = (),
                  seldon_message: str = "ndarray") -> str:
    """A pretty JSON payload for ``protocol`` with one row of example values."""
    n = len(features) or n_features or DEFAULT_FEATURES
    if protocol == "v2":
        inputs = []
        if v2_inputs:
            for spec in v2_inputs:
                shape = [1 if (not isinstance(d, int) or d < 0) else d for d in (spec.get("shape") or [1, n])]
                dt = str(spec.get("datatype") or "FP64")
                size = math.prod(shape) if shape else 1
                inputs.append({"name": spec.get("name") or "input-0", "shape": shape, "datatype": dt,
                               "data": [_example_value(dt)] * size})
        elif features and types:
            for name, t in zip(features, types):
                dt = _v2_type(t)
                inputs.append({"name": name, "shape": [1], "datatype": dt, "data": [_example_value(dt)]})
        else:
            inputs.append({"name": "input-0", "shape": [1, n], "datatype": "FP64", "data": [0.0] * n})
        return pretty_json({"inputs": inputs})
    if protocol == "mlflow":
        columns = list(features) or [f"f{i}" for i in range(n)]
        row = [_example_value(_v2_type(t)) for t in types] if types else [0.0] * len(columns)
        return pretty_json({"dataframe_split": {"columns": columns, "data": [row]}})
    if protocol == "kserve":  # KServe v1: rows of values as "instances"
        return pretty_json({"instances": [[0.0] * n]})
    if protocol == "json":  # a Flask-style object of named features, when the signature names them
        values = [_example_value(_v2_type(t)) for t in types] if types else [0.0] * len(features)
        return pretty_json(dict(zip(features, values)))
    data: dict[str, Any] = {}
    if features:
        data["names"] = list(features)
    if seldon_message == "tensor":
        data["tensor"] = {"shape": [1, n], "values": [0.0] * n}
    else:
        data["ndarray"] = [[0.0] * n]
    return pretty_json({"data": data})


def mlflow_signature(model_uri: str, tracking_uri: str = "") -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Column names and types of an MLflow model's input signature, ((), ()) when it has none.

    A local model folder (or ``file:`` URI) is read directly; ``models:/name/version`` and
    ``runs:/`` URIs go through MLflow (imported here only).
    """
    import yaml

    text = ""
    local = model_uri[len("file://"):] if model_uri.startswith("file://") else model_uri
    path = Path(local).expanduser()
    if "://" not in local and ":/" not in local and path.is_dir():
        mlmodel = path / "MLmodel"
        if not mlmodel.is_file():
            return (), ()
        text = mlmodel.read_text()
    elif model_uri.startswith(("models:/", "runs:/")):
        import tempfile

        import mlflow.artifacts
        from mlflow.tracking import MlflowClient

        try:
            source = model_uri.rstrip("/")
            if source.startswith("models:/"):
                # resolve through THIS context's registry (not whatever MLflow's globals say)
                client = MlflowClient(tracking_uri=tracking_uri or None, registry_uri=tracking_uri or None)
                ref = source[len("models:/"):]
                if "@" in ref:
                    name, alias = ref.split("@", 1)
                    version = client.get_model_version_by_alias(name, alias).version
                else:
                    name, _, version = ref.partition("/")
                    if version in ("", "latest"):
                        version = max(int(v.version) for v in client.search_model_versions(f"name='{name}'"))
                source = client.get_model_version_download_uri(name, str(version))
            with tempfile.TemporaryDirectory() as tmp:
                local_file = mlflow.artifacts.download_artifacts(
                    artifact_uri=f"{source.rstrip('/')}/MLmodel", tracking_uri=tracking_uri or None, dst_path=tmp)
                text = Path(local_file).read_text()
        except Exception as exc:  # noqa: BLE001 - mlflow raises many kinds
            raise NotFound(f"cannot read the signature of {model_uri}", endpoint=redact(tracking_uri) or None,
                           detail=redact(str(exc))) from None
    else:
        return (), ()
    meta = yaml.safe_load(text) or {}
    inputs = (meta.get("signature") or {}).get("inputs")
    if not inputs:
        return (), ()
    cols = json.loads(inputs) if isinstance(inputs, str) else inputs
    names = tuple(str(c.get("name", f"f{i}")) for i, c in enumerate(cols))
    types = tuple(str(c.get("type", "double")) for c in cols)
    return names, types


class RequestSender:
    """Sends test requests and metadata GETs with one pooled httpx client for every URL; thread-safe, built
    at the first request.

    The client keeps connections alive, follows no redirect (a 3xx is an answer to show), applies the
    context's timeout to connecting, writing and reading alike, and takes proxies (``HTTP_PROXY``,
    ``HTTPS_PROXY``, ``ALL_PROXY``, ``NO_PROXY``) and CA files (``SSL_CERT_FILE``, ``SSL_CERT_DIR``) from the
    environment as curl and requests do. Credentials in a URL are sent as basic auth.
    """

    # how a cluster's internal address is reached from outside it (the Kubernetes backend can also go
    # through the ingress)
    IN_CLUSTER_HINT = "port-forward the service (kubectl port-forward) and send to localhost"

    def __init__(self, timeout: float = 10.0, in_cluster_hint: str = "") -> None:
        self.timeout = timeout
        self.in_cluster_hint = in_cluster_hint or self.IN_CLUSTER_HINT
        self._client: Any = None
        self._lock = threading.Lock()

    def client(self) -> Any:
        with self._lock:
            if self._client is None:
                import httpx

                self._client = httpx.Client(timeout=self.timeout, follow_redirects=False,
                                            headers={"User-Agent": "mlops-console"})
            return self._client

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    def get_json(self, url: str, timeout: float | None = None,
                 headers: Sequence[tuple[str, str]] = ()) -> Any:
        """GET ``url`` and decode its JSON; BackendError subclasses on failure."""
        import httpx

        try:
            resp = self.client().get(url, timeout=timeout or self.timeout, headers=dict(headers))
        except httpx.TimeoutException:
            raise BackendTimeout("no answer in time", endpoint=url) from None
        except httpx.HTTPError as exc:
            raise Unreachable("cannot reach the model server", endpoint=url, detail=str(exc)) from None
        if resp.status_code == 404:
            raise NotFound("not found", endpoint=url, status=404, detail=resp.text[:500])
        if resp.status_code >= 400:
            raise ServerError("the model server refused", endpoint=url, status=resp.status_code,
                              detail=resp.text[:500])
        try:
            return resp.json()
        except ValueError:
            raise ServerError("the model server did not answer JSON", endpoint=url, status=resp.status_code,
                              detail=resp.text[:500]) from None

    def send(self, url: str, body: str, protocol: str = "", headers: Sequence[tuple[str, str]] = JSON_HEADERS,
             method: str = "POST") -> tuple[PredictionRequest, PredictionResponse]:
        """POST (or PUT) ``body`` to ``url``, as it is. Invalid JSON raises :class:`InvalidPayload` and nothing
        is sent.

        Any HTTP answer (2xx, 400 MICROSERVICE_BAD_DATA, 500 with a traceback, 404) comes back as a
        :class:`PredictionResponse`; no answer at all raises :class:`Unreachable` or
        :class:`BackendTimeout`. The request and response returned keep the first ``KEPT_BODY_CHARS``
        characters of each body (``body_cut`` says how many more there were).
        """
        parse_payload(body)
        if not url:
            raise NotFound("this deployment has no address to send to",
                           hint="set ingress_url in the context, or wait until status.address.url is set")
        import httpx

        request = request_record(url, body, protocol, headers, method)
        client = self.client()
        content = body.encode("utf-8")
        start = time.perf_counter()
        for attempt in (1, 2):
            trace = _Trace()
            try:
                resp = client.request(method, url, content=content, headers=dict(headers),
                                      extensions={"trace": trace})
                break
            except httpx.TimeoutException as exc:
                raise self._timed_out(url, str(exc) or type(exc).__name__) from None
            except httpx.InvalidURL as exc:  # e.g. a port that is not a number
                raise Unreachable("cannot send to this address: it is not a valid URL", endpoint=redact(url),
                                  detail=redact(str(exc)),
                                  hint="check the URL the endpoint is configured with") from None
            except httpx.HTTPError as exc:
                # a kept-alive connection the server closed as the request left (its idle timer fired):
                # sent once more on a new connection, as browsers do; not when the connection was new,
                # since the request may have reached the model
                if attempt == 1 and trace.reused and not trace.answered and isinstance(
                        exc, (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError)):
                    continue
                raise self._unreachable(url, _plain_words(str(exc) or type(exc).__name__), exc,
                                        self.in_cluster_hint) from None
        latency = time.perf_counter() - start
        return request, _response(resp.status_code, latency, resp.text, tuple(resp.headers.items()))

    def _timed_out(self, url: str, detail: str) -> BackendTimeout:
        return BackendTimeout(f"no answer within {self.timeout:g} s", endpoint=redact(url), detail=redact(detail),
                              hint="the model may be overloaded; raise `timeout` in the context")

    @staticmethod
    def _unreachable(url: str, detail: str, error: BaseException | None = None,
                     in_cluster_hint: str = IN_CLUSTER_HINT) -> Unreachable:
        host = urlsplit(url).hostname or ""
        url, detail = redact(url), redact(detail)  # a password in the URL, or in a proxy's address
        if _name_not_resolved(error) and _in_cluster_name(host):
            # a Service's DNS name, which only resolves inside the cluster (status.address.url gives these)
            return Unreachable(f"cannot reach the model server: {host} is an address inside the cluster",
                               endpoint=url, detail=detail, hint=in_cluster_hint)
        if _name_not_resolved(error):
            return Unreachable(f"cannot reach the model server: no address for {host}", endpoint=url,
                               detail=detail, hint="is the host name right?")
        return Unreachable("cannot reach the model server", endpoint=url, detail=detail,
                           hint="is it running and is the URL right?")


class _Trace:
    """httpx's ``trace`` request extension: whether the request went on a connection opened before it, and
    whether the answer's status line and headers came."""

    __slots__ = ("reused", "answered")

    def __init__(self) -> None:
        self.reused, self.answered = True, False

    def __call__(self, event: str, info: Mapping[str, Any]) -> None:
        if event == "connection.connect_tcp.started":
            self.reused = False
        elif event == "http11.receive_response_headers.complete":
            self.answered = True


# httpx's (h11's) words for an answer that is not one, in the words the rest of the pane uses
_PLAIN_WORDS = (
    (re.compile(r"^Server disconnected without sending a response\.?$"),
     "the server closed the connection without answering"),
    (re.compile(r"^peer closed connection without sending complete message body:? \(?(.*?)\)?$"),
     r"the server closed the connection in the middle of its answer (\1)"),
    (re.compile(r"^illegal status line: bytearray\((.*)\)$", re.DOTALL),
     r"the server did not answer in HTTP/1.1: \1"),
)


def _plain_words(detail: str) -> str:
    for pattern, words in _PLAIN_WORDS:
        if pattern.match(detail):
            return pattern.sub(words, detail)
    return detail


_IN_CLUSTER = re.compile(r"\.(svc|pod)(\.cluster\.local)?\.?$|\.cluster\.local\.?$", re.IGNORECASE)


def _in_cluster_name(host: str) -> bool:
    return bool(_IN_CLUSTER.search(host))


def _name_not_resolved(error: BaseException | None) -> bool:
    """Whether ``error`` (or what caused it) is a failed DNS look-up."""
    import socket

    seen = 0
    while error is not None and seen < 8:
        if isinstance(error, socket.gaierror):
            return True
        error, seen = error.__cause__ or error.__context__, seen + 1
    return False


def build_template(sender: RequestSender, deployment: Deployment, base: str, *, model_uri: str = "",
                   tracking_uri: str = "", metadata_timeout: float = 3.0,
                   headers: Sequence[tuple[str, str]] = JSON_HEADERS) -> RequestTemplate:
    """The request template for ``deployment`` reached at ``base``, shaped by its signature if known; ``headers``
    go with the metadata request and the template (an InferenceService's Host through the ingress)."""
    protocol = deployment.protocol
    model = deployment.model_name
    url = prediction_url(protocol, base, model) if base else ""
    source = "default"
    if protocol == "v2" and base:
        try:
            meta = sender.get_json(f"{base.rstrip('/')}/v2/models/{model}", timeout=metadata_timeout,
                                   headers=[h for h in headers if h[0] != "Content-Type"])
            inputs = meta.get("inputs") or () if isinstance(meta, dict) else ()
        except Exception:  # noqa: BLE001 - the template still works without metadata
            inputs = ()
        if inputs:
            return RequestTemplate(protocol, url, template_body("v2", model, v2_inputs=inputs),
                                   headers=tuple(headers), source="v2 metadata",
                                   features=tuple(str(i.get("name", "")) for i in inputs))
    features: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    n_features: int | None = None
    message = "ndarray"
    if protocol == "seldon" and base:
        features, n_features, message = _seldon_metadata(sender, base, metadata_timeout)
        if features or n_features:
            source = "Seldon metadata"
    if model_uri and not features:
        try:
            features, types = mlflow_signature(model_uri, tracking_uri)
        except Exception:  # noqa: BLE001
            features, types = (), ()
        if features:
            source = "MLflow signature"
    return RequestTemplate(protocol, url, template_body(protocol, model, features=features, types=types,
                                                        n_features=n_features, seldon_message=message),
                           headers=tuple(headers), source=source, features=features)


def _seldon_metadata(sender: RequestSender, base: str,
                     timeout: float) -> tuple[tuple[str, ...], int | None, str]:
    """Feature names, count and message type (ndarray / tensor) from a Seldon v1
    ``/api/v1.0/metadata`` answer, as far as it has them."""
    try:
        meta = sender.get_json(f"{base.rstrip('/')}/api/v1.0/metadata", timeout=timeout)
    except Exception:  # noqa: BLE001 - the template still works without metadata
        return (), None, "ndarray"
    inputs = meta.get("inputs") if isinstance(meta, dict) else None
    if not inputs or not isinstance(inputs, list) or not isinstance(inputs[0], dict):
        return (), None, "ndarray"
    message = "tensor" if inputs[0].get("messagetype") == "tensor" else "ndarray"
    schema = inputs[0].get("schema") or {}
    names = tuple(str(n) for n in schema.get("names") or ())
    shape = schema.get("shape") or ()
    n = shape[-1] if shape and isinstance(shape[-1], int) and shape[-1] > 0 else None
    return names, (len(names) or n), message
