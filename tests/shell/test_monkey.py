"""A monkey at the keyboard: with a fixed seed, thousands of keys per pane drawn from the keys help lists
there, printable characters, `escape`, `enter` and `tab`, on the in-memory fake backends. The app must never
crash, never put focus into a hidden widget, and never hold the screen for long on one key. A failure
names the seed and the keys that led to it, to replay them."""

from __future__ import annotations

import asyncio
import os
import random
import string
import time
import traceback

import pytest

from console.panes.base import _hidden
from keycontract import advertised_keys, key_event, until

KEYS_PER_PANE = int(os.environ.get("MONKEY_KEYS", "1000"))
SEED = int(os.environ.get("MONKEY_SEED", "20261206"))
# q and the ctrl keys that quit would end the run; ctrl+e suspends the app for $EDITOR (no terminal here)
NEVER = {"q", "ctrl+c", "ctrl+q", "ctrl+e"}
PRINTABLE = [c for c in string.ascii_letters + string.digits + " .,:/=<>'\"-_[]{}()" if c != "q"]
NAMED = {" ": "space", ":": "colon", "/": "slash", ".": "full_stop", ",": "comma", "=": "equals_sign",
         "<": "less_than_sign", ">": "greater_than_sign", "'": "apostrophe", '"': "quotation_mark",
         "-": "minus", "_": "underscore", "[": "left_square_bracket", "]": "right_square_bracket",
         "{": "left_curly_bracket", "}": "right_curly_bracket", "(": "left_parenthesis", ")": "right_parenthesis"}
class LoopLag:
    """How long the app's event loop was held (a frame could not be drawn): a task that asks to wake every
    10 ms measures how late it wakes. Scrolling animations and workers do not count; blocking work does.
    Only the loop's own work counts (the processor time its thread spent in the gap): a machine busy with
    other processes wakes the watcher late too, but that is not the app holding its frames."""

    def __init__(self) -> None:
        self.worst = 0.0

    async def watch(self) -> None:
        while True:
            before, worked = time.perf_counter(), time.thread_time()
            await asyncio.sleep(0.01)
            late = time.perf_counter() - before - 0.01
            self.worst = max(self.worst, min(late, time.thread_time() - worked))


HELD_LIMIT = 0.5  # seconds one key may hold the app (the bound; a human notices far less)


@pytest.mark.parametrize("pane", ["data", "runs", "deployments", "metrics"])
async def test_a_monkey_cannot_break_the_pane(pane, tmp_path, monkeypatch, fake_app):
    monkeypatch.chdir(tmp_path)  # ctrl+o saves request histories into the current folder
    rng = random.Random(f"{SEED}-{pane}")
    app = fake_app(pane, contexts={"other": {}})
    app.animation_level = "none"  # pressing waits for animations to end; the monkey needs no smooth scrolling
    typed: list[str] = []
    slowest = (0.0, "")
    lag = LoopLag()
    # The monkey's letters and `enter` sometimes choose :quit in the palette or the : line. Quitting is not a
    # failure, but the run must go on: the app is told to exit only if something else asks (which then fails)
    ended_by: list[str] = []
    exit_app = app.exit

    def exit_unless_quit(*args, **kwargs):
        stack = traceback.format_stack(limit=8)
        if any("command_quit" in frame for frame in stack):
            return
        ended_by.append("".join(stack))
        exit_app(*args, **kwargs)

    app.exit = exit_unless_quit
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.3)
        watcher = asyncio.create_task(lag.watch())
        while len(typed) < KEYS_PER_PANE:
            # a burst of 1 to 8 keys, delivered at once as a paste or a slow link delivers them
            burst = []
            for _ in range(rng.randint(1, 8)):
                bound = [k for k, _a, _d in advertised_keys(app) if k not in NEVER]
                roll = rng.random()
                if roll < 0.45 and bound:
                    key = rng.choice(bound)
                elif roll < 0.85:
                    char = rng.choice(PRINTABLE)
                    key = NAMED.get(char, char)
                else:
                    key = rng.choice(["escape", "enter", "tab", "escape", "up", "down"])
                burst.append(key)
            typed.extend(burst)
            lag.worst = 0.0
            for key in burst:
                app._driver.send_message(key_event(app, key))
            await asyncio.sleep(0.02)
            if lag.worst > slowest[0]:
                slowest = (lag.worst, f"{burst} on {type(app.screen).__name__}")
            replay = f"seed {SEED}, pane {pane}, key {len(typed)}: {typed[-40:]}"
            assert app.is_running, f"the app ended: {replay}; {ended_by}"
            # focus may pass through a field that is closing (deferred by Textual) but must not stay there
            await until(lambda: app.focused is None or not _hidden(app.focused), 0.5)
            assert app.focused is None or not _hidden(app.focused), f"focus in a hidden widget: {replay}"
            if len(typed) % 200 < len(burst):
                await pilot.pause(0.1)  # let workers answer now and then, as a person's pauses do
        await pilot.pause(0.2)
        assert app.is_running
        watcher.cancel()
    assert slowest[0] < HELD_LIMIT, f"key {slowest[1]} held the app {slowest[0]:.2f} s (seed {SEED}, pane {pane})"
