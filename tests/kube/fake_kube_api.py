"""A FAKE of the Kubernetes API server, for tests only (no real kube-apiserver can run here).

The official ``kubernetes`` client reaches it through a real kubeconfig file (``write_kubeconfig``).
It keeps what the console depends on: SeldonDeployments and (when ``kserve`` is set) KServe InferenceServices
(CRUD, /status), pods (+ /log), events,
namespaces, /api and /apis discovery, label and field selectors, one global resourceVersion, uid,
creationTimestamp, ``kind: Status`` bodies for 201/404/403/409, watches that stream JSON lines,
honour ``resourceVersion`` and ``timeoutSeconds`` and answer 410 Gone for compacted versions.

``SimulatedSeldonController`` plays the Seldon operator: for each SeldonDeployment it makes a pod
and events, starts a REAL MLServer (or, with ``start_servers=False``, just pretends) and moves the
status Creating -> Available with ``status.address.url``.

``SimulatedKServeController`` plays KServe: for each InferenceService it sets the real status shape (conditions
PredictorReady / IngressReady / RoutesReady / LatestDeploymentReady / Ready, components.predictor with its
revisions and traffic, modelStatus), makes a pod and events, and loads the model into ONE shared real MLServer
(started at the first InferenceService) under the InferenceService's name. Its ``gateway_url`` plays the
ingress gateway: a request is routed by its ``Host`` header (the host of status.url) to that MLServer.

``SimulatedSeldonCore2Controller`` plays Seldon Core 2's operator and scheduler (when ``seldon2`` is set, the
API serves mlops.seldon.io/v1alpha1 Models, Pipelines, Experiments and Servers): it loads each Model into the
KServe controller's shared MLServer as ``NAME_GENERATION`` (as Seldon's agent names model versions), sets the
conditions Seldon Core 2 sets (ModelReady, PipelineReady / PipelineGwReady / ModelsReady, ExperimentReady /
CandidatesReady / MirrorReady, a Server's StatefulSetOrDeploymentReady), and routes the gateway's requests that
carry a ``Seldon-Model`` header (``NAME``, ``NAME.pipeline``, ``NAME.experiment``) as seldon-mesh does.
"""

from __future__ import annotations

import bisect
import copy
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

GROUP = "machinelearning.seldon.io"
VERSION = "v1"
KSERVE_GROUP = "serving.kserve.io"
KSERVE_VERSION = "v1beta1"
MLOPS_GROUP = "mlops.seldon.io"
MLOPS_VERSION = "v1alpha1"
SC2_RESOURCES = ("models", "pipelines", "experiments", "servers")

# annotations a test can put on a SeldonDeployment to steer the simulated controller
NO_SERVER = "fake-controller/no-server"  # "true": go Available at once, start no model server
HOLD = "fake-controller/hold"  # "true": stay Creating

RESOURCES = {
    # name: (group, version, kind, namespaced)
    "seldondeployments": (GROUP, VERSION, "SeldonDeployment", True),
    "inferenceservices": (KSERVE_GROUP, KSERVE_VERSION, "InferenceService", True),
    "models": (MLOPS_GROUP, MLOPS_VERSION, "Model", True),
    "pipelines": (MLOPS_GROUP, MLOPS_VERSION, "Pipeline", True),
    "experiments": (MLOPS_GROUP, MLOPS_VERSION, "Experiment", True),
    "servers": (MLOPS_GROUP, MLOPS_VERSION, "Server", True),
    "pods": ("", "v1", "Pod", True),
    "events": ("", "v1", "Event", True),
    "namespaces": ("", "v1", "Namespace", False),
}

_CORE = re.compile(r"^/api/v1/(?:namespaces/(?P<ns>[^/]+)/)?(?P<res>pods|events)"
                   r"(?:/(?P<name>[^/]+)(?:/(?P<sub>log|status))?)?$")
_SELDON = re.compile(r"^/apis/machinelearning\.seldon\.io/(?P<ver>v1|v1alpha2|v1alpha3)/(?:namespaces/(?P<ns>[^/]+)/)?"
                     r"(?P<res>seldondeployments)(?:/(?P<name>[^/]+)(?:/(?P<sub>status))?)?$")
_KSERVE = re.compile(r"^/apis/serving\.kserve\.io/v1beta1/(?:namespaces/(?P<ns>[^/]+)/)?"
                     r"(?P<res>inferenceservices)(?:/(?P<name>[^/]+)(?:/(?P<sub>status))?)?$")
_MLOPS = re.compile(r"^/apis/mlops\.seldon\.io/v1alpha1/(?:namespaces/(?P<ns>[^/]+)/)?"
                    r"(?P<res>models|pipelines|experiments|servers)(?:/(?P<name>[^/]+)(?:/(?P<sub>status))?)?$")
_NAMESPACES = re.compile(r"^/api/v1/namespaces(?:/(?P<name>[^/]+))?$")


def now_rfc3339() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def status_body(code: int, reason: str, message: str, name: str = "", kind: str = "", group: str = "") -> dict:
    body: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                            "message": message, "reason": reason, "code": code}
    if name or kind:
        body["details"] = {"name": name, "group": group, "kind": kind}
    return body


# ---------------------------------------------------------------------------------------------
# selectors

def _parse_label_selector(sel: str) -> list[tuple[str, str, Any]]:
    reqs = []
    for part in re.findall(r"[^,(]+(?:\([^)]*\))?", sel or ""):
        part = part.strip().strip(",").strip()
        if not part:
            continue
        m = re.match(r"^(\S+)\s+(in|notin)\s+\(([^)]*)\)$", part)
        if m:
            reqs.append((m.group(1), m.group(2), {v.strip() for v in m.group(3).split(",") if v.strip()}))
        elif "!=" in part:
            k, v = part.split("!=", 1)
            reqs.append((k.strip(), "!=", v.strip()))
        elif "==" in part:
            k, v = part.split("==", 1)
            reqs.append((k.strip(), "=", v.strip()))
        elif "=" in part:
            k, v = part.split("=", 1)
            reqs.append((k.strip(), "=", v.strip()))
        elif part.startswith("!"):
            reqs.append((part[1:].strip(), "!exists", None))
        else:
            reqs.append((part, "exists", None))
    return reqs


def label_matches(obj: dict, reqs: list) -> bool:
    labels = (obj.get("metadata") or {}).get("labels") or {}
    for key, op, val in reqs:
        has = key in labels
        cur = labels.get(key)
        if op == "=" and cur != val:
            return False
        if op == "!=" and cur == val:
            return False
        if op == "in" and cur not in val:
            return False
        if op == "notin" and has and cur in val:
            return False
        if op == "exists" and not has:
            return False
        if op == "!exists" and has:
            return False
    return True


def _parse_field_selector(sel: str) -> list[tuple[str, str, str]]:
    reqs = []
    for part in (sel or "").split(","):
        part = part.strip()
        if not part:
            continue
        if "!=" in part:
            k, v = part.split("!=", 1)
            reqs.append((k.strip(), "!=", v.strip()))
        else:
            k, v = part.replace("==", "=").split("=", 1)
            reqs.append((k.strip(), "=", v.strip()))
    return reqs


def _field(obj: dict, path: str) -> str:
    cur: Any = obj
    for part in path.split("."):
        if not isinstance(cur, dict):
            return ""
        cur = cur.get(part)
    return "" if cur is None else str(cur)


def field_matches(obj: dict, reqs: list) -> bool:
    for path, op, val in reqs:
        cur = _field(obj, path)
        if op == "=" and cur != val:
            return False
        if op == "!=" and cur == val:
            return False
    return True


def merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            result.pop(k, None)
        else:
            result[k] = merge_patch(result.get(k), v)
    return result


def json_patch(target: dict, ops: list) -> dict:
    doc = copy.deepcopy(target)
    for op in ops:
        parts = [p.replace("~1", "/").replace("~0", "~") for p in op["path"].lstrip("/").split("/")]
        parent: Any = doc
        for p in parts[:-1]:
            parent = parent[int(p)] if isinstance(parent, list) else parent.setdefault(p, {})
        last = parts[-1]
        if op["op"] in ("add", "replace"):
            if isinstance(parent, list):
                if last == "-":
                    parent.append(op["value"])
                elif op["op"] == "add":
                    parent.insert(int(last), op["value"])
                else:
                    parent[int(last)] = op["value"]
            else:
                parent[last] = op["value"]
        elif op["op"] == "remove":
            if isinstance(parent, list):
                parent.pop(int(last))
            else:
                parent.pop(last, None)
    return doc


# ---------------------------------------------------------------------------------------------
# the store

