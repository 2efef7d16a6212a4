"""A one-line prompt for a file path: ``enter`` gives the path typed (``~`` expanded), ``escape`` None."""

from __future__ import annotations

import os

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Label

from widgets.dialog import Dialog
from widgets.typeahead import focus_for_typing


class PathPrompt(Dialog[str | None]):
    DEFAULT_CSS = """
    PathPrompt { align: center middle; }
    PathPrompt > Vertical { width: 80%; max-width: 100; height: auto; border: thick $primary;
        background: $surface; padding: 0 1; }
    PathPrompt #hint { color: $text-muted; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="prompt.cancel")]

    def __init__(self, title: str, initial: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.initial = initial

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, markup=False)
            yield Input(value=self.initial, placeholder="path to a file", id="path")
            yield Label("enter: load   escape: cancel", id="hint", markup=False)

    def on_mount(self) -> None:
        focus_for_typing(self.query_one("#path", Input))

    @on(Input.Submitted, "#path")
    def _entered(self, event: Input.Submitted) -> None:
        path = event.value.strip()
        self.dismiss(os.path.expanduser(path) if path else None)

    def action_cancel(self) -> None:
        self.dismiss(None)
