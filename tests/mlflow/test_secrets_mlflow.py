"""A tracking URI with a password, to a server answering 5xx: the password reaches neither the screen nor
any file the console writes (its log included, mode 0600)."""

from __future__ import annotations

import asyncio
import logging

from console.app import make_app
from console.cli import start_log
from console.config import Config, Context
from console.history import state_dir
from tests.leak_check import files_holding, mode, server_answering_500

PASSWORD = "pw-Mlf0w-5xx"


async def until(pilot, predicate, timeout: float = 30.0, what: str = "condition") -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.05)


async def test_a_tracking_server_answering_5xx_behind_a_password(tmp_path, monkeypatch, screen_text):
    monkeypatch.chdir(tmp_path)
    log_path = tmp_path / "console.log"
    handler = start_log(str(log_path))
    try:
        with server_answering_500() as port:
            ctx = Context(name="t", mlflow_uri=f"http://ml-user:{PASSWORD}@127.0.0.1:{port}", timeout=10.0)
            config = Config(path=None, default_context="t", contexts={"t": ctx})
            app = make_app(config, ctx, initial_pane="runs", cursor_blink=False)
            async with app.run_test(size=(140, 40)) as pilot:
                screen = app.current_pane()
                status = screen.query_one("#status")
                await until(pilot, lambda: status.level == "error" and "500" in status.text, what="the 5xx said")
                seen = [status.text, screen_text(app)]
                # it retries: each failure goes to the status line and the log again
                await until(pilot, lambda: log_path.read_text().count("runs pane") >= 2, what="a retry logged")
                seen += [status.text, screen_text(app)]
                app.run_command_line(f":filter tags.url = 'http://x:{PASSWORD}@h'")  # the command history too
                await pilot.pause(0.2)
    finally:
        logging.getLogger("mlops_console").removeHandler(handler)
        handler.close()
    assert "ml-user:***@127.0.0.1" in seen[0], seen[0]
    for text in seen:
        assert PASSWORD not in text
    assert files_holding(PASSWORD, tmp_path, state_dir()) == []
    assert "ml-user:***@127.0.0.1" in log_path.read_text()
    assert mode(log_path) == 0o600
    assert mode(state_dir() / "command_history") == 0o600
