"""Snapshot tests of the shell and the Data pane on the fake backends (SVGs in snapshots/)."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Input, Label

from snapshot_checks import check_screen, row_with

SIZES = [(80, 24), (120, 34)]


OUTPUT_ROWS = [("data/demo.txt", "in sync"), ("data/images", "in sync"), ("data/labels.csv", "not checked out"),
               ("data/raw.csv", "modified"), ("model/model.pkl", "missing from cache")]


def _data_pane_shown(text: str, width: int) -> None:
    """The outputs with their states, and the three versions of the selected output with its history."""
    for path, state in OUTPUT_ROWS:
        row_with(text, f" {path} ", state)
    assert "History of data/demo.txt" in text
    newest = row_with(text, "09c0ffe", "2024-05-12 14:30")
    # a message cut to fit ends with an ellipsis, so two versions never read the same
    assert ("update demo.txt again" in newest) if width >= 120 else newest.endswith("update demo.txt…"), newest
    row_with(text, "05c0ffe", "update demo.txt")
    row_with(text, "01c0ffe", "add demo.txt")


async def _settle(pilot):
    """Wait until the pane has no backend call in flight (the fakes answer at once), without waiting
    on a worker that waits on a dialog, then let the screen catch up."""
    for _ in range(100):
        await pilot.pause(0.05)
        pane = pilot.app.current_pane()
        if pane is None or not pane._call_state()[0]:
            break
    for _ in range(100):  # a DataTable sizes its columns when idle: under load that can come late
        if not any(t._require_update_dimensions or t._new_rows for t in pilot.app.screen.query(DataTable)):
            break
        await pilot.pause(0.05)
    await pilot.pause(0.2)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_data_pane(snap_compare, fake_app, size):
    # must show: the five outputs with their states, the history of data/demo.txt, its status line, the footer
    async def run(pilot):
        await _settle(pilot)
        text = check_screen(pilot.app)
        _data_pane_shown(text, size[0])
        assert text.splitlines()[-2].strip() == "data/demo.txt: 3 version(s), checked out: 09c0ffe"
        assert "ERROR" not in text

    assert snap_compare(fake_app("data"), terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_data_pane_checkout_dialog(snap_compare, fake_app, size):
    # must show: the checkout question for 05c0ffe with its commands and change, and no "planning" words left
    async def run(pilot):
        await _settle(pilot)
        await pilot.press("tab", "j", "c")
        await _settle(pilot)
        text = check_screen(pilot.app)
        assert "Check out data/demo.txt @ 05c0ffe?" in text
        assert "git checkout 05c0ffe -- data/demo.txt.dvc" in text and "dvc checkout data/demo.txt.dvc" in text
        assert "The data is not in the local cache" in text
        row_with(text, "modified  data/demo.txt  28 B -> 19 B")
        row_with(text, "[y] Check out", "[n] Cancel")
        assert "ERROR" not in text

    assert snap_compare(fake_app("data"), terminal_size=size, run_before=run)


def test_data_pane_diff_of_a_directory(snap_compare, fake_app):
    # must show: the three file changes of data/images against 03c0ffe, and the count in the status line
    async def run(pilot):
        await _settle(pilot)
        await pilot.press("j")
        await _settle(pilot)
        await pilot.press("tab", "j", "d")
        await _settle(pilot)
        text = check_screen(pilot.app)
        assert "data/images: workspace -> 03c0ffe" in text
        row_with(text, "modified", "data/images/cat.png", "24.0 KB", "20.0 KB")
        row_with(text, "added", "data/images/owl.png", "30.0 KB")
        row_with(text, "deleted", "data/images/sub/eel.png", "12.0 KB")
        assert text.splitlines()[-2].strip() == "data/images: 3 difference(s) against 03c0ffe"

    assert snap_compare(fake_app("data"), terminal_size=(120, 34), run_before=run)


def test_data_pane_read_only_refusal(snap_compare, fake_app):
    # must show: the Data pane as it was, no checkout question, and the refusal in the status line
    async def run(pilot):
        await _settle(pilot)
        await pilot.press("tab", "j", "c")
        await _settle(pilot)
        text = check_screen(pilot.app)
        _data_pane_shown(text, 80)
        assert "Check out" not in text
        assert text.splitlines()[-2].strip() == "ERROR read-only context 'demo': checkout refused"

    assert snap_compare(fake_app("data", read_only=True), terminal_size=(80, 24), run_before=run)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_help(snap_compare, fake_app, size):
    # must show: the Data pane's keys with what they do and their keymap ids, and how to close the help
    async def run(pilot):
        await _settle(pilot)
        await pilot.press("question_mark")
        await _settle(pilot)
        text = check_screen(pilot.app)
        assert "Keys (Data pane)" in text
        for key, action, binding_id in [("d", "Diff", "data.diff"), ("c", "Checkout", "data.checkout"),
                                        ("/", "Filter", "data.filter"), ("j", "Down", "nav.down")]:
            row_with(text, f" {key} ", f" {action} ", binding_id)
        assert "help_quit" not in text and "action_" not in text  # no raw action names
        assert "escape: close" in text

    assert snap_compare(fake_app("data"), terminal_size=size, run_before=run)


def test_command_line_completion(snap_compare, fake_app):
    # must show: the typed `:c` on the bottom row (the rest of the first candidate after it), and the candidate
    # `:ctx` on its own row above, never on top of the typed text
    async def run(pilot):
        await _settle(pilot)
        await pilot.press("colon", "c")
        await _settle(pilot)
        text = check_screen(pilot.app, footer_help=False)
        line = pilot.app.screen.query_one("#cmd", Input)
        hint = pilot.app.screen.query_one("#hint", Label)
        assert line.value == "c" and line.cursor_position == 1
        assert hint.region.bottom <= line.region.y, (hint.region, line.region)
        rows = text.splitlines()
        assert rows[-1].startswith(":c"), rows[-1]
        assert rows[-2].strip() == ":ctx", rows[-2]

    assert snap_compare(fake_app("data", contexts={"prod": {"read_only": True}}), terminal_size=(80, 24),
                        run_before=run)


def test_pane_not_configured(snap_compare, fake_app, tmp_path):
    """A context whose Runs pane has no tracking URI says how to configure it (its repo, where a store
    could be found, is an empty folder)."""
    # must show: the Runs pane of context `bare`, not configured, with the three ways to configure it
    async def run(pilot):
        await _settle(pilot)
        await pilot.press("colon", *"ctx bare", "enter")
        await _settle(pilot)
        await pilot.press("2")
        await _settle(pilot)
        text = check_screen(pilot.app)
        assert "ctx: bare" in text.splitlines()[0]
        assert "Runs pane: not configured" in text
        assert "set mlflow_uri in the context" in text and "--mlflow-uri" in text
        assert "MLFLOW_TRACKING_URI" in text

    app = fake_app("data", contexts={"bare": {"runs_backend": "mlflow", "repo": str(tmp_path)}})
    assert snap_compare(app, terminal_size=(80, 24), run_before=run)
