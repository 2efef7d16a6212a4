"""The Data pane driven by keys, on real git + DVC workspaces (see conftest.py)."""

from __future__ import annotations

import asyncio
import hashlib

from console.app import make_app
from console.config import Config, Context
from widgets.confirm import ConfirmDialog
from widgets.status import StatusBar
from widgets.views import TableView, TextView

V1 = b"version1\n"


def make(ws, *, read_only=False, **contexts):
    ctx = {"main": Context(name="main", repo=str(ws), read_only=read_only, timeout=60)}
    ctx.update({name: Context(name=name, repo=str(path), timeout=60) for name, path in contexts.items()})
    config = Config(default_context="main", contexts=ctx)
    return make_app(config, config.context(None, environ={}), cursor_blink=False)


async def wait_for(pilot, condition, timeout=60.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time; status: " + status(pilot.app))
        await pilot.pause(0.1)


def status(app) -> str:
    return app.current_pane().query_one("#status", StatusBar).text


def pane(app):
    return app.current_pane()


async def open_history(pilot, output: str, version_message: str):
    """Select ``output`` in the outputs table and the version with ``version_message`` in its history."""
    app = pilot.app
    await wait_for(pilot, lambda: pane(app).outputs)
    paths = [o.path for o in pane(app)._visible_outputs()]
    table = pane(app).query_one("#outputs")
    table.focus()
    table.move_cursor(row=paths.index(output))
    await wait_for(pilot, lambda: pane(app).versions and pane(app).selected_output == output
                   and not pane(app).is_busy("history"))
    messages = [v.message for v in pane(app).versions]
    history = pane(app).query_one("#history")
    await pilot.press("tab")
    history.move_cursor(row=messages.index(version_message))
    await pilot.pause()
    assert history.has_focus


async def test_outputs_history_and_malformed_commit_are_shown(seed_repo, screen_text):
    app = make(seed_repo.ws)
    async with app.run_test(size=(120, 34)) as pilot:
        await wait_for(pilot, lambda: pane(app).outputs)
        text = screen_text(app)
        for path in ("data/demo.txt", "data/images", "data/labels.csv", "model/model.txt"):
            assert path in text
        assert "in sync" in text
        await open_history(pilot, "data/labels.csv", "more labels")
        text = screen_text(app)
        assert "malformed" in text
        assert "malformed" in status(app) and "data/labels.csv" in status(app)
        await open_history(pilot, "data/demo.txt", "add demo.txt version1")
        rows = [(v.message, v.is_current) for v in pane(app).versions]
        assert rows == [("update demo.txt", True), ("add demo.txt version1", False)]
        assert "2 version(s), checked out: " in status(app)


async def test_d_shows_what_differs_for_a_directory(seed_repo, screen_text):
    app = make(seed_repo.ws)
    async with app.run_test(size=(120, 34)) as pilot:
        await open_history(pilot, "data/images", "add images")
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, TableView))
        text = screen_text(app)
        assert "owl.png" in text and "added" in text  # the old version has owl, the workspace not
        assert "sub/eel.png" in text and "deleted" in text
        assert "cat.png" in text and "modified" in text
        await pilot.press("escape")


async def test_c_checks_out_the_older_version_after_confirmation(seed_repo, screen_text):
    app = make(seed_repo.ws)
    async with app.run_test(size=(120, 34)) as pilot:
        await open_history(pilot, "data/demo.txt", "add demo.txt version1")
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        text = screen_text(app)
        assert "git checkout" in text and "dvc checkout data/demo.txt.dvc" in text
        assert seed_repo.read("data/demo.txt") != V1  # nothing happens before the answer
        await pilot.press("y")
        await wait_for(pilot, lambda: any(v.is_current and v.message == "add demo.txt version1"
                                          for v in pane(app).versions), timeout=90)
        assert seed_repo.read("data/demo.txt") == V1
        assert "*" in screen_text(app)


async def test_cancel_changes_nothing(seed_repo):
    app = make(seed_repo.ws)
    before = seed_repo.snapshot()
    async with app.run_test(size=(120, 34)) as pilot:
        await open_history(pilot, "data/demo.txt", "add demo.txt version1")
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("n")
        await wait_for(pilot, lambda: "cancelled" in status(app))
    assert seed_repo.snapshot() == before


async def test_unsaved_changes_are_saved_to_the_cache_before_checkout(dirty_repo, screen_text):
    app = make(dirty_repo.ws)
    edit = b"my unsaved edit\n"
    async with app.run_test(size=(120, 34)) as pilot:
        await open_history(pilot, "data/demo.txt", "add demo.txt version1")
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        text = screen_text(app)
        assert "NOT in the DVC cache" in text
        await pilot.press("s")
        await wait_for(pilot, lambda: dirty_repo.read("data/demo.txt") == V1, timeout=90)
    digest = hashlib.md5(edit).hexdigest()  # noqa: S324
    saved = dirty_repo.cache / "files" / "md5" / digest[:2] / digest[2:]
    assert saved.read_bytes() == edit  # the edit is recoverable by its hash


