"""The key contract on the Runs pane (tests/keycontract.py), on a real MLflow store: every key help lists,
and the keys every pane keeps, in each state the pane can be in."""

from __future__ import annotations

import pytest

from console.app import make_app
from console.config import Config, Context
from console.panes.runs.views import MetricChartView, RegistryView
from keycontract import State, check_quit, check_state, settle
from widgets.compare import CompareView
from widgets.picker import PickerView
from widgets.views import TextView

from .conftest import _free_port
from .test_runs_pane import loaded as runs_loaded, pane, row_ids, until

SIZE = (80, 24)


def app_for(uri, other_uri=None):
    contexts = {"t": Context(name="t", mlflow_uri=uri, timeout=10.0)}
    if other_uri:
        contexts["other"] = Context(name="other", mlflow_uri=other_uri, timeout=10.0)
    config = Config(path=None, default_context="t", contexts=contexts)
    return lambda: make_app(config, contexts["t"], initial_pane="runs", cursor_blink=False)


async def loaded(pilot):
    await runs_loaded(pilot, pilot.app, 7)


async def filtered(pilot):
    await loaded(pilot)
    await pilot.press("slash", *"metrics.rmse < 70", "enter")
    await until(pilot, lambda: pane(pilot.app).applied is not None and "rmse" in (pane(pilot.app).applied.filter or "")
                and not pane(pilot.app).is_busy("runs"), what="filtered")


async def marked(pilot):
    """Exactly the first two runs marked, the cursor below them (entered again after a key changed it)."""
    await loaded(pilot)
    screen = pane(pilot.app)
    table = screen.query_one("#runs")
    for run_id in list(screen.marked):  # unmark what an earlier key marked
        table.move_cursor(row=row_ids(screen).index(run_id))
        await pilot.press("space")
    await pilot.press("g", "space", "space")
    assert len(screen.marked) == 2


def dialog(key, view, extra=()):
    async def enter(pilot):
        await loaded(pilot)
        await pilot.press(*extra, key)
        await until(pilot, lambda: isinstance(pilot.app.screen, view), what=view.__name__)
        await settle(pilot, 0.3)
    return enter


async def after_ctx(pilot):
    await loaded(pilot)
    await pilot.press("1")
    await settle(pilot)
    await pilot.press("colon", *"ctx other", "enter")
    await settle(pilot)
    await pilot.press("2")
    await until(pilot, lambda: pilot.app.context.name == "other" and pane(pilot.app).applied is not None
                and not pane(pilot.app).is_busy("runs") and len(pane(pilot.app).runs) == 7, what="other context")


AT_TOP = {k: "the cursor is on the first row" for k in ("k", "g", "up", "home")}
RELOAD = {"r": "reloads the same runs", "escape": "nothing to close"}
ONE_ROW = {k: "one row" for k in ("j", "k", "g", "G", "up", "down", "home", "end")}
LAST_ROW = {k: "the cursor is on the last row" for k in ("j", "G", "down", "end")}

STATES = [
    State("loaded", loaded, silent={**AT_TOP, **RELOAD}),
    State("filter applied", filtered, holds=lambda app: bool(pane(app).applied and pane(app).applied.filter),
          silent={**AT_TOP, "r": "reloads the same runs"}),
    State("two runs marked", marked, holds=lambda app: len(pane(app).marked) == 2, silent={**AT_TOP, **RELOAD}),
    State("run detail", dialog("enter", TextView), silent={**AT_TOP}),
    State("compare", dialog("C", CompareView, ("space", "space")),
          silent={**AT_TOP, "enter": "a row of the comparison has nothing more to open"}),
    State("chart", dialog("m", MetricChartView), silent={**AT_TOP, "enter": "the chosen metric is charted already"}),
    State("registry", dialog("M", RegistryView), silent={**ONE_ROW}),
    State("experiment picker", dialog("E", PickerView), silent={**AT_TOP, **LAST_ROW}),
    State("after :ctx", after_ctx, holds=lambda app: app.context.name == "other", silent={**AT_TOP, **RELOAD}),
]


@pytest.mark.parametrize("state", STATES, ids=[s.name for s in STATES])
async def test_every_key_in_every_state(mlflow_sqlite, mlflow_filestore, state):
    pressed = await check_state(app_for(mlflow_sqlite.uri, mlflow_filestore.uri), "runs", state, size=SIZE)
    if state.name == "loaded":
        assert {"E", "s", "slash", "space", "C", "m", "M", "c", "ctrl+p"} <= set(pressed)


async def test_every_key_unconfigured_and_server_down(tmp_path):
    async def unconfigured(pilot):
        await until(pilot, lambda: pilot.app.screen.query("#not-configured"), what="not configured")

    empty = tmp_path / "nothing"
    empty.mkdir()
    config = Config(path=None, default_context="n", contexts={"n": Context(name="n", repo=str(empty))})
    pressed = await check_state(lambda: make_app(config, config.context(None, environ={}), initial_pane="runs",
                                                 cursor_blink=False), "runs",
                                State("unconfigured", unconfigured, silent={**RELOAD, "slash": "no table"}),
                                size=SIZE)
    assert "r" in pressed

    async def down(pilot):
        await until(pilot, lambda: "could not" in str(pane(pilot.app).query_one("#status").text)
                    or "unreachable" in str(pane(pilot.app).query_one("#status").text), timeout=30,
                    what="the error")

    await check_state(app_for(f"http://127.0.0.1:{_free_port()}"), "runs",
                      State("server down", down, silent={**AT_TOP, **RELOAD, "j": "no rows", "G": "no rows",
                                                         "down": "no rows", "end": "no rows",
                                                         "enter": "no rows", "s": "nothing loaded to sort"}), size=SIZE)


@pytest.mark.parametrize("key", ["q", "ctrl+c"])
async def test_quit_keys_end_the_app(mlflow_sqlite, key):
    assert await check_quit(app_for(mlflow_sqlite.uri), loaded, key) in (None, 0)
