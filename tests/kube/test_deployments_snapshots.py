"""Snapshots of the Deployments pane on the frozen `fake` deployments backend."""

from __future__ import annotations

import time

from textual.widgets import Input

from console.panes.deployments.screen import DeploymentsScreen
from console.panes.deployments.views import PodsEventsView, RequestView
from snapshot_checks import check_screen, row_with
from widgets.request_editor import RequestEditor
from widgets.views import TextView

# the five SeldonDeployments of the fake cluster, in table order, with their state
DEPLOYMENTS = [("models", "churn-classifier", "Available"), ("models", "iris", "Available"),
               ("models", "price-forecast", "Failed"), ("staging", "fraud-detector", "Creating"),
               ("staging", "recommender", "Available !")]


def _table_shown(text: str, rows=DEPLOYMENTS) -> None:
    for namespace, name, state in rows:
        row_with(text, f" {namespace} ", f" {name} ", f" {state} ")
    names = [name for _, name, _ in rows]
    assert sorted(names, key=text.index) == names


async def _until(pilot, predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            await pilot.pause()
            return
        await pilot.pause(0.05)
    raise AssertionError("the screen did not settle")


def _pane(app) -> DeploymentsScreen:
    return next(s for s in app.pane_screens() if isinstance(s, DeploymentsScreen))


async def _loaded(pilot) -> DeploymentsScreen:
    app = pilot.app
    await _until(pilot, lambda: any(isinstance(s, DeploymentsScreen) for s in app.pane_screens()))
    screen = _pane(app)
    await _until(pilot, lambda: screen.loaded and not screen._rebuild_pending and not screen.is_busy("namespaces"))
    return screen


async def _select(pilot, name: str) -> DeploymentsScreen:
    screen = await _loaded(pilot)
    rows = [key[1] for key in screen._rows]
    screen.query_one("#deployments").move_cursor(row=rows.index(name))
    await pilot.pause()
    return screen


def test_deployments_table(snap_compare, fake_app):
    # must show: the five deployments (a long model list cut with `…`), the first one's address and
    # conditions, and a status line that counts what the table shows
    async def run_before(pilot):
        await _loaded(pilot)
        text = check_screen(pilot.app)
        assert "Deployments  https://fake-cluster.example:6443 (fake)  ns: all namespaces  5" in text
        _table_shown(text)
        assert row_with(text, "churn-classifier", "gs://ml-models/churn/v7, gs://ml-models/churn/v8").endswith("…")
        assert "models/churn-classifier  Available" in text
        assert "send to: http://churn-classifier-main.models.svc.cluster.local:8000/api/v1.0/predictions" in text
        assert "conditions: DeploymentsReady=True ServicesReady=True Ready=True" in text
        assert text.splitlines()[-2].strip() == "5 deployment(s) in all namespaces, watching for changes"

    assert snap_compare(fake_app("deployments"), terminal_size=(140, 30), run_before=run_before)


def test_deployments_table_80x24_failed_selected(snap_compare, fake_app):
    # must show: the cursor on price-forecast, why it failed and that it has no address, cut cells with `…`
    async def run_before(pilot):
        screen = await _select(pilot, "price-forecast")
        text = check_screen(pilot.app)
        _table_shown(text)
        assert screen.query_one("#deployments").cursor_row == 2
        assert pilot.app.focused is screen.query_one("#deployments")
        assert row_with(text, "price-forecast", "sdep", "Failed", "0/3").endswith("MLFLO…")
        assert "models/price-forecast  Failed: model server exited with code 1: OOMKilled" in text
        assert "send to: (no address yet)" in text
        assert text.splitlines()[-2].strip() == "5 deployment(s) in all namespaces, watching for changes"

    assert snap_compare(fake_app("deployments"), terminal_size=(80, 24), run_before=run_before)


def test_deployments_filter(snap_compare, fake_app):
    async def run_before(pilot):
        screen = await _loaded(pilot)
        await pilot.press("slash", *"staging", "enter")
        await _until(pilot, lambda: len(screen._rows) == 2 and not screen._rebuild_pending)
        # must show: the applied filter in its box and the title, the two staging deployments only, the
        # table focused again, and a status line that counts them
        text = check_screen(pilot.app)
        assert screen.query_one("#filter", Input).value == "staging"
        assert text.splitlines()[3].strip("▊▎ ") == "staging"
        assert "ns: all namespaces  2/5  filter: staging" in text
        _table_shown(text, DEPLOYMENTS[3:])
        assert "churn-classifier" not in text and "price-forecast" not in text
        assert pilot.app.focused is screen.query_one("#deployments")
        assert text.splitlines()[-2].strip() == ("2 of 5 deployment(s) shown in all namespaces, "
                                                 "watching for changes")

    assert snap_compare(fake_app("deployments"), terminal_size=(120, 24), run_before=run_before)


def test_deployments_pods_events_and_log(snap_compare, fake_app):
    async def run_before(pilot):
        await _select(pilot, "price-forecast")
        await pilot.press("v")
        await _until(pilot, lambda: isinstance(pilot.app.screen, PodsEventsView))
        await pilot.press("enter")
        await _until(pilot, lambda: "lines)" in str(pilot.app.screen.query_one("#log-title").render()))
        # must show: the crash-looping pod, the three events (two warnings) with cut messages ending in `…`,
        # and the pod's six log lines
        text = check_screen(pilot.app)
        assert "models/price-forecast: 1 pod(s)" in text
        row_with(text, "price-forecast-default-0-forecast-6f7d-pqrst", "Running", "1/2", " 5 ", "CrashLoopBackOff")
        assert "Events, newest first (3, 2 warning(s))" in text
        assert row_with(text, "! Warning", "BackOff", " 14 ").rstrip(" █").endswith("Back-off restarti…")
        row_with(text, "! Warning", "ModelServerFailed")
        row_with(text, "Normal", "CreateResourceSuccess")
        assert "Log tail of price-forecast-default-0-forecast-6f7d-pqrst (6 lines)" in text
        assert "Loading model gs://ml-models/churn/v7" in text

    assert snap_compare(fake_app("deployments"), terminal_size=(120, 34), run_before=run_before)


def test_deployments_yaml(snap_compare, fake_app):
    async def run_before(pilot):
        await _select(pilot, "iris")
        await pilot.press("y")
        await _until(pilot, lambda: isinstance(pilot.app.screen, TextView))
        # must show: the YAML of iris from its top, said to be redacted, with no secret value in it
        text = check_screen(pilot.app)
        assert "models/iris (secrets redacted)" in text
        for line in ("apiVersion: machinelearning.seldon.io/v1", "kind: SeldonDeployment", "█  name: iris ",
                     "modelUri: s3://ml-models/iris/3", "- name: AWS_SECRET_ACCESS_KEY"):
            row_with(text, line)
        assert text.splitlines()[-2].strip() == "models/iris: YAML (secrets redacted)"

    assert snap_compare(fake_app("deployments"), terminal_size=(100, 30), run_before=run_before)


def test_deployments_test_request_answered(snap_compare, fake_app):
    async def run_before(pilot):
        await _select(pilot, "iris")
        await pilot.press("t")
        await _until(pilot, lambda: isinstance(pilot.app.screen, RequestView))
        await pilot.press("ctrl+s")
        await _until(pilot, lambda: len(pilot.app.screen.history) == 1)
        # must show: the v2 request in the editor, the model's answer beside it, and the request in the history
        text = check_screen(pilot.app)
        assert "Test request: models/iris  protocol v2  template: v2 metadata" in text
        assert "POST http://iris-default.models.svc.cluster.local:8000/v2/models/iris/infer" in text
        row_with(text, ' 7        "data": [0.0, 0.0, 0.0, 0.0]')
        row_with(text, "HTTP 200  42 ms  application/json")
        row_with(text, '"model_name": "iris",')
        assert "History (1)" in text
        row_with(text, " 1  2026-01-15 12:00  200 ", "42 ms", '{ "inputs": [')
        assert "invalid JSON" not in text and "ERROR" not in text

    assert snap_compare(fake_app("deployments"), terminal_size=(120, 34), run_before=run_before)


def test_deployments_test_request_bad_data_and_invalid_json(snap_compare, fake_app):
    async def run_before(pilot):
        await _select(pilot, "churn-classifier")
        await pilot.press("t")
        await _until(pilot, lambda: isinstance(pilot.app.screen, RequestView))
        view = pilot.app.screen
        editor = view.query_one("#editor", RequestEditor)
        editor.load_text('{"foo": 1}')
        await pilot.press("ctrl+s")
        await _until(pilot, lambda: len(view.history) == 1)
        editor.load_text('{\n  "data": {"ndarray": [[1, 2,]]}\n}')
        await pilot.press("ctrl+s")
        await _until(pilot, lambda: editor.problem is not None)
        # must show: the invalid JSON kept in the editor with where it is wrong and that nothing was sent,
        # and the model's 400 answer to the previous request with that request in the history
        text = check_screen(pilot.app)
        row_with(text, ' 2    "data": {"ndarray": [[1, 2,]]}')
        row_with(text, "invalid JSON at line 2, column 30: Expecting value")
        row_with(text, "nothing was sent")
        row_with(text, "HTTP 400  42 ms  application/json")
        row_with(text, '"reason": "MICROSERVICE_BAD_DATA",')
        assert "History (1)" in text
        row_with(text, " 1  2026-01-15 12:00  400 ", '{"foo": 1}')

    assert snap_compare(fake_app("deployments"), terminal_size=(120, 34), run_before=run_before)
