"""The key contract, generated from the bindings: every key that help lists for a pane's state, plus the keys
every pane keeps (`1`-`4`, `:`, `/`, `?`, `ctrl+p`, `escape`), is pressed in that state, and each must:

- leave the app running (a crash ends ``run_test`` with the exception);
- reach what it is bound to: the binding's action is dispatched, not swallowed by a widget the user cannot
  see (after each key, the focused widget is shown, never inside something hidden);
- do something the user can see: the screen's text, the focused widget, the screen on top, or the pane.

A pane's tests describe its states (how to reach each one, with real backends) and call ``check_state``;
a binding added later is pressed without anyone writing a test for it.
"""

from __future__ import annotations

import asyncio
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from textual import events
from textual._wait import wait_for_idle
from textual.command import CommandPalette
from textual.keys import REPLACED_KEYS, _get_unicode_name_from_key
from textual.screen import ModalScreen

from console.panes.base import PaneScreen, _hidden

# the keys every pane keeps (DESIGN.md), whatever the pane's own bindings are
UNIVERSAL = ("1", "2", "3", "4", "colon", "slash", "question_mark", "ctrl+p", "escape")
QUIT_KEYS = {"q", "ctrl+c", "ctrl+q"}  # end the app: pressed once, last, by check_quit
PANE_KEYS = {"data": "1", "runs": "2", "deployments": "3", "metrics": "4"}
# the tables' own scrolling keys: nothing to scroll when the rows and columns fit (they are checked for
# the keys the panes advertise: j k g G, and up/down where a row is below)
SCROLL_KEYS = {"left", "right", "pageup", "pagedown", "home", "end", "ctrl+home", "ctrl+end", "ctrl+pageup",
               "ctrl+pagedown"}
SILENT_ACTIONS = {"copy_text", "copy"}  # Textual's copy of the selected text: nothing is selected here
FIELD_ACTIONS: set[str] = set()  # the focused text field's own actions (filled per key)
TYPED = {"1", "2", "3", "4", "colon", "slash", "question_mark"}  # characters when a text field has focus


@dataclass
class State:
    """``enter(pilot)`` brings a fresh app to the state; ``holds(app)`` tells whether it still is (else it is
    entered again before the next key). ``silent`` names keys that may change nothing visible in this state,
    with the reason (for example a cursor key on a one-row table)."""

    name: str
    enter: Callable[[Any], Awaitable[None]]
    holds: Callable[[Any], bool] = lambda app: True
    silent: dict[str, str] = field(default_factory=dict)


def observe(app) -> tuple:
    """What the user can see: the screen text, which screen is on top, the pane, the focused widget, and where
    its cursor is (drawn as a style, not in the text)."""
    text = "\n".join(strip.text for strip in app.screen._compositor.render_strips())
    return (text, id(app.screen), len(app.screen_stack), app.current_mode, id(app.focused), app.text_field_focused(),
            _cursor(app.focused), getattr(app.focused, "scroll_offset", None))


def advertised_keys(app, node=None) -> list[tuple[str, str, str]]:
    """(key, action, description) for every binding help lists on the screen on top (its ``help_table``
    rows: a description, not a focus-moving system key), one entry per key; with ``node``: only its own."""
    seen: dict[str, tuple[str, str, str]] = {}
    for key, active in app.screen.active_bindings.items():
        binding = active.binding
        if node is not None and active.node is not node:
            continue
        if not binding.description or binding.action.startswith("app.focus"):
            continue
        seen.setdefault(key, (key, binding.action, binding.description))
    return list(seen.values())


async def settle(pilot, seconds: float = 0.05) -> None:
    """Let the key's effects reach the screen: messages, a worker's answer on the fake or real backend."""
    await pilot.pause(seconds)
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()


def record_actions(app) -> list[str]:
    """Every action the app dispatches from now on, by name (instrumenting this app instance only)."""
    dispatched: list[str] = []
    original = app._dispatch_action

    async def dispatch(namespace, action_name, params):
        dispatched.append(action_name)
        return await original(namespace, action_name, params)

    app._dispatch_action = dispatch
    return dispatched


