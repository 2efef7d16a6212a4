"""The key contract on the Deployments pane (tests/keycontract.py): the official client on the fake
Kubernetes API, real MLServer behind the endpoints backend; every key help lists, and the keys every pane
keeps, in each state the pane can be in."""

from __future__ import annotations

import pytest

from backends.deployments import AVAILABLE
from console.app import make_app
from console.config import Config, Context
from console.panes.deployments.views import PodsEventsView, RequestView
from keycontract import State, check_quit, check_state, settle
from kube_helpers import free_port
from widgets.link_menu import LinkMenu
from widgets.views import TextView

from .test_deployments_pane import create, iris_endpoint_app, pane, row_of, status, wait_for


@pytest.fixture(autouse=True)
def _files_go_to_a_temporary_folder(tmp_path, monkeypatch):
    """ctrl+o in the request editor saves its history in the working directory: never the repository's."""
    monkeypatch.chdir(tmp_path)

SIZE = (80, 24)
KUBECONFIG = """apiVersion: v1
kind: Config
current-context: gone
clusters: [{{name: gone, cluster: {{server: "http://127.0.0.1:{port}"}}}}]
users: [{{name: gone, user: {{token: t}}}}]
contexts: [{{name: gone, context: {{cluster: gone, user: gone, namespace: default}}}}]
"""


def cluster_app(kubeconfig, namespace, other=None):
    contexts = {"a": Context(name="a", kubeconfig=str(kubeconfig), namespaces=(namespace,), timeout=15)}
    if other:
        contexts["b"] = Context(name="b", kubeconfig=str(kubeconfig), namespaces=(other,), timeout=15)
    config = Config(default_context="a", contexts=contexts)
    return lambda: make_app(config, contexts["a"], initial_pane="deployments", cursor_blink=False)


async def loaded(pilot):
    await wait_for(pilot, lambda: (row_of(pilot.app, "first") or [""] * 3)[2] == AVAILABLE
                   and row_of(pilot.app, "second"), what="the table")


async def filtered(pilot):
    await loaded(pilot)
    await pilot.press("slash", *"second", "enter")
    await wait_for(pilot, lambda: pane(pilot.app).filter_text == "second", what="filter")


async def filter_open(pilot):
    await loaded(pilot)
    await pilot.press("slash")
    await settle(pilot)


def dialog(key, view):
    async def enter(pilot):
        await loaded(pilot)
        await pilot.press(key)
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, view), what=view.__name__)
        await settle(pilot, 0.3)
    return enter


async def after_ctx(pilot):
    await loaded(pilot)
    await pilot.press("4")
    await settle(pilot)
    await pilot.press("colon", *"ctx b", "enter")
    await settle(pilot)
    await pilot.press("3")
    await wait_for(pilot, lambda: pilot.app.context.name == "b" and row_of(pilot.app, "third"), what=":ctx b")


AT_TOP = {k: "the cursor is on the first row" for k in ("k", "g", "up", "home")}
RELOAD = {"r": "reloads the same table", "escape": "nothing to close"}
ONE_ROW = {k: "one row" for k in ("j", "k", "g", "G", "up", "down", "home", "end")}

STATES = [
    State("loaded", loaded, silent={**AT_TOP, **RELOAD}),
    State("filter applied", filtered, holds=lambda app: pane(app).filter_text == "second",
          silent={**ONE_ROW, "r": "reloads the same table"}),
    State("filter box open", filter_open, holds=lambda app: app.text_field_focused()),
    State("pods and events", dialog("v", PodsEventsView), silent={**ONE_ROW}),
    State("yaml", dialog("y", TextView), silent={}),
    State("test request editor", dialog("t", RequestView), holds=lambda app: isinstance(app.screen, RequestView),
          silent={"ctrl+r": "no history entry to replay yet", "ctrl+f": "the JSON is formatted already"}),
    State("links menu", dialog("L", LinkMenu), holds=lambda app: isinstance(app.screen, LinkMenu),
          silent={k: "one entry can be chosen (the other is a note)" for k in ("up", "down", "home", "end",
                                                                                "pageup", "pagedown")}),
    State("after :ctx", after_ctx, holds=lambda app: app.context.name == "b", silent={**ONE_ROW, **RELOAD}),
]


@pytest.mark.parametrize("state", STATES, ids=[s.name for s in STATES])
async def test_every_key_in_every_state(kubeconfig, namespace, kube_client, state):
    other = namespace + "-b"
    create(kube_client, namespace, "first")
    create(kube_client, namespace, "second")
    create(kube_client, other, "third")
    pressed = await check_state(cluster_app(kubeconfig, namespace, other), "deployments", state, size=SIZE)
    if state.name == "loaded":
        assert {"t", "y", "v", "slash", "ctrl+p"} <= set(pressed)


async def test_every_key_unconfigured_and_api_down(tmp_path):
    async def unconfigured(pilot):
        await wait_for(pilot, lambda: pilot.app.screen.query("#not-configured"), what="not configured")

    config = Config(default_context="n", contexts={"n": Context(name="n", kubeconfig=str(tmp_path / "none"))})
    pressed = await check_state(lambda: make_app(config, config.context(None, environ={}),
                                                 initial_pane="deployments", cursor_blink=False),
                                "deployments", State("unconfigured", unconfigured,
                                                     silent={**RELOAD, "slash": "no table"}), size=SIZE)
    assert "r" in pressed

    path = tmp_path / "kubeconfig"  # a cluster where nothing listens
    path.write_text(KUBECONFIG.format(port=free_port()))

    async def down(pilot):
        await wait_for(pilot, lambda: "127.0.0.1" in status(pilot.app) or "refused" in status(pilot.app),
                       timeout=30, what="the error")

    await check_state(cluster_app(path, "default"), "deployments",
                      State("API down", down, silent={**ONE_ROW, **RELOAD, "enter": "no rows"}), size=SIZE)


async def test_every_key_on_the_endpoints_backend(mlserver_url):
    async def loaded_endpoints(pilot):
        await wait_for(pilot, lambda: row_of(pilot.app, "iris-local"), what="the endpoint")

    await check_state(lambda: iris_endpoint_app(mlserver_url), "deployments",
                      State("endpoints", loaded_endpoints, silent={**ONE_ROW, **RELOAD}), size=SIZE)


@pytest.mark.parametrize("key", ["q", "ctrl+c"])
async def test_quit_keys_end_the_app(kubeconfig, namespace, kube_client, key):
    create(kube_client, namespace, "first")
    create(kube_client, namespace, "second")
    assert await check_quit(cluster_app(kubeconfig, namespace), loaded, key) in (None, 0)
