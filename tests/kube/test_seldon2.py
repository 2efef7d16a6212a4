"""Seldon Core 2 Models, Pipelines and Experiments beside a SeldonDeployment and an InferenceService: the official
client through a real kubeconfig to the fake Kubernetes API server, whose simulated Seldon Core 2 controller loads
each Model into the KServe controller's real MLServer and routes requests by their Seldon-Model header, as
seldon-mesh does."""

from __future__ import annotations

import json

from backends.deployments import (
    AVAILABLE,
    CREATING,
    FAILED,
    RELISTED,
    SELDON_EXPERIMENT,
    SELDON_MODEL,
    SELDON_PIPELINE,
)
from backends.deployments.kube import (
    KubernetesDeployments,
    to_model_server,
    to_seldon_experiment,
    to_seldon_model,
    to_seldon_pipeline,
)
from console.panes.deployments.views import RequestView
from fake_kube_api import (
    HOLD,
    MLOPS_GROUP,
    MLOPS_VERSION,
    sc2_experiment,
    sc2_model,
    sc2_pipeline,
    sc2_server,
)
from kube_helpers import GOOD_ROW
from test_deployments_pane import make, pane, status, wait_for
from test_kserve import cell, create_isvc, create_sdep, rows
from widgets.request_editor import RequestEditor
from widgets.views import TextView


def create(kube_client, ns: str, plural: str, body: dict) -> None:
    kube_client.create_namespaced_custom_object(MLOPS_GROUP, MLOPS_VERSION, ns, plural, body)


def patch_status(kube_client, ns: str, plural: str, name: str, conditions: list[dict]) -> None:
    kube_client.patch_namespaced_custom_object_status(MLOPS_GROUP, MLOPS_VERSION, ns, plural, name,
                                                      {"status": {"conditions": conditions}})


def test_seldon_core_2_resources_read_as_their_status_says():
    model = to_seldon_model({
        "metadata": {"name": "iris", "namespace": "ml"},
        "spec": {"storageUri": "gs://seldon-models/iris", "requirements": ["sklearn"], "replicas": 2},
        "status": {"replicas": 2, "availableReplicas": 1, "selector": "server=mlserver",
                   "modelgwReady": "ModelAvailable",
                   "conditions": [{"type": "ModelReady", "status": "True", "reason": "ModelAvailable"},
                                  {"type": "Ready", "status": "True", "reason": "ModelAvailable"}]}})
    assert (model.kind, model.kind_short, model.state, model.protocol) == (SELDON_MODEL, "mlm", AVAILABLE, "v2")
    assert (model.replicas_text, model.implementation, model.model_text) == ("1/2", "sklearn", "gs://seldon-models/iris")
    assert dict(model.details)["server"] == "mlserver" and model.seldon_model_header == "iris"
    progressing = to_seldon_model({"metadata": {"name": "iris"}, "status": {"conditions": [
        {"type": "ModelReady", "status": "False", "reason": "ModelProgressing"}]}})
    assert progressing.state == CREATING
    pipeline = to_seldon_pipeline({
        "metadata": {"name": "chain", "namespace": "ml"},
        "spec": {"steps": [{"name": "a"}, {"name": "b", "inputs": ["a"]}], "output": {"steps": ["b"]}},
        "status": {"conditions": [
            {"type": "PipelineReady", "status": "False", "reason": "PipelineFailed", "message": "kafka unreachable"},
            {"type": "ModelsReady", "status": "True", "message": "Models all available"}]}})
    assert (pipeline.kind_short, pipeline.state, pipeline.replicas_text) == ("mlp", FAILED, "-")
    assert pipeline.reason == "PipelineReady: PipelineFailed: kafka unreachable" and pipeline.model_text == "a > b"
    assert pipeline.seldon_model_header == "chain.pipeline"
    experiment = to_seldon_experiment({
        "metadata": {"name": "ab", "namespace": "ml"},
        "spec": {"default": "iris", "candidates": [{"name": "iris", "weight": 3}, {"name": "iris2", "weight": 1}],
                 "mirror": {"name": "iris3", "percent": 10}},
        "status": {"conditions": [{"type": "ExperimentReady", "status": "True"},
                                  {"type": "MirrorReady", "status": "False", "reason": "Mirror not ready"}]}})
    assert (experiment.kind_short, experiment.state, experiment.flagged) == ("mlx", AVAILABLE, True)
    assert experiment.traffic_text == "iris:75% iris2:25% iris3:shadow"
    assert dict(experiment.details) == {"default": "iris", "weights": "iris=3 iris2=1", "mirror": "iris3 10%"}
    server = to_model_server({"metadata": {"name": "mlserver", "namespace": "ml"},
                              "spec": {"serverConfig": "mlserver", "replicas": 2},
                              "status": {"replicas": 1, "loadedModels": 3, "conditions": [
                                  {"type": "Ready", "status": "False", "reason": "not enough replicas"},
                                  {"type": "StatefulSetOrDeploymentReady", "status": "False",
                                   "reason": "not enough replicas"}]}})
    assert (server.state, server.replicas, server.desired, server.loaded_models) == (FAILED, 1, 2, 3)
    # through the ingress: its URL and the Seldon-Model header; else the namespace's seldon-mesh service
    b = KubernetesDeployments(ingress_url="http://mesh.local/")
    assert b.prediction_url(pipeline) == "http://mesh.local/v2/models/chain/infer"
    assert ("Seldon-Model", "chain.pipeline") in b.request_headers(pipeline)
    assert KubernetesDeployments().prediction_url(model) == "http://seldon-mesh.ml.svc.cluster.local/v2/models/iris/infer"


