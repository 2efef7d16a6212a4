"""The key contract on the Metrics pane (tests/keycontract.py), on the session's real Prometheus: every
key help lists, and the keys every pane keeps, in each state the pane can be in (live and paused)."""

from __future__ import annotations

import pytest

from console.app import make_app
from console.config import Config, Context
from console.panes.metrics.screen import DashboardPicker
from keycontract import State, check_quit, check_state, settle
from widgets.dashboard import DashboardGrid
from widgets.views import TableView

from .conftest import free_port
from .pane_helpers import wait_until

SIZE = (80, 24)


def metrics_app(url, other_url=None):
    contexts = {"live": Context(name="live", prometheus_url=url, refresh_interval=1.0, timeout=3.0)}
    if other_url:
        contexts["other"] = Context(name="other", prometheus_url=other_url, refresh_interval=1.0, timeout=3.0)
    config = Config(path=None, default_context="live", contexts=contexts)
    return lambda: make_app(config, contexts["live"], initial_pane="metrics", cursor_blink=False)


def pane(app):
    """The Metrics pane (a state's check may run while another pane is shown)."""
    from console.panes.metrics.screen import MetricsScreen

    return next(s for s in app.pane_screens() if isinstance(s, MetricsScreen))


async def live(pilot):
    await wait_until(pilot, lambda: pane(pilot.app) and pane(pilot.app).last_range, what="first poll")


async def paused(pilot):
    await live(pilot)
    await pilot.press("space")
    await wait_until(pilot, lambda: not pane(pilot.app).live, what="paused")


async def editing(pilot):
    await live(pilot)
    await pilot.press("e")
    await settle(pilot)


def view(key, kind):
    async def enter(pilot):
        await live(pilot)
        await pilot.press(key)
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, kind), timeout=10, what=kind.__name__)
        await settle(pilot, 0.3)
    return enter


async def dashboard(pilot):
    await live(pilot)
    if pilot.app.text_field_focused():  # entered again after `e` took the user to the query editor
        await pilot.press("escape")
    pilot.app.run_command_line("dashboard Model serving")
    await wait_until(pilot, lambda: pane(pilot.app).dashboard is not None
                     and not pane(pilot.app).query_one(DashboardGrid).has_class("hidden"), what="dashboard")


async def after_ctx(pilot):
    await live(pilot)
    await pilot.press("1")
    await settle(pilot)
    await pilot.press("colon", *"ctx other", "enter")
    await settle(pilot)
    await pilot.press("4")
    await wait_until(pilot, lambda: pilot.app.context.name == "other" and pane(pilot.app).last_range,
                     what="the other context's first poll")


# refreshes redraw the same chart (a young Prometheus' series can stay flat), `escape` closes nothing here
# enter on an instant value, an alert or a target: the row says all there is (no drill-down yet)
NOTHING_TO_OPEN = {"enter": "the row says all there is"}
SAME = {"r": "refreshes the same chart", "escape": "nothing to close", **NOTHING_TO_OPEN}
AT_TOP = {k: "first row" for k in ("k", "g", "up", "home")}
LAST_ROW = {k: "the last row is chosen" for k in ("j", "G", "down", "end")}

STATES = [
    State("live", live, holds=lambda app: pane(app).live, silent={**SAME, **AT_TOP}),
    State("paused", paused, holds=lambda app: not pane(app).live, silent={**SAME, **AT_TOP}),
    State("editor open", editing, holds=lambda app: app.text_field_focused()),
    State("dashboard", dashboard, holds=lambda app: pane(app).dashboard is not None,
          silent={**SAME, **AT_TOP}),
    State("dashboard picker", view("D", DashboardPicker), silent={**AT_TOP, **LAST_ROW}),
    State("alerts", view("A", TableView), silent={**AT_TOP, **NOTHING_TO_OPEN}),
    State("targets", view("T", TableView), silent={**AT_TOP, **NOTHING_TO_OPEN}),
    State("after :ctx", after_ctx, holds=lambda app: app.context.name == "other", silent={**SAME, **AT_TOP}),
]


@pytest.mark.parametrize("state", STATES, ids=[s.name for s in STATES])
async def test_every_key_in_every_state(prometheus, state):
    pressed = await check_state(metrics_app(prometheus.url, prometheus.url), "metrics", state, size=SIZE)
    if state.name == "live":
        assert {"e", "left_square_bracket", "right_square_bracket", "space", "D", "A", "T", "ctrl+p"} <= set(pressed)


async def test_every_key_unconfigured_and_down():
    async def unconfigured(pilot):
        await wait_until(pilot, lambda: pilot.app.screen.query("#not-configured"), what="not configured")

    config = Config(path=None, default_context="n", contexts={"n": Context(name="n")})
    pressed = await check_state(lambda: make_app(config, config.context(None, environ={}), initial_pane="metrics",
                                                 cursor_blink=False),
                                "metrics", State("unconfigured", unconfigured, silent={**SAME}), size=SIZE)
    assert "r" in pressed

    async def down(pilot):
        await wait_until(pilot, lambda: "127.0.0.1" in str(pane(pilot.app).query_one("#status").text),
                         timeout=20, what="the error")

    await check_state(metrics_app(f"http://127.0.0.1:{free_port()}"), "metrics",
                      State("down", down, silent={**SAME, **AT_TOP, "j": "no rows", "G": "no rows",
                                                  "down": "no rows", "end": "no rows"}), size=SIZE)


@pytest.mark.parametrize("key", ["q", "ctrl+c"])
async def test_quit_keys_end_the_app(prometheus, key):
    assert await check_quit(metrics_app(prometheus.url), live, key) in (None, 0)
