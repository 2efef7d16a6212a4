"""Test requests and the `endpoints` backend against real inference servers: MLServer (v2), the Seldon
Core v1 microservice, and `mlflow models serve`; each with a good and a bad payload."""

from __future__ import annotations

import json

import pytest

from backends.deployments import AVAILABLE, FAILED, RELISTED
from backends.deployments.endpoints import EndpointDeployments
from backends.deployments.inference import InvalidPayload, base_url, mlflow_signature, parse_payload
from backends.errors import BackendTimeout, NotConfigured, NotFound, Unreachable
from kube_helpers import GOOD_ROW, IRIS_FEATURES, free_port, slow_server


def endpoints(*entries, **extra) -> EndpointDeployments:
    return EndpointDeployments.from_settings({"endpoints": list(entries), "timeout": 5, **extra})


def only(backend: EndpointDeployments):
    items = backend.list_deployments().items
    assert len(items) == 1
    return items[0]


def test_no_endpoints_says_what_to_configure():
    with pytest.raises(NotConfigured) as err:
        EndpointDeployments.from_settings({})
    assert "endpoints" in str(err.value)
    with pytest.raises(NotConfigured) as err:
        endpoints({"name": "x", "url": "http://127.0.0.1:1", "protocol": "grpc"})
    assert "grpc" in str(err.value) and "seldon" in str(err.value)


def test_invalid_json_points_at_the_error():
    with pytest.raises(InvalidPayload) as err:
        parse_payload('{\n  "data": {"ndarray": [[1, 2,]]}\n}')
    assert (err.value.line, err.value.column) == (2, 30)
    assert "line 2, column 30" in str(err.value) and "nothing was sent" in str(err.value)


def test_base_url_strips_protocol_paths():
    assert base_url("http://h:1/api/v1.0/predictions") == "http://h:1"
    assert base_url("http://h:1/v2/models/iris/infer") == "http://h:1"
    assert base_url("http://h:1/seldon/ns/x/v2/models/infer") == "http://h:1/seldon/ns/x"
    assert base_url("http://h:1/invocations") == "http://h:1"
    assert base_url("http://h:1/") == "http://h:1"


def test_mlserver_v2_good_and_bad_payload(mlserver_url):
    b = endpoints({"name": "iris-v2", "url": mlserver_url, "protocol": "v2", "model": "iris"})
    dep = only(b)
    assert dep.state == AVAILABLE and dep.protocol == "v2"
    template = b.request_template(dep)
    assert template.url == f"{mlserver_url}/v2/models/iris/infer"
    assert template.source == "v2 metadata"
    body = json.loads(template.body)
    assert body["inputs"][0]["name"] == "input-0" and body["inputs"][0]["shape"] == [1, 4]
    body["inputs"][0]["data"] = GOOD_ROW
    _, resp = b.send(dep, json.dumps(body))
    assert resp.status == 200 and resp.ok
    out = json.loads(resp.body)["outputs"][0]
    assert out["data"] == [0]  # setosa
    assert '"outputs"' in resp.pretty_body and "\n" in resp.pretty_body
    body["inputs"][0].update(shape=[1, 3], data=[1.0, 2.0, 3.0])
    _, bad = b.send(dep, json.dumps(body))
    assert bad.status == 500 and not bad.ok
    assert "features" in bad.body  # the server's own words, as they are


def test_mlserver_unknown_model_answers_404(mlserver_url):
    b = endpoints({"name": "nope", "url": mlserver_url, "protocol": "v2", "model": "nope"})
    dep = only(b)
    assert dep.state == FAILED and "404" in dep.reason
    _, resp = b.send(dep, json.dumps({"inputs": []}))
    assert resp.status == 404


def test_seldon_v1_good_and_bad_payload(seldon_url):
    b = endpoints({"name": "iris-v1", "url": f"{seldon_url}/api/v1.0/predictions", "protocol": "seldon"})
    dep = only(b)
    assert dep.state == AVAILABLE
    template = b.request_template(dep)
    assert template.url == f"{seldon_url}/api/v1.0/predictions"
    assert template.source == "Seldon metadata" and template.features == tuple(IRIS_FEATURES)
    body = json.loads(template.body)
    assert body["data"]["names"] == IRIS_FEATURES and len(body["data"]["ndarray"][0]) == 4
    body["data"]["ndarray"] = [GOOD_ROW]
    _, resp = b.send(dep, json.dumps(body))
    assert resp.status == 200
    probs = json.loads(resp.body)["data"]["ndarray"][0]
    assert len(probs) == 3 and probs[0] > 0.9
    _, bad = b.send(dep, json.dumps({"foo": 1}))
    assert bad.status == 400 and json.loads(bad.body)["status"]["reason"] == "MICROSERVICE_BAD_DATA"
    _, wrong = b.send(dep, json.dumps({"data": {"ndarray": [[1, 2]]}}))
    assert wrong.status == 500 and "expecting 4 features" in wrong.body


def test_mlflow_scoring_good_and_bad_payload(mlflow_serve_url, mlflow_model_dir):
    b = endpoints({"name": "iris-mlflow", "url": mlflow_serve_url, "protocol": "mlflow",
                   "model_uri": str(mlflow_model_dir)})
    dep = only(b)
    assert dep.state == AVAILABLE
    template = b.request_template(dep)
    assert template.url == f"{mlflow_serve_url}/invocations" and template.source == "MLflow signature"
    body = json.loads(template.body)
    assert body["dataframe_split"]["columns"] == IRIS_FEATURES
    body["dataframe_split"]["data"] = [GOOD_ROW]
    _, resp = b.send(dep, json.dumps(body))
    assert resp.status == 200 and json.loads(resp.body)["predictions"] == [0]
    _, bad = b.send(dep, json.dumps({"dataframe_split": {"columns": ["a"], "data": [[1]]}}))
    assert bad.status == 400 and json.loads(bad.body)["error_code"] in ("BAD_REQUEST", "INVALID_PARAMETER_VALUE")


