"""Checks every approved snapshot must pass on the screen text before its picture is taken, so that a
picture is never approved while it shows stale busy words, a footer cut short or a hidden state."""

from __future__ import annotations

import re

from widgets.status import StatusBar

# the words a pane's status bar says while backend work is running (see ``busy=`` in console/panes)
BUSY = re.compile(r"\b(reading|loading|planning|comparing|preparing|checking out|stopping)\b", re.IGNORECASE)


def screen_rows(app) -> list[str]:
    """What the terminal shows now (the top screen, with any dialog), one string a row, right-stripped."""
    return [strip.text.rstrip() for strip in app.screen._compositor.render_strips()]


def check_screen(app, *, footer_help: bool = True) -> str:
    """The screen text, after checking what every snapshot must show: the footer ends with `? Help` (not when
    ``footer_help`` is false: a focused text field takes `?`), and no busy words linger in the status bar."""
    rows = screen_rows(app)
    if footer_help:
        assert rows[-1].endswith("? Help"), f"footer: {rows[-1]!r}"
    pane = app.current_pane()
    if pane is not None:
        status = pane.query_one("#status", StatusBar)
        assert status.level != "busy", f"stale busy words in the status bar: {status.text!r}"
    assert not BUSY.search(rows[-2]), f"busy words above the footer: {rows[-2]!r}"
    return "\n".join(rows)


def row_with(text: str, *needles: str) -> str:
    """The one screen row that holds all of ``needles`` (fails if none or several do)."""
    rows = [row for row in text.splitlines() if all(n in row for n in needles)]
    assert len(rows) == 1, f"{len(rows)} rows hold {needles}:\n{text}"
    return rows[0]
