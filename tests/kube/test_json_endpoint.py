"""Plain JSON endpoints (`protocol = "json"`): the seed's Flask app serving its iris model, started once per
session on 127.0.0.1, tried through the `endpoints` backend and through the Deployments pane."""

from __future__ import annotations

import asyncio
import json
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from backends.deployments import AVAILABLE, ENDPOINT, FAILED
from backends.deployments.endpoints import EndpointDeployments
from backends.deployments.inference import template_body
from backends.errors import NotConfigured, Unreachable
from kube_helpers import IRIS_FEATURES, free_port

HERE = Path(__file__).resolve().parent
# the seed's curl example: a virginica
SEED_BODY = '{"sepal_length": 5.9, "sepal_width": 3.0, "petal_length": 5.1, "petal_width": 1.8}'
VIRGINICA = 2


@pytest.fixture(scope="session")
def flask_url(tmp_path_factory) -> str:
    """The seed's Flask app (tests/kube/flask_iris_app.py) on the seed's model, trained here; its base URL."""
    from sklearn.datasets import load_iris
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import train_test_split

    folder = tmp_path_factory.mktemp("flask")
    data = load_iris()
    x_train, _, y_train, _ = train_test_split(data["data"], data["target"], test_size=0.3, random_state=1234)
    model = RandomForestClassifier(n_estimators=300, random_state=1234).fit(x_train, y_train)
    (folder / "model.pkl").write_bytes(pickle.dumps(model))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = folder / "server.log"
    with open(log, "wb") as fh:
        proc = subprocess.Popen([sys.executable, str(HERE / "flask_iris_app.py"), str(folder / "model.pkl"),
                                 str(port)], stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, f"the Flask app exited:\n{log.read_text(errors='replace')[-3000:]}"
            try:
                if httpx.get(f"{url}/requests", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, f"the Flask app did not answer:\n{log.read_text(errors='replace')}"
            time.sleep(0.2)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)


def seen(flask_url: str) -> list[list[str]]:
    """The requests the Flask app's model routes received: [method, path, body]."""
    return httpx.get(f"{flask_url}/requests", timeout=5).json()["requests"]


def endpoints(*entries) -> EndpointDeployments:
    return EndpointDeployments.from_settings({"endpoints": list(entries), "timeout": 10})


def only(backend: EndpointDeployments):
    items = backend.list_deployments().items
    assert len(items) == 1
    return items[0]


# ---- the backend --------------------------------------------------------------------------------------------
def test_the_seed_flask_app_answers_the_configured_example(flask_url):
    b = endpoints({"name": "iris-flask", "url": f"{flask_url}/predict", "protocol": "json", "example": SEED_BODY})
    dep = only(b)
    # a GET on a POST-only route answers 405: the server is up
    assert dep.state == AVAILABLE and dep.protocol == "json" and dep.implementation == "JSON over HTTP"
    assert (dep.kind, dep.kind_short, dep.key) == (ENDPOINT, "url", ("endpoints", "iris-flask"))  # not a cluster's
    template = b.request_template(dep)
    assert (template.url, template.method, template.source) == (f"{flask_url}/predict", "POST", "example")
    assert template.body == '{\n  "sepal_length": 5.9,\n  "sepal_width": 3.0,\n  "petal_length": 5.1,\n' \
                            '  "petal_width": 1.8\n}'  # the one-line example laid out for the editor
    shown = b.get_yaml("endpoints", "iris-flask")
    assert "protocol: json" in shown and "method: POST" in shown and "example_file" not in shown  # keys given
    typed = '{"sepal_length":5.9,  "sepal_width": 3.0,\n "petal_length": 5.1, "petal_width": 1.8}'
    before = len(seen(flask_url))
    request, response = b.send(dep, typed)
    assert response.status == 200 and json.loads(response.body) == {"result": [VIRGINICA]}
    assert response.pretty_body == '{\n  "result": [2]\n}'
    assert request.method == "POST" and request.url == f"{flask_url}/predict"
    assert seen(flask_url)[before:] == [["POST", "/predict", typed]]  # sent exactly as typed


def test_put_plain_text_and_http_errors(flask_url):
    b = endpoints({"name": "put", "url": f"{flask_url}/predict", "protocol": "json", "method": "put"})
    dep = only(b)
    template = b.request_template(dep)
    assert template.method == "PUT" and template.body == "{}" and template.source == "default"
    before = len(seen(flask_url))
    request, response = b.send(dep, SEED_BODY)
    assert request.method == "PUT" and response.status == 200
    assert seen(flask_url)[before:] == [["PUT", "/predict", SEED_BODY]]
    # the seed's app has no answer for a missing feature: Flask's 500 page, shown with its status
    _, error = b.send(dep, '{"sepal_length": 5.9}')
    assert error.status == 500 and not error.ok and "Internal Server Error" in error.body

    text = endpoints({"name": "text", "url": f"{flask_url}/predict-text", "protocol": "json"})
    _, answer = text.send(only(text), SEED_BODY)
    assert answer.status == 200 and answer.pretty_body == "virginica"
    assert answer.content_type.startswith("text/plain")


def test_a_wrong_path_and_a_server_that_is_not_there(flask_url):
    wrong = endpoints({"name": "wrong", "url": f"{flask_url}/predictions", "protocol": "json"})
    dep = only(wrong)
    assert dep.state == FAILED and "404" in dep.reason
    port = free_port()
    down = endpoints({"name": "down", "url": f"http://127.0.0.1:{port}/predict", "protocol": "json"})
    dep = only(down)
    assert dep.state == FAILED and f"127.0.0.1:{port}" in dep.reason
    with pytest.raises(Unreachable) as err:
        down.send(dep, SEED_BODY)
    assert f"127.0.0.1:{port}/predict" in str(err.value)


def test_settings_are_checked():
    url = "http://127.0.0.1:1/predict"
    with pytest.raises(NotConfigured) as err:
        endpoints({"name": "x", "url": url, "protocol": "grpc"})
    assert "'grpc'" in str(err.value) and "seldon, v2, mlflow, json" in str(err.value)
    with pytest.raises(NotConfigured) as err:
        endpoints({"name": "x", "url": url, "protocol": "json", "method": "GET"})
    assert "'GET'" in str(err.value) and "POST (the default) or PUT" in str(err.value)
    with pytest.raises(NotConfigured) as err:
        endpoints({"name": "x", "url": url, "protocol": "v2", "method": "PUT"})
    assert "json endpoints only" in str(err.value)
    with pytest.raises(NotConfigured) as err:
        endpoints({"name": "x", "url": url, "protocol": "json", "example": '{"a": 1,}'})
    assert "example is not valid JSON" in str(err.value)


def test_an_example_file_is_read_at_each_request_and_a_missing_one_is_named(tmp_path):
    from backends.deployments import Deployment

    example = tmp_path / "iris.json"
    b = endpoints({"name": "x", "url": "http://127.0.0.1:1/predict", "protocol": "json",
                   "example_file": str(example)})
    dep = Deployment(namespace="endpoints", name="x", protocol="json", address_url="http://127.0.0.1:1/predict")
    with pytest.raises(NotConfigured) as err:
        b.request_template(dep)
    assert f"cannot read example_file {example}" in str(err.value) and "No such file" in str(err.value)
    example.write_text(SEED_BODY)
    template = b.request_template(dep)
    assert template.body == SEED_BODY and template.source == "iris.json"  # a file's text as it is
    # any protocol may have an example: it replaces the template built from metadata (none is asked for)
    v2 = endpoints({"name": "y", "url": "http://127.0.0.1:1", "protocol": "v2", "example": '{\n"inputs": []}'})
    dep = Deployment(namespace="endpoints", name="y", protocol="v2", address_url="http://127.0.0.1:1")
    template = v2.request_template(dep)
    assert template.body == '{\n"inputs": []}' and template.url == "http://127.0.0.1:1/v2/models/y/infer"


def test_a_json_template_from_a_signature_names_the_features():
    body = json.loads(template_body("json", "iris", features=IRIS_FEATURES, types=("double",) * 4))
    assert body == dict.fromkeys(IRIS_FEATURES, 0.0)


# ---- the pane -----------------------------------------------------------------------------------------------
def make_app(endpoints_):
    from console.app import make_app as make
    from console.config import Config, Context

    context = Context(name="k", deployments_backend="endpoints", endpoints=endpoints_, timeout=15)
    config = Config(default_context="k", contexts={"k": context})
    return make(config, config.context(None, environ={}), initial_pane="deployments", cursor_blink=False)


async def wait_for(pilot, condition, what: str, timeout: float = 30.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not (value := condition()):
        if loop.time() > deadline:
            raise AssertionError(f"{what} not seen in time")
        await pilot.pause(0.05)
    return value


def status(app) -> str:
    from widgets.status import StatusBar

    return app.current_pane().query_one("#status", StatusBar).text


def row_states(app) -> dict[str, str]:
    table = app.current_pane().query_one("#deployments")
    state = table.column_keys.index("state")
    return {str(row[1]): str(row[state]) for row in (table.get_row_at(i) for i in range(table.row_count))}


async def test_a_json_endpoint_in_the_pane(flask_url, tmp_path, screen_text):
    from console.config import Endpoint
    from console.panes.deployments.views import RequestView
    from widgets.request_editor import RequestEditor

    example = tmp_path / "iris.json"
    example.write_text('{\n  "sepal_length": 5.9,\n  "sepal_width": 3.0,\n  "petal_length": 5.1,\n'
                       '  "petal_width": 1.8\n}')
    missing = tmp_path / "gone.json"
    app = make_app((Endpoint("iris-flask", f"{flask_url}/predict", "json", example_file=str(example)),
                    Endpoint("iris-other", f"{flask_url}/predict", "json", example_file=str(missing))))
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: row_states(app).get("iris-flask") == AVAILABLE, "the endpoint Available")
        table = app.current_pane().query_one("#deployments")
        assert str(table.get_row_at(0)[table.column_keys.index("kind")]) == "url"
        await pilot.press("t")
        view = await wait_for(pilot, lambda: isinstance(app.screen, RequestView) and app.screen, "the request view")
        editor = view.query_one("#editor", RequestEditor)
        assert editor.text == example.read_text()
        text = screen_text(app)
        assert "protocol json  template: iris.json" in text and f"POST {flask_url}/predict" in text
        before = len(seen(flask_url))
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: view.history, "the answer")
        assert view.history[0].response.status == 200
        assert json.loads(view.history[0].response.body) == {"result": [VIRGINICA]}
        await wait_for(pilot, lambda: "History (1)" in screen_text(app), "the history row")
        assert "HTTP 200" in screen_text(app) and '"result": [2]' in screen_text(app)
        assert [r[:2] for r in seen(flask_url)[before:]] == [["POST", "/predict"]]

        # a body that is not JSON is refused in the editor: the app never sees it
        editor.load_text('{"sepal_length": 5.9,')
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "nothing was sent" in screen_text(app), "the refusal")
        assert len(seen(flask_url)) == before + 1 and len(view.history) == 1

        # an example file that is not there is said, by name, and nothing else stops
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, RequestView), "the request view closed")
        await pilot.press("j", "t")
        await wait_for(pilot, lambda: f"cannot read example_file {missing}" in status(app), "the missing file")
        assert not isinstance(app.screen, RequestView) and row_states(app)["iris-flask"] == AVAILABLE