def test_mlflow_signature_read_without_a_server(mlflow_model_dir):
    names, types = mlflow_signature(str(mlflow_model_dir))
    assert list(names) == IRIS_FEATURES and set(types) == {"double"}
    assert mlflow_signature(f"file://{mlflow_model_dir}")[0] == names


def test_connection_refused_is_clear():
    port = free_port()
    b = endpoints({"name": "down", "url": f"http://127.0.0.1:{port}", "protocol": "v2", "model": "m"})
    dep = only(b)
    assert dep.state == FAILED and f"127.0.0.1:{port}" in dep.reason
    with pytest.raises(Unreachable) as err:
        b.send(dep, '{"inputs": []}')
    assert f"127.0.0.1:{port}" in str(err.value)
    assert "inside the cluster" not in str(err.value)  # only a cluster's own names get the ingress hint


def test_an_in_cluster_url_that_does_not_resolve_says_to_port_forward():
    import uuid

    host = f"iris-{uuid.uuid4().hex[:8]}.models.svc.cluster.local"
    b = endpoints({"name": "iris", "url": f"http://{host}:8000", "protocol": "v2", "model": "iris"})
    with pytest.raises(Unreachable) as err:
        b.send(only(b), '{"inputs": []}')
    text = str(err.value)
    assert f"{host} is an address inside the cluster" in text and "port-forward" in text, text
    assert "ingress_url" not in text  # this backend has no ingress to go through


@pytest.fixture
def slow():
    with slow_server(delay=2.0) as server:
        yield server


def test_timeout_is_clear_and_invalid_json_is_never_sent(slow):
    slow_server = slow.url
    b = EndpointDeployments.from_settings({"endpoints": [{"name": "slow", "url": slow_server, "protocol": "mlflow"}],
                                           "timeout": 0.5})
    from backends.deployments import Deployment

    dep = Deployment(namespace="endpoints", name="slow", protocol="mlflow", address_url=slow_server)
    with pytest.raises(InvalidPayload):
        b.send(dep, "{not json")
    assert slow.posts == 0, "invalid JSON must never reach the server"
    with pytest.raises(BackendTimeout) as err:  # the server would answer, 2 s later: the 0.5 s limit held
        b.send(dep, "{}")
    assert "0.5 s" in str(err.value)


def test_endpoints_watch_relists_then_reports_changes(mlserver_url):
    b = EndpointDeployments.from_settings({"endpoints": [
        {"name": "ok", "url": mlserver_url, "protocol": "v2", "model": "iris"}], "refresh_interval": 0.2})
    stream = b.watch()
    first = next(stream)
    assert first.kind == RELISTED and first.deployments[0].state == AVAILABLE
    stream.stop()
    with pytest.raises(StopIteration):
        next(stream)


def test_endpoints_have_no_pods_but_say_so(mlserver_url):
    b = endpoints({"name": "ok", "url": mlserver_url, "protocol": "v2", "model": "iris"})
    assert b.pods("endpoints", "ok") == () and b.events("endpoints", "ok") == ()
    with pytest.raises(NotFound):
        b.pod_log("endpoints", "x")
    assert "url:" in b.get_yaml("endpoints", "ok")


def test_seldon_tensor_template_is_accepted_by_the_real_microservice(seldon_url):
    from backends.deployments.inference import template_body

    body = json.loads(template_body("seldon", "iris", n_features=4, seldon_message="tensor"))
    assert body["data"]["tensor"]["shape"] == [1, 4]
    body["data"]["tensor"]["values"] = GOOD_ROW
    b = endpoints({"name": "iris-v1", "url": seldon_url, "protocol": "seldon"})
    _, resp = b.send(only(b), json.dumps(body))
    assert resp.status == 200 and "tensor" in json.loads(resp.body)["data"]


def test_mlflow_signature_from_the_model_registry(tmp_path, mlflow_model_dir):
    """`model_uri = "models:/iris/1"` with the context's mlflow_uri: the registry's model signature."""
    from mlflow.tracking import MlflowClient

    import mlflow

    uri = f"sqlite:///{tmp_path}/registry.db"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    run = client.create_run(client.create_experiment("deploy-sig", artifact_location=str(tmp_path / "art")))
    client.log_artifacts(run.info.run_id, str(mlflow_model_dir), "model")
    client.create_registered_model("iris")
    client.create_model_version("iris", f"{tmp_path}/art/{run.info.run_id}/artifacts/model", run.info.run_id)
    assert mlflow.get_tracking_uri() != uri  # nothing global was changed by the test
    names, types = mlflow_signature("models:/iris/1", uri)
    assert list(names) == IRIS_FEATURES and types == ("double",) * 4
    b = endpoints({"name": "reg", "url": "http://127.0.0.1:9", "protocol": "mlflow", "model_uri": "models:/iris/1"},
                  mlflow_uri=uri)
    from backends.deployments import Deployment

    template = b.request_template(Deployment("endpoints", "reg", protocol="mlflow", address_url="http://127.0.0.1:9"))
    assert template.source == "MLflow signature" and template.features == tuple(IRIS_FEATURES)
