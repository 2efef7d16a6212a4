"""Secrets in the Deployments pane: endpoint and ingress URLs with a password in front of a real MLServer,
and a SeldonDeployment whose manifest holds every kind of secret the YAML view must hide. Each test looks
at the screen at every step and greps every file the console wrote."""

from __future__ import annotations

import asyncio
import json
import logging

from backends.deployments import AVAILABLE
from console.app import make_app
from console.cli import start_log
from console.config import Config, Context, Endpoint
from console.history import state_dir
from console.panes.deployments.views import RequestView
from fake_kube_api import GROUP, NO_SERVER, seldon_deployment
from kube_helpers import GOOD_ROW
from tests.leak_check import files_holding, mode, server_answering_500
from widgets.request_editor import RequestEditor
from widgets.views import TextView

SIZE = (160, 45)


def make(**ctx):
    context = Context(name="k", timeout=15, **ctx)
    config = Config(default_context="k", contexts={"k": context})
    return make_app(config, config.context(None, environ={}), initial_pane="deployments", cursor_blink=False)


async def wait_for(pilot, condition, timeout=30.0, what=""):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"{what or 'condition'} not met in time")
        await pilot.pause(0.05)


def rendered(widget) -> str:
    return str(widget.render())


def row_state(app, name) -> str:
    table = app.current_pane().query_one("#deployments")
    for i in range(table.row_count):
        row = [str(c) for c in table.get_row_at(i)]
        if row[1] == name:
            return row[table.column_keys.index("state")]
    return ""


async def look_everywhere(pilot, name: str, screen_text) -> dict[str, str]:
    """Title, detail, y view, request dialog (with one request sent and the history saved): the text of each."""
    app = pilot.app
    await wait_for(pilot, lambda: row_state(app, name) == AVAILABLE, what=f"{name} Available")
    pane = app.current_pane()
    seen = {"title": rendered(pane.query_one("#deployments-title")), "detail": rendered(pane.query_one("#detail")),
            "pane": screen_text(app)}
    await pilot.press("y")
    await wait_for(pilot, lambda: isinstance(app.screen, TextView), what="YAML view")
    await pilot.pause()
    seen["yaml"] = screen_text(app) + "\n" + app.screen.body.code  # what is shown, and what scrolling shows
    seen["yaml status"] = pane.query_one("#status").text
    await pilot.press("escape")
    await pilot.press("t")
    await wait_for(pilot, lambda: isinstance(app.screen, RequestView), what="request dialog")
    view = app.screen
    seen["post"] = rendered(view.query_one("#url"))
    editor = view.query_one("#editor", RequestEditor)
    body = json.loads(editor.text)
    body["inputs"][0]["data"] = GOOD_ROW
    editor.load_text(json.dumps(body))
    await pilot.press("ctrl+s")
    await wait_for(pilot, lambda: view.history, what="an answer")
    await pilot.pause()
    seen["answer"] = screen_text(app)
    await pilot.press("ctrl+o")
    await pilot.pause()
    seen["saved"] = screen_text(app)
    await pilot.press("escape")
    seen["status"] = pane.query_one("#status").text
    return seen


async def test_an_endpoint_url_with_a_password(mlserver_url, tmp_path, monkeypatch, screen_text):
    password = "pw-Endp0int"
    monkeypatch.chdir(tmp_path)
    url = mlserver_url.replace("http://", f"http://ml-user:{password}@")
    log_path = tmp_path / "console.log"
    handler = start_log(str(log_path))
    try:
        app = make(deployments_backend="endpoints",
                   endpoints=(Endpoint(name="iris-local", url=url, protocol="v2", model="iris"),))
        async with app.run_test(size=SIZE) as pilot:
            seen = await look_everywhere(pilot, "iris-local", screen_text)
            assert app.screen.query_one("#status") is not None
    finally:
        logging.getLogger("mlops_console").removeHandler(handler)
        handler.close()
    masked = "ml-user:***@127.0.0.1"
    assert masked in seen["title"] and masked in seen["detail"] and masked in seen["post"], seen
    assert "HTTP 200" in seen["answer"]
    for where, text in seen.items():
        assert password not in text, where
    saved = tmp_path / "requests-endpoints-iris-local.jsonl"
    assert masked in saved.read_text() and mode(saved) == 0o600
    assert files_holding(password, tmp_path, state_dir()) == []