def detail_text(app) -> str:
    return " ".join(str(pane(app).query_one("#detail").render()).split())


def shown(screen_text, app) -> str:
    return " ".join(screen_text(app).split())


async def test_seldon_core_2_beside_seldon_and_kserve_follows_conditions_and_routes_by_seldon_model(
        kubeconfig, namespace, kube_client, kube_api, kserve_controller, seldon2_controller, iris_model_dir, tmp_path,
        screen_text):
    ns = namespace
    create_sdep(kube_client, ns, "churn")
    create_isvc(kube_client, ns, "flowers", storage_uri=str(iris_model_dir))
    create(kube_client, ns, "servers", sc2_server("mlserver", ns))
    for name in ("iris-a", "iris-b"):
        create(kube_client, ns, "models", sc2_model(name, ns, storage_uri=str(iris_model_dir)))
    create(kube_client, ns, "models", sc2_model("broken", ns, storage_uri=str(tmp_path / "nothing-here")))
    create(kube_client, ns, "models", sc2_model("held", ns, storage_uri=str(iris_model_dir),
                                                annotations={HOLD: "true"}))
    create(kube_client, ns, "pipelines", sc2_pipeline("chain", ["iris-b"], ns))
    create(kube_client, ns, "experiments", sc2_experiment("ab", {"iris-a": 50, "iris-b": 50}, ns, default="iris-a"))
    app = make(kubeconfig=str(kubeconfig), namespaces=(ns,), ingress_url=kserve_controller.gateway_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: cell(app, "iris-a", "state") == cell(app, "iris-b", "state") == AVAILABLE
                       and cell(app, "flowers", "state") == AVAILABLE, 90, "the models loaded in the real MLServer")
        await wait_for(pilot, lambda: cell(app, "broken", "state") == FAILED, what="the model that cannot load")
        await wait_for(pilot, lambda: cell(app, "chain", "state") == AVAILABLE and not cell(app, "chain", "reason")
                       and cell(app, "ab", "state") == AVAILABLE, what="the pipeline and experiment follow")
        assert {n: r["kind"] for n, r in rows(app).items()} == {
            "churn": "sdep", "flowers": "isvc", "iris-a": "mlm", "iris-b": "mlm", "broken": "mlm", "held": "mlm",
            "chain": "mlp", "ab": "mlx"}
        assert cell(app, "broken", "reason").startswith("ModelReady: ModelFailed: failed to load broken")
        assert "no model.joblib" in cell(app, "broken", "reason")
        assert cell(app, "iris-a", "replicas") == "1/1" and cell(app, "chain", "model") == "iris-b"
        assert cell(app, "ab", "traffic") == "iris-a:50% iris-b:50%"
        # a Model the scheduler is still placing, then loaded, then failed: the row follows its conditions live
        assert cell(app, "held", "state") == CREATING
        patch_status(kube_client, ns, "models", "held", [
            {"type": "ModelReady", "status": "True", "reason": "ModelAvailable"},
            {"type": "Ready", "status": "True", "reason": "ModelAvailable"}])
        await wait_for(pilot, lambda: cell(app, "held", "state") == AVAILABLE, what="ModelReady=True")
        patch_status(kube_client, ns, "models", "held", [
            {"type": "ModelReady", "status": "False", "reason": "ScheduleFailed",
             "message": "failed to schedule model held: no matching servers"},
            {"type": "Ready", "status": "False", "reason": "ScheduleFailed"}])
        await wait_for(pilot, lambda: cell(app, "held", "state") == FAILED, what="ModelReady=False")
        assert cell(app, "held", "reason") == ("ModelReady: ScheduleFailed: failed to schedule model held: "
                                               "no matching servers")
        # each kind's details fit the box under the table at 80x24
        table = pane(app).query_one("#deployments")
        for key, words in (((ns, "flowers", "InferenceService"), ("mode: Serverless", "model: UpToDate",
                                                                  "RoutesReady=True")),
                           ((ns, "iris-a", SELDON_MODEL), ("(Seldon-Model: iris-a)", "server: mlserver",
                                                           "modelgw: ModelAvailable")),
                           ((ns, "chain", SELDON_PIPELINE), ("steps: 1", "status: PipelineReady")),
                           ((ns, "ab", SELDON_EXPERIMENT), ("default: iris-a", "weights: iris-a=50 iris-b=50"))):
            table.move_cursor(row=pane(app)._rows.index(key))
            await pilot.pause()
            text = shown(screen_text, app)
            assert all(w in text for w in words), (words, detail_text(app))
        # the Server view: its replicas and the model replicas loaded on it (read once: after the controller has
        # counted the two models loaded, which can follow their own status on a busy machine)
        def loaded() -> int | None:
            server = kube_client.get_namespaced_custom_object(MLOPS_GROUP, MLOPS_VERSION, ns, "servers", "mlserver")
            return (server.get("status") or {}).get("loadedModels")

        await wait_for(pilot, lambda: loaded() == 2, what="the Server's count of loaded models")
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, TextView), what="the Servers view")
        assert "mlserver Available 1/1 2 mlserver" in shown(screen_text, app)
        await pilot.press("escape")
        # a test request to a Model through the gateway, routed by its Seldon-Model header
        table.move_cursor(row=pane(app)._rows.index((ns, "iris-a", SELDON_MODEL)))
        await pilot.pause()
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, RequestView), what="request editor")
        view = app.screen
        editor = view.query_one("#editor", RequestEditor)
        body = json.loads(editor.text)
        assert body["inputs"][0]["shape"] == [1, 4], "shaped by the v2 metadata, read through the mesh"
        assert "/v2/models/iris-a/infer  Seldon-Model: iris-a" in screen_text(app)
        body["inputs"][0]["data"] = GOOD_ROW
        editor.load_text(json.dumps(body))
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: len(view.history) == 1, what="response")
        exchange = view.history[0]
        assert exchange.request.url == f"{kserve_controller.gateway_url}/v2/models/iris-a/infer"
        assert ("Seldon-Model", "iris-a") in exchange.request.headers
        assert exchange.response.status == 200, exchange.response.body
        assert json.loads(exchange.response.body)["model_name"] == "iris-a_1"
        await pilot.press("escape")
        # a Pipeline: NAME.pipeline, to the model of its output step
        chain = pane(app).deployments[(ns, "chain", SELDON_PIPELINE)]
        request, response = pane(app).backend.send(chain, json.dumps(body))
        assert ("Seldon-Model", "chain.pipeline") in request.headers and request.url.endswith("/v2/models/chain/infer")
        assert response.status == 200 and json.loads(response.body)["model_name"] == "iris-b_1", response.body
        assert seldon2_controller.routed[-1] == ("chain.pipeline", "/v2/models/iris-b_1/infer")
        # :kind narrows the table to one of them, or all
        for arg, names in (("mlm", {"iris-a", "iris-b", "broken", "held"}), ("mlp", {"chain"}), ("mlx", {"ab"})):
            app.run_command_line(f"kind {arg}")
            await wait_for(pilot, lambda names=names: set(rows(app)) == names, what=f":kind {arg}")
        app.run_command_line("kind all")
        await wait_for(pilot, lambda: len(rows(app)) == 8, what=":kind all")


