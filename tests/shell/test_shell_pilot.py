"""The shell driven by keys: panes, the `:` line, help, palette, keymap, contexts, quitting."""

from __future__ import annotations

import subprocess
import sys

from console.app import make_app
from console.config import Config, Context
from console.panes.base import PaneScreen
from widgets.status import StatusBar


def _app(tmp_path, keymap=None, **ctx):
    a, b = tmp_path / "repo-a", tmp_path / "repo-b"
    a.mkdir(exist_ok=True)
    b.mkdir(exist_ok=True)
    contexts = {
        "alpha": Context(name="alpha", repo=str(a), **ctx),
        "beta": Context(name="beta", repo=str(b), read_only=True, **ctx),
    }
    config = Config(default_context="alpha", contexts=contexts, keymap=keymap or {})
    return make_app(config, config.context(None, environ={}), cursor_blink=False)


def _status(app) -> str:
    pane = app.current_pane()
    return pane.query_one("#status", StatusBar).text


async def test_number_keys_and_commands_switch_panes(tmp_path, screen_text):
    app = _app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.current_mode == "data"
        for key, mode in (("2", "runs"), ("3", "deployments"), ("4", "metrics"), ("1", "data")):
            await pilot.press(key)
            await pilot.pause()
            assert app.current_mode == mode
            assert isinstance(app.screen, PaneScreen) and app.screen.PANE == mode
        await pilot.press("colon", *"deploy", "enter")
        await pilot.pause()
        assert app.current_mode == "deployments"
        await pilot.press("colon", *"metr", "tab", "enter")  # tab completes the command name
        await pilot.pause()
        assert app.current_mode == "metrics"


async def test_unknown_command_and_missing_argument_are_reported_inline(tmp_path, screen_text):
    app = _app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("colon", *"frobnicate", "enter")
        await pilot.pause()
        assert "unknown command :frobnicate" in _status(app)
        await pilot.press("colon", *"ctx", "enter")
        await pilot.pause()
        assert ":ctx needs NAME" in _status(app)
        assert app.context.name == "alpha"


async def test_ctx_switches_context_and_every_visited_pane_reloads(tmp_path, screen_text):
    app = _app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause(0.5)
        await pilot.press("2")
        await pilot.pause()
        await pilot.press("1")
        await pilot.pause(0.5)
        data_before = app.screen
        await pilot.press("colon", *"ctx nope", "enter")
        await pilot.pause()
        assert "unknown context 'nope' (known: alpha, beta)" in _status(app)
        assert app.context.name == "alpha"
        await pilot.press("colon", *"ctx be", "tab", "enter")
        await pilot.pause(0.5)
        assert app.context.name == "beta" and app.context.read_only
        assert app.screen is data_before  # same pane, rebuilt in place
        shot = screen_text(app)
        assert "ctx: beta" in shot and "[read-only]" in shot
        assert "context 'beta' (read-only)" in _status(app)
        # the pane built its backend again from the new context
        backend, problem = app.backends.get("data")
        assert str(tmp_path / "repo-b") in str(getattr(backend, "root", "")) + str(problem)
        await pilot.press("2")
        await pilot.pause()
        assert "ctx: beta" in screen_text(app)


async def test_help_is_generated_from_the_bindings_and_follows_the_keymap(tmp_path, screen_text):
    app = _app(tmp_path, keymap={"app.help": "f1", "pane.refresh": "f5"})
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("question_mark")  # remapped away: nothing opens
        await pilot.pause()
        assert app.screen.__class__.__name__ != "TextView"
        await pilot.press("f1")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "TextView"
        text = screen_text(app)
        assert "pane.refresh" in text and "F5" in text.upper()
        assert ":ctx" in text and "Switch context" in text
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, PaneScreen)


async def test_palette_is_fed_by_the_command_table(tmp_path, screen_text):
    app = _app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"ctx beta")
        await pilot.pause(0.5)
        assert ":ctx beta" in screen_text(app)
        await pilot.press("enter")
        await pilot.pause(0.5)
        assert app.context.name == "beta"


async def test_q_quits(tmp_path, screen_text):
    app = _app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0 and not app.is_running


def test_help_flag_and_version_run_without_a_terminal(tmp_path):
    done = subprocess.run([sys.executable, "-m", "console", "--help"], capture_output=True, text=True,
                          cwd=tmp_path, timeout=60)
    assert done.returncode == 0 and "--prometheus-url" in done.stdout and "--read-only" in done.stdout


async def test_a_palette_entry_that_needs_an_argument_opens_the_line_while_a_field_has_focus(fake_app, screen_text):
    # the palette hands focus back to the query editor before its entry runs; the entry must still open the line
    from widgets.command_line import CommandLine

    app = fake_app("metrics")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause(0.3)
        await pilot.press("e")
        await pilot.pause(0.2)
        assert app.text_field_focused()
        await pilot.press("ctrl+p")
        await pilot.pause(0.2)
        await pilot.press(*"var")
        await pilot.pause(0.5)
        assert ":var" in screen_text(app)
        await pilot.press("enter")
        await pilot.pause(0.5)
        assert app.is_running
        assert isinstance(app.screen, CommandLine)
        assert ":var " in screen_text(app) or "var " in screen_text(app)


async def test_a_commands_error_on_the_live_metrics_pane_stays_until_it_can_be_read(fake_app):
    """The Metrics pane polls every few seconds; a poll's words wait :data:`SAID_HOLD_S` before they replace a
    problem a command said (they once wiped `:ctx nope`'s message at the next answer, before it could be read)."""
    from console.panes.metrics.screen import SAID_HOLD_S

    app = fake_app("metrics")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.5)
        await pilot.press("colon", *"ctx nope", "enter")
        said = "unknown context 'nope' (known: demo)"
        for _ in range(int(SAID_HOLD_S * 10) - 10):  # polls answer meanwhile (the fake answers at once)
            await pilot.pause(0.1)
            assert said in _status(app)
        await pilot.pause(1.2)  # the hold is over
        await pilot.press("r")  # a poll now: its words are shown again
        for _ in range(100):
            if "series over" in _status(app):
                break
            await pilot.pause(0.1)
        assert "series over" in _status(app), _status(app)
