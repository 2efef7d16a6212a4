"""KubernetesDeployments against the fake Kubernetes API server, through the official client and a
real kubeconfig; the simulated controller starts real MLServers."""

from __future__ import annotations

import json
import queue
import threading
import time
from datetime import UTC, datetime

import pytest

from backends.deployments import ADDED, AVAILABLE, CREATING, DELETED, FAILED, MODIFIED, PROBLEM, RELISTED
from backends.deployments.inference import InvalidPayload
from backends.deployments.kube import KubernetesDeployments, redact, to_deployment
from backends.errors import Forbidden, NotConfigured, NotFound, Unreachable
from fake_kube_api import GROUP, HOLD, NO_SERVER, seldon_deployment
from kube_helpers import GOOD_ROW, free_port, wait_for

V = "v1"
P = "seldondeployments"


def backend(kubeconfig, namespaces=(), **extra) -> KubernetesDeployments:
    return KubernetesDeployments.from_settings({"kubeconfig": str(kubeconfig), "namespaces": list(namespaces),
                                                "timeout": 5, **extra})


def create(kube_client, ns, name, **kw):
    annotations = kw.pop("annotations", {NO_SERVER: "true"})
    return kube_client.create_namespaced_custom_object(GROUP, V, ns, P, seldon_deployment(
        name, ns, annotations=annotations, **kw))