class Store:
    """Objects, one global resourceVersion, and a history of changes that watches replay."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.rv = 100
        self.objects: dict[tuple[str, str, str], dict] = {}
        self.history: list[tuple[int, str, str, dict]] = []  # (rv, type, resource, object)
        self.history_rvs: list[int] = []
        self.compacted_rv = 0
        self.generation = 0  # bumped by break_watches(): open watches end
        self.namespaces: set[str] = {"default"}
        self.listeners: list = []

    def _record(self, etype: str, resource: str, obj: dict) -> None:
        self.history.append((self.rv, etype, resource, copy.deepcopy(obj)))
        self.history_rvs.append(self.rv)
        if len(self.history) > 20000:
            cut = len(self.history) - 10000
            self.compacted_rv = self.history_rvs[cut - 1]
            del self.history[:cut]
            del self.history_rvs[:cut]
        self.cond.notify_all()
        for listener in list(self.listeners):
            listener(etype, resource, obj)

    def create(self, resource: str, ns: str, obj: dict) -> dict:
        with self.cond:
            meta = obj.setdefault("metadata", {})
            if not meta.get("name") and meta.get("generateName"):
                meta["name"] = meta["generateName"] + uuid.uuid4().hex[:5]
            key = (resource, ns, meta["name"])
            if key in self.objects:
                raise KeyError(key)
            self.rv += 1
            group, version, kind, namespaced = RESOURCES[resource]
            obj["apiVersion"] = f"{group}/{version}" if group else version
            obj["kind"] = kind
            if namespaced:
                meta["namespace"] = ns
                self.namespaces.add(ns)
            meta["uid"] = str(uuid.uuid4())
            meta["creationTimestamp"] = meta.get("creationTimestamp") or now_rfc3339()
            meta["resourceVersion"] = str(self.rv)
            meta["generation"] = 1
            self.objects[key] = obj
            self._record("ADDED", resource, obj)
            return copy.deepcopy(obj)

    def get(self, resource: str, ns: str, name: str) -> dict | None:
        with self.cond:
            obj = self.objects.get((resource, ns, name))
            return copy.deepcopy(obj) if obj is not None else None

    def replace(self, resource: str, ns: str, name: str, obj: dict, subresource: str = "") -> dict:
        """Replace (PUT). A stale metadata.resourceVersion raises ValueError (409 Conflict)."""
        with self.cond:
            key = (resource, ns, name)
            old = self.objects.get(key)
            if old is None:
                raise LookupError(key)
            sent_rv = (obj.get("metadata") or {}).get("resourceVersion")
            if sent_rv and sent_rv != old["metadata"]["resourceVersion"]:
                raise ValueError(sent_rv)
            new = copy.deepcopy(old)
            if subresource == "status":
                new["status"] = copy.deepcopy(obj.get("status"))
            else:
                for k, v in obj.items():
                    if k not in ("metadata", "status", "apiVersion", "kind"):
                        new[k] = copy.deepcopy(v)
                for k in ("labels", "annotations"):
                    if k in (obj.get("metadata") or {}):
                        new["metadata"][k] = copy.deepcopy(obj["metadata"][k])
                if new.get("spec") != old.get("spec"):
                    new["metadata"]["generation"] = old["metadata"].get("generation", 1) + 1
            self.rv += 1
            new["metadata"]["resourceVersion"] = str(self.rv)
            self.objects[key] = new
            self._record("MODIFIED", resource, new)
            return copy.deepcopy(new)

    def patch(self, resource: str, ns: str, name: str, patch: Any, kind: str, subresource: str = "") -> dict:
        with self.cond:
            old = self.objects.get((resource, ns, name))
            if old is None:
                raise LookupError((resource, ns, name))
            merged = json_patch(old, patch) if kind == "json" else merge_patch(old, patch)
            merged.setdefault("metadata", {})["resourceVersion"] = old["metadata"]["resourceVersion"]
            if isinstance(patch, dict) and "metadata" in patch and "resourceVersion" in (patch["metadata"] or {}):
                merged["metadata"]["resourceVersion"] = patch["metadata"]["resourceVersion"]
            return self.replace(resource, ns, name, merged, subresource)

    def delete(self, resource: str, ns: str, name: str) -> dict:
        with self.cond:
            obj = self.objects.pop((resource, ns, name), None)
            if obj is None:
                raise LookupError((resource, ns, name))
            self.rv += 1
            obj = copy.deepcopy(obj)
            obj["metadata"]["resourceVersion"] = str(self.rv)
            self._record("DELETED", resource, obj)
            return obj

    def list(self, resource: str, ns: str | None) -> tuple[list[dict], int]:
        with self.cond:
            items = [copy.deepcopy(o) for (r, n, _), o in self.objects.items()
                     if r == resource and (ns is None or n == ns)]
            items.sort(key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"]))
            return items, self.rv

    def compact(self) -> int:
        """Forget all history: every resourceVersion before now is expired (410 Gone)."""
        with self.cond:
            self.compacted_rv = self.rv
            self.history.clear()
            self.history_rvs.clear()
            return self.rv

    def break_watches(self) -> None:
        """End every open watch stream (as an apiserver restart or a dropped connection would)."""
        with self.cond:
            self.generation += 1
            self.cond.notify_all()


# ---------------------------------------------------------------------------------------------
# the HTTP server

def _bearer_is(header: str | None, token: str) -> bool:
    """``Authorization: Bearer TOKEN``; the scheme is case-insensitive (RFC 7235), as in the real
    API server: the client's in-cluster loader sends "bearer"."""
    scheme, _, value = (header or "").partition(" ")
    return scheme.lower() == "bearer" and value.strip() == token