async def until(condition: Callable[[], bool], limit: float = 2.0) -> None:
    """Let the app run until ``condition()`` holds (at most ``limit`` seconds)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while not condition() and loop.time() < deadline:
        await asyncio.sleep(0.01)


async def back_to(pilot, pane: str, depth: int) -> None:
    """Close what a key opened (dialogs, the `:` line, the palette) and return to ``pane``."""
    app = pilot.app
    for _ in range(6):
        if len(app.screen_stack) <= depth:
            break
        screen, count = app.screen, len(app.screen_stack)
        if isinstance(screen, ModalScreen):
            screen.dismiss(None)
        else:
            app.pop_screen()
        await until(lambda count=count: len(app.screen_stack) < count)
    if app.current_mode != pane:
        app.switch_mode(pane)
        await until(lambda: app.current_mode == pane and isinstance(app.screen, PaneScreen))
    await asyncio.sleep(0.02)


def expect_effect(key: str, action: str, before: tuple, after: tuple, app, state: State, pane: str) -> None:
    """The check each key must pass, beyond not crashing."""
    where = f"{pane} pane, state {state.name!r}, key {key!r} ({action})"
    focused = app.focused
    assert focused is None or not _hidden(focused), f"{where}: focus went to a hidden widget {focused!r}"
    if before[5] and action in FIELD_ACTIONS:
        return  # a text field's own editing keys (Textual's), nothing to edit in a short field
    if before[5] and key in TYPED:
        # in a text field these keys are characters: what was typed shows
        assert after[0] != before[0], f"{where}: the character typed into the field does not show"
        return
    if key in UNIVERSAL and not action and key not in PANE_KEYS.values():
        return  # not offered in this state (help does not list it): it must only do no harm
    if key in PANE_KEYS.values():
        target = next(p for p, k in PANE_KEYS.items() if k == key)
        if isinstance(app.screen, PaneScreen) or app.current_mode != pane:
            assert app.current_mode == target, f"{where}: did not switch to the {target} pane"
        return
    if key == "ctrl+p":
        assert isinstance(app.screen, CommandPalette), f"{where}: the palette did not open"
        return
    if key == "colon":
        from widgets.command_line import CommandLine

        assert isinstance(app.screen, CommandLine) and app.focused is not None and app.focused.id == "cmd", \
            f"{where}: the command line did not open with focus ({app.screen_stack}, focus {app.focused!r})"
        return
    if key == "question_mark":
        from widgets.views import TextView

        if isinstance(app.screen, PaneScreen) or len(app.screen_stack) > before[2]:
            assert isinstance(app.screen, TextView), f"{where}: help did not open"
        return
    base = action.split(".")[-1].split("(")[0]
    if key in state.silent or key in SCROLL_KEYS or base in SILENT_ACTIONS or base.startswith(("scroll_", "page_")):
        # scrolling keys: nothing to scroll when what is shown fits
        return
    assert after != before, f"{where}: nothing visible changed (focus {app.focused!r}):\n{after[0]}"


def key_event(app, key: str) -> events.Key:
    """The key event a terminal's driver posts for ``key`` (as Textual's Pilot builds it)."""
    original = REPLACED_KEYS.get(key, key)
    try:
        char: str | None = unicodedata.lookup(_get_unicode_name_from_key(original))
    except KeyError:
        char = key if len(key) == 1 else None
    event = events.Key(key, char)
    event.set_sender(app)
    return event


def _cursor(widget) -> tuple[int, int] | None:
    """The (row, column) of a table's cursor, to put it back where the state had it."""
    coordinate = getattr(widget, "cursor_coordinate", None)  # DataTable
    if coordinate is not None:
        return coordinate.row, coordinate.column
    if hasattr(widget, "cursor_row") and hasattr(widget, "move_cursor"):  # FastTable
        return widget.cursor_row, widget.cursor_column
    return None


