"""Canary vs main: the same request to each tagged revision of an InferenceService, the answers side by side.
The simulated KServe controller tags a canary's revisions as KServe does (``prev`` always, ``latest`` with the
tag-routing annotation) and its gateway routes each tag's host to that revision's own model in the real MLServer."""

from __future__ import annotations

import json

import pytest

from backends.deployments import AVAILABLE, INFERENCE_SERVICE
from backends.deployments.kube import KubernetesDeployments, to_inference_service
from console.panes.deployments.views import DIFF_MARK, RequestView, describe_revisions
from fake_kube_api import KSERVE_GROUP, KSERVE_VERSION, TAG_ROUTING
from kube_helpers import GOOD_ROW
from test_deployments_pane import make, pane, wait_for
from test_kserve import ISVC, cell, create_isvc
from widgets.request_editor import RequestEditor


@pytest.fixture(scope="module")
def shifted_iris_dir(tmp_path_factory):
    """An iris model trained on shifted labels: the same row gets another class than from the usual one."""
    import joblib
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    folder = tmp_path_factory.mktemp("iris-shifted")
    X, y = load_iris(return_X_y=True)
    joblib.dump(LogisticRegression(max_iter=300).fit(X, (y + 1) % 3), folder / "model.joblib")
    (folder / "inputs.json").write_text(json.dumps([{"name": "input-0", "datatype": "FP64", "shape": [-1, 4]}]))
    return folder


def test_tagged_traffic_targets_read_as_kserve_reports_them():
    obj = {"metadata": {"name": "flowers", "namespace": "ml"}, "spec": {"predictor": {"canaryTrafficPercent": 10}},
           "status": {"url": "http://flowers.ml.example.com", "components": {"predictor": {
               "previousRolledoutRevision": "flowers-predictor-00001",
               "latestRolledoutRevision": "flowers-predictor-00001",
               "traffic": [{"tag": "latest", "revisionName": "flowers-predictor-00002", "percent": 10,
                            "latestRevision": True, "url": "http://latest-flowers-predictor.ml.example.com"},
                           {"tag": "prev", "revisionName": "flowers-predictor-00001", "percent": 90,
                            "latestRevision": False, "url": "http://prev-flowers-predictor.ml.example.com"},
                           {"revisionName": "flowers-predictor-00003", "percent": 0}]}}}}
    d = to_inference_service(obj)
    assert [(r.tag, r.revision, r.percent, r.latest, r.rolled_out) for r in d.tag_targets] == [
        ("latest", "flowers-predictor-00002", 10, True, ""), ("prev", "flowers-predictor-00001", 90, False, "latest")]
    # through the ingress: its URL and the tag's host; else straight to the tag URL
    via = KubernetesDeployments(ingress_url="http://gw:8080")
    assert via.revision_url(d, d.tag_targets[1]) == "http://gw:8080/v1/models/flowers:predict"
    assert KubernetesDeployments().revision_url(d, d.tag_targets[0]) == (
        "http://latest-flowers-predictor.ml.example.com/v1/models/flowers:predict")