async def test_data_missing_everywhere_fails_clearly_and_changes_nothing(nowhere_repo):
    app = make(nowhere_repo.ws)
    before = nowhere_repo.snapshot()
    async with app.run_test(size=(120, 34)) as pilot:
        await open_history(pilot, "data/demo.txt", "add demo.txt version1")
        await pilot.press("c")
        await wait_for(pilot, lambda: "cannot check out" in status(app) or isinstance(app.screen, ConfirmDialog))
        assert not isinstance(app.screen, ConfirmDialog)
        assert "nothing was changed" in status(app)
    assert nowhere_repo.snapshot() == before


async def test_read_only_refuses_checkout_pull_and_push(seed_repo):
    app = make(seed_repo.ws, read_only=True)
    before = seed_repo.snapshot()
    async with app.run_test(size=(120, 34)) as pilot:
        await open_history(pilot, "data/demo.txt", "add demo.txt version1")
        for key, word in (("c", "checkout"), ("p", "pull"), ("P", "push")):
            await pilot.press(key)
            await wait_for(pilot, lambda word=word: f"{word} refused" in status(app))
            assert not isinstance(app.screen, ConfirmDialog)
    assert seed_repo.snapshot() == before


async def test_p_pulls_the_data_back(no_cache_repo):
    app = make(no_cache_repo.ws)
    async with app.run_test(size=(120, 34)) as pilot:
        await open_history(pilot, "data/demo.txt", "update demo.txt")
        assert "data/demo.txt" in pane(app).selected_output
        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("y")
        await wait_for(pilot, lambda: (no_cache_repo.ws / "data" / "demo.txt").exists(), timeout=90)
        await wait_for(pilot, lambda: not pane(app).is_busy("outputs") and any(
            o.path == "data/demo.txt" and o.status.value == "in sync" for o in pane(app).outputs))
    assert no_cache_repo.read("data/demo.txt") == b"version2 is longer\n"


async def test_P_pushes_a_new_version_to_the_remote(seed_repo):
    seed_repo.write("data/demo.txt", "version3\n")
    seed_repo.dvc("add", "-q", "data/demo.txt")
    digest = hashlib.md5(b"version3\n").hexdigest()  # noqa: S324
    target = seed_repo.remote / "files" / "md5" / digest[:2] / digest[2:]
    assert not target.exists()
    app = make(seed_repo.ws)
    async with app.run_test(size=(120, 34)) as pilot:
        await open_history(pilot, "data/demo.txt", "update demo.txt")
        await pilot.press("P")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("y")
        await wait_for(pilot, target.exists, timeout=90)
    assert target.read_bytes() == b"version3\n"


async def test_ctx_switch_reloads_the_pane_from_the_other_workspace(seed_repo, tmp_path, screen_text):
    other = tmp_path / "not-a-repo"
    other.mkdir()
    app = make(seed_repo.ws, other=other)
    async with app.run_test(size=(120, 34)) as pilot:
        await wait_for(pilot, lambda: pane(app).outputs)
        await wait_for(pilot, lambda: "data/demo.txt" in screen_text(app))  # the outputs are drawn a frame later
        await pilot.press("colon", *"ctx other", "enter")
        await wait_for(pilot, lambda: "not configured" in screen_text(app))
        text = screen_text(app)
        assert "not a git repository" in text and "data/demo.txt" not in text
        await pilot.press("colon", *"ctx main", "enter")
        await wait_for(pilot, lambda: "data/demo.txt" in screen_text(app))


async def test_slash_filters_the_outputs_and_escape_clears(seed_repo, screen_text):
    app = make(seed_repo.ws)
    async with app.run_test(size=(120, 34)) as pilot:
        await wait_for(pilot, lambda: pane(app).outputs)
        await pilot.press("slash", *"imag")
        await pilot.pause()
        assert [o.path for o in pane(app)._visible_outputs()] == ["data/images"]
        table = pane(app).query_one("#outputs")
        assert table.row_count == 1
        await pilot.press("enter")
        await wait_for(pilot, lambda: pane(app).selected_output == "data/images" and pane(app).versions)
        assert table.has_focus and "filter: imag" in screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        assert table.row_count == len(pane(app).outputs) == 4
        assert "filter:" not in screen_text(app)


def burst(app, *keys: str) -> None:
    """Keys arriving together, as a fast typist, a paste or an SSH link delivers them: all are queued
    before the first is handled (Pilot's press waits between keys)."""
    from textual import events

    names = {":": "colon", "/": "slash", " ": "space", "\r": "enter", "-": "minus", ".": "full_stop"}
    for key in keys:
        app.post_message(events.Key(names.get(key, key), None if key == "\r" else key))


