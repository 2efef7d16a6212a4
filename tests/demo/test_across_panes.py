"""Links across the panes on the demo's real, linked systems: its DVC data versions, the 21 runs tagged with them,
the registered `diabetes` versions with `champion`, the two model servers serving `models:/diabetes@champion`, and
Prometheus scraping MLServer.

This module's name sorts before test_demo.py on purpose: that module stops the session's demo stack at its end."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from backends.registry import create
from console.demo import train as training, workspace as ws
from console.links import Links, Ref

pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def links(built_demo):
    s = built_demo.settings
    deployments = create("deployments", "endpoints", s)
    try:
        yield Links(create("data", "dvc", s), create("runs", "mlflow", s), deployments,
                    create("metrics", "prometheus", s))
    finally:
        deployments.close()


def _trained(built_demo) -> dict:
    return json.loads(training.result_file(built_demo.workspace).read_text())


def test_run_and_data_version_link_both_ways(built_demo, links):
    versions = {v.tag: v for v in ws.versions(built_demo.workspace)}
    runs = _trained(built_demo)["runs"]
    for run in runs[::7]:  # one run of each data version
        found = links.run_data(run["run_id"])
        version = versions[run["version"]]
        assert [link.target.key for link in found if link.target] == [(ws.DATA_FILE, version.commit)], found
        assert "data.dvc_md5" in found[0].evidence and "data.git_commit" in found[0].evidence
        assert run["version"] in found[0].target.label
        back = links.data_runs(ws.DATA_FILE, version.commit)
        expected = {r["run_id"] for r in runs if r["version"] == run["version"]}
        assert {link.target.key[0] for link in back if link.target} == expected
        assert all(link.target.pane == "runs" for link in back)


def test_registered_versions_and_their_deployments(built_demo, links):
    trained = _trained(built_demo)
    champion = trained["champion"]
    models = links.run_models(champion["run_id"])
    assert [link.target.key for link in models if link.target] == [(training.MODEL_NAME, champion["model_version"])]
    assert "@champion" in models[0].target.label
    assert links.model_run(training.MODEL_NAME, champion["model_version"])[0].target.key[0] == champion["run_id"]
    served = links.serving(model=(training.MODEL_NAME, champion["model_version"]))
    assert {link.target.key[1] for link in served if link.target} == {"diabetes-v2", "diabetes-mlflow"}
    assert "@champion points at v" + champion["model_version"] in served[0].evidence
    # a version that is not the champion is served by nothing, and says so
    other = next(r for r in trained["runs"] if r.get("model_version") and r["run_id"] != champion["run_id"])
    assert [link.target for link in links.serving(run_id=other["run_id"])] == [None]
    # the deployment's own menu: the version it serves, its run, its metrics
    d = next(d for d in links.deployment_list() if d.name == "diabetes-v2")
    menu = links.links_of(Ref("deployment", d.key, d.name))
    kinds = {link.target.kind: link.target.key for link in menu if link.target}
    assert kinds["model"] == (training.MODEL_NAME, champion["model_version"])
    assert kinds["run"][0] == champion["run_id"]
    assert kinds["metrics"] == d.key


def test_trace_shows_the_chain_end_to_end(built_demo, links):
    champion = _trained(built_demo)["champion"]
    version = next(v for v in ws.versions(built_demo.workspace) if v.tag == champion["version"])
    for spec in (f"{training.MODEL_NAME}@{training.ALIAS}", champion["run_id"], "diabetes-v2"):
        trace = links.trace(spec)
        assert [(o, v.rev) for o, v, _ in trace.data] == [(ws.DATA_FILE, version.commit)], spec
        assert trace.data[0][1].in_cache is not None
        assert trace.run is not None and trace.run.run_id == champion["run_id"]
        assert [v.version for v in trace.versions] == [champion["model_version"]]
        assert {d.name for d, _ in trace.deployments} == {"diabetes-v2", "diabetes-mlflow"}
    # MLServer's series carry no deployment label in the demo (it is scraped directly): said, not guessed
    deadline = time.monotonic() + 120
    while True:
        links.refresh()
        trace = links.trace("diabetes-v2")
        now = next(s for s in trace.serving if s.deployment == "diabetes-v2")
        if now.request_rate or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert now.request_rate and now.request_rate > 0, now
    assert now.p95_latency is not None and now.p95_latency > 0
    assert now.error_ratio is not None and 0 <= now.error_ratio < 1
    assert "no serving series are labelled deployment=diabetes-v2" in now.note


def test_a_run_without_data_tags_says_so(built_demo, links):
    api = f"{built_demo.settings['mlflow_uri']}/api/2.0/mlflow"
    with httpx.Client(timeout=30) as http:
        experiment = http.post(f"{api}/experiments/create", json={"name": "untagged"}).json()["experiment_id"]
        run_id = http.post(f"{api}/runs/create", json={"experiment_id": experiment}).json()["run"]["info"]["run_id"]
        # deleted again: the Runs pane of the demo test that follows opens the experiment written to last
        http.post(f"{api}/experiments/delete", json={"experiment_id": experiment}).raise_for_status()
    found = links.run_data(run_id)
    assert [link.target for link in found] == [None]
    assert found[0].evidence.startswith("no data version recorded for this run")
    trace = links.trace(run_id)
    assert trace.data == [] and any("no data version recorded" in n for n in trace.notes)
    assert any("no deployment" in n for n in trace.notes)
