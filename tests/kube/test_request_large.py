"""Large payloads and answers in the test request dialog, against a real MLServer: a payload loaded from a
file (ctrl+l) is sent as it is without being laid out, each history entry keeps a bounded prefix of its
bodies and says what was cut, the history holds a bounded number of entries, and ctrl+e edits the payload
in $EDITOR."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from textual import events
from textual.widgets import Input

from backends.deployments.inference import KEPT_BODY_CHARS
from console.panes.deployments.views import HISTORY_ENTRIES
from kube_helpers import GOOD_ROW
from test_deployments_pane import iris_endpoint_app, open_request_editor, wait_for
from widgets.path_prompt import PathPrompt
from widgets.request_editor import EDITABLE_CHARS, PREVIEW_CHARS

ROWS = 1_000_000  # scored at once: a 20 MB payload, a 2 MB answer


def batch(rows: int) -> str:
    return json.dumps({"inputs": [{"name": "input-0", "shape": [rows, 4], "datatype": "FP64",
                                   "data": GOOD_ROW * rows}]})


def small() -> str:
    return batch(1)


async def test_a_payload_from_a_file_and_an_answer_of_megabytes_are_kept_in_bounds(mlserver_url, tmp_path,
                                                                                     monkeypatch, screen_text):
    monkeypatch.chdir(tmp_path)
    payload = batch(ROWS)
    payload_file = tmp_path / "batch.json"
    payload_file.write_text(payload)
    app = iris_endpoint_app(mlserver_url, timeout=120)
    async with app.run_test(size=(160, 40)) as pilot:
        view, editor = await open_request_editor(pilot, "iris-local")
        # ctrl+l: a path prompt; the file is read and checked off the UI thread
        await pilot.press("ctrl+l")
        await wait_for(pilot, lambda: isinstance(app.screen, PathPrompt), what="the path prompt")
        app.screen.query_one(Input).value = str(payload_file)
        await pilot.press("enter")
        await wait_for(pilot, lambda: editor.large is not None, timeout=60, what="the payload loaded")
        assert editor.large == payload and editor.payload == payload
        # shown as a summary with its beginning, not laid out whole
        assert editor.read_only and len(editor.text) < PREVIEW_CHARS + 400
        assert editor.text.startswith("19.") and f"MB payload, 1 line(s)\nfrom {payload_file}\n" in editor.text
        assert "loaded 19." in screen_text(app)
        # ctrl+s sends the loaded payload as it is
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: view.history, timeout=120, what="the batch answer")
        ex = view.history[0]
        assert ex.response.status == 200, ex.response.body[:500]
        # the history keeps a prefix of each body, and how much it did not keep
        assert len(ex.response.body) == KEPT_BODY_CHARS and ex.response.body_cut > 1_000_000
        assert ex.response.body.startswith('{"model_name":"iris"')
        assert len(ex.request.body) == KEPT_BODY_CHARS and ex.request.body_cut == len(payload) - KEPT_BODY_CHARS
        assert payload.startswith(ex.request.body)
        total = KEPT_BODY_CHARS + ex.response.body_cut
        await wait_for(pilot, lambda: f"The answer had {total:,} characters" in str(view.query_one("#response").visual),
                       what="what was cut, on screen")
        # ctrl+o saves what was kept, and says what was not
        await pilot.press("ctrl+o")
        await pilot.pause()
        saved = json.loads((tmp_path / "requests-endpoints-iris-local.jsonl").read_text())
        assert saved["response"] == ex.response.body and saved["response_chars_not_kept"] == ex.response.body_cut
        assert saved["request"] == ex.request.body and saved["request_chars_not_kept"] == ex.request.body_cut
        # a payload the history did not keep whole cannot be replayed from it: said, nothing sent
        await pilot.press("ctrl+r")
        await pilot.pause(0.3)
        assert len(view.history) == 1 and "ctrl+l loads it again" in screen_text(app)
        # more requests than the history holds: the oldest (the large one) go
        editor.set_payload(small())
        assert editor.large is None and not editor.read_only
        for _ in range(HISTORY_ENTRIES + 4):
            await pilot.press("ctrl+s")
        sent = HISTORY_ENTRIES + 5
        await wait_for(pilot, lambda: view._next_key == sent + 1 and not view.sending, timeout=120,
                       what="every answer")
        table = view.query_one("#history")
        await wait_for(pilot, lambda: table.row_count == HISTORY_ENTRIES, what="the history rows")
        assert len(view.history) == HISTORY_ENTRIES
        assert table.row_key_at(0) == str(sent - HISTORY_ENTRIES + 1)
        assert table.row_key_at(HISTORY_ENTRIES - 1) == str(sent)
        assert all(e.response.status == 200 and not e.response.body_cut and not e.request.body_cut
                   for e in view.history)
        assert sum(len(e.request.body) + len(e.response.body) for e in view.history) < 100_000
        # the pane's history for the deployment is the same bounded list
        await pilot.press("escape")
        assert len(app.current_pane().histories[("endpoints", "iris-local")]) == HISTORY_ENTRIES


EDITOR_SCRIPT = '''
import json, os, stat, sys
path = sys.argv[1]
with open(os.environ["EDITOR_LOG"], "a") as log:
    log.write(json.dumps({"path": path, "mode": stat.S_IMODE(os.stat(path).st_mode)}) + "\\n")
if os.environ.get("EDITOR_FAIL"):
    sys.exit(3)
body = json.load(open(path))
rows = int(os.environ.get("EDITOR_ROWS", "2"))
body["inputs"][0]["shape"] = [rows, 4]
body["inputs"][0]["data"] = %r * rows
with open(path, "w") as f:
    json.dump(body, f, indent=2)
''' % (GOOD_ROW,)


async def test_ctrl_e_edits_the_payload_in_the_editor_of_EDITOR(mlserver_url, tmp_path, monkeypatch):
    script = tmp_path / "edit.py"
    script.write_text(EDITOR_SCRIPT)
    log = tmp_path / "editor.log"
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", f"{sys.executable} {script}")
    monkeypatch.setenv("EDITOR_LOG", str(log))
    app = iris_endpoint_app(mlserver_url)
    async with app.run_test(size=(160, 40)) as pilot:
        view, editor = await open_request_editor(pilot, "iris-local")
        editor.set_payload(small())
        await pilot.press("ctrl+e")  # also while the cursor is in the editor (where ctrl+e was end of line)
        await wait_for(pilot, lambda: log.exists(), what="the editor run")
        await wait_for(pilot, lambda: json.loads(editor.text)["inputs"][0]["shape"] == [2, 4], what="the edit back")
        run = json.loads(log.read_text().splitlines()[0])
        assert run["mode"] == 0o600 and not Path(run["path"]).exists()  # the temporary file is gone
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: view.history, what="the answer")
        answer = json.loads(view.history[0].response.body)
        assert view.history[0].response.status == 200 and answer["outputs"][0]["shape"][0] == 2
        # an editor that writes a payload too large to lay out: held aside, summarised, sent as it is
        monkeypatch.setenv("EDITOR_ROWS", "20000")
        await pilot.press("ctrl+e")
        await wait_for(pilot, lambda: editor.large is not None, what="the large edit")
        assert len(editor.large) > EDITABLE_CHARS and json.loads(editor.large)["inputs"][0]["shape"] == [20000, 4]
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: len(view.history) == 2, what="the second answer")
        assert json.loads(view.history[1].response.body)["outputs"][0]["shape"][0] == 20000
        # an editor that fails changes nothing
        before = editor.payload
        monkeypatch.setenv("EDITOR_FAIL", "1")
        await pilot.press("ctrl+e")
        await wait_for(pilot, lambda: "exited with status 3" in str(view.query_one("#json-error").visual),
                       what="the failure said")
        assert editor.payload == before


async def test_a_huge_paste_is_held_aside_not_laid_out(fake_app):
    app = fake_app("deployments")
    async with app.run_test(size=(120, 40)) as pilot:
        from console.panes.deployments.views import RequestView
        from widgets.request_editor import RequestEditor

        await wait_for(pilot, lambda: app.current_pane().query("#deployments") and
                       app.current_pane().query_one("#deployments").row_count, what="deployments")
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, RequestView), what="the request dialog")
        editor = app.screen.query_one("#editor", RequestEditor)
        huge = json.dumps({"data": {"ndarray": [GOOD_ROW] * 50_000}})
        app.post_message(events.Paste(huge))
        await wait_for(pilot, lambda: editor.large == huge, what="the paste held aside")
        assert editor.read_only and len(editor.text) < PREVIEW_CHARS + 400
        assert editor.document.line_count < 100
        # a small paste still goes into the text as usual (a paste goes to the focused widget)
        editor.set_payload("")
        app.post_message(events.Paste('{"a": 1}'))
        await wait_for(pilot, lambda: editor.text == '{"a": 1}', what="the small paste")
        assert editor.large is None
