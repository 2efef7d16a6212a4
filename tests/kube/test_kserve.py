"""KServe InferenceServices beside SeldonDeployments: the official client through a real kubeconfig to the fake
Kubernetes API server, whose simulated KServe controller loads each InferenceService's model into one real
MLServer behind a gateway that routes by the Host header, as a KServe ingress gateway does."""

from __future__ import annotations

import json

from backends.deployments import AVAILABLE, CREATING, FAILED, INFERENCE_SERVICE, RELISTED, SELDON_DEPLOYMENT
from backends.deployments.kube import KubernetesDeployments, to_inference_service
from console.panes.deployments.views import PodsEventsView, RequestView
from fake_kube_api import GROUP, HOLD, KSERVE_GROUP, KSERVE_VERSION, NO_SERVER, inference_service, seldon_deployment
from kube_helpers import GOOD_ROW
from test_deployments_pane import make, pane, status, wait_for
from widgets.request_editor import RequestEditor
from widgets.views import TextView

ISVC = "inferenceservices"


def rows(app) -> dict[str, dict[str, str]]:
    """Each row's cells by column key, by name."""
    table = pane(app).query_one("#deployments")
    keys = table.column_keys
    found = {}
    for i in range(table.row_count):
        cells = dict(zip(keys, (str(c) for c in table.get_row_at(i))))
        found[cells["name"]] = cells
    return found


def cell(app, name: str, column: str) -> str:
    return rows(app).get(name, {}).get(column, "")


def create_isvc(kube_client, ns: str, name: str, **kw) -> None:
    kube_client.create_namespaced_custom_object(KSERVE_GROUP, KSERVE_VERSION, ns, ISVC,
                                                inference_service(name, ns, **kw))


def create_sdep(kube_client, ns: str, name: str) -> None:
    kube_client.create_namespaced_custom_object(GROUP, "v1", ns, "seldondeployments",
                                                seldon_deployment(name, ns, annotations={NO_SERVER: "true"}))


def test_an_inference_service_reads_as_kserve_reports_it():
    obj = {"metadata": {"name": "flowers", "namespace": "ml", "creationTimestamp": "2026-01-01T00:00:00Z",
                        "annotations": {"serving.kserve.io/deploymentMode": "RawDeployment"}},
           "spec": {"predictor": {"canaryTrafficPercent": 10, "sklearn": {"storageUri": "gs://models/flowers/2"}}},
           "status": {"url": "http://flowers.ml.example.com",
                      "address": {"url": "http://flowers.ml.svc.cluster.local"},
                      "conditions": [{"type": "PredictorReady", "status": "True"},
                                     {"type": "IngressReady", "status": "True"}, {"type": "Ready", "status": "True"}],
                      "components": {"predictor": {
                          "latestReadyRevision": "flowers-predictor-00002",
                          "latestCreatedRevision": "flowers-predictor-00002",
                          "traffic": [{"tag": "prev", "revisionName": "flowers-predictor-00001", "percent": 90},
                                      {"tag": "latest", "revisionName": "flowers-predictor-00002", "percent": 10,
                                       "latestRevision": True}]}},
                      "modelStatus": {"transitionStatus": "UpToDate"}}}
    d = to_inference_service(obj)
    assert (d.kind, d.kind_short, d.state, d.protocol) == (INFERENCE_SERVICE, "isvc", AVAILABLE, "kserve")
    assert d.traffic_text == "prev:90% latest:10%" and d.implementation == "sklearn"
    assert d.model_text == "gs://models/flowers/2" and d.key == ("ml", "flowers", INFERENCE_SERVICE)
    details = dict(d.details)
    assert details["mode"] == "RawDeployment" and details["revision"] == "flowers-predictor-00002"
    assert details["canary"] == "10%" and details["model"] == "UpToDate"
    # KServe v1 through the ingress: the gateway's URL, the model's path, and the service's host as Host
    b = KubernetesDeployments(ingress_url="http://gateway.local:8080/")
    assert b.prediction_url(d) == "http://gateway.local:8080/v1/models/flowers:predict"
    assert ("Host", "flowers.ml.example.com") in b.request_headers(d)
    # straight to status.address.url: no Host header of another name
    direct = KubernetesDeployments()
    assert direct.prediction_url(d) == "http://flowers.ml.svc.cluster.local/v1/models/flowers:predict"
    assert all(k != "Host" for k, _ in direct.request_headers(d))
    # a model that cannot load: the failing condition's reason and message, and the last failure
    obj["status"]["conditions"] = [{"type": "PredictorReady", "status": "False", "reason": "RevisionFailed",
                                    "message": "Container failed"}, {"type": "Ready", "status": "False"}]
    obj["status"]["modelStatus"] = {"transitionStatus": "BlockedByFailedLoad",
                                    "lastFailureInfo": {"reason": "ModelLoadFailed", "message": "no model"}}
    d = to_inference_service(obj)
    assert d.state == FAILED and d.reason == "PredictorReady: RevisionFailed: Container failed"
    assert dict(d.details)["last failure"] == "ModelLoadFailed: no model"


