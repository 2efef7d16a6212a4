"""A DVC remote whose URL holds a password, on a real HTTP server that fails the upload: `P` in the Data
pane says it failed, and the password reaches neither the screen nor any file the console writes."""

from __future__ import annotations

import logging

from console.cli import start_log
from console.history import state_dir
from tests.dvc.test_data_pane_pilot import make, open_history, pane, wait_for
from tests.leak_check import files_holding, mode, server_answering_500
from widgets.confirm import ConfirmDialog

PASSWORD = "pw-Dvc-R3mote"


async def test_a_failed_push_to_a_remote_url_with_a_password(seed_repo, tmp_path, monkeypatch, screen_text):
    elsewhere = tmp_path / "cwd"  # the workspace's own .dvc/config holds the URL: the user wrote it there
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    log_path = elsewhere / "console.log"
    seen: list[str] = []
    with server_answering_500() as port:
        seed_repo.dvc("remote", "modify", "storage", "url", f"http://dvc-user:{PASSWORD}@127.0.0.1:{port}/dvc")
        seed_repo.write("data/demo.txt", "version3\n")
        seed_repo.dvc("add", "-q", "data/demo.txt")
        handler = start_log(str(log_path))
        try:
            app = make(seed_repo.ws)
            async with app.run_test(size=(120, 34)) as pilot:
                await open_history(pilot, "data/demo.txt", "update demo.txt")
                seen.append(screen_text(app))
                await pilot.press("P")
                await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
                seen.append(screen_text(app))
                await pilot.press("y")
                status = pane(app).query_one("#status")
                await wait_for(pilot, lambda: status.level == "error", timeout=90)
                await pilot.pause()
                seen += [status.text, screen_text(app)]
        finally:
            logging.getLogger("mlops_console").removeHandler(handler)
            handler.close()
    assert "push" in seen[2] and "failed" in seen[2] and "500" in seen[2], seen[2]
    for text in seen:
        assert PASSWORD not in text
    assert files_holding(PASSWORD, elsewhere, state_dir()) == []
    assert "failed" in log_path.read_text() and mode(log_path) == 0o600
