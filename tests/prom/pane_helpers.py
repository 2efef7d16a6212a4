"""Helpers for the Metrics pane's Pilot tests."""

from __future__ import annotations

import asyncio
import time


async def wait_until(pilot, check, timeout: float = 10.0, what: str = "condition"):
    """Let the app run until ``check()`` is truthy (it is called on the test's loop, between frames)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = check()
        except Exception:  # noqa: BLE001 - the screen may be changing under us
            value = None
        if value:
            return value
        await pilot.pause(0.05)
        await asyncio.sleep(0)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def screen_text(app) -> str:
    """What the terminal shows, as plain text lines."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def table_rows(table) -> list[list[str]]:
    rows = []
    for row_key in table.rows:
        rows.append([str(getattr(cell, "plain", cell)) for cell in table.get_row(row_key)])
    return rows


async def type_query(pilot, text: str) -> None:
    """Open the editor (e), clear it and type ``text`` key by key."""
    await pilot.press("e", "ctrl+u")
    await pilot.press(*list(text))


async def first_poll(pilot, app):
    """The Metrics pane, once its first poll has answered."""
    return await wait_until(pilot, lambda: app.current_pane() if app.current_pane()
                            and app.current_pane().last_range else None, what="first poll")