async def test_a_mixed_cluster_follows_conditions_and_routes_requests_by_host(
        kubeconfig, namespace, kube_client, kube_api, kserve_controller, iris_model_dir, tmp_path, screen_text):
    create_sdep(kube_client, namespace, "churn")
    create_isvc(kube_client, namespace, "iris", storage_uri=str(iris_model_dir),
                annotations={"serving.kserve.io/deploymentMode": "RawDeployment", "api-token": "s3cr3t-value"})
    create_isvc(kube_client, namespace, "broken", storage_uri=str(tmp_path / "no-model-here"))
    create_isvc(kube_client, namespace, "held", storage_uri=str(iris_model_dir), annotations={HOLD: "true"})
    app = make(kubeconfig=str(kubeconfig), namespaces=(namespace,), ingress_url=kserve_controller.gateway_url)
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: cell(app, "iris", "state") == AVAILABLE, 90, "the real MLServer loaded iris")
        await wait_for(pilot, lambda: cell(app, "broken", "state") == FAILED, what="the failing predictor")
        assert {n: r["kind"] for n, r in rows(app).items()} == {"churn": "sdep", "iris": "isvc", "broken": "isvc",
                                                                "held": "isvc"}
        assert cell(app, "broken", "reason").startswith("PredictorReady: RevisionFailed: Revision")
        assert "no model.joblib" in cell(app, "broken", "reason")
        assert cell(app, "iris", "impl") == "sklearn/kserve-mlserver" and cell(app, "iris", "protocol") == "v2"
        # rolling out: its conditions Unknown; then as the conditions change, so does the row
        assert cell(app, "held", "state") == CREATING
        ts = "2026-01-01T00:00:00Z"
        kube_client.patch_namespaced_custom_object_status(KSERVE_GROUP, KSERVE_VERSION, namespace, ISVC, "held", {
            "status": {"url": f"http://held.{namespace}.example.com", "conditions": [
                {"type": t, "status": "True", "lastTransitionTime": ts}
                for t in ("IngressReady", "PredictorReady", "Ready")]}})
        await wait_for(pilot, lambda: cell(app, "held", "state") == AVAILABLE, what="Ready=True")
        kube_client.patch_namespaced_custom_object_status(KSERVE_GROUP, KSERVE_VERSION, namespace, ISVC, "held", {
            "status": {"conditions": [
                {"type": "IngressReady", "status": "False", "reason": "IngressNotConfigured",
                 "message": "no gateway", "lastTransitionTime": ts},
                {"type": "Ready", "status": "False", "reason": "IngressNotConfigured", "lastTransitionTime": ts}]}})
        await wait_for(pilot, lambda: cell(app, "held", "state") == FAILED, what="Ready=False")
        assert cell(app, "held", "reason") == "IngressReady: IngressNotConfigured: no gateway"
        # a canary rollout of iris: the traffic splits between its previous and latest revisions
        kube_client.patch_namespaced_custom_object(KSERVE_GROUP, KSERVE_VERSION, namespace, ISVC, "iris", {
            "spec": {"predictor": {"canaryTrafficPercent": 20}}})
        # (without the tag-routing annotation KServe tags only the previous revision)
        await wait_for(pilot, lambda: cell(app, "iris", "traffic") == "prev:80% iris-predictor-00002:20%", 60,
                       "the canary split")
        assert cell(app, "iris", "state") == AVAILABLE
        # a test request through the gateway, with iris's host name as Host: the real MLServer's answer
        table = pane(app).query_one("#deployments")
        table.move_cursor(row=pane(app)._rows.index((namespace, "iris", INFERENCE_SERVICE)))
        await pilot.pause()
        shown = " ".join(screen_text(app).split())  # the detail line (wrapped): its URL, mode and revisions
        assert f"URL: http://iris.{namespace}.example.com mode: RawDeployment" in shown
        assert "revision: iris-predictor-00002" in shown and "canary: 20% model: UpToDate" in shown
        # y: its YAML, secrets redacted; v: its predictor's pods and its events
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, TextView), what="YAML view")
        shown = screen_text(app)
        assert "kind: InferenceService" in shown and "<redacted>" in shown and "s3cr3t-value" not in shown
        await pilot.press("escape")
        await pilot.press("v")
        await wait_for(pilot, lambda: isinstance(app.screen, PodsEventsView), what="pods view")
        shown = screen_text(app)
        assert "iris-predictor-00001-deployment-" in shown and "InferenceServiceReady" in shown
        assert "churn" not in shown and "broken" not in shown
        await pilot.press("escape")
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, RequestView), what="request editor")
        view = app.screen
        editor = view.query_one("#editor", RequestEditor)
        body = json.loads(editor.text)
        assert body["inputs"][0]["shape"] == [1, 4], "shaped by the v2 metadata, read through the gateway"
        assert f"/v2/models/iris/infer  Host: iris.{namespace}.example.com" in screen_text(app)
        body["inputs"][0]["data"] = GOOD_ROW
        editor.load_text(json.dumps(body))
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: len(view.history) == 1, what="response")
        exchange = view.history[0]
        assert exchange.request.url == f"{kserve_controller.gateway_url}/v2/models/iris/infer"
        assert ("Host", f"iris.{namespace}.example.com") in exchange.request.headers
        assert exchange.response.status == 200, exchange.response.body
        assert json.loads(exchange.response.body)["model_name"] == "iris"
        assert kserve_controller.hosts_seen[-1] == f"iris.{namespace}.example.com"
        await pilot.press("escape")
        # :kind narrows the table; / filters across kinds
        app.run_command_line("kind isvc")
        await wait_for(pilot, lambda: set(rows(app)) == {"iris", "broken", "held"}, what=":kind isvc")
        app.run_command_line("kind sdep")
        await wait_for(pilot, lambda: set(rows(app)) == {"churn"}, what=":kind sdep")
        app.run_command_line("kind all")
        await wait_for(pilot, lambda: len(rows(app)) == 4, what=":kind all")
        await pilot.press("slash", *"available", "enter")
        await wait_for(pilot, lambda: set(rows(app)) == {"churn", "iris"}, what="/ across kinds")
        assert "Pods/events" in screen_text(app)