async def test_keys_typed_right_after_slash_or_colon_go_into_the_field(seed_repo, screen_text):
    # "c", "p" and "d" are this pane's checkout, pull and diff: typed into the filter they must stay letters
    app = make(seed_repo.ws)
    async with app.run_test(size=(120, 34)) as pilot:
        await wait_for(pilot, lambda: pane(app).outputs)
        burst(app, "/", *"dcp", "\r")
        box = pane(app).query_one("#filter")
        await wait_for(pilot, lambda: box.value == "dcp" and pane(app).query_one("#outputs").has_focus)
        assert not isinstance(app.screen, ConfirmDialog)
        assert pane(app)._visible_outputs() == [] and "filter: dcp" in screen_text(app)
        assert pane(app).query_one("#outputs").has_focus  # enter took the focus back to the table
        # "/" again: the filter opens with its text selected (typing replaces it); in it "/" is a slash and
        # ":" a colon
        burst(app, "/", "/", ":")
        await wait_for(pilot, lambda: box.has_focus and box.value == "/:")
        assert not isinstance(app.screen, ConfirmDialog)
        await pilot.press("escape")
        await pilot.pause()
        # ":" and a command in one burst: the whole line reaches the command line, enter runs it
        burst(app, ":", *"runs", "\r")
        await wait_for(pilot, lambda: app.current_mode == "runs")


def test_dvc_is_out_of_the_collectors_way_after_the_first_load(seed_repo):
    # in a fresh process: what DVC loads as it first opens the workspace (scmrepo, dulwich ...) is moved
    # out of the garbage collector's way with the other long-lived objects (a full collection walked
    # ~40,000 of them, 14 ms, before)
    import json
    import subprocess
    import sys
    from pathlib import Path

    probe = Path(__file__).resolve().parent.parent / "gc_probe.py"
    out = subprocess.run([sys.executable, str(probe), "data", json.dumps({"repo": str(seed_repo.ws)}),
                          "scmrepo.git:Git"], capture_output=True, text=True, timeout=120)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result.get("walked") is False, result
    assert result["unfrozen"] < 20_000, result


async def test_at_80x24_a_message_cut_by_the_edge_ends_with_an_ellipsis(seed_repo, screen_text):
    # two versions whose messages differ only beyond the 80th column must not read the same
    seed_repo.write("data/demo.txt", "version3\n")
    seed_repo.dvc("add", "-q", "data/demo.txt")
    seed_repo.git("commit", "-q", "-am", "update demo.txt again")
    app = make(seed_repo.ws)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_history(pilot, "data/demo.txt", "update demo.txt")
        await wait_for(pilot, lambda: "update demo.txt…" in screen_text(app))
        rows = [line.rstrip() for line in screen_text(app).splitlines() if "update demo.txt" in line]
        assert len(rows) == 2, rows
        assert rows[0].endswith("update demo.txt…") and rows[1].endswith("update demo.txt"), rows


async def test_the_md5_of_saved_edits_stays_on_the_status_line_and_in_saves(dirty_repo, screen_text):
    app = make(dirty_repo.ws)
    digest = hashlib.md5(b"my unsaved edit\n").hexdigest()  # noqa: S324
    async with app.run_test(size=(120, 34)) as pilot:
        await pilot.press("colon", *"saves", "enter")
        await wait_for(pilot, lambda: "no workspace copy was saved" in status(app))
        await open_history(pilot, "data/demo.txt", "add demo.txt version1")
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("s")
        # the checkout is done and the pane has read the workspace again
        await wait_for(pilot, lambda: any(v.is_current and v.message == "add demo.txt version1"
                                          for v in pane(app).versions) and not pane(app).is_busy("history")
                       and not pane(app).is_busy("outputs"), timeout=90)
        assert digest in status(app) and ":saves" in status(app), status(app)
        await pilot.press("colon", *"saves", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TextView))
        assert f"md5 {digest}" in screen_text(app)
        body = " ".join(str(app.screen.body).split())
        assert f"data/demo.txt in {dirty_repo.ws}" in body, body
        assert f"to get it back: put md5 {digest} in data/demo.txt.dvc, then `dvc checkout data/demo.txt.dvc`" \
            in body, body
        await pilot.press("escape")
    # the recipe works: that md5 in the .dvc file and `dvc checkout` bring the edit back
    record = dirty_repo.ws / "data" / "demo.txt.dvc"
    lines = record.read_text().splitlines()
    record.write_text("\n".join(f"- md5: {digest}" if line.startswith("- md5:") else line
                                for line in lines if "size:" not in line) + "\n")
    dirty_repo.dvc("checkout", "-q", "data/demo.txt.dvc")
    assert dirty_repo.read("data/demo.txt") == b"my unsaved edit\n"