class FakeKubeAPI:
    """The fake API server. ``start()`` binds 127.0.0.1:port; ``url`` is what kubeconfig points at."""

    def __init__(self, port: int = 0, token: str = "fake-token",
                 tls: tuple[str | os.PathLike, str | os.PathLike] | None = None) -> None:
        """``tls``: (certificate, key) PEM files to serve HTTPS, as a real API server does."""
        self.store = Store()
        self.token = token
        self.denied: set[tuple[str, str, str | None]] = set()  # (verb, resource, namespace or None=all)
        self.pod_logs: dict[tuple[str, str], Any] = {}  # (ns, pod) -> str or callable() -> str
        self.requests: list[tuple[str, str]] = []  # (method, path?query) seen, for tests
        self.fail_next: list[int] = []  # answer the next requests with these HTTP codes (500, 503 ...)
        self.watch_gate = threading.Event()  # cleared: new watch requests wait (a slow reconnect)
        self.watch_gate.set()
        self.user = "system:serviceaccount:mlops:console"
        self.kserve = False  # True: the cluster serves KServe's InferenceService CRD (discovery, list, watch ...)
        self.seldon2 = False  # True: the cluster serves Seldon Core 2's CRDs (mlops.seldon.io/v1alpha1)
        handler = self._make_handler()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        scheme = "http"
        if tls is not None:
            import ssl

            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(str(tls[0]), str(tls[1]))
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
            scheme = "https"
        self.url = f"{scheme}://127.0.0.1:{self.port}"
        self._thread: threading.Thread | None = None
        self._closing = False

    # ---- control -------------------------------------------------------------------------
    def start(self) -> FakeKubeAPI:
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="fake-kube-api", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._closing = True
        self.store.break_watches()
        self.httpd.shutdown()
        self.httpd.server_close()

    def deny(self, verb: str, resource: str, namespace: str | None = None) -> None:
        self.denied.add((verb, resource, namespace))

    def allow_all(self) -> None:
        self.denied.clear()

    def write_kubeconfig(self, path: str | os.PathLike, context: str = "fake", namespace: str = "default") -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        import yaml

        cfg = {
            "apiVersion": "v1", "kind": "Config", "current-context": context,
            "clusters": [{"name": f"{context}-cluster", "cluster": {"server": self.url}}],
            "users": [{"name": f"{context}-user", "user": {"token": self.token}}],
            "contexts": [{"name": context, "context": {"cluster": f"{context}-cluster", "user": f"{context}-user",
                                                        "namespace": namespace}}],
        }
        path.write_text(yaml.safe_dump(cfg))
        return path

    # convenience for tests (bypass HTTP, still recorded for watches)
    def add_namespace(self, ns: str) -> None:
        with self.store.cond:
            self.store.namespaces.add(ns)

    def _forbidden(self, verb: str, resource: str, ns: str | None) -> bool:
        for dverb, dres, dns in self.denied:
            if dverb in (verb, "*") and dres in (resource, "*") and (dns is None or dns == ns):
                return True
        return False

    # ---- handler -------------------------------------------------------------------------
    def _make_handler(self):
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                import socket

                # as the real API server (Go) does: small watch events go out at once, not after an ACK
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _send_json(self, code: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _send_text(self, code: int, text: str) -> None:
                data = text.encode()
                self.send_response(code)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _body(self) -> Any:
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n) if n else b""
                return json.loads(raw) if raw else {}

            def do_GET(self) -> None:
                self._dispatch("GET")

            def do_POST(self) -> None:
                self._dispatch("POST")

            def do_PUT(self) -> None:
                self._dispatch("PUT")

            def do_PATCH(self) -> None:
                self._dispatch("PATCH")

            def do_DELETE(self) -> None:
                self._dispatch("DELETE")

            def _dispatch(self, method: str) -> None:
                parts = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                api.requests.append((method, self.path))
                try:
                    if api.token and not _bearer_is(self.headers.get("Authorization"), api.token):
                        self._send_json(401, status_body(401, "Unauthorized", "Unauthorized"))
                        return
                    if api.fail_next:
                        code = api.fail_next.pop(0)
                        if method == "POST" or method in ("PUT", "PATCH", "DELETE"):
                            self._body()
                        self._send_json(code, status_body(code, "InternalError",
                                                          f"Internal error occurred: injected failure {code}"))
                        return
                    self._route(method, parts.path, query)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _route(self, method: str, path: str, query: dict) -> None:
                if method == "GET" and path in ("/api", "/api/"):
                    self._send_json(200, {"kind": "APIVersions", "versions": ["v1"],
                                          "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0",
                                                                          "serverAddress": f"127.0.0.1:{api.port}"}]})
                    return
                if method == "GET" and path in ("/apis", "/apis/"):
                    gv = {"groupVersion": f"{GROUP}/{VERSION}", "version": VERSION}
                    groups = [{"name": GROUP, "versions": [gv], "preferredVersion": gv}]
                    if api.kserve:
                        kv = {"groupVersion": f"{KSERVE_GROUP}/{KSERVE_VERSION}", "version": KSERVE_VERSION}
                        groups.append({"name": KSERVE_GROUP, "versions": [kv], "preferredVersion": kv})
                    if api.seldon2:
                        mv = {"groupVersion": f"{MLOPS_GROUP}/{MLOPS_VERSION}", "version": MLOPS_VERSION}
                        groups.append({"name": MLOPS_GROUP, "versions": [mv], "preferredVersion": mv})
                    self._send_json(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
                    return
                if method == "GET" and path == f"/apis/{KSERVE_GROUP}/{KSERVE_VERSION}" and api.kserve:
                    self._send_json(200, {"kind": "APIResourceList", "apiVersion": "v1",
                                          "groupVersion": f"{KSERVE_GROUP}/{KSERVE_VERSION}", "resources": [
                                              _res("inferenceservices", "InferenceService", True, short=["isvc"]),
                                              _res("inferenceservices/status", "InferenceService", True,
                                                   ["get", "patch", "update"])]})
                    return
                if method == "GET" and path == f"/apis/{MLOPS_GROUP}/{MLOPS_VERSION}" and api.seldon2:
                    self._send_json(200, {"kind": "APIResourceList", "apiVersion": "v1",
                                          "groupVersion": f"{MLOPS_GROUP}/{MLOPS_VERSION}", "resources": [
                                              r for res in SC2_RESOURCES for r in (
                                                  _res(res, RESOURCES[res][2], True),
                                                  _res(f"{res}/status", RESOURCES[res][2], True,
                                                       ["get", "patch", "update"]))]})
                    return
                if method == "GET" and path == f"/apis/{GROUP}":
                    gv = {"groupVersion": f"{GROUP}/{VERSION}", "version": VERSION}
                    self._send_json(200, {"kind": "APIGroup", "apiVersion": "v1", "name": GROUP, "versions": [gv],
                                          "preferredVersion": gv})
                    return
                if method == "GET" and path == "/api/v1":
                    self._send_json(200, {"kind": "APIResourceList", "groupVersion": "v1", "resources": [
                        _res("pods", "Pod", True), _res("pods/log", "Pod", True, ["get"]),
                        _res("events", "Event", True), _res("namespaces", "Namespace", False)]})
                    return
                if method == "GET" and path == f"/apis/{GROUP}/{VERSION}":
                    self._send_json(200, {"kind": "APIResourceList", "apiVersion": "v1",
                                          "groupVersion": f"{GROUP}/{VERSION}", "resources": [
                                              _res("seldondeployments", "SeldonDeployment", True, short=["sdep"]),
                                              _res("seldondeployments/status", "SeldonDeployment", True,
                                                   ["get", "patch", "update"])]})
                    return
                if method == "GET" and path == "/version":
                    self._send_json(200, {"major": "1", "minor": "29", "gitVersion": "v1.29.0-fake"})
                    return
                m = _NAMESPACES.match(path)
                if m:
                    self._namespaces(method, m.group("name"), query)
                    return
                m = (_CORE.match(path) or _SELDON.match(path) or (_KSERVE.match(path) if api.kserve else None)
                     or (_MLOPS.match(path) if api.seldon2 else None))
                if not m:
                    self._send_json(404, status_body(404, "NotFound",
                                                     "the server could not find the requested resource"))
                    return
                self._resource(method, m.group("res"), m.group("ns"), m.group("name"), m.group("sub"), query)

            def _namespaces(self, method: str, name: str | None, query: dict) -> None:
                verb = "get" if name else "list"
                if api._forbidden(verb, "namespaces", None):
                    self._send_json(403, status_body(403, "Forbidden", (
                        f'namespaces is forbidden: User "{api.user}" cannot {verb} resource "namespaces" '
                        'in API group "" at the cluster scope'), kind="namespaces"))
                    return
                with api.store.cond:
                    names = sorted(api.store.namespaces | {n for (_, n, _) in api.store.objects if n})
                    rv = api.store.rv
                items = [{"metadata": {"name": n, "uid": n, "resourceVersion": str(rv),
                                       "creationTimestamp": "2026-01-01T00:00:00Z"},
                          "status": {"phase": "Active"}} for n in names]
                if name:
                    found = [i for i in items if i["metadata"]["name"] == name]
                    if not found:
                        self._send_json(404, status_body(404, "NotFound", f'namespaces "{name}" not found', name,
                                                         "namespaces"))
                    else:
                        self._send_json(200, {"kind": "Namespace", "apiVersion": "v1", **found[0]})
                    return
                self._send_json(200, {"kind": "NamespaceList", "apiVersion": "v1",
                                      "metadata": {"resourceVersion": str(rv)}, "items": items})

            def _resource(self, method: str, res: str, ns: str | None, name: str | None, sub: str | None,
                          query: dict) -> None:
                group, version, kind, _ = RESOURCES[res]
                watch = query.get("watch") in ("true", "1", "True")
                if method == "GET":
                    verb = "get" if name else ("watch" if watch else "list")
                else:
                    verb = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}[method]
                if name is None and method in ("PUT", "PATCH"):
                    self._send_json(405, status_body(405, "MethodNotAllowed", "the server does not allow this method"))
                    return
                full_res = f"{res}.{group}" if group else res
                check_res = f"{res}/{sub}" if sub else res
                if api._forbidden(verb, check_res, ns) or (sub and api._forbidden(verb, res, ns)):
                    if method in ("POST", "PUT", "PATCH"):
                        self._body()
                    where = f'in the namespace "{ns}"' if ns else "at the cluster scope"
                    what = f'"{name}" ' if name else ""
                    subtxt = f'/{sub}' if sub else ""
                    msg = (f'{full_res} {what}is forbidden: User "{api.user}" cannot {verb} resource '
                           f'"{res}{subtxt}" in API group "{group}" {where}')
                    self._send_json(403, status_body(403, "Forbidden", msg, name or "", res, group))
                    return
                store = api.store
                if method == "GET" and name is None:
                    if watch:
                        self._watch(res, ns, query)
                    else:
                        self._list(res, ns, query, kind, group, version)
                    return
                if method == "POST":
                    if name is not None or ns is None:
                        self._body()
                        self._send_json(405, status_body(405, "MethodNotAllowed",
                                                         "the server does not allow this method"))
                        return
                    body = self._body()
                    body_ns = (body.get("metadata") or {}).get("namespace")
                    if body_ns and body_ns != ns:
                        self._send_json(400, status_body(400, "BadRequest",
                                                         "the namespace of the provided object does not match "
                                                         "the namespace sent on the request"))
                        return
                    meta = body.get("metadata") or {}
                    if not meta.get("name") and not meta.get("generateName"):
                        self._send_json(422, status_body(422, "Invalid",
                                                         f"{kind} \"\" is invalid: metadata.name: Required value"))
                        return
                    try:
                        created = store.create(res, ns, body)
                    except KeyError:
                        n = body["metadata"]["name"]
                        self._send_json(409, status_body(409, "AlreadyExists",
                                                         f'{full_res} "{n}" already exists', n, res, group))
                        return
                    self._send_json(201, created)
                    return
                assert name is not None
                if sub == "log":
                    self._log(ns or "", name, query)
                    return
                try:
                    if method == "GET":
                        obj = store.get(res, ns or "", name)
                        if obj is None:
                            raise LookupError(name)
                        self._send_json(200, obj)
                    elif method == "PUT":
                        self._send_json(200, store.replace(res, ns or "", name, self._body(), sub or ""))
                    elif method == "PATCH":
                        ctype = self.headers.get("Content-Type", "")
                        kindp = "json" if "json-patch" in ctype else "merge"
                        self._send_json(200, store.patch(res, ns or "", name, self._body(), kindp, sub or ""))
                    elif method == "DELETE":
                        self._body()
                        self._send_json(200, store.delete(res, ns or "", name))
                except LookupError:
                    self._send_json(404, status_body(404, "NotFound", f'{full_res} "{name}" not found',
                                                     name, res, group))
                except ValueError:
                    self._send_json(409, status_body(409, "Conflict", (
                        f'Operation cannot be fulfilled on {full_res} "{name}": the object has been modified; '
                        'please apply your changes to the latest version and try again'), name, res, group))

            def _list(self, res: str, ns: str | None, query: dict, kind: str, group: str, version: str) -> None:
                rv_q = query.get("resourceVersion", "")
                if (rv_q and rv_q != "0" and query.get("resourceVersionMatch") == "Exact"
                        and int(rv_q) < api.store.compacted_rv):
                    self._send_json(410, status_body(410, "Expired",
                                                     f"too old resource version: {rv_q} ({api.store.rv})"))
                    return
                items, rv = api.store.list(res, ns)
                lsel = _parse_label_selector(query.get("labelSelector", ""))
                fsel = _parse_field_selector(query.get("fieldSelector", ""))
                items = [o for o in items if label_matches(o, lsel) and field_matches(o, fsel)]
                limit = int(query.get("limit") or 0)
                meta: dict[str, Any] = {"resourceVersion": str(rv)}
                start = int(query.get("continue") or 0)
                if limit:
                    page = items[start:start + limit]
                    if start + limit < len(items):
                        meta["continue"] = str(start + limit)
                        meta["remainingItemCount"] = len(items) - start - limit
                    items = page
                self._send_json(200, {"kind": f"{kind}List", "apiVersion": f"{group}/{version}" if group else version,
                                      "metadata": meta, "items": items})

            def _log(self, ns: str, pod: str, query: dict) -> None:
                if api.store.get("pods", ns, pod) is None:
                    self._send_json(404, status_body(404, "NotFound", f'pods "{pod}" not found', pod, "pods"))
                    return
                src = api.pod_logs.get((ns, pod), "")
                text = src() if callable(src) else str(src)
                tail = query.get("tailLines")
                if tail:
                    lines = text.splitlines()
                    text = "\n".join(lines[-int(tail):]) + ("\n" if lines else "")
                self._send_text(200, text)

            def _write_chunk(self, data: bytes) -> None:
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()

            def _watch(self, res: str, ns: str | None, query: dict) -> None:
                api.watch_gate.wait(30)
                store = api.store
                lsel = _parse_label_selector(query.get("labelSelector", ""))
                fsel = _parse_field_selector(query.get("fieldSelector", ""))
                timeout = float(query.get("timeoutSeconds") or 1800)
                deadline = time.monotonic() + timeout
                rv_q = query.get("resourceVersion", "")
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()

                def emit(etype: str, obj: dict) -> None:
                    self._write_chunk((json.dumps({"type": etype, "object": obj}) + "\n").encode())

                def visible(r: str, obj: dict) -> bool:
                    return (r == res and (ns is None or obj["metadata"].get("namespace") == ns)
                            and label_matches(obj, lsel) and field_matches(obj, fsel))

                with store.cond:
                    generation = store.generation
                    if rv_q in ("", "0"):
                        items, last = store.list(res, ns)
                        initial = [o for o in items if label_matches(o, lsel) and field_matches(o, fsel)]
                    else:
                        last = int(rv_q)
                        initial = []
                        if last < store.compacted_rv:
                            initial = None
                if initial is None:
                    emit("ERROR", status_body(410, "Expired",
                                              f"too old resource version: {rv_q} ({store.compacted_rv})"))
                    self._write_chunk(b"")
                    return
                for obj in initial:
                    emit("ADDED", obj)
                while True:
                    with store.cond:
                        while True:
                            if api._closing or store.generation != generation:
                                pending = None
                                break
                            if last < store.compacted_rv:
                                pending = "expired"
                                break
                            i = bisect.bisect_right(store.history_rvs, last)
                            if i < len(store.history):
                                pending = store.history[i:]
                                break
                            remaining = deadline - time.monotonic()
                            if remaining <= 0:
                                pending = None
                                break
                            store.cond.wait(min(remaining, 0.5))
                    if pending is None:
                        break
                    if pending == "expired":
                        emit("ERROR", status_body(410, "Expired",
                                                  f"too old resource version: {last} ({store.compacted_rv})"))
                        break
                    for rv, etype, r, obj in pending:
                        last = rv
                        if visible(r, obj):
                            emit(etype, obj)
                try:
                    self._write_chunk(b"")
                except OSError:
                    pass

        return Handler