async def test_a_kind_that_may_not_be_listed_is_named_once_and_the_other_still_shows(
        kubeconfig, namespace, kube_client, kube_api, kserve_controller):
    create_sdep(kube_client, namespace, "churn")
    kube_api.deny("list", ISVC, namespace)
    b = KubernetesDeployments.from_settings({"kubeconfig": str(kubeconfig), "namespaces": [namespace]})
    try:
        listed = b.list_deployments()
        assert [(d.name, d.kind) for d in listed.items] == [("churn", SELDON_DEPLOYMENT)]
        assert len(listed.notes) == 1 and f"list inferenceservices in namespace '{namespace}'" in listed.notes[0]
        stream = b.watch()
        first = next(stream)  # the first lists of both kinds, as one (the table is built once)
        stream.stop()
        assert first.kind == RELISTED and set(first.kinds) == {SELDON_DEPLOYMENT, "InferenceService"}
        assert first.notes == listed.notes
        assert [d.name for d in first.deployments] == ["churn"]
    finally:
        b.close()
    app = make(kubeconfig=str(kubeconfig), namespaces=(namespace,))
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: "inferenceservices" in status(app) and cell(app, "churn", "kind") == "sdep",
                       what="the refusal said")
        assert status(app).count("not allowed") == 1 and "retrying" not in status(app), status(app)
    # once the service account may list them, both kinds list again with nothing to say
    kube_api.denied.discard(("list", ISVC, namespace))
    again = b.list_deployments()
    assert not again.notes and [d.name for d in again.items] == ["churn"]