class Collector:
    """Runs a watch in a thread and collects its events."""

    def __init__(self, stream):
        self.stream = stream
        self.events: queue.Queue = queue.Queue()
        self.seen: list = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        for ev in self.stream:
            self.events.put(ev)

    def next(self, predicate, timeout=15.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                ev = self.events.get(timeout=0.1)
            except queue.Empty:
                continue
            self.seen.append(ev)
            if predicate(ev):
                return ev
        raise AssertionError(f"no such watch event within {timeout} s; seen {[e.kind for e in self.seen]}; "
                             f"alive={self.thread.is_alive()}")

    def stop(self):
        self.stream.stop()
        self.thread.join(5)
        assert not self.thread.is_alive(), "the watch did not stop"


def test_no_kubeconfig_says_what_to_give(tmp_path, monkeypatch):
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    with pytest.raises(NotConfigured) as err:
        KubernetesDeployments.from_settings({})
    assert "KUBECONFIG" in str(err.value) and "--kubeconfig" in str(err.value)
    with pytest.raises(NotConfigured) as err:
        KubernetesDeployments.from_settings({"kubeconfig": str(tmp_path / "nope")})
    assert str(tmp_path / "nope") in str(err.value)


def test_kubeconfig_from_env_var(kubeconfig, namespace, kube_client, monkeypatch):
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    create(kube_client, namespace, "from-env")
    b = KubernetesDeployments.from_settings({"namespaces": [namespace]})
    assert [d.name for d in b.list_deployments().items] == ["from-env"]


def test_list_reads_every_column(kubeconfig, namespace, kube_client):
    preds = [
        {"name": "main", "replicas": 2, "traffic": 75, "graph": {"name": "clf", "implementation": "SKLEARN_SERVER",
                                                                 "modelUri": "gs://models/iris/v2"}},
        {"name": "canary", "replicas": 1, "traffic": 25,
         "graph": {"name": "clf2", "type": "MODEL"},
         "componentSpecs": [{"spec": {"containers": [{"name": "clf2", "image": "registry/iris:3"}]}}]},
        {"name": "mirror", "shadow": True, "graph": {"name": "clf3", "implementation": "MLFLOW_SERVER",
                                                     "modelUri": "s3://m/iris"}},
    ]
    kube_client.create_namespaced_custom_object(GROUP, V, namespace, P, {
        "apiVersion": f"{GROUP}/{V}", "kind": "SeldonDeployment",
        "metadata": {"name": "iris", "annotations": {HOLD: "true"}},
        "spec": {"protocol": "v2", "predictors": preds}})
    create(kube_client, namespace, "other", protocol="seldon")
    b = backend(kubeconfig, [namespace])
    items = wait_for(lambda: [d for d in b.list_deployments().items if d.name == "other" and d.state == AVAILABLE]
                     and b.list_deployments().items)
    dep = {d.name: d for d in items}["iris"]
    assert dep.namespace == namespace and dep.protocol == "v2" and dep.state == CREATING
    assert [p.name for p in dep.predictors] == ["main", "canary", "mirror"]
    main, canary, mirror = dep.predictors
    assert (main.replicas_desired, main.traffic, main.model_uri, main.implementation) == (2, 75, "gs://models/iris/v2",
                                                                                         "SKLEARN_SERVER")
    assert canary.image == "registry/iris:3" and canary.traffic == 25
    assert mirror.shadow and "mirror:shadow" in dep.traffic_text
    assert dep.created is not None and dep.uid
    other = {d.name: d for d in items}["other"]
    assert other.protocol == "seldon" and other.replicas_text == "1/1" and other.address_url


def test_every_field_lands_where_it_belongs():
    """to_deployment passes the dataclass fields by position (it runs for every object of every list):
    every field gets a value of its own here, so a reordered field shows."""
    obj = {"metadata": {"name": "iris", "namespace": "models", "uid": "u-1", "resourceVersion": "42",
                        "creationTimestamp": "2026-11-01T10:00:00Z", "labels": {"team": "ml", "app": "iris"}},
           "spec": {"protocol": "kfserving", "predictors": [
               {"name": "main", "replicas": 3, "traffic": 90, "graph": {
                   "name": "clf", "implementation": "SKLEARN_SERVER", "modelUri": "gs://m/iris"},
                "componentSpecs": [{"spec": {"containers": [{"name": "clf", "image": "reg/iris:1"}]}}]}]},
           "status": {"state": "Failed", "description": "image pull", "address": {"url": "http://iris.models"},
                      "deploymentStatus": {"iris-main-abc": {"availableReplicas": 2}},
                      "conditions": [{"type": "Ready", "status": "False", "reason": "Pull", "message": "no image",
                                      "lastTransitionTime": "2026-11-02T11:30:00Z"}]}}
    d = to_deployment(obj)
    assert (d.namespace, d.name, d.state, d.reason, d.protocol, d.address_url, d.uid, d.resource_version) == (
        "models", "iris", "Failed", "image pull", "v2", "http://iris.models", "u-1", "42")
    assert d.created == datetime(2026, 11, 1, 10, 0, tzinfo=UTC)
    assert d.labels == (("app", "iris"), ("team", "ml"))
    (p,) = d.predictors
    assert (p.name, p.replicas_ready, p.replicas_desired, p.traffic, p.shadow, p.implementation, p.model_uri,
            p.image, p.model_name) == ("main", 2, 3, 90, False, "SKLEARN_SERVER", "gs://m/iris", "reg/iris:1", "clf")
    (c,) = d.conditions
    assert (c.type, c.status, c.reason, c.message, c.last_transition) == (
        "Ready", "False", "Pull", "no image", datetime(2026, 11, 2, 11, 30, tzinfo=UTC))


def test_flagged_when_available_but_a_condition_is_false():
    obj = {"metadata": {"name": "x", "namespace": "n"}, "spec": {"predictors": []},
           "status": {"state": "Available", "conditions": [{"type": "Ready", "status": "True"},
                                                           {"type": "ServicesReady", "status": "False",
                                                            "reason": "ServiceMissing"}]}}
    dep = to_deployment(obj)
    assert dep.flagged and dep.false_conditions[0].type == "ServicesReady"
    obj["status"]["conditions"][1]["status"] = "True"
    assert not to_deployment(obj).flagged


def test_watch_follows_create_status_and_delete(kubeconfig, namespace, kube_client, kube_api):
    b = backend(kubeconfig, [namespace])
    c = Collector(b.watch())
    try:
        first = c.next(lambda e: e.kind == RELISTED)
        assert first.deployments == ()
        create(kube_client, namespace, "live")
        c.next(lambda e: e.kind == ADDED and e.deployment.name == "live")
        ev = c.next(lambda e: e.kind == MODIFIED and e.deployment.state == AVAILABLE)
        assert ev.deployment.address_url.startswith("http://live-default.")
        kube_client.patch_namespaced_custom_object_status(GROUP, V, namespace, P, "live", {"status": {
            "state": "Failed", "description": "OOMKilled"}})
        ev = c.next(lambda e: e.kind == MODIFIED and e.deployment.state == FAILED)
        assert ev.deployment.reason == "OOMKilled"
        kube_client.delete_namespaced_custom_object(GROUP, V, namespace, P, "live")
        c.next(lambda e: e.kind == DELETED and e.deployment.name == "live")
    finally:
        c.stop()
    watches = [p for m, p in kube_api.requests if "watch=true" in p and namespace in p]
    assert watches and "resourceVersion=" in watches[0], "the watch must resume from the list's resourceVersion"


def test_expired_version_410_leads_to_clean_relist(kubeconfig, namespace, kube_client, kube_api):
    create(kube_client, namespace, "before")
    b = backend(kubeconfig, [namespace])
    c = Collector(b.watch())
    try:
        ev = c.next(lambda e: e.kind == RELISTED)
        assert [d.name for d in ev.deployments] == ["before"]
        create(kube_client, namespace, "probe")  # seen through the watch: the stream is open
        c.next(lambda e: e.kind == ADDED and e.deployment.name == "probe")
        # the stream drops; while the client is reconnecting one more deployment appears and the API
        # server forgets its history, so the version the client resumes from is gone (410)
        kube_api.watch_gate.clear()
        try:
            kube_api.store.break_watches()
            create(kube_client, namespace, "during")
            kube_api.store.compact()
        finally:
            kube_api.watch_gate.set()
        ev = c.next(lambda e: e.kind == RELISTED)
        assert {d.name for d in ev.deployments} == {"before", "probe", "during"}
        assert not [e for e in c.seen if e.kind == PROBLEM], "a 410 is not a problem to show, just a relist"
        create(kube_client, namespace, "after")
        c.next(lambda e: e.kind == ADDED and e.deployment.name == "after")
    finally:
        c.stop()


def test_dropped_watch_reconnects_with_backoff(kubeconfig, namespace, kube_client, kube_api):
    b = backend(kubeconfig, [namespace])
    c = Collector(b.watch())
    try:
        c.next(lambda e: e.kind == RELISTED)
        # the stream must be open before it is broken, or the 503s go to the watch request itself: an event
        # that only the open stream can bring shows it is
        create(kube_client, namespace, "probe")
        c.next(lambda e: e.kind == ADDED and e.deployment.name == "probe")
        kube_api.fail_next.extend([503, 503])
        n = len(kube_api.requests)
        kube_api.store.break_watches()
        try:
            p1 = c.next(lambda e: e.kind == PROBLEM)
        except AssertionError:
            raise AssertionError(str(kube_api.requests[n - 3:])) from None
        p2 = c.next(lambda e: e.kind == PROBLEM)
        assert p1.error.status == 503 and "503" in str(p1.error)
        assert p2.retry_in == 2 * p1.retry_in, "backoff doubles"
        create(kube_client, namespace, "back")
        c.next(lambda e: e.kind == ADDED and e.deployment.name == "back")
    finally:
        c.stop()


def test_watch_over_several_namespaces(kubeconfig, kube_client, kube_api):
    ns1, ns2 = f"m1-{free_port()}", f"m2-{free_port()}"
    b = backend(kubeconfig, [ns1, ns2])
    c = Collector(b.watch())
    try:
        first = c.next(lambda e: e.kind == RELISTED)  # both namespaces' first lists, as one
        assert set(first.scope) == {ns1, ns2}
        create(kube_client, ns2, "two")
        ev = c.next(lambda e: e.kind == ADDED)
        assert ev.deployment.key == (ns2, "two")
    finally:
        c.stop()


def test_forbidden_names_verb_resource_namespace(kubeconfig, namespace, kube_api):
    kube_api.deny("list", "seldondeployments", namespace)
    try:
        with pytest.raises(Forbidden) as err:
            backend(kubeconfig, [namespace]).list_deployments()
        text = str(err.value)
        assert "list" in text and "seldondeployments" in text and namespace in text
        assert "cannot list resource" in err.value.detail  # the API server's own words
    finally:
        kube_api.denied.discard(("list", "seldondeployments", namespace))


def test_forbidden_cluster_wide_watch_is_a_problem_event(kubeconfig, kube_api):
    kube_api.deny("list", "seldondeployments", None)
    try:
        c = Collector(backend(kubeconfig, []).watch())
        try:
            ev = c.next(lambda e: e.kind == PROBLEM)
        finally:
            c.stop()
        assert isinstance(ev.error, Forbidden)
        assert "across all namespaces" in str(ev.error) and ":ns NAME" in str(ev.error)
    finally:
        kube_api.denied.discard(("list", "seldondeployments", None))


def test_unreachable_cluster(tmp_path):
    port = free_port()
    kc = tmp_path / "kc"
    kc.write_text(json.dumps({"apiVersion": "v1", "kind": "Config", "current-context": "c",
                              "clusters": [{"name": "c", "cluster": {"server": f"http://127.0.0.1:{port}"}}],
                              "users": [{"name": "u", "user": {"token": "t"}}],
                              "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}]}))
    with pytest.raises(Unreachable) as err:
        backend(kc, ["x"]).list_deployments()
    assert f"127.0.0.1:{port}" in str(err.value)


def test_kube_context_is_honoured(tmp_path, kube_api, namespace, kube_client):
    import yaml

    create(kube_client, namespace, "ctx")
    kc = kube_api.write_kubeconfig(tmp_path / "kc", context="real")
    cfg = yaml.safe_load(kc.read_text())
    cfg["contexts"].append({"name": "broken", "context": {"cluster": "nowhere", "user": "real-user"}})
    cfg["clusters"].append({"name": "nowhere", "cluster": {"server": f"http://127.0.0.1:{free_port()}"}})
    cfg["current-context"] = "broken"
    kc.write_text(yaml.safe_dump(cfg))
    b = backend(kc, [namespace], kube_context="real")
    assert [d.name for d in b.list_deployments().items] == ["ctx"]


def two_context_kubeconfig(kube_api, path):
    """A kubeconfig with the contexts `fake` (current) and `staging`, both on the fake API server."""
    import yaml

    kc = kube_api.write_kubeconfig(path, context="fake")
    cfg = yaml.safe_load(kc.read_text())
    cfg["contexts"].append({"name": "staging", "context": {"cluster": "fake-cluster", "user": "fake-user"}})
    kc.write_text(yaml.safe_dump(cfg))
    return kc


def test_a_context_the_kubeconfig_lacks_is_named_with_the_ones_it_has(tmp_path, kube_api, namespace):
    kc = two_context_kubeconfig(kube_api, tmp_path / "kc")
    b = backend(kc, [namespace], kube_context="prod")
    with pytest.raises(NotConfigured) as err:
        b.list_deployments()
    text = str(err.value)
    assert "'prod'" in text and "fake" in text and "staging" in text and "--kube-context" in text, text
    assert "Invalid kube-config" not in text
    # in a watch it is one problem, not retried: the stream ends
    n = len(kube_api.requests)
    events = list(b.watch())
    assert [e.kind for e in events] == [PROBLEM] and isinstance(events[0].error, NotConfigured)
    assert not events[0].retry_in
    assert len(kube_api.requests) == n
    # a kubeconfig whose current-context is gone says so too
    import yaml

    cfg = yaml.safe_load(kc.read_text())
    cfg["current-context"] = "gone"
    kc.write_text(yaml.safe_dump(cfg))
    with pytest.raises(NotConfigured, match="current-context 'gone'.*fake, staging"):
        backend(kc, [namespace]).list_deployments()


@pytest.mark.parametrize("scheme", ["http", "https"])  # the same client; a TLS URL fails the same way
def test_a_request_to_an_in_cluster_address_says_how_to_reach_it(kubeconfig, scheme):
    import uuid

    from backends.deployments import Deployment

    host = f"iris-{uuid.uuid4().hex[:8]}.models.svc.cluster.local"  # resolves only inside a cluster
    dep = Deployment(namespace="models", name="iris", protocol="v2", address_url=f"{scheme}://{host}:8000")
    with pytest.raises(Unreachable) as err:
        backend(kubeconfig).send(dep, '{"inputs": []}')
    text = str(err.value)
    assert f"{host} is an address inside the cluster" in text, text
    assert "ingress_url" in text and "--ingress-url" in text and "port-forward" in text
    assert err.value.detail  # the resolver's own words are kept


def test_yaml_redacts_secrets(kubeconfig, namespace, kube_client):
    manifest = seldon_deployment("secretive", namespace, model_uri="s3://admin:hunter2@bucket/iris",
                                 env=[{"name": "AWS_SECRET_ACCESS_KEY", "value": "hunter2"},
                                      {"name": "LOG_LEVEL", "value": "debug"},
                                      {"name": "DB_PASSWORD",
                                       "valueFrom": {"secretKeyRef": {"name": "db", "key": "pw"}}}],
                                 annotations={NO_SERVER: "true",
                                              "kubectl.kubernetes.io/last-applied-configuration": "{...hunter2...}"})
    kube_client.create_namespaced_custom_object(GROUP, V, namespace, P, manifest)
    text = backend(kubeconfig, [namespace]).get_yaml(namespace, "secretive")
    assert "hunter2" not in text
    assert "AWS_SECRET_ACCESS_KEY" in text and "<redacted>" in text
    assert "LOG_LEVEL" in text and "debug" in text  # not a secret
    assert "secretKeyRef" in text and "name: db" in text  # a reference, not the secret
    assert "s3://admin:<redacted>@bucket/iris" in text


def test_redact_leaves_plain_data_alone():
    obj = {"spec": {"replicas": 2, "name": "token-counter"}, "metadata": {"name": "a"}}
    assert redact(obj) == obj


def test_missing_deployment_is_not_found(kubeconfig, namespace):
    with pytest.raises(NotFound) as err:
        backend(kubeconfig, [namespace]).get_yaml(namespace, "ghost")
    assert "ghost" in str(err.value) and namespace in str(err.value)


@pytest.mark.timeout(120)
def test_real_model_server_pods_events_log_and_requests(kubeconfig, namespace, kube_client, seldon_controller,
                                                        iris_model_dir):
    create(kube_client, namespace, "iris", protocol="v2", model_uri=str(iris_model_dir), model_name="iris",
           annotations={})
    b = backend(kubeconfig, [namespace])
    dep = wait_for(lambda: next((d for d in b.list_deployments().items if d.state == AVAILABLE), None), 60, 0.2)
    assert dep.address_url.endswith("/v2/models/iris/infer")
    pods = b.pods(namespace, "iris")
    assert len(pods) == 1 and pods[0].phase == "Running" and pods[0].ready == "1/1"
    events = b.events(namespace, "iris")
    reasons = [e.reason for e in events]
    assert reasons.index("Available") < reasons.index("CreateResourceSuccess"), "newest first"
    assert "Scheduled" in reasons, "the pods' events are included"
    log = b.pod_log(namespace, pods[0].name, tail=50)
    assert "iris" in log and len(log.splitlines()) <= 50
    template = b.request_template(dep)
    assert template.source == "v2 metadata" and template.url == dep.address_url
    body = json.loads(template.body)
    assert body["inputs"][0]["shape"] == [1, 4] and len(body["inputs"][0]["data"]) == 4
    body["inputs"][0]["data"] = GOOD_ROW
    req, resp = b.send(dep, json.dumps(body))
    assert resp.status == 200 and resp.latency_s > 0
    assert json.loads(resp.body)["model_name"] == "iris"
    body["inputs"][0]["data"] = [1.0, 2.0, 3.0]
    body["inputs"][0]["shape"] = [1, 3]
    _, bad = b.send(dep, json.dumps(body))
    assert bad.status is not None and bad.status >= 400 and bad.body
    with pytest.raises(InvalidPayload) as err:
        b.send(dep, '{"inputs": [\n  {"name": "x",}\n]}')
    assert (err.value.line, err.value.column) == (2, 16)
    kube_client.delete_namespaced_custom_object(GROUP, V, namespace, P, "iris")
    wait_for(lambda: not b.pods(namespace, "iris"), 20, 0.2)


def test_model_that_cannot_load_goes_failed(kubeconfig, namespace, kube_client, seldon_controller, tmp_path):
    create(kube_client, namespace, "broken", model_uri=str(tmp_path / "nothing"), annotations={})
    b = backend(kubeconfig, [namespace])
    # a real MLServer tries to load it and fails: slow on a busy machine
    dep = wait_for(lambda: next((d for d in b.list_deployments().items if d.state == FAILED), None), 60, 0.1)
    assert "model.joblib" in dep.reason
    # the controller records the event and the pod's state just after the status: wait for them too
    warnings = wait_for(lambda: [e for e in b.events(namespace, "broken") if e.warning], 30, 0.1)
    assert warnings[0].reason == "ModelServerFailed"
    pods = wait_for(lambda: [p for p in b.pods(namespace, "broken") if p.reason == "CrashLoopBackOff"], 30, 0.1)
    assert pods


def test_ingress_url_shapes_the_prediction_url(kubeconfig, namespace, kube_client):
    create(kube_client, namespace, "gw", protocol="seldon")
    create(kube_client, namespace, "gw2", protocol="v2", model_name="clf")
    b = backend(kubeconfig, [namespace], ingress_url="http://gateway.local/")
    deps = {d.name: d for d in b.list_deployments().items}
    assert b.prediction_url(deps["gw"]) == f"http://gateway.local/seldon/{namespace}/gw/api/v1.0/predictions"
    assert b.prediction_url(deps["gw2"]) == f"http://gateway.local/seldon/{namespace}/gw2/v2/models/clf/infer"


def test_watch_ends_when_its_stop_event_is_set(kubeconfig, namespace):
    stop = threading.Event()
    c = Collector(backend(kubeconfig, [namespace]).watch(stop=stop))
    c.next(lambda e: e.kind == RELISTED)
    stop.set()
    c.thread.join(5)
    assert not c.thread.is_alive(), "the watch must end when its stop event is set"