async def check_state(make_app: Callable[[], Any], pane: str, state: State, *, size=(80, 24),
                      extra_keys: tuple[str, ...] = ()) -> list[str]:
    """Press every advertised and universal key in ``state``; return the keys pressed (for the test to
    assert that the pane's own keys were among them)."""
    app = make_app()
    app.animation_level = "none"  # pressing waits for animations (smooth scrolling) to end
    pressed: list[str] = []
    async with app.run_test(size=size) as pilot:
        await state.enter(pilot)
        await settle(pilot)
        depth = len(app.screen_stack)
        home = app.focused  # where the state's keys act; a key that moved focus is undone before the next
        cursor = _cursor(home)
        keys = [k for k, _a, _d in advertised_keys(app)]
        keys += [k for k in (*UNIVERSAL, *extra_keys) if k not in keys]
        actions = {k: a for k, a, _d in advertised_keys(app)}
        dispatched = record_actions(app)
        for key in keys:
            if key in QUIT_KEYS:
                continue
            if not state.holds(app) or len(app.screen_stack) != depth or app.current_mode != pane:
                await back_to(pilot, pane, depth)
                if not state.holds(app) or len(app.screen_stack) != depth:
                    await state.enter(pilot)
                    await settle(pilot)
                    home, cursor = app.focused, _cursor(app.focused)
            if home is not None and home.is_attached and (app.focused is not home or _cursor(home) != cursor):
                home.focus()
                if cursor is not None and _cursor(home) != cursor:
                    home.move_cursor(row=cursor[0], column=cursor[1])
                await until(lambda home=home: app.focused is home)
                await asyncio.sleep(0.02)
            before = observe(app)
            FIELD_ACTIONS.clear()
            if before[5]:
                FIELD_ACTIONS.update(a for _k, a, _d in advertised_keys(app, node=app.focused))
            dispatched.clear()
            app._driver.send_message(key_event(app, key))  # as the terminal delivers it
            await wait_for_idle(0)  # the key has been handled (a busy machine may take a while)
            after = before
            waits = 4 if key in state.silent or key in SCROLL_KEYS else 25
            for _ in range(waits):  # most keys show their effect at once; a worker's answer may take a moment
                await asyncio.sleep(0.01)
                after = observe(app)
                if after != before or not app.is_running:
                    break
            if key == "colon" and not before[5]:  # the line takes focus a frame after it is shown
                await until(lambda: app.focused is not None and app.focused.id == "cmd", 1.0)
            for _ in range(25):  # then what the key set in motion settles (a dialog takes focus a frame later)
                await asyncio.sleep(0.01)
                if not app.is_running:
                    break
                latest = observe(app)
                if latest == after:
                    break
                after = latest
            assert app.is_running, f"{pane} pane, state {state.name!r}: key {key!r} ended the app"
            action = actions.get(key, "")
            if action and not (before[5] and action in FIELD_ACTIONS):  # a field may decline its keys when empty
                name = action.split("(")[0].split(".")[-1]
                assert any(d == name for d in dispatched), \
                    (f"{pane} pane, state {state.name!r}: key {key!r} did not reach {action} (got {dispatched}; "
                     f"screen {app.screen!r}, focus {app.focused!r}, pressed before: {pressed[-5:]})")
            expect_effect(key, action, before, after, app, state, pane)
            pressed.append(key)
        await back_to(pilot, pane, depth)  # nothing opened by the last key is left half built at shutdown
        await pilot.pause(0.1)
    return pressed


async def check_quit(make_app: Callable[[], Any], enter: Callable[[Any], Awaitable[None]], key: str) -> int | None:
    """Press ``key`` in a state; the app must end (with its return code, None for a plain exit)."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await enter(pilot)
        await settle(pilot)
        await pilot.press(key)
        for _ in range(50):
            if not app.is_running:
                break
            await asyncio.sleep(0.05)
        assert not app.is_running, f"{key!r} did not quit"
    return app.return_code
