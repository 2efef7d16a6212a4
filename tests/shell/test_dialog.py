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
