"""The `:` and PromQL histories outlive the session, in the user's state directory."""

from __future__ import annotations

import os
import stat

from console.history import History, state_dir


def test_entries_survive_a_restart_and_repeats_are_skipped(tmp_path):
    path = tmp_path / "state" / "h"
    first = History("h", path=path)
    for entry in ("sort -metrics.rmse", "sort -metrics.rmse", "ctx prod", "rate(x[5m])\n  / 2"):
        first.append(entry)
    assert list(first) == ["sort -metrics.rmse", "ctx prod", "rate(x[5m]) / 2"]
    assert list(History("h", path=path)) == list(first)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_only_the_last_entries_are_kept(tmp_path):
    path = tmp_path / "h"
    history = History("h", limit=5, path=path)
    for i in range(2000):
        history.append(f"query {i}")
    assert list(history) == [f"query {i}" for i in range(1995, 2000)]
    assert list(History("h", limit=5, path=path)) == list(history)
    assert len(path.read_text().splitlines()) < 1100, "the file is cut back now and then"


def test_an_unwritable_place_keeps_the_history_in_memory(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    history = History("h", path=blocker / "h")  # a directory that cannot exist
    history.append("up")
    assert list(history) == ["up"] and history.path is None


def test_the_state_directory_follows_xdg(tmp_path):
    assert state_dir({"XDG_STATE_HOME": str(tmp_path)}) == tmp_path / "mlops-console"
    assert state_dir({}).parts[-3:] == (".local", "state", "mlops-console")


def _app(repo):
    from console.app import make_app
    from console.config import Config, Context

    config = Config(path=None, default_context="here", contexts={"here": Context(name="here", repo=str(repo))})
    return make_app(config, config.context(None, environ={}), cursor_blink=False)


async def test_the_command_line_history_is_there_after_a_restart(tmp_path):
    app = _app(tmp_path)  # the default backends (an empty folder: the Data pane says it is not a repository)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("colon", *"runs", "enter")
        await pilot.pause()
        assert app.current_mode == "runs"
    again = _app(tmp_path)
    assert list(again.command_history)[-1] == "runs"
    assert (state_dir() / "command_history").read_text().splitlines()[-1] == "runs"


def test_no_home_directory_keeps_the_history_in_memory(monkeypatch):
    monkeypatch.delenv("XDG_STATE_HOME", raising=False)

    def no_home():
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr("pathlib.Path.home", staticmethod(no_home))
    history = History("h")
    history.append("up")
    assert list(history) == ["up"] and history.path is None