def _res(name: str, kind: str, namespaced: bool, verbs: list[str] | None = None,
         short: list[str] | None = None) -> dict:
    d = {"name": name, "singularName": "", "namespaced": namespaced, "kind": kind,
         "verbs": verbs or ["create", "delete", "get", "list", "patch", "update", "watch"]}
    if short:
        d["shortNames"] = short
    return d


# ---------------------------------------------------------------------------------------------
# SeldonDeployment manifests

def seldon_deployment(name: str, namespace: str = "default", *, protocol: str = "v2", model_uri: str = "",
                      implementation: str = "SKLEARN_SERVER", model_name: str = "classifier",
                      replicas: int = 1, predictors: list[dict] | None = None, labels: dict | None = None,
                      env: list[dict] | None = None, annotations: dict | None = None) -> dict:
    """A SeldonDeployment manifest as a user writes it."""
    if predictors is None:
        graph: dict[str, Any] = {"name": model_name, "implementation": implementation, "modelUri": model_uri,
                                 "type": "MODEL"}
        pred: dict[str, Any] = {"name": "default", "replicas": replicas, "graph": graph}
        if env is not None:
            pred["componentSpecs"] = [{"spec": {"containers": [{"name": model_name, "env": env}]}}]
        predictors = [pred]
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "SeldonDeployment",
            "metadata": {"name": name, "namespace": namespace, "labels": labels or {"app": name},
                         "annotations": annotations or {}},
            "spec": {"protocol": protocol, "predictors": predictors}}


# ---------------------------------------------------------------------------------------------
# the simulated controller

