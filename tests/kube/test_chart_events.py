"""Events on a deployment's charts from the Kubernetes side (console/links.py ``Links.events``), through the
official client and the fake Kubernetes API with its simulated Seldon controller: the deployment's Events, its
conditions' transitions, and a state or spec change the console saw between two reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from backends.deployments import AVAILABLE
from backends.deployments.kube import KubernetesDeployments
from console.links import Links
from fake_kube_api import GROUP, NO_SERVER, seldon_deployment
from kube_helpers import wait_for


def test_conditions_events_and_a_state_seen_are_events_of_the_deployment(kubeconfig, kube_client, kube_api,
                                                                         namespace):
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)
    kube_client.create_namespaced_custom_object(GROUP, "v1", namespace, "seldondeployments", seldon_deployment(
        "iris", namespace, model_uri="gs://models/iris", annotations={NO_SERVER: "true"}))
    backend = KubernetesDeployments.from_settings({"kubeconfig": str(kubeconfig), "namespaces": [namespace],
                                                   "timeout": 5})
    links = Links(deployments=backend)
    try:
        def available():
            links.refresh()
            return next((d for d in links.deployment_list() if d.name == "iris" and d.state == AVAILABLE), None)

        d = wait_for(available)
        ready = next(c for c in d.conditions if c.type == "Ready")
        assert ready.last_transition is not None
        end = datetime.now(UTC) + timedelta(seconds=1)
        answer = links.events(d, start, end)
        assert answer.problems == ()
        texts = {str(e): e.at for e in answer.events}
        assert texts["deployment iris: condition Ready=True (Ready)"] == ready.last_transition
        assert any(t.startswith("deployment iris: CreateResourceSuccess: Created Deployment") for t in texts), texts
        assert any(t.startswith("deployment iris: Available: All model servers are ready") for t in texts), texts
        assert any(" pod iris-default-0-classifier-" in t and ": Scheduled: " in t for t in texts), texts
        assert [e.at for e in answer.events] == sorted((e.at for e in answer.events), reverse=True)
        # a window before it all: nothing
        assert links.events(d, start - timedelta(hours=1), start - timedelta(minutes=1)).events == ()

        # it fails; the next read sees the change (the API keeps no history of states: the console says it saw it)
        kube_client.patch_namespaced_custom_object_status(GROUP, "v1", namespace, "seldondeployments", "iris", {
            "status": {"state": "Failed", "description": "OOMKilled", "conditions": [
                {"type": "DeploymentsReady", "status": "False", "reason": "ModelServerFailed",
                 "lastTransitionTime": (datetime.now(UTC) + timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%SZ")}]}})

        def failed():
            links.refresh()
            return next((d for d in links.deployment_list() if d.name == "iris" and d.state == "Failed"), None)

        d = wait_for(failed)
        answer = links.events(d, start, datetime.now(UTC) + timedelta(seconds=5))
        texts = [str(e) for e in answer.events]
        assert "deployment iris: Available -> Failed (seen by the console)" in texts, texts
        assert "deployment iris: condition DeploymentsReady=False (ModelServerFailed)" in texts
        assert texts[0] == "deployment iris: condition DeploymentsReady=False (ModelServerFailed)"  # the newest

        # the events may not be read: said, and the rest is still there
        kube_api.deny("list", "events", namespace)
        links.refresh()
        d = next(d for d in links.deployment_list() if d.name == "iris")
        answer = links.events(d, start, datetime.now(UTC) + timedelta(seconds=5))
        assert len(answer.problems) == 1 and answer.problems[0].startswith("deployment: "), answer.problems
        assert "events" in answer.problems[0]
        assert "deployment iris: condition DeploymentsReady=False (ModelServerFailed)" in [str(e) for e in
                                                                                        answer.events]
        assert not any("CreateResourceSuccess" in str(e) for e in answer.events)

        # its spec changes (the API server bumps metadata.generation): what changed is said, with the generation
        assert d.generation == 1
        obj = kube_client.get_namespaced_custom_object(GROUP, "v1", namespace, "seldondeployments", "iris")
        obj["spec"]["predictors"][0]["replicas"] = 3
        kube_client.replace_namespaced_custom_object(GROUP, "v1", namespace, "seldondeployments", "iris", obj)

        def scaled():
            links.refresh()
            return next((d for d in links.deployment_list() if d.name == "iris" and d.generation == 2), None)

        d = wait_for(scaled)
        texts = [str(e) for e in links.events(d, start, datetime.now(UTC) + timedelta(seconds=5)).events]
        assert ("deployment iris: spec changed (generation 1 -> 2): replicas default 1 -> 3 (seen by the console)"
                in texts), texts
    finally:
        backend.close()


def test_a_traffic_shift_and_a_new_predictor_are_said_as_they_changed(kubeconfig, kube_client, namespace):
    """Canary 25% -> 50%, then a shadow predictor added: each an event naming what changed."""
    def predictor(name: str, traffic: int, **extra) -> dict:
        return {"name": name, "replicas": 1, "traffic": traffic, **extra, "graph": {
            "name": "classifier", "implementation": "SKLEARN_SERVER", "modelUri": f"gs://models/{name}",
            "type": "MODEL"}}

    kube_client.create_namespaced_custom_object(GROUP, "v1", namespace, "seldondeployments", seldon_deployment(
        "shop", namespace, annotations={NO_SERVER: "true"},
        predictors=[predictor("main", 75), predictor("canary", 25)]))
    backend = KubernetesDeployments.from_settings({"kubeconfig": str(kubeconfig), "namespaces": [namespace],
                                                   "timeout": 5})
    links = Links(deployments=backend)
    start = datetime.now(UTC) - timedelta(seconds=1)

    def read(generation: int):
        links.refresh()
        return next((d for d in links.deployment_list() if d.name == "shop" and d.generation == generation), None)

    def change(predictors: list[dict]) -> None:
        obj = kube_client.get_namespaced_custom_object(GROUP, "v1", namespace, "seldondeployments", "shop")
        obj["spec"]["predictors"] = predictors
        kube_client.replace_namespaced_custom_object(GROUP, "v1", namespace, "seldondeployments", "shop", obj)

    try:
        wait_for(lambda: read(1))
        change([predictor("main", 50), predictor("canary", 50)])
        wait_for(lambda: read(2))
        change([predictor("main", 50), predictor("canary", 50), predictor("mirror", 0, shadow=True)])
        d = wait_for(lambda: read(3))
        texts = [str(e) for e in links.events(d, start, datetime.now(UTC) + timedelta(seconds=5)).events
                 if "spec changed" in str(e)]
        assert texts == [
            "deployment shop: spec changed (generation 2 -> 3): predictor mirror added (seen by the console)",
            "deployment shop: spec changed (generation 1 -> 2): traffic main 75% -> 50%, traffic canary 25% -> 50% "
            "(seen by the console)"], texts
    finally:
        backend.close()