async def test_a_seldon_core_2_kind_that_may_not_be_listed_is_named_once(
        kubeconfig, namespace, kube_client, kube_api, seldon2_controller):
    create_sdep(kube_client, namespace, "churn")
    create(kube_client, namespace, "pipelines", sc2_pipeline("chain", ["iris"], namespace))
    kube_api.deny("list", "models", namespace)
    b = KubernetesDeployments.from_settings({"kubeconfig": str(kubeconfig), "namespaces": [namespace]})
    try:
        listed = b.list_deployments()
        assert sorted((d.name, d.kind_short) for d in listed.items) == [("chain", "mlp"), ("churn", "sdep")]
        assert len(listed.notes) == 1 and f"list models in namespace '{namespace}'" in listed.notes[0]
        stream = b.watch()
        first = next(stream)  # the first lists of SeldonDeployments, Models, Pipelines, Experiments, as one
        stream.stop()
        assert first.kind == RELISTED and len(first.kinds) == 4
        assert first.notes == listed.notes
        assert sorted(d.name for d in first.deployments) == ["chain", "churn"]
    finally:
        b.close()
    app = make(kubeconfig=str(kubeconfig), namespaces=(namespace,))
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: "models" in status(app) and cell(app, "chain", "kind") == "mlp",
                       what="the refusal said")
        assert status(app).count("not allowed") == 1 and "retrying" not in status(app), status(app)