async def test_both_revisions_answer_side_by_side_and_without_tag_routing_nothing_is_sent(
        kubeconfig, namespace, kube_client, kube_api, kserve_controller, iris_model_dir, shifted_iris_dir,
        screen_text):
    create_isvc(kube_client, namespace, "canary", storage_uri=str(iris_model_dir), annotations={TAG_ROUTING: "true"})
    create_isvc(kube_client, namespace, "plain", storage_uri=str(iris_model_dir))
    app = make(kubeconfig=str(kubeconfig), namespaces=(namespace,), ingress_url=kserve_controller.gateway_url)
    async with app.run_test(size=(80, 24)) as pilot:
        for name in ("canary", "plain"):
            await wait_for(pilot, lambda name=name: cell(app, name, "state") == AVAILABLE, 90, f"{name} loaded")
            # the next generation: another model, 30% of the traffic
            kube_client.patch_namespaced_custom_object(KSERVE_GROUP, KSERVE_VERSION, namespace, ISVC, name, {
                "spec": {"predictor": {"canaryTrafficPercent": 30, "model": {"storageUri": str(shifted_iris_dir)}}}})
        await wait_for(pilot, lambda: cell(app, "canary", "traffic") == "prev:70% latest:30%", 90, "canary split")
        await wait_for(pilot, lambda: cell(app, "plain", "traffic").startswith("prev:70%"), 90, "plain split")
        await wait_for(pilot, lambda: cell(app, "canary", "state") == AVAILABLE, 60, "canary ready")

        async def open_request(name: str) -> RequestView:
            table = pane(app).query_one("#deployments")
            table.move_cursor(row=pane(app)._rows.index((namespace, name, INFERENCE_SERVICE)))
            await pilot.press("t")
            await wait_for(pilot, lambda: isinstance(app.screen, RequestView), what="request editor")
            view = app.screen
            editor = view.query_one("#editor", RequestEditor)
            body = json.loads(editor.text)
            body["inputs"][0]["data"] = GOOD_ROW
            editor.load_text(json.dumps(body))
            return view

        # without the tag-routing annotation only prev has a URL: ctrl+b says why, and sends nothing
        view = await open_request("plain")
        seen = len(kserve_controller.hosts_seen)
        await pilot.press("ctrl+b")
        await wait_for(pilot, lambda: "no tag URLs: set" in screen_text(app), what="the refusal")
        assert "enable-tag-routing" in screen_text(app)
        assert view.history == [] and len(kserve_controller.hosts_seen) == seen
        await pilot.press("escape")

        view = await open_request("canary")
        assert "ctrl+b both revisions" in screen_text(app)
        await pilot.press("ctrl+b")
        await wait_for(pilot, lambda: len(view.history) == 2 and not view.sending, 30, "both answers")
        by_host = {dict(ex.request.headers)["Host"]: ex for ex in view.history}
        prev_host, latest_host = (f"{t}-canary-predictor.{namespace}.example.com" for t in ("prev", "latest"))
        assert set(by_host) == {prev_host, latest_host}
        assert {prev_host, latest_host} <= set(kserve_controller.hosts_seen[seen:])
        answers = {h: json.loads(ex.response.body) for h, ex in by_host.items()}
        assert all(ex.response.status == 200 for ex in view.history), [ex.response.body for ex in view.history]
        # each revision's own model answered: the first generation's class 0, the shifted one's class 1
        assert answers[prev_host]["model_name"] == "canary-predictor-00001"
        assert answers[latest_host]["model_name"] == "canary-predictor-00002"
        assert answers[prev_host]["outputs"][0]["data"] == [0] and answers[latest_host]["outputs"][0]["data"] == [1]
        assert {ex.notes for ex in view.history} == {("revision canary-predictor-00001 (prev)",),
                                                      ("revision canary-predictor-00002 (latest)",)}
        # at 80x24 the answers are stacked, each with its revision, tag and share; the differing lines marked
        await wait_for(pilot, lambda: view._history_table.row_count == 2, what="both history rows")
        view.query_one("#response-scroll").scroll_home(animate=False)
        await pilot.pause()
        shown = screen_text(app)
        assert "Response: prev vs latest" in shown
        assert "prev  canary-predictor-00001" in shown and DIFF_MARK.strip() in shown
        # the same answers, wide: side by side, each line of one beside the other's
        exchanges = {ex.notes[0].split()[1]: ex for ex in view.history}
        pairs = [(rev, exchanges[rev.revision].response) for rev in view.deployment.tag_targets]
        stacked, wide = (rendered(describe_revisions(pairs, w), w) for w in (36, 120))
        for text in (stacked, wide):
            assert "latest  canary-predictor-00002  30%" in text and text.count("HTTP 200") == 2
            # marked: model_name, id and data on each side; the lines both answers share are not
            assert text.count(DIFF_MARK) == 6, text
            assert all(DIFF_MARK in line for line in text.splitlines() if '"data": [' in line or '"id":' in line)
            assert not any(DIFF_MARK in line for line in text.splitlines() if '"name": "predict"' in line)
        assert any("canary-predictor-00001" in line and "canary-predictor-00002" in line for line in wide.splitlines())
        assert not any("canary-predictor-00001" in line and "canary-predictor-00002" in line
                       for line in stacked.splitlines())


def rendered(renderable, width: int) -> str:
    from rich.console import Console

    console = Console(width=width, no_color=True, color_system=None, record=True, file=open("/dev/null", "w"))
    console.print(renderable)
    return console.export_text()