class SimulatedSeldonController:
    """Plays the Seldon operator over the fake API server's store.

    For each new SeldonDeployment: status Creating, a pod (Pending), events; then, with
    ``start_servers``, a real MLServer serving ``graph.modelUri`` (a folder with ``model.joblib``)
    on free ports; once it answers ready: pod Running, status Available with
    ``status.address.url`` = the MLServer's infer URL. Without ``start_servers`` it goes Available
    after ``delay`` seconds with a made-up address. Deleting the deployment stops its server.
    """

    def __init__(self, api: FakeKubeAPI, *, start_servers: bool = True, delay: float = 0.0,
                 mlserver: str | None = None, workdir: str | os.PathLike | None = None) -> None:
        import queue

        self.api = api
        self.store = api.store
        self.start_servers = start_servers
        self.delay = delay
        self.mlserver = mlserver or str(Path(sys.executable).parent / "mlserver")
        self.workdir = Path(workdir or Path(os.environ.get("TMPDIR", "/tmp")) / f"fake-seldon-{uuid.uuid4().hex[:6]}")
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.servers: dict[tuple[str, str], subprocess.Popen] = {}
        self.generations: dict[tuple[str, str], int] = {}
        self.queue: queue.Queue[tuple[str, dict] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="fake-seldon-controller", daemon=True)
        self.store.listeners.append(self._on_change)
        self._thread.start()

    def stop(self) -> None:
        if self._on_change in self.store.listeners:
            self.store.listeners.remove(self._on_change)
        self.queue.put(None)
        for key in list(self.servers):
            self._stop_server(key)

    def _on_change(self, etype: str, resource: str, obj: dict) -> None:
        # called under the store lock: only queue
        if resource == "seldondeployments":
            self.queue.put((etype, copy.deepcopy(obj)))

    def _run(self) -> None:
        while True:
            item = self.queue.get()
            if item is None:
                return
            etype, obj = item
            try:
                self._handle(etype, obj)
            except Exception as exc:  # keep the controller alive; tests see the effect
                print(f"fake controller: {exc!r}", file=sys.stderr)

    def _handle(self, etype: str, obj: dict) -> None:
        meta = obj["metadata"]
        ns, name = meta["namespace"], meta["name"]
        key = (ns, name)
        if etype == "DELETED":
            self._stop_server(key)
            self.generations.pop(key, None)
            for pod in [p for p in self.store.list("pods", ns)[0]
                        if (p["metadata"].get("labels") or {}).get("seldon-deployment-id") == name]:
                try:
                    self.store.delete("pods", ns, pod["metadata"]["name"])
                except LookupError:
                    pass
            return
        gen = meta.get("generation", 1)
        if self.generations.get(key) == gen:
            return  # a status write of ours, or nothing new in the spec
        first = key not in self.generations
        self.generations[key] = gen
        preds = obj.get("spec", {}).get("predictors") or []
        if first:
            self._set_status(ns, name, {"state": "Creating", "description": "Creating the model servers"})
            self._event(ns, name, "SeldonDeployment", "Normal", "CreateResourceSuccess",
                        f"Created Deployment {name}-default-0-model")
            for p in preds:
                pod = self._pod(ns, name, p)
                self._event(ns, pod, "Pod", "Normal", "Scheduled", f"Successfully assigned {ns}/{pod} to fake-node")
        notes = meta.get("annotations") or {}
        if notes.get(HOLD) == "true":
            return  # stays Creating until a test writes the status itself
        if self.start_servers and notes.get(NO_SERVER) != "true":
            threading.Thread(target=self._serve, args=(obj,), daemon=True).start()
        else:
            if self.delay:
                time.sleep(self.delay)
            self._available(obj, f"http://{name}-default.{ns}.svc.cluster.local:8000")

    def _pod(self, ns: str, name: str, pred: dict) -> str:
        graph = pred.get("graph") or {}
        pod_name = f"{name}-{pred.get('name', 'default')}-0-{graph.get('name', 'model')}-{uuid.uuid4().hex[:5]}"
        self.store.create("pods", ns, {
            "metadata": {"name": pod_name, "labels": {"seldon-deployment-id": name,
                                                      "seldon-app": f"{name}-{pred.get('name', 'default')}"}},
            "spec": {"containers": [{"name": graph.get("name", "model"), "image": "seldonio/mlserver:1.7.1"}]},
            "status": {"phase": "Pending", "containerStatuses": [
                {"name": graph.get("name", "model"), "ready": False, "restartCount": 0,
                 "state": {"waiting": {"reason": "ContainerCreating"}}}]},
        })
        return pod_name

    def _pods_of(self, ns: str, name: str) -> list[dict]:
        return [p for p in self.store.list("pods", ns)[0]
                if (p["metadata"].get("labels") or {}).get("seldon-deployment-id") == name]

    def _set_status(self, ns: str, name: str, status: dict) -> None:
        try:
            self.store.patch("seldondeployments", ns, name, {"status": status}, "merge", "status")
        except LookupError:
            pass

    def _event(self, ns: str, obj_name: str, kind: str, etype: str, reason: str, message: str) -> None:
        self.store.create("events", ns, {
            "metadata": {"generateName": f"{obj_name}."},
            "involvedObject": {"kind": kind, "name": obj_name, "namespace": ns},
            "type": etype, "reason": reason, "message": message, "count": 1,
            "firstTimestamp": now_rfc3339(), "lastTimestamp": now_rfc3339(),
            "source": {"component": "seldon-controller-manager"},
        })

    def _available(self, obj: dict, url: str) -> None:
        meta = obj["metadata"]
        ns, name = meta["namespace"], meta["name"]
        if self.store.get("seldondeployments", ns, name) is None:
            return
        preds = obj.get("spec", {}).get("predictors") or []
        dep_status = {}
        for p in preds:
            graph = p.get("graph") or {}
            n = int(p.get("replicas", obj["spec"].get("replicas", 1)))
            dep_status[f"{name}-{p.get('name', 'default')}-0-{graph.get('name', 'model')}"] = {
                "replicas": n, "availableReplicas": n}
        ts = now_rfc3339()
        conds = [{"type": t, "status": "True", "reason": r, "lastTransitionTime": ts}
                 for t, r in (("DeploymentsReady", "DeploymentsAvailable"), ("ServicesReady", "ServicesReady"),
                              ("Ready", "Ready"))]
        for pod in self._pods_of(ns, name):
            try:
                self.store.patch("pods", ns, pod["metadata"]["name"], {"status": {
                    "phase": "Running", "containerStatuses": [
                        {"name": c["name"], "ready": True, "restartCount": 0, "state": {"running": {"startedAt": ts}}}
                        for c in pod["spec"]["containers"]]}}, "merge", "status")
            except LookupError:
                pass
        self._set_status(ns, name, {"state": "Available", "description": "", "replicas": sum(
            v["replicas"] for v in dep_status.values()), "deploymentStatus": dep_status,
            "address": {"url": url}, "conditions": conds})
        self._event(ns, name, "SeldonDeployment", "Normal", "Available", "All model servers are ready")

    def _failed(self, obj: dict, reason: str, log_tail: str = "") -> None:
        meta = obj["metadata"]
        ns, name = meta["namespace"], meta["name"]
        self._set_status(ns, name, {"state": "Failed", "description": reason, "conditions": [
            {"type": "DeploymentsReady", "status": "False", "reason": "ModelServerFailed", "message": reason,
             "lastTransitionTime": now_rfc3339()}]})
        for pod in self._pods_of(ns, name):
            try:
                self.store.patch("pods", ns, pod["metadata"]["name"], {"status": {
                    "phase": "Running", "containerStatuses": [
                        {"name": c["name"], "ready": False, "restartCount": 3,
                         "state": {"waiting": {"reason": "CrashLoopBackOff"}}} for c in pod["spec"]["containers"]]}},
                    "merge", "status")
            except LookupError:
                pass
        self._event(ns, name, "SeldonDeployment", "Warning", "ModelServerFailed", reason)

    # ---- real MLServer -------------------------------------------------------------------
    def _serve(self, obj: dict) -> None:
        meta = obj["metadata"]
        ns, name = meta["namespace"], meta["name"]
        key = (ns, name)
        if key in self.servers and self.servers[key].poll() is None:
            self._available(obj, self._urls[key])
            return
        pred = (obj.get("spec", {}).get("predictors") or [{}])[0]
        graph = pred.get("graph") or {}
        model = graph.get("name", "model")
        uri = str(graph.get("modelUri", ""))
        src = Path(uri[len("file://"):] if uri.startswith("file://") else uri)
        if not (src / "model.joblib").is_file():
            self._failed(obj, f"model not found at {uri or '(no modelUri)'}: no model.joblib")
            return
        folder = self.workdir / f"{ns}-{name}"
        (folder / model).mkdir(parents=True, exist_ok=True)
        model_settings: dict[str, Any] = {"name": model, "implementation": "mlserver_sklearn.SKLearnModel",
                                          "parameters": {"uri": str(src / "model.joblib")}}
        meta_file = src / "inputs.json"
        if meta_file.is_file():
            model_settings["inputs"] = json.loads(meta_file.read_text())
        (folder / model / "model-settings.json").write_text(json.dumps(model_settings))
        ports = [_free_port() for _ in range(3)]
        (folder / "settings.json").write_text(json.dumps({
            "host": "127.0.0.1", "http_port": ports[0], "grpc_port": ports[1], "metrics_port": ports[2],
            "parallel_workers": 0, "debug": False}))
        log_path = folder / "server.log"
        log = open(log_path, "wb")
        proc = subprocess.Popen([self.mlserver, "start", str(folder)], stdout=log, stderr=subprocess.STDOUT,
                                cwd=folder, start_new_session=True)
        log.close()
        self.servers[key] = proc
        url = f"http://127.0.0.1:{ports[0]}/v2/models/{model}/infer"
        if not hasattr(self, "_urls"):
            self._urls: dict = {}
        self._urls[key] = url
        for pod in self._pods_of(ns, name):
            self.api.pod_logs[(ns, pod["metadata"]["name"])] = lambda p=log_path: p.read_text(errors="replace")
        import urllib.request

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                self._failed(obj, f"model server exited with code {proc.returncode}")
                return
            if self.store.get("seldondeployments", ns, name) is None:
                return
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{ports[0]}/v2/models/{model}/ready", timeout=1) as r:
                    if r.status == 200:
                        self._available(obj, url)
                        return
            except OSError:
                pass
            time.sleep(0.2)
        self._failed(obj, "model server not ready within 60 s")

    def _stop_server(self, key: tuple[str, str]) -> None:
        proc = self.servers.pop(key, None)
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def _free_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------------------------------
# KServe InferenceServices

def inference_service(name: str, namespace: str = "default", *, storage_uri: str = "", model_format: str = "sklearn",
                      protocol_version: str = "v2", runtime: str = "kserve-mlserver",
                      canary_traffic_percent: int | None = None, annotations: dict | None = None,
                      labels: dict | None = None) -> dict:
    """An InferenceService manifest as a user writes it (``spec.predictor.model``)."""
    model: dict[str, Any] = {"modelFormat": {"name": model_format}, "storageUri": storage_uri,
                             "protocolVersion": protocol_version}
    if runtime:
        model["runtime"] = runtime
    predictor: dict[str, Any] = {"model": model}
    if canary_traffic_percent is not None:
        predictor["canaryTrafficPercent"] = canary_traffic_percent
    return {"apiVersion": f"{KSERVE_GROUP}/{KSERVE_VERSION}", "kind": "InferenceService",
            "metadata": {"name": name, "namespace": namespace, "labels": labels or {},
                         "annotations": annotations or {}},
            "spec": {"predictor": predictor}}


ISVC_LABEL = "serving.kserve.io/inferenceservice"
TAG_ROUTING = "serving.kserve.io/enable-tag-routing"


