"""Snapshot tests of the shell and the Data pane on the fake backends (SVGs in snapshots/)."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable

SIZES = [(80, 24), (120, 34)]


async def _settle(pilot):
    """Wait until the pane has no backend call in flight (the fakes answer at once), without waiting
    on a worker that waits on a dialog, then let the screen catch up."""
    for _ in range(100):
        await pilot.pause(0.05)
        pane = pilot.app.current_pane()
        if pane is None or not pane._handlers:
            break
    for _ in range(100):  # a DataTable sizes its columns when idle: under load that can come late
        if not any(t._require_update_dimensions or t._new_rows for t in pilot.app.screen.query(DataTable)):
            break
        await pilot.pause(0.05)
    await pilot.pause(0.2)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_data_pane(snap_compare, fake_app, size):
    assert snap_compare(fake_app("data"), terminal_size=size, run_before=_settle)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_data_pane_checkout_dialog(snap_compare, fake_app, size):
    async def run(pilot):
        await _settle(pilot)
        await pilot.press("tab", "j", "c")
        await _settle(pilot)

    assert snap_compare(fake_app("data"), terminal_size=size, run_before=run)


def test_data_pane_diff_of_a_directory(snap_compare, fake_app):
    async def run(pilot):
        await _settle(pilot)
        await pilot.press("j")
        await _settle(pilot)
        await pilot.press("tab", "j", "d")
        await _settle(pilot)

    assert snap_compare(fake_app("data"), terminal_size=(120, 34), run_before=run)


def test_data_pane_read_only_refusal(snap_compare, fake_app):
    async def run(pilot):
        await _settle(pilot)
        await pilot.press("tab", "j", "c")
        await _settle(pilot)

    assert snap_compare(fake_app("data", read_only=True), terminal_size=(80, 24), run_before=run)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_help(snap_compare, fake_app, size):
    async def run(pilot):
        await _settle(pilot)
        await pilot.press("question_mark")
        await _settle(pilot)

    assert snap_compare(fake_app("data"), terminal_size=size, run_before=run)


def test_command_line_completion(snap_compare, fake_app):
    async def run(pilot):
        await _settle(pilot)
        await pilot.press("colon", "c")
        await _settle(pilot)

    assert snap_compare(fake_app("data", contexts={"prod": {"read_only": True}}), terminal_size=(80, 24),
                        run_before=run)


def test_pane_not_configured(snap_compare, fake_app, tmp_path):
    """A context whose Runs pane has no tracking URI says how to configure it (its repo, where a store
    could be found, is an empty folder)."""
    async def run(pilot):
        await _settle(pilot)
        await pilot.press("colon", *"ctx bare", "enter")
        await _settle(pilot)
        await pilot.press("2")
        await _settle(pilot)

    app = fake_app("data", contexts={"bare": {"runs_backend": "mlflow", "repo": str(tmp_path)}})
    assert snap_compare(app, terminal_size=(80, 24), run_before=run)
