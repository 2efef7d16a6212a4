"""The key contract on the Data pane (tests/keycontract.py), on real git + DVC workspaces: every key help
lists, and the keys every pane keeps, in each state the pane can be in."""

from __future__ import annotations

import pytest

from keycontract import State, check_quit, check_state, settle
from widgets.confirm import ConfirmDialog
from widgets.views import TableView

from .test_data_pane_pilot import make, open_history, pane, status, wait_for


async def loaded(pilot):
    await wait_for(pilot, lambda: pane(pilot.app).outputs and pane(pilot.app).versions)


async def history(pilot):
    await open_history(pilot, "data/demo.txt", "add demo.txt version1")


async def filtered(pilot):
    await loaded(pilot)
    await pilot.press("slash", *"demo", "enter")
    await wait_for(pilot, lambda: pane(pilot.app).filter_text == "demo")


async def filter_open(pilot):
    await loaded(pilot)
    await pilot.press("slash")
    await settle(pilot)


async def push_dialog(pilot):
    """A confirmation open (push: its `y` changes nothing in a workspace whose data is pushed already, so
    the state can be entered again after it; the checkout dialog's keys are tested in
    test_data_pane_pilot.py and test_checkout_safety_pilot.py)."""
    await history(pilot)
    await pilot.press("P")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, ConfirmDialog))


async def diff_view(pilot):
    await history(pilot)
    await pilot.press("d")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, TableView))


async def after_ctx(pilot):
    await loaded(pilot)
    await pilot.press("4")
    await settle(pilot)
    await pilot.press("colon", *"ctx other", "enter")
    await settle(pilot)
    await pilot.press("1")
    await wait_for(pilot, lambda: pilot.app.context.name == "other" and pane(pilot.app).outputs
                   and pane(pilot.app).versions)


# `g`/`k` on the first row, `G`/`j` on the last (the filtered table has one row), `r` reloading the same
# data, `escape` with nothing to close: the key works, and there is nothing for it to change
ONE_ROW = {k: "one row: nowhere to move" for k in ("j", "k", "g", "G", "up", "down", "home", "end")}
AT_TOP = {k: "already at the top" for k in ("k", "g", "up", "home")}
RELOAD = {"r": "reloads the same data", "escape": "nothing to close"}
LAST_VERSION = {k: "the last version is selected" for k in ("j", "G", "down", "end")}
# keys help lists on a table without focus: they act on the focused table, the outputs list
NOT_SEEN = {"tab": "", "shift+tab": ""}

STATES = [
    State("loaded", loaded, silent={**AT_TOP, **RELOAD}),
    State("history focused", history, silent={**RELOAD, **LAST_VERSION}),
    State("filter applied", filtered, holds=lambda app: pane(app).filter_text == "demo",
          silent={**ONE_ROW, "r": "reloads the same data"}),
    State("filter box open", filter_open, holds=lambda app: app.text_field_focused()),
    State("push confirmation", push_dialog, silent={}),
    State("diff view", diff_view, silent={**ONE_ROW, "enter": "a row of a diff has nothing more to open"}),
    State("after :ctx", after_ctx, holds=lambda app: app.context.name == "other",
          silent={**AT_TOP, **RELOAD}),
]


@pytest.mark.parametrize("state", STATES, ids=[s.name for s in STATES])
async def test_every_key_in_every_state(seed_repo, tmp_path, state):
    other = tmp_path / "other"
    import shutil

    shutil.copytree(seed_repo.ws, other, symlinks=True)
    pressed = await check_state(lambda: make(seed_repo.ws, other=other), "data", state)
    if isinstance(state.enter, type(loaded)) and state.name in ("loaded", "history focused", "after :ctx"):
        assert {"d", "c", "p", "P", "slash", "colon", "ctrl+p"} <= set(pressed)


async def test_every_key_unconfigured_and_empty(tmp_path, repo_tools):
    """A folder that is no repository, and a DVC repository that tracks nothing yet."""
    bare = tmp_path / "bare"
    bare.mkdir()

    async def unconfigured(pilot):
        await wait_for(pilot, lambda: pilot.app.query("#not-configured"))

    pressed = await check_state(lambda: make(bare), "data",
                                State("unconfigured", unconfigured, silent={**RELOAD, "slash": "no table"}))
    assert "r" in pressed
    empty = tmp_path / "empty"
    empty.mkdir()
    repo_tools.git(empty, "init", "-q")
    repo_tools.dvc(empty, "init", "-q")

    async def no_outputs(pilot):
        await wait_for(pilot, lambda: "no DVC-tracked" in status(pilot.app) or "0 output" in status(pilot.app)
                       or not pane(pilot.app).is_busy("outputs") and pane(pilot.app).workspace_info)

    await check_state(lambda: make(empty), "data",
                      State("empty", no_outputs, silent={**ONE_ROW, **RELOAD, "enter": "no rows"}))


async def test_read_only_context_refuses_every_mutating_key(seed_repo):
    async def read_only(pilot):
        await history(pilot)

    app_factory = lambda: make(seed_repo.ws, read_only=True)  # noqa: E731
    pressed = await check_state(app_factory, "data", State("read-only", read_only, silent={**RELOAD, **LAST_VERSION}))
    assert {"c", "p", "P"} <= set(pressed)


@pytest.mark.parametrize("key", ["q", "ctrl+c"])
async def test_quit_keys_end_the_app(seed_repo, key):
    assert await check_quit(lambda: make(seed_repo.ws), loaded, key) in (None, 0)