class SimulatedKServeController:
    """Plays the KServe controller over the fake API server's store (see the module's docstring).

    A new generation of an InferenceService gets conditions Unknown (rolling out), then, once its model is
    loaded in the shared MLServer, all True with status.url ``http://NAME.NS.example.com``, status.address.url
    (the cluster-local name) and the predictor's revisions; with ``canaryTrafficPercent`` on a later
    generation, traffic splits between the ``prev`` and ``latest`` revisions. A storageUri without a
    ``model.joblib`` fails: PredictorReady / Ready False (RevisionFailed) and modelStatus BlockedByFailedLoad
    with its lastFailureInfo, as KServe reports a model that cannot load."""

    def __init__(self, api: FakeKubeAPI, *, mlserver: str | None = None,
                 workdir: str | os.PathLike | None = None) -> None:
        import queue

        self.api = api
        self.store = api.store
        self.mlserver = mlserver or str(Path(sys.executable).parent / "mlserver")
        self.workdir = Path(workdir or Path(os.environ.get("TMPDIR", "/tmp")) / f"fake-kserve-{uuid.uuid4().hex[:6]}")
        self.repository = self.workdir / "models"
        self.repository.mkdir(parents=True, exist_ok=True)
        self.server: subprocess.Popen | None = None
        self.server_url = ""
        self.generations: dict[tuple[str, str], int] = {}
        self.hosts_seen: list[str] = []  # the Host header of every request through the gateway
        # (Seldon-Model header, path) -> the MLServer path it goes to, or None: no route (Seldon Core 2's mesh)
        self.seldon_route: Any = None
        self.queue: queue.Queue[tuple[str, dict] | None] = queue.Queue()
        self._server_lock = threading.Lock()
        self.gateway = ThreadingHTTPServer(("127.0.0.1", 0), self._gateway_handler())
        self.gateway.daemon_threads = True
        self.gateway_url = f"http://127.0.0.1:{self.gateway.server_address[1]}"
        threading.Thread(target=self.gateway.serve_forever, kwargs={"poll_interval": 0.1}, name="fake-gateway",
                         daemon=True).start()
        self._thread = threading.Thread(target=self._run, name="fake-kserve-controller", daemon=True)
        self.store.listeners.append(self._on_change)
        self._thread.start()

    def stop(self) -> None:
        if self._on_change in self.store.listeners:
            self.store.listeners.remove(self._on_change)
        self.queue.put(None)
        self.gateway.shutdown()
        self.gateway.server_close()
        proc, self.server = self.server, None
        if proc is not None and proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

    def _on_change(self, etype: str, resource: str, obj: dict) -> None:
        if resource == "inferenceservices":  # called under the store lock: only queue
            self.queue.put((etype, copy.deepcopy(obj)))

    def _run(self) -> None:
        while True:
            item = self.queue.get()
            if item is None:
                return
            etype, obj = item
            try:
                self._handle(etype, obj)
            except Exception as exc:  # keep the controller alive; tests see the effect
                print(f"fake kserve controller: {exc!r}", file=sys.stderr)

    def _handle(self, etype: str, obj: dict) -> None:
        meta = obj["metadata"]
        ns, name = meta["namespace"], meta["name"]
        key = (ns, name)
        if etype == "DELETED":
            self.generations.pop(key, None)
            for pod in self._pods_of(ns, name):
                try:
                    self.store.delete("pods", ns, pod["metadata"]["name"])
                except LookupError:
                    pass
            return
        gen = int(meta.get("generation", 1))
        if self.generations.get(key) == gen:
            return  # a status write of ours, or nothing new in the spec
        first = key not in self.generations
        self.generations[key] = gen
        revision = f"{name}-predictor-{gen:05d}"
        status = copy.deepcopy(obj.get("status") or {})
        ts = now_rfc3339()
        status["conditions"] = [{"type": t, "status": "Unknown", "reason": "RevisionMissing" if t != "IngressReady"
                                 else "", "lastTransitionTime": ts}
                                for t in ("IngressReady", "LatestDeploymentReady", "PredictorReady", "Ready",
                                          "RoutesReady")]
        status["modelStatus"] = {"transitionStatus": "InProgress",
                                 "states": {"activeModelState": "" if first else "Loaded",
                                            "targetModelState": "Pending"}}
        status.setdefault("components", {}).setdefault("predictor", {})["latestCreatedRevision"] = revision
        self._set_status(ns, name, status)
        self._event(ns, name, "InferenceService", "Normal", "Created" if first else "Updated",
                    f"Created revision {revision}")
        pod = f"{revision}-deployment-{uuid.uuid4().hex[:5]}"
        self.store.create("pods", ns, {
            "metadata": {"name": pod, "labels": {ISVC_LABEL: name, "component": "predictor",
                                                 "serving.knative.dev/revision": revision}},
            "spec": {"containers": [{"name": "kserve-container", "image": "docker.io/seldonio/mlserver:1.7.1"},
                                    {"name": "queue-proxy", "image": "gcr.io/knative-releases/queue:v1.15"}]},
            "status": {"phase": "Pending", "containerStatuses": [
                {"name": c, "ready": False, "restartCount": 0, "state": {"waiting": {"reason": "ContainerCreating"}}}
                for c in ("kserve-container", "queue-proxy")]}})
        if (meta.get("annotations") or {}).get(HOLD) == "true":
            return  # stays rolling out until a test writes the status itself
        threading.Thread(target=self._roll_out, args=(obj, revision, pod), daemon=True).start()

    def _roll_out(self, obj: dict, revision: str, pod: str) -> None:
        name = obj["metadata"]["name"]
        model = ((obj.get("spec") or {}).get("predictor") or {}).get("model") or {}
        uri = str(model.get("storageUri") or "")
        src = Path(uri[len("file://"):] if uri.startswith("file://") else uri)
        if not (src / "model.joblib").is_file():
            self._failed(obj, revision, pod, f"failed to load model from {uri or '(no storageUri)'}: "
                                             "no model.joblib found")
            return
        try:
            self._load(name, src)
            if (obj["metadata"].get("annotations") or {}).get(TAG_ROUTING) == "true":
                self._load(revision, src)  # each revision's own model, for its tag host (see route)
        except Exception as exc:  # noqa: BLE001 - said in the status, as KServe does
            self._failed(obj, revision, pod, f"model server failed to load {name}: {exc}")
            return
        self._ready(obj, revision, pod)

    # ---- the shared MLServer -------------------------------------------------------------
    def _ensure_server(self) -> str:
        import urllib.request

        with self._server_lock:
            if self.server is not None and self.server.poll() is None:
                return self.server_url
            ports = [_free_port() for _ in range(3)]
            (self.repository / "settings.json").write_text(json.dumps({
                "host": "127.0.0.1", "http_port": ports[0], "grpc_port": ports[1], "metrics_port": ports[2],
                "parallel_workers": 0, "debug": False}))
            with open(self.workdir / "server.log", "wb") as log:
                self.server = subprocess.Popen([self.mlserver, "start", str(self.repository)], stdout=log,
                                               stderr=subprocess.STDOUT, cwd=self.repository,
                                               start_new_session=True)
            url = f"http://127.0.0.1:{ports[0]}"
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                if self.server.poll() is not None:
                    raise RuntimeError(f"MLServer exited with code {self.server.returncode}")
                try:
                    with urllib.request.urlopen(f"{url}/v2/health/ready", timeout=1) as r:
                        if r.status == 200:
                            self.server_url = url
                            return url
                except OSError:
                    pass
                time.sleep(0.2)
            raise RuntimeError("MLServer not ready within 90 s")

    def _load(self, name: str, src: Path) -> None:
        import urllib.request

        url = self._ensure_server()
        folder = self.repository / name
        folder.mkdir(exist_ok=True)
        settings: dict[str, Any] = {"name": name, "implementation": "mlserver_sklearn.SKLearnModel",
                                    "parameters": {"uri": str(src / "model.joblib")}}
        if (src / "inputs.json").is_file():
            settings["inputs"] = json.loads((src / "inputs.json").read_text())
        (folder / "model-settings.json").write_text(json.dumps(settings))
        req = urllib.request.Request(f"{url}/v2/repository/models/{name}/load", data=b"", method="POST")
        with urllib.request.urlopen(req, timeout=60) as r:
            if r.status != 200:
                raise RuntimeError(f"load answered {r.status}")

    # ---- status --------------------------------------------------------------------------
    def _pods_of(self, ns: str, name: str) -> list[dict]:
        return [p for p in self.store.list("pods", ns)[0]
                if (p["metadata"].get("labels") or {}).get(ISVC_LABEL) == name]

    def _set_status(self, ns: str, name: str, status: dict) -> None:
        try:
            self.store.patch("inferenceservices", ns, name, {"status": status}, "merge", "status")
        except LookupError:
            pass

    def _event(self, ns: str, obj_name: str, kind: str, etype: str, reason: str, message: str) -> None:
        self.store.create("events", ns, {
            "metadata": {"generateName": f"{obj_name}."},
            "involvedObject": {"kind": kind, "name": obj_name, "namespace": ns,
                               "apiVersion": f"{KSERVE_GROUP}/{KSERVE_VERSION}" if kind == "InferenceService"
                               else "v1"},
            "type": etype, "reason": reason, "message": message, "count": 1,
            "firstTimestamp": now_rfc3339(), "lastTimestamp": now_rfc3339(),
            "source": {"component": "v1beta1Controllers"},
        })

    def _pod_status(self, ns: str, pod: str, ready: bool) -> None:
        ts = now_rfc3339()
        try:
            self.store.patch("pods", ns, pod, {"status": {"phase": "Running", "containerStatuses": [
                {"name": c, "ready": ready, "restartCount": 0 if ready else 2,
                 "state": {"running": {"startedAt": ts}} if ready or c == "queue-proxy"
                 else {"waiting": {"reason": "CrashLoopBackOff"}}}
                for c in ("kserve-container", "queue-proxy")]}}, "merge", "status")
        except LookupError:
            pass

    def _ready(self, obj: dict, revision: str, pod: str) -> None:
        meta = obj["metadata"]
        ns, name = meta["namespace"], meta["name"]
        current = self.store.get("inferenceservices", ns, name)
        if current is None or current["metadata"].get("generation") != meta.get("generation"):
            return  # deleted, or a newer generation is rolling out
        predictor = (obj.get("spec") or {}).get("predictor") or {}
        canary = predictor.get("canaryTrafficPercent")
        gen = int(meta.get("generation", 1))
        ts = now_rfc3339()
        host = f"{name}.{ns}.example.com"
        component: dict[str, Any] = {
            "latestCreatedRevision": revision, "latestReadyRevision": revision,
            "url": f"http://{name}-predictor.{ns}.example.com",
            "address": {"url": f"http://{name}-predictor.{ns}.svc.cluster.local"}}
        if canary is not None and gen > 1:
            prev = f"{name}-predictor-{gen - 1:05d}"
            component["previousRolledoutRevision"] = prev
            # as KServe does: the previous revision is always tagged prev, the latest is tagged latest only with
            # the tag-routing annotation; Knative gives each tag a URL of its own (TAG-ROUTE.NS.DOMAIN)
            latest: dict[str, Any] = {"revisionName": revision, "percent": int(canary), "latestRevision": True}
            if (meta.get("annotations") or {}).get(TAG_ROUTING) == "true":
                latest.update(tag="latest", url=f"http://latest-{name}-predictor.{ns}.example.com")
            component["traffic"] = [
                {"tag": "prev", "revisionName": prev, "percent": 100 - int(canary), "latestRevision": False,
                 "url": f"http://prev-{name}-predictor.{ns}.example.com"}, latest]
        else:
            component["latestRolledoutRevision"] = revision
            component["traffic"] = [{"revisionName": revision, "percent": 100, "latestRevision": True}]
        conditions = [{"type": t, "status": "True", "lastTransitionTime": ts}
                      for t in ("IngressReady", "LatestDeploymentReady", "PredictorConfigurationReady",
                                "PredictorReady", "PredictorRouteReady", "Ready", "RoutesReady")]
        self._pod_status(ns, pod, True)
        self._set_status(ns, name, {
            "url": f"http://{host}", "address": {"url": f"http://{name}.{ns}.svc.cluster.local"},
            "components": {"predictor": component}, "conditions": conditions, "observedGeneration": gen,
            "modelStatus": {"transitionStatus": "UpToDate", "copies": {"failedCopies": 0, "totalCopies": 1},
                            "states": {"activeModelState": "Loaded", "targetModelState": "Loaded"}},
            "deploymentMode": (meta.get("annotations") or {}).get("serving.kserve.io/deploymentMode")
            or "Serverless"})
        self._event(ns, name, "InferenceService", "Normal", "InferenceServiceReady",
                    "InferenceService [" + name + "] is Ready")

    def _failed(self, obj: dict, revision: str, pod: str, message: str) -> None:
        meta = obj["metadata"]
        ns, name = meta["namespace"], meta["name"]
        ts = now_rfc3339()
        why = f'Revision "{revision}" failed with message: {message}.'
        conditions = [
            {"type": "IngressReady", "status": "Unknown", "lastTransitionTime": ts},
            {"type": "LatestDeploymentReady", "status": "False", "reason": "RevisionFailed", "message": why,
             "lastTransitionTime": ts},
            {"type": "PredictorConfigurationReady", "status": "False", "reason": "RevisionFailed", "message": why,
             "lastTransitionTime": ts},
            {"type": "PredictorReady", "status": "False", "reason": "RevisionFailed", "message": why,
             "lastTransitionTime": ts},
            {"type": "Ready", "status": "False", "reason": "RevisionFailed", "message": why,
             "lastTransitionTime": ts},
            {"type": "RoutesReady", "status": "Unknown", "reason": "RevisionMissing", "lastTransitionTime": ts}]
        self._pod_status(ns, pod, False)
        self.api.pod_logs[(ns, pod)] = f"ERROR: {message}\n"
        self._set_status(ns, name, {"conditions": conditions, "modelStatus": {
            "transitionStatus": "BlockedByFailedLoad",
            "states": {"activeModelState": "", "targetModelState": "FailedToLoad"},
            "lastFailureInfo": {"reason": "ModelLoadFailed", "message": message, "location": pod,
                                "modelRevisionName": revision, "exitCode": 1, "time": ts}}})
        self._event(ns, name, "InferenceService", "Warning", "InternalError", why)

    # ---- the ingress gateway -------------------------------------------------------------
    def route(self, host: str) -> tuple[str, str] | None:
        """The (namespace, name) of the ready InferenceService whose status.url has this host."""
        with self.store.cond:
            for (res, ns, name), obj in self.store.objects.items():
                url = str((obj.get("status") or {}).get("url") or "")
                if res == "inferenceservices" and url and urlsplit(url).netloc == host:
                    return ns, name
        return None

    def tag_route(self, host: str) -> tuple[str, str] | None:
        """(InferenceService name, revision) for the host of one of its traffic tags' URLs: that revision's
        model, loaded under the revision's name when tag routing is on."""
        with self.store.cond:
            for (res, _ns, name), obj in self.store.objects.items():
                if res != "inferenceservices":
                    continue
                component = ((obj.get("status") or {}).get("components") or {}).get("predictor") or {}
                for t in component.get("traffic") or ():
                    if t.get("url") and urlsplit(t["url"]).netloc == host:
                        return name, str(t.get("revisionName") or "")
        return None

    def _gateway_handler(self):
        ctl = self

        class Gateway(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _proxy(self) -> None:
                import urllib.error
                import urllib.request

                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else None
                host = self.headers.get("Host", "")
                ctl.hosts_seen.append(host)
                seldon_model = self.headers.get("Seldon-Model")
                path = self.path
                if seldon_model is not None and ctl.seldon_route is not None:
                    path = ctl.seldon_route(seldon_model, self.path)
                    missing = path is None
                    what = f"Seldon-Model {seldon_model}"
                elif (tagged := ctl.tag_route(host)) is not None:
                    # the revision's own model: /v2/models/NAME/... -> /v2/models/REVISION/...
                    name, revision = tagged
                    path = re.sub(rf"/models/{re.escape(name)}(?=[/:]|$)", f"/models/{revision}", path, count=1)
                    missing, what = False, f"host {host}"
                else:
                    missing, what = ctl.route(host) is None, f"host {host}"
                if missing or not ctl.server_url:
                    data = f"no route for {what}\n".encode()  # as the gateway answers an unknown host
                    self.send_response(404)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                req = urllib.request.Request(ctl.server_url + path, data=body, method=self.command,
                                             headers={"Content-Type": self.headers.get("Content-Type",
                                                                                       "application/json")})
                try:
                    with urllib.request.urlopen(req, timeout=30) as r:
                        code, data, ctype = r.status, r.read(), r.headers.get("Content-Type", "")
                except urllib.error.HTTPError as exc:
                    code, data, ctype = exc.code, exc.read(), exc.headers.get("Content-Type", "")
                self.send_response(code)
                self.send_header("Content-Type", ctype or "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _proxy

        return Gateway


# ---------------------------------------------------------------------------------------------
# Seldon Core 2 (mlops.seldon.io/v1alpha1)

def sc2_model(name: str, namespace: str = "default", *, storage_uri: str = "",
              requirements: tuple[str, ...] = ("sklearn",), replicas: int | None = None, server: str = "",
              annotations: dict | None = None) -> dict:
    spec: dict[str, Any] = {"storageUri": storage_uri, "requirements": list(requirements)}
    if replicas is not None:
        spec["replicas"] = replicas
    if server:
        spec["server"] = server
    return {"apiVersion": f"{MLOPS_GROUP}/{MLOPS_VERSION}", "kind": "Model",
            "metadata": {"name": name, "namespace": namespace, "annotations": annotations or {}}, "spec": spec}


def sc2_pipeline(name: str, steps: list[str], namespace: str = "default") -> dict:
    """A chain: each step takes the one before it; the last one is the output."""
    return {"apiVersion": f"{MLOPS_GROUP}/{MLOPS_VERSION}", "kind": "Pipeline",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"steps": [{"name": s, **({"inputs": [steps[i - 1]]} if i else {})} for i, s in enumerate(steps)],
                     "output": {"steps": [steps[-1]]}}}


def sc2_experiment(name: str, candidates: dict[str, int], namespace: str = "default", *, default: str = "",
                   mirror: str = "", mirror_percent: int = 100) -> dict:
    spec: dict[str, Any] = {"candidates": [{"name": n, "weight": w} for n, w in candidates.items()]}
    if default:
        spec["default"] = default
    if mirror:
        spec["mirror"] = {"name": mirror, "percent": mirror_percent}
    return {"apiVersion": f"{MLOPS_GROUP}/{MLOPS_VERSION}", "kind": "Experiment",
            "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def sc2_server(name: str, namespace: str = "default", *, replicas: int = 1, server_config: str = "mlserver") -> dict:
    return {"apiVersion": f"{MLOPS_GROUP}/{MLOPS_VERSION}", "kind": "Server",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"serverConfig": server_config, "replicas": replicas}}


class SimulatedSeldonCore2Controller:
    """Plays Seldon Core 2 over the fake API server's store (see the module's docstring), with the KServe
    controller's shared MLServer and gateway. A Model whose storageUri has no ``model.joblib`` fails as the
    scheduler reports it: ModelReady False, reason ModelFailed, the agent's words as the message."""

    def __init__(self, api: FakeKubeAPI, kserve: SimulatedKServeController) -> None:
        import queue

        self.api = api
        self.store = api.store
        self.kserve = kserve
        self.loaded: dict[tuple[str, str], str] = {}  # (ns, model) -> its name in the MLServer (NAME_GENERATION)
        self.generations: dict[tuple[str, str, str], int] = {}
        self.routed: list[tuple[str, str]] = []  # (Seldon-Model header, MLServer path) of each routed request
        self.queue: queue.Queue[tuple[str, str, dict] | None] = queue.Queue()
        kserve.seldon_route = self.route
        self._thread = threading.Thread(target=self._run, name="fake-seldon2-controller", daemon=True)
        self.store.listeners.append(self._on_change)
        self._thread.start()

    def stop(self) -> None:
        if self._on_change in self.store.listeners:
            self.store.listeners.remove(self._on_change)
        self.queue.put(None)

    def _on_change(self, etype: str, resource: str, obj: dict) -> None:
        if resource in SC2_RESOURCES:  # called under the store lock: only queue
            self.queue.put((etype, resource, copy.deepcopy(obj)))

    def _run(self) -> None:
        while True:
            item = self.queue.get()
            if item is None:
                return
            try:
                self._handle(*item)
            except Exception as exc:  # keep the controller alive; tests see the effect
                print(f"fake seldon core 2 controller: {exc!r}", file=sys.stderr)

    def _handle(self, etype: str, resource: str, obj: dict) -> None:
        meta = obj["metadata"]
        ns, name = meta["namespace"], meta["name"]
        key = (resource, ns, name)
        if etype == "DELETED":
            self.generations.pop(key, None)
            self.loaded.pop((ns, name), None)
            return
        gen = int(meta.get("generation", 1))
        if self.generations.get(key) == gen:
            return  # a status write of ours, or nothing new in the spec
        self.generations[key] = gen
        if resource == "models":
            self._set_status("models", ns, name, {"conditions": self._conds(
                [("ModelReady", False, "ModelProgressing", "")]), "replicas": 0})
            if (meta.get("annotations") or {}).get(HOLD) != "true":
                threading.Thread(target=self._load_model, args=(obj,), daemon=True).start()
        elif resource == "servers":
            self._server_status(ns, name)
        else:
            self._refresh(ns)

    @staticmethod
    def _conds(items: list[tuple[str, bool, str, str]]) -> list[dict]:
        """Conditions as knative's living condition set keeps them: each one, and Ready (all of them True)."""
        ts = now_rfc3339()
        out = [{"type": t, "status": "True" if ok else "False", "lastTransitionTime": ts,
                **({"reason": reason} if reason else {}), **({"message": message} if message else {})}
               for t, ok, reason, message in items]
        bad = next((c for c in out if c["status"] == "False"), None)
        ready = {"type": "Ready", "status": "True", "lastTransitionTime": ts}
        if bad is not None:
            ready.update({k: v for k, v in bad.items() if k in ("reason", "message")}, status="False")
        return sorted([*out, ready], key=lambda c: c["type"])

    def _set_status(self, resource: str, ns: str, name: str, status: dict) -> None:
        try:
            self.store.patch(resource, ns, name, {"status": status}, "merge", "status")
        except LookupError:
            pass

    def _load_model(self, obj: dict) -> None:
        meta = obj["metadata"]
        ns, name, gen = meta["namespace"], meta["name"], int(meta.get("generation", 1))
        spec = obj.get("spec") or {}
        uri = str(spec.get("storageUri") or "")
        src = Path(uri[len("file://"):] if uri.startswith("file://") else uri)
        server = str(spec.get("server") or "mlserver")
        replicas = int(spec.get("replicas") or 1)
        loaded = f"{name}_{gen}"
        try:
            if not (src / "model.joblib").is_file():
                raise RuntimeError(f"rpc error: code = FailedPrecondition desc = no model.joblib in {uri or '(none)'}")
            self.kserve._load(loaded, src)
        except Exception as exc:  # noqa: BLE001 - said in the status, as the scheduler does
            self._set_status("models", ns, name, {
                "conditions": self._conds([("ModelReady", False, "ModelFailed", f"failed to load {name}: {exc}")]),
                "replicas": replicas, "selector": f"server={server}", "modelgwReady": "ModelFailed"})
            self._refresh(ns)
            return
        self.loaded[(ns, name)] = loaded
        self._set_status("models", ns, name, {
            "conditions": self._conds([("ModelReady", True, "ModelAvailable", "")]), "replicas": replicas,
            "availableReplicas": replicas, "selector": f"server={server}", "modelgwReady": "ModelAvailable"})
        self._refresh(ns)

    def _available(self, ns: str, model: str) -> bool:
        obj = self.store.get("models", ns, model)
        conds = ((obj or {}).get("status") or {}).get("conditions") or ()
        return any(c["type"] == "ModelReady" and c["status"] == "True" for c in conds) and (ns, model) in self.loaded

    def _refresh(self, ns: str) -> None:
        """Pipelines, Experiments and Servers follow the Models they use."""
        for (res, ons, name), obj in list(self.store.objects.items()):
            if ons != ns or res not in ("pipelines", "experiments", "servers"):
                continue
            spec = obj.get("spec") or {}
            if res == "servers":
                self._server_status(ns, name)
            elif res == "pipelines":
                ok = all(self._available(ns, s["name"]) for s in spec.get("steps") or ())
                self._set_status(res, ns, name, {"conditions": self._conds([
                    ("PipelineGwReady", True, "PipelineReady", "Created pipeline"),
                    ("PipelineReady", True, "PipelineReady", "Created pipeline"),
                    ("ModelsReady", ok, "", "Models all available" if ok else "Some models are not available")])})
            else:
                candidates = [c["name"] for c in spec.get("candidates") or ()]
                mirror = (spec.get("mirror") or {}).get("name")
                ok = all(self._available(ns, c) for c in candidates)
                mirror_ok = not mirror or self._available(ns, mirror)
                items = [("CandidatesReady", ok, "Candidates ready" if ok else "Candidates not ready", ""),
                         ("ExperimentReady", ok and mirror_ok, "Experiment ready" if ok and mirror_ok
                          else "Experiment candidates or mirror not ready", "")]
                if mirror:
                    items.append(("MirrorReady", mirror_ok, "Mirror ready" if mirror_ok else "Mirror not ready", ""))
                self._set_status(res, ns, name, {"conditions": self._conds(items)})

    def _server_status(self, ns: str, name: str) -> None:
        obj = self.store.get("servers", ns, name)
        if obj is None:
            return
        replicas = int((obj.get("spec") or {}).get("replicas") or 1)
        models = [o for (res, ons, _), o in list(self.store.objects.items()) if res == "models" and ons == ns
                  and ((o.get("status") or {}).get("selector") == f"server={name}")
                  and self._available(ns, o["metadata"]["name"])]
        loaded = sum(int((o.get("status") or {}).get("availableReplicas") or 0) for o in models)
        pod = f"{name}-0"
        if self.store.get("pods", ns, pod) is None:
            self.store.create("pods", ns, {
                "metadata": {"name": pod, "labels": {"seldon-server-name": name, "app": "seldon-server"}},
                "spec": {"containers": [{"name": c, "image": f"docker.io/seldonio/{c}:2.9.0"}
                                        for c in ("rclone", "agent", "mlserver")]},
                "status": {"phase": "Running", "containerStatuses": [
                    {"name": c, "ready": True, "restartCount": 0, "state": {"running": {"startedAt": now_rfc3339()}}}
                    for c in ("rclone", "agent", "mlserver")]}})
        self._set_status("servers", ns, name, {
            "conditions": self._conds([("StatefulSetOrDeploymentReady", True, "StatefulSet replicas matches desired "
                                        "replicas", "")]), "replicas": replicas, "loadedModels": loaded,
            "selector": f"seldon-server-name={name}"})

    # ---- seldon-mesh: routing by the Seldon-Model header ---------------------------------
    def route(self, header: str, path: str) -> str | None:
        """The MLServer path of a request with this Seldon-Model header: a model's loaded version; a pipeline's
        output step (the fake runs no Kafka: a one-model pipeline answers as Seldon's would); an experiment's
        candidate chosen by weight."""
        import random

        name, _, suffix = header.partition(".")
        target = None
        with self.store.cond:
            objects = dict(self.store.objects)
        for (res, ns, oname), obj in objects.items():
            if oname != name:
                continue
            spec = obj.get("spec") or {}
            if res == "models" and not suffix:
                target = self.loaded.get((ns, name))
            elif res == "pipelines" and suffix == "pipeline":
                out = (spec.get("output") or {}).get("steps") or [s["name"] for s in spec.get("steps") or ()][-1:]
                target = self.loaded.get((ns, out[-1])) if out else None
            elif res == "experiments" and suffix == "experiment":
                cands = spec.get("candidates") or ()
                if cands:
                    pick = random.choices([c["name"] for c in cands], [max(0, int(c["weight"])) or 1 for c in cands])
                    target = self.loaded.get((ns, pick[0]))
            if target:
                break
        if not target:
            return None
        new = re.sub(r"^/v2/models/[^/?]+", f"/v2/models/{target}", path)
        self.routed.append((header, new))
        return new
