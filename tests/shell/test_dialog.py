"""The dialogs' base: closed once, and closing one before it is built never stops the app."""

from __future__ import annotations

import asyncio

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Label

from widgets.dialog import Dialog


class Question(Dialog[str]):
    def compose(self) -> ComposeResult:
        yield Label("?")


class Host(App):
    def __init__(self) -> None:
        super().__init__()
        self.answers: list[str | None] = []

    def compose(self) -> ComposeResult:
        yield Label("host")


@pytest.mark.timeout(60)  # the deadlock this guards against hangs the app's shutdown too
async def test_a_dialog_dismissed_before_it_is_mounted_closes_and_the_app_goes_on():
    app = Host()
    async with app.run_test() as pilot:
        dialog = Question()
        app.push_screen(dialog, app.answers.append)
        dialog.dismiss("early")  # in the same turn: the dialog is not mounted yet
        for _ in range(200):
            await asyncio.sleep(0.01)
            if app.answers:
                break
        assert app.answers == ["early"]
        assert not isinstance(app.screen, Question)
        # the app still handles what comes next (the deferred close once waited for itself: nothing moved again)
        await asyncio.wait_for(pilot.pause(), 5)
        second = Question()
        app.push_screen(second, app.answers.append)
        await asyncio.wait_for(pilot.pause(), 5)
        second.dismiss("late")
        await asyncio.wait_for(pilot.pause(), 5)
        assert app.answers == ["early", "late"] and not isinstance(app.screen, Question)


async def test_a_second_dismiss_of_the_same_dialog_leaves_the_screen_below():
    app = Host()
    async with app.run_test() as pilot:
        below, top = Question(), Question()
        app.push_screen(below, app.answers.append)
        app.push_screen(top, app.answers.append)
        await pilot.pause()
        top.dismiss("one")
        top.dismiss("two")  # the same burst: must not close `below`
        await pilot.pause()
        assert app.screen is below and app.answers == ["one"]



async def test_a_key_meant_for_the_pane_never_acts_on_a_view_that_opened_meanwhile(fake_app):
    # `l` handed to the Deployments pane, then, before it has come back up to the app (where Textual looks up
    # the bindings), the pods view is pushed by an answer: the key once ran the view's `l` on a view not yet
    # built, and the app ended
    from console.panes.deployments.views import PodsEventsView
    from keycontract import key_event

    app = fake_app("deployments")
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.current_pane()
        for _ in range(100):
            await pilot.pause(0.05)
            if pane.loaded and pane._rows:
                break
        d = pane.selected()
        pods, events = pane.api.pods(d.namespace, d.name), pane.api.events(d.namespace, d.name)
        assert pods, "the fake deployment has pods"
        await app.on_event(key_event(app, "l"))  # handed to the pane, in this very turn
        pane._show_pods(d, pods, events)  # what `v` does once the pods are read: in the same turn
        for _ in range(40):
            await pilot.pause(0.05)
            if isinstance(app.screen, PodsEventsView) and app.screen.is_mounted:
                break
        await pilot.pause(0.2)
        assert app.is_running
        assert isinstance(app.screen, PodsEventsView)
        assert str(app.screen.query_one("#log-title").render()) == "Log tail (enter or l on a pod)"
        await pilot.press("l")  # typed at the view, it acts there
        for _ in range(100):
            await pilot.pause(0.05)
            if "lines" in str(app.screen.query_one("#log-title").render()):
                break
        assert str(app.screen.query_one("#log-title").render()).startswith(f"Log tail of {pods[0].name} (")



async def test_quitting_as_the_command_line_opens_ends_cleanly(fake_app):
    # `:quit` chosen in the palette, then `:` in the same burst: the line is taken apart as it is built
    from widgets.command_line import CommandLine

    app = fake_app("runs")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.3)
        app.push_screen(CommandLine(lambda text: [], ""))
        app.exit()
    assert app.return_code == 0 and app._exception is None


async def test_links_that_come_in_as_the_menu_closes_are_dropped_and_the_app_goes_on():
    """The `L` menu's links arrive from a worker: after `escape`, while the menu's list is being taken down, they
    are dropped (they once failed on the list that was gone and ended the app)."""
    from textual.widgets import OptionList

    from widgets.link_menu import LinkMenu, MenuEntry

    app = Host()
    async with app.run_test() as pilot:
        menu = LinkMenu("iris links to")
        app.push_screen(menu, app.answers.append)
        await pilot.pause()
        await menu.query_one(OptionList).remove()  # the state of a menu being closed: attached, its list gone
        menu.set_entries([MenuEntry("metrics", "metrics of iris", "the model-serving dashboard")])
        menu.set_problem("could not follow the links")
        await pilot.press("escape")
        await asyncio.wait_for(pilot.pause(), 5)
        assert app.answers == [None] and not isinstance(app.screen, LinkMenu)
