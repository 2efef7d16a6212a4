"""The demo's notes: said once when their pane is first shown, and gone when a dialog opens over them."""

from __future__ import annotations

import asyncio

from tests.conftest import FROZEN_NOW
from tests.pilot import until


def demo_console(notes: dict[str, str]):
    from console.config import Config, Context
    from console.demo.app import DemoConsole

    fakes = dict(data_backend="fake", runs_backend="fake", deployments_backend="fake", metrics_backend="fake")
    config = Config(path=None, default_context="demo", contexts={"demo": Context(name="demo", **fakes)})
    return DemoConsole(config, config.context("demo", environ={}), now=lambda: FROZEN_NOW,
                       initial_pane="deployments", cursor_blink=False, notes=notes)


def toasts(app) -> list[str]:
    """The text of the notices drawn on the screen on top."""
    from textual.widgets._toast import Toast

    return [str(toast.render()) for toast in app.screen.query(Toast)]


async def test_a_note_is_said_once_on_its_pane_and_gives_way_to_the_links_menu():
    from widgets.link_menu import LinkMenu

    app = demo_console({"deployments": "No cluster here: these are local model servers.",
                        "metrics": "No Prometheus for the demo."})
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await until(pilot, lambda: app.notes_shown(), "the Deployments pane's note")
        assert app.notes_shown() == ["No cluster here: these are local model servers."]
        await pilot.pause(0.5)
        assert any("No cluster here" in t for t in toasts(app)), toasts(app)
        await pilot.press("j", "k")  # moving in the table leaves the note up
        assert len(app.notes_shown()) == 1
        await pilot.press("L")
        await until(pilot, lambda: isinstance(app.screen, LinkMenu), "the links menu")
        assert app.notes_shown() == []
        await pilot.pause(0.3)
        assert toasts(app) == []
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, LinkMenu), "the menu closed")
        await pilot.pause(0.5)
        assert app.notes_shown() == [], "said once"
        await pilot.press("4")  # the Metrics pane's own note, the first time it is shown
        await until(pilot, lambda: app.notes_shown() == ["No Prometheus for the demo."], "the Metrics pane's note")
        await pilot.press("1", "4")
        await asyncio.sleep(0.6)
        assert app.notes_shown() == ["No Prometheus for the demo."], "not said again"