def every_kind_of_secret(name: str, namespace: str) -> dict:
    """A SeldonDeployment as people write them: secrets by name, in args and commands, in URLs, a JWT,
    a connection string, and one read from a Secret (never fetched)."""
    jwt = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJqd3Qtc2VjcmV0LTExIn0"
           ".c2lnbmF0dXJlLWp3dC1zZWNyZXQtMTE")
    env = [
        {"name": "GITHUB_PAT", "value": "secret-01-pat"},
        {"name": "ENCRYPTION_KEY", "value": "secret-02-key"},
        {"name": "SENTRY_DSN", "value": "https://secret03dsn@sentry.example/42"},
        {"name": "DATABASE_URL", "value": "postgresql://app:secret-04-url@db:5432/app"},
        {"name": "MSSQL_CONNECTION", "value": "Server=db;User Id=sa;Password=secret-05-conn;Database=m"},
        {"name": "UPSTREAM_HEADER", "value": f"Bearer {jwt}"},
        {"name": "SESSION", "value": jwt},
        {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db-credentials", "key": "password"}}},
        {"name": "KEYBOARD_LAYOUT", "value": "us-intl"},
        {"name": "LOG_LEVEL", "value": "debug"},
    ]
    manifest = seldon_deployment(name, namespace, protocol="v2", model_name="classifier", env=env,
                                 annotations={NO_SERVER: "true", "example.com/auth-token": "secret-06-annotation"})
    container = manifest["spec"]["predictors"][0]["componentSpecs"][0]["spec"]["containers"][0]
    container["args"] = ["--db-password=secret-07-args", "--api-key", "secret-08-args", "--port", "9000"]
    container["command"] = ["sh", "-c", "PGPASSWORD=secret-09-cmd psql -h db -c 'select 1' && exec serve"]
    manifest["spec"]["predictors"][0]["graph"]["parameters"] = [
        {"name": "api_token", "value": "secret-10-param", "type": "STRING"},
        {"name": "threshold", "value": "0.5", "type": "FLOAT"}]
    return manifest


SECRETS = ("secret-01", "secret-02", "secret03", "secret-04", "secret-05", "secret-06", "secret-07",
           "secret-08", "secret-09", "secret-10", "jwt-secret", "LXNlY3JldC0xMS", "c2lnbmF0dXJl")


async def test_an_ingress_url_with_a_password_and_a_manifest_full_of_secrets(
        kubeconfig, namespace, kube_client, kube_api, mlserver_url, tmp_path, monkeypatch, screen_text):
    password = "pw-Ingre55"
    monkeypatch.chdir(tmp_path)
    kube_client.create_namespaced_custom_object(GROUP, "v1", namespace, "seldondeployments",
                                                every_kind_of_secret("leaky", namespace))
    ingress = mlserver_url.replace("http://", f"http://gw-user:{password}@")
    log_path = tmp_path / "console.log"
    handler = start_log(str(log_path))
    kube_api.requests.clear()
    try:
        app = make(kubeconfig=str(kubeconfig), namespaces=(namespace,), ingress_url=ingress)
        async with app.run_test(size=SIZE) as pilot:
            seen = await look_everywhere(pilot, "leaky", screen_text)
    finally:
        logging.getLogger("mlops_console").removeHandler(handler)
        handler.close()
    masked = "gw-user:***@127.0.0.1"
    assert masked in seen["detail"] and masked in seen["post"], seen
    assert "HTTP 404" in seen["answer"], "the real MLServer answered (it has no /seldon/... path)"
    for where, text in seen.items():
        assert password not in text, where
    saved = tmp_path / f"requests-{namespace}-leaky.jsonl"
    assert masked in saved.read_text() and mode(saved) == 0o600
    assert files_holding(password, tmp_path, state_dir()) == []
    # the YAML view: every secret hidden, the names and what is not secret still there
    yaml_text = seen["yaml"]
    for secret in SECRETS:
        assert secret not in yaml_text, secret
    for kept in ("GITHUB_PAT", "ENCRYPTION_KEY", "SENTRY_DSN", "app:", "@db:5432/app", "Password=", "--db-password=",
                 "--api-key", "--port", "9000", "PGPASSWORD=", "psql -h db", "secretKeyRef", "db-credentials",
                 "us-intl", "debug", "api_token", "threshold", "0.5", "example.com/auth-token"):
        assert kept in yaml_text, kept
    assert "secrets redacted" in seen["yaml status"]
    # a value kept in a Secret is named, never read
    assert not [path for _method, path in kube_api.requests if "/secrets" in path]


async def test_a_failing_endpoint_with_a_password_is_named_without_it(tmp_path, monkeypatch, screen_text):
    # the health probe's failure quotes the URL it asked: in the table's reason and the detail under it
    password = "pw-Pr0be"
    monkeypatch.chdir(tmp_path)
    with server_answering_500() as port:
        app = make(deployments_backend="endpoints", endpoints=(
            Endpoint(name="broken", url=f"http://ep-user:{password}@127.0.0.1:{port}", protocol="v2", model="m"),))
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: row_state(app, "broken") == "Failed", what="the probe's 500")
            await pilot.pause()
            pane = app.current_pane()
            detail, text = rendered(pane.query_one("#detail")), screen_text(app)
    assert "ep-user:***@127.0.0.1" in detail and "HTTP 500" in detail
    assert password not in detail and password not in text
    assert files_holding(password, tmp_path, state_dir()) == []
