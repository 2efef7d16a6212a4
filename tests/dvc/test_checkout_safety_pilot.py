"""The Data pane at the edges of a checkout: a merge in progress, git's index lock, a timeout."""

from __future__ import annotations

from console.app import make_app
from console.config import Config, Context
from tests.dvc.test_data_pane_pilot import open_history, status, wait_for
from widgets.confirm import ConfirmDialog


def make(ws, **settings):
    config = Config(default_context="main", contexts={"main": Context(name="main", repo=str(ws), timeout=60,
                                                                      **settings)})
    return make_app(config, config.context(None, environ={}), cursor_blink=False)


async def test_the_dialog_warns_of_a_merge_in_progress_and_a_conflicted_file_is_refused(merge_conflict,
                                                                                        screen_text):
    ws = merge_conflict
    before = ws.snapshot()
    app = make(ws.ws)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_history(pilot, "data/images", "add images")
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        assert "A merge is in progress in this repository" in screen_text(app)
        await pilot.press("n")
        await wait_for(pilot, lambda: "cancelled" in status(app))
        await open_history(pilot, "data/demo.txt", "add demo.txt version1")
        await pilot.press("c")
        await wait_for(pilot, lambda: "cannot check out" in status(app))
        assert not isinstance(app.screen, ConfirmDialog)
        assert "data/demo.txt.dvc has an unresolved merge conflict" in status(app)
        assert "nothing was changed" in status(app)
    assert ws.snapshot() == before


async def test_a_held_index_lock_is_named(seed_repo):
    lock = seed_repo.ws / ".git" / "index.lock"
    lock.write_bytes(b"")
    app = make(seed_repo.ws)
    async with app.run_test(size=(120, 34)) as pilot:
        await open_history(pilot, "data/demo.txt", "add demo.txt version1")
        await pilot.press("c")
        await wait_for(pilot, lambda: "cannot check out" in status(app))
        assert f"another git process holds the index ({lock} exists)" in status(app)
        assert "put back" not in status(app)


async def test_a_checkout_past_operation_timeout_is_said_in_words(seed_repo):
    before = seed_repo.snapshot()
    app = make(seed_repo.ws, operation_timeout=0.05)
    async with app.run_test(size=(120, 34)) as pilot:
        await open_history(pilot, "data/images", "add images")
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("y")
        await wait_for(pilot, lambda: "checkout failed" in status(app))
        assert "the checkout of data/images did not finish within 0.05 s" in status(app)
        assert "put back as it was" in status(app)
        assert "internal error" not in status(app) and "TimeoutError" not in status(app)
    assert seed_repo.snapshot() == before
