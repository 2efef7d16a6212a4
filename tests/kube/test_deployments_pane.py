"""The Deployments pane driven by keys while the (fake) cluster changes underneath it: the official
client through a real kubeconfig to the fake Kubernetes API server, real MLServers behind it."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

from backends.deployments import AVAILABLE
from console.app import make_app
from console.config import Config, Context, Endpoint
from console.format import short_time
from console.panes.deployments.views import PodsEventsView, RequestView
from fake_kube_api import GROUP, NO_SERVER, seldon_deployment
from kube_helpers import GOOD_ROW, slow_server
from widgets.request_editor import RequestEditor
from widgets.status import StatusBar
from widgets.views import TextView

V = "v1"
P = "seldondeployments"


def make(**ctx):
    ctx.setdefault("timeout", 15)
    context = Context(name="k", **ctx)
    config = Config(default_context="k", contexts={"k": context})
    return make_app(config, config.context(None, environ={}), initial_pane="deployments", cursor_blink=False)


def pane(app):
    return app.current_pane()


def status(app) -> str:
    return pane(app).query_one("#status", StatusBar).text


async def wait_for(pilot, condition, timeout=20.0, what=""):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = condition()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"{what or 'condition'} not met in time; status: {status(pilot.app)!r}")
        await pilot.pause(0.05)


def table_rows(app) -> list[list[str]]:
    """Each row's cells but the kind column's (these are all SeldonDeployments; test_kserve.py reads kinds)."""
    table = pane(app).query_one("#deployments")
    kind = table.column_keys.index("kind")
    rows = []
    for i in range(table.row_count):
        rows.append([str(c) for j, c in enumerate(table.get_row_at(i)) if j != kind])
    return rows


def row_of(app, name):
    return next((r for r in table_rows(app) if r[1] == name), None)


def create(kube_client, ns, name, **kw):
    annotations = kw.pop("annotations", {NO_SERVER: "true"})
    kube_client.create_namespaced_custom_object(GROUP, V, ns, P, seldon_deployment(name, ns, annotations=annotations,
                                                                                   **kw))


async def test_table_follows_create_change_and_delete(kubeconfig, namespace, kube_client, screen_text):
    create(kube_client, namespace, "existing")
    app = make(kubeconfig=str(kubeconfig), namespaces=(namespace,))
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: (row_of(app, "existing") or [""] * 3)[2] == AVAILABLE, what="first list")
        assert "watching for changes" in status(app)
        create(kube_client, namespace, "newcomer", protocol="seldon")
        await wait_for(pilot, lambda: row_of(app, "newcomer"), what="ADDED")
        await wait_for(pilot, lambda: row_of(app, "newcomer")[2] == AVAILABLE, what="Creating -> Available")
        assert row_of(app, "newcomer")[3] == "1/1" and row_of(app, "newcomer")[4] == "seldon"
        kube_client.patch_namespaced_custom_object_status(GROUP, V, namespace, P, "newcomer", {"status": {
            "state": "Failed", "description": "ImagePullBackOff: registry unreachable"}})
        await wait_for(pilot, lambda: row_of(app, "newcomer")[2] == "Failed", what="MODIFIED")
        assert "ImagePullBackOff: registry unreachable" in row_of(app, "newcomer")[9]
        kube_client.patch_namespaced_custom_object_status(GROUP, V, namespace, P, "existing", {"status": {
            "conditions": [{"type": "Ready", "status": "True"},
                           {"type": "ServicesReady", "status": "False", "reason": "ServiceMissing"}]}})
        await wait_for(pilot, lambda: row_of(app, "existing")[2] == "Available !", what="flag")
        assert "ServicesReady=False: ServiceMissing" in row_of(app, "existing")[9]
        kube_client.delete_namespaced_custom_object(GROUP, V, namespace, P, "newcomer")
        await wait_for(pilot, lambda: row_of(app, "newcomer") is None, what="DELETED")
        assert f"{namespace}/newcomer deleted" in status(app)
        assert "existing" in screen_text(app)


async def test_a_state_the_watch_passes_through_is_an_event_on_the_deployments_charts(kubeconfig, namespace,
                                                                                      kube_client):
    """Failed for a moment, Available again before the links are read again: a read sees no change, but the
    pane's watch streamed both, and the charts' events say so (as seen by the console: the API keeps no history)."""
    from datetime import timedelta

    from console.links import Ref

    start = datetime.now(UTC) - timedelta(seconds=1)
    create(kube_client, namespace, "blip")
    app = make(kubeconfig=str(kubeconfig), namespaces=(namespace,))
    async with app.run_test(size=(160, 40)) as pilot:
        # the row, and the links read once (the pane asks them for its badges)
        await wait_for(pilot, lambda: (row_of(app, "blip") or [""] * 3)[2].startswith(AVAILABLE)
                       and app.link_nav.fresh(), what="the row and the links")
        for state in ("Failed", AVAILABLE):
            kube_client.patch_namespaced_custom_object_status(GROUP, V, namespace, P, "blip", {"status": {
                "state": state}})
            await wait_for(pilot, lambda state=state: row_of(app, "blip")[2].startswith(state), what=state)
        ref = Ref("deployment", (namespace, "blip"), "blip")
        answer = await asyncio.to_thread(app.link_nav.events, ref, start, datetime.now(UTC) + timedelta(seconds=5))
        assert answer is not None
        texts = [str(e) for e in answer.events]
        assert "deployment blip: Available -> Failed (seen by the console)" in texts, texts
        assert "deployment blip: Failed -> Available (seen by the console)" in texts, texts
        assert texts.index("deployment blip: Failed -> Available (seen by the console)") < texts.index(
            "deployment blip: Available -> Failed (seen by the console)"), "the newest first"


async def test_ns_switches_namespace_and_all(kubeconfig, kube_client, kube_api, namespace):
    other = namespace + "-b"
    create(kube_client, namespace, "in-a")
    create(kube_client, other, "in-b")
    app = make(kubeconfig=str(kubeconfig), namespaces=(namespace,))
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: row_of(app, "in-a"))
        assert row_of(app, "in-b") is None
        app.run_command_line(f"ns {other}")
        await wait_for(pilot, lambda: row_of(app, "in-b") and not row_of(app, "in-a"), what=":ns other")
        assert f"ns: {other}" in str(pane(app).query_one("#deployments-title").render())
        app.run_command_line("ns all")
        await wait_for(pilot, lambda: row_of(app, "in-a") and row_of(app, "in-b"), what=":ns all")
        assert "all" in pane(app).complete_ns() and other in pane(app).complete_ns()


async def test_forbidden_says_verb_resource_namespace(kubeconfig, namespace, kube_api):
    kube_api.deny("list", "seldondeployments", namespace)
    app = make(kubeconfig=str(kubeconfig), namespaces=(namespace,))
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: "not allowed" in status(app), what="403 shown")
        text = status(app)
        assert f"list seldondeployments in namespace '{namespace}'" in text and "retrying" in text


async def test_watch_relists_after_410_while_open(kubeconfig, namespace, kube_client, kube_api):
    create(kube_client, namespace, "before")
    app = make(kubeconfig=str(kubeconfig), namespaces=(namespace,))
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: (row_of(app, "before") or [""] * 3)[2] == AVAILABLE)
        create(kube_client, namespace, "probe")  # shown through the watch: the stream is open
        await wait_for(pilot, lambda: row_of(app, "probe"), what="watch open")
        kube_api.store.compact()
        create(kube_client, namespace, "in-the-gap")
        kube_api.store.compact()
        kube_api.store.break_watches()
        await wait_for(pilot, lambda: row_of(app, "in-the-gap"), what="relist after 410")
        assert row_of(app, "before") is not None


async def test_api_server_outage_marks_stale_and_recovers(kubeconfig, namespace, kube_client, kube_api, caplog):
    create(kube_client, namespace, "steady")
    app = make(kubeconfig=str(kubeconfig), namespaces=(namespace,))
    async with app.run_test(size=(160, 40)) as pilot:
        # the watch's stream must be open before it is broken: a row that only the stream can bring shows it is
        await wait_for(pilot, lambda: row_of(app, "steady") and "watching for changes" in status(app))
        create(kube_client, namespace, "through-the-watch")
        await wait_for(pilot, lambda: row_of(app, "through-the-watch"), what="a row sent on the open stream")
        kube_api.fail_next.extend([503])
        kube_api.store.break_watches()
        # the error is on the status line until the retry succeeds (on a busy machine that can be before this
        # test looks): every error the pane shows is also logged
        await wait_for(pilot, lambda: "503" in status(app) or any("503" in r.getMessage() for r in caplog.records),
                       what="outage shown")
        if "503" in status(app):
            assert "[stale]" in str(pane(app).query_one("#deployments-title").render())
        assert row_of(app, "steady") is not None, "the last good data stays"
        create(kube_client, namespace, "after-outage")
        await wait_for(pilot, lambda: row_of(app, "after-outage"), what="recovery")
        assert "[stale]" not in str(pane(app).query_one("#deployments-title").render())


async def test_the_count_on_the_status_line_is_what_the_table_shows(kubeconfig, namespace, kube_client, kube_api):
    create(kube_client, namespace, "one")
    app = make(kubeconfig=str(kubeconfig), namespaces=(namespace,))
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: row_of(app, "one") and "watching for changes" in status(app))
        create(kube_client, namespace, "two")  # shown through the watch: the stream is open
        await wait_for(pilot, lambda: len(table_rows(app)) == 2 and not pane(app)._rebuild_pending)
        assert status(app).startswith("2 deployment(s)"), status(app)
        # the watch drops (503), and a deployment is added while the reconnect waits
        kube_api.watch_gate.clear()
        try:
            kube_api.fail_next.append(503)
            kube_api.store.break_watches()
            await wait_for(pilot, lambda: "503" in status(app), what="the drop shown")
            create(kube_client, namespace, "three")
        finally:
            kube_api.watch_gate.set()
        await wait_for(pilot, lambda: len(table_rows(app)) == 3, what="the new row")
        await wait_for(pilot, lambda: "reconnected" in status(app) and not pane(app)._rebuild_pending,
                       what="reconnected")
        assert status(app).startswith("3 deployment(s)"), status(app)
        # a filter: the count says how many of them are shown
        await pilot.press("slash", *"three", "enter")
        await wait_for(pilot, lambda: len(table_rows(app)) == 1, what="filtered")
        create(kube_client, namespace, "four")
        await wait_for(pilot, lambda: len(pane(app).deployments) == 4 and not pane(app)._rebuild_pending)
        assert len(table_rows(app)) == 1


async def test_a_context_the_kubeconfig_lacks_is_named_and_not_retried(tmp_path, kube_api, namespace, kube_client,
                                                                      screen_text):
    import yaml

    create(kube_client, namespace, "reachable")
    kc = kube_api.write_kubeconfig(tmp_path / "kc", context="fake")
    cfg = yaml.safe_load(kc.read_text())
    cfg["contexts"].append({"name": "staging", "context": {"cluster": "fake-cluster", "user": "fake-user"}})
    kc.write_text(yaml.safe_dump(cfg))
    app = make(kubeconfig=str(kc), kube_context="prod", namespaces=(namespace,))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: "'prod'" in status(app), what="the context error")
        text = status(app)
        assert "fake" in text and "staging" in text and "retrying" not in text and "r retries" in text, text
        shown = screen_text(app)  # at 80x24 the names are on the screen, not cut off
        assert "'prod'" in shown and "fake, staging" in shown.replace("\n", " "), shown
        # the user adds the context; nothing is retried until they press r
        cfg["contexts"].append({"name": "prod", "context": {"cluster": "fake-cluster", "user": "fake-user"}})
        kc.write_text(yaml.safe_dump(cfg))
        lists = lambda: [r for r in kube_api.requests if namespace in r[1] and P in r[1]]  # noqa: E731
        before = len(lists())
        await pilot.pause(2.0)  # four times the first retry delay: a retry would have come by now
        assert len(lists()) == before
        assert "'prod'" in status(app), "the error stays on the status line"
        await pilot.press("r")
        await wait_for(pilot, lambda: row_of(app, "reachable"), what="the list after r")
        assert status(app).startswith("1 deployment(s)"), status(app)


async def test_filter_narrows_the_table(kubeconfig, namespace, kube_client):
    create(kube_client, namespace, "alpha")
    create(kube_client, namespace, "beta")
    app = make(kubeconfig=str(kubeconfig), namespaces=(namespace,))
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: len(table_rows(app)) == 2)
        await pilot.press("slash", "b", "e", "t")
        await wait_for(pilot, lambda: [r[1] for r in table_rows(app)] == ["beta"], what="filter")
        await pilot.press("enter", "escape")
        await wait_for(pilot, lambda: len(table_rows(app)) == 2, what="filter cleared")


async def test_not_configured_says_how(monkeypatch):
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    app = make()
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: pane(app).query("#not-configured"), what="the not-configured text")
        text = str(pane(app).query_one("#not-configured").render())
        assert "KUBECONFIG" in text and "--kubeconfig" in text


async def test_real_model_yaml_pods_log_and_test_requests(kubeconfig, namespace, kube_client, seldon_controller,
                                                          iris_model_dir, tmp_path, monkeypatch, screen_text):
    monkeypatch.chdir(tmp_path)
    create(kube_client, namespace, "iris", protocol="v2", model_uri=str(iris_model_dir), model_name="iris",
           annotations={}, env=[{"name": "API_TOKEN", "value": "s3cr3t-value"}])
    app = make(kubeconfig=str(kubeconfig), namespaces=(namespace,))
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: (row_of(app, "iris") or [""] * 3)[2] == AVAILABLE, 60, "real MLServer ready")
        # y: YAML, secrets redacted
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, TextView), what="YAML view")
        text = screen_text(app)
        assert "API_TOKEN" in text and "<redacted>" in text and "s3cr3t-value" not in text
        await pilot.press("escape")
        # v: pods and events, enter: the pod's log tail (the real MLServer's log)
        await pilot.press("v")
        await wait_for(pilot, lambda: isinstance(app.screen, PodsEventsView), what="pods view")
        text = screen_text(app)
        assert "Running" in text and "1/1" in text and "CreateResourceSuccess" in text
        await pilot.press("enter")
        await wait_for(pilot, lambda: "lines)" in screen_text(app), what="log tail")
        assert "iris" in str(app.screen.query_one("#log").render())
        await pilot.press("escape")
        # t: the editor, prefilled from the v2 metadata, sent with ctrl+s to status.address.url
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, RequestView), what="request editor")
        view = app.screen
        editor = view.query_one("#editor", RequestEditor)
        body = json.loads(editor.text)
        assert body["inputs"][0]["shape"] == [1, 4] and "v2 metadata" in screen_text(app)
        body["inputs"][0]["data"] = GOOD_ROW
        editor.load_text(json.dumps(body, indent=2))
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: len(view.history) == 1, what="response")
        assert view.history[0].response.status == 200
        assert "HTTP 200" in screen_text(app) and '"model_name": "iris"' in screen_text(app)
        # a bad payload: the server's 500 as it is
        body["inputs"][0].update(shape=[1, 2], data=[1.0, 2.0])
        editor.load_text(json.dumps(body))
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: len(view.history) == 2, what="error response")
        assert view.history[1].response.status == 500 and "HTTP 500" in screen_text(app)
        # each answer gets its history row (drawn the frame after the answer), with the cursor on it
        history = view.query_one("#history")
        await wait_for(pilot, lambda: history.row_count == 2, what="history rows")
        assert [str(history.get_row_at(i)[2]) for i in range(2)] == ["200", "500"] and history.cursor_row == 1
        assert "History (2)" in screen_text(app)
        # invalid JSON: pointed at, never sent
        editor.load_text('{\n  "inputs": [1, 2,,]\n}')
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "nothing was sent" in screen_text(app), what="the JSON error")
        assert len(view.history) == 2
        assert "line 2, column 19" in screen_text(app)
        assert editor.cursor_location == (1, 18)
        # replay the first request, then save the history
        view.query_one("#history").move_cursor(row=0)
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: len(view.history) == 3, what="replay")
        assert view.history[2].response.status == 200
        await pilot.press("ctrl+o")
        saved = (tmp_path / f"requests-{namespace}-iris.jsonl").read_text().splitlines()
        assert [json.loads(line)["status"] for line in saved] == [200, 500, 200]
        await pilot.press("escape")
        # the history is kept per deployment: reopening shows it
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, RequestView), what="editor again")
        assert len(app.screen.history) == 3 and "History (3)" in screen_text(app)


def iris_endpoint_app(mlserver_url: str, **ctx):
    return make(deployments_backend="endpoints",
                endpoints=(Endpoint(name="iris-local", url=mlserver_url, protocol="v2", model="iris"),), **ctx)


async def open_request_editor(pilot, name: str) -> tuple[RequestView, RequestEditor]:
    """Wait until ``name`` is Available, press t, and return the test request view and its editor."""
    app = pilot.app
    await wait_for(pilot, lambda: (row_of(app, name) or [""] * 3)[2] == AVAILABLE)
    await pilot.press("t")
    await wait_for(pilot, lambda: isinstance(app.screen, RequestView))
    return app.screen, app.screen.query_one("#editor", RequestEditor)


async def test_endpoints_backend_in_the_pane(mlserver_url, screen_text):
    # read-only changes nothing anywhere, and this pane only reads: test requests are still sent
    app = iris_endpoint_app(mlserver_url, read_only=True)
    async with app.run_test(size=(160, 40)) as pilot:
        view, editor = await open_request_editor(pilot, "iris-local")
        body = json.loads(editor.text)
        body["inputs"][0]["data"] = GOOD_ROW
        editor.load_text(json.dumps(body))
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: view.history, what="response")
        assert view.history[0].response.status == 200
        assert f"{mlserver_url}/v2/models/iris/infer" in screen_text(app)


async def test_a_batch_answer_is_cut_on_screen_and_kept_whole(mlserver_url, tmp_path, monkeypatch):
    # 20,000 rows scored at once: the answer's data list is one line of over 60,000 characters, which the
    # screen would take most of a second to wrap; it shows the first part and says what is left out
    from console.panes.deployments.views import SHOWN_CHARS

    monkeypatch.chdir(tmp_path)
    rows = 20_000
    app = iris_endpoint_app(mlserver_url)
    async with app.run_test(size=(160, 40)) as pilot:
        view, editor = await open_request_editor(pilot, "iris-local")
        editor.load_text(json.dumps({"inputs": [{"name": "input-0", "shape": [rows, 4], "datatype": "FP64",
                                                 "data": GOOD_ROW * rows}]}))
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: view.history, timeout=60, what="the batch answer")
        response = view.history[0].response
        assert response.status == 200
        assert len(json.loads(response.body)["outputs"][0]["data"]) == rows
        shown = str(view.query_one("#response").visual)
        assert len(shown) < SHOWN_CHARS + 200
        left_out = len(response.pretty_body) - SHOWN_CHARS
        assert f"... {left_out:,} more characters not shown" in shown
        await pilot.press("ctrl+o")
        await pilot.pause()
        saved = json.loads((tmp_path / "requests-endpoints-iris-local.jsonl").read_text())
        assert len(json.loads(saved["response"])["outputs"][0]["data"]) == rows


async def test_an_answer_after_the_dialog_closed_is_kept_with_its_send_time(screen_text):
    with slow_server(delay=0.8) as server:
        app = make(deployments_backend="endpoints", endpoints=(Endpoint(name="slow", url=server.url,
                                                                         protocol="mlflow"),))
        async with app.run_test(size=(160, 40)) as pilot:
            await wait_for(pilot, lambda: row_of(app, "slow"))
            await pilot.press("t")
            await wait_for(pilot, lambda: isinstance(app.screen, RequestView))
            sent = datetime.now(UTC)
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: server.posts == 1, what="the request at the server")
            await pilot.press("escape")  # closed while the server takes its time
            assert not isinstance(app.screen, RequestView)
            history = pane(app).histories[("endpoints", "slow")]
            assert history == []
            await wait_for(pilot, lambda: history, what="the answer, after the dialog closed")
            ex = history[0]
            assert ex.response.status == 200 and ex.response.latency_s >= 0.7
            # the time it was sent (before the server had it), not when the answer came (0.8 s after that)
            assert sent <= ex.sent_at <= server.received[0]
            await pilot.press("t")
            await wait_for(pilot, lambda: isinstance(app.screen, RequestView), what="editor again")
            await pilot.pause()
            text = screen_text(app)
            assert "History (1)" in text and "HTTP 200" in text and short_time(ex.sent_at) in text


async def test_keys_move_the_cursor_and_enter_opens_pods(kubeconfig, namespace, kube_client):
    for name in ("a-one", "b-two", "c-three"):
        create(kube_client, namespace, name)
    app = make(kubeconfig=str(kubeconfig), namespaces=(namespace,))
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: len(table_rows(app)) == 3)
        await pilot.press("G")
        assert pane(app).selected().name == "c-three"
        await pilot.press("k")
        assert pane(app).selected().name == "b-two"
        assert f"{namespace}/b-two" in str(pane(app).query_one("#detail").render())
        await pilot.press("g", "j")
        assert pane(app).selected().name == "b-two"
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, PodsEventsView), what="enter opens pods")
        assert app.screen.deployment.name == "b-two"


async def test_ctx_switches_cluster_view(kubeconfig, namespace, kube_client):
    other = namespace + "-ctx"
    create(kube_client, namespace, "first-cluster")
    create(kube_client, other, "second-cluster")
    contexts = {"a": Context(name="a", kubeconfig=str(kubeconfig), namespaces=(namespace,), timeout=15),
                "b": Context(name="b", kubeconfig=str(kubeconfig), namespaces=(other,), timeout=15)}
    config = Config(default_context="a", contexts=contexts)
    app = make_app(config, config.context(None, environ={}), initial_pane="deployments", cursor_blink=False)
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: row_of(app, "first-cluster"))
        app.run_command_line("ctx b")
        await wait_for(pilot, lambda: row_of(app, "second-cluster"), what=":ctx b")
        assert row_of(app, "first-cluster") is None
        create(kube_client, other, "later")
        await wait_for(pilot, lambda: row_of(app, "later"), what="the new context's watch")


def test_the_client_library_is_out_of_the_collectors_way(kubeconfig, namespace, kube_client):
    # in a fresh process: the kubernetes client (and the API classes it loads lazily) is imported before
    # the app moves long-lived objects out of the garbage collector's way, so full collections do not
    # walk its ~60,000 objects (30-50 ms pauses while the table filled, before)
    import subprocess
    import sys
    from pathlib import Path

    create(kube_client, namespace, "gc-probe")
    probe = Path(__file__).resolve().parent.parent / "gc_probe.py"
    out = subprocess.run([sys.executable, str(probe), "deployments",
                          json.dumps({"kubeconfig": str(kubeconfig), "namespaces": [namespace]}),
                          "kubernetes.client:CustomObjectsApi"], capture_output=True, text=True, timeout=120)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result.get("walked") is False, result
    assert result["unfrozen"] < 20_000, result
