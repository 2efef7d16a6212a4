"""A typed yes/no (or several-choice) dialog returning through ``dismiss``."""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Label, Static

from widgets.dialog import Dialog


@dataclass(frozen=True)
class Choice:
    key: str  # the key that picks it
    label: str
    value: str


YES_NO = (Choice("y", "Yes", "yes"), Choice("n", "Cancel", ""))


class ConfirmDialog(Dialog[str | None]):
    """Dismisses with the chosen ``Choice.value``; ``n`` / ``escape`` dismiss with ``None``.

    ``y`` and ``enter`` pick the first choice (the action); a choice whose value is ``""`` is the cancel.
    """

    DEFAULT_CSS = """
    ConfirmDialog { align: center middle; }
    ConfirmDialog > Vertical { width: 90%; max-width: 100; height: auto; max-height: 90%;
        border: thick $primary; background: $surface; padding: 0 1; }
    ConfirmDialog #title { text-style: bold; width: 100%; content-align: center middle; }
    ConfirmDialog VerticalScroll { height: auto; max-height: 16; }
    ConfirmDialog Horizontal { height: auto; align: center middle; }
    ConfirmDialog Button { margin: 0 1; min-width: 10; }
    """

    ALLOWS_COMMANDS = False  # the app offers no `:` line or palette over a question
    BINDINGS = [
        Binding("escape,n", "choose('')", "Cancel", id="dialog.cancel"),
        Binding("enter", "choose_default", "Confirm", id="dialog.confirm", priority=True),
    ]

    def __init__(self, title: str, body: RenderableType, choices: tuple[Choice, ...] = YES_NO) -> None:
        super().__init__()
        self.title_text, self.body, self.choices = title, body, choices
        # each choice's key is a binding of this dialog (so help lists it), `y` also picks the first choice
        for index, choice in enumerate(choices):
            keys = choice.key + (",y" if index == 0 and choice.key != "y" else "")
            if choice.value:
                self._bindings.bind(keys, f"choose({choice.value!r})", choice.label)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, id="title", markup=False)
            with VerticalScroll():
                yield Static(self.body, id="body")
            with Horizontal():
                for choice in self.choices:
                    yield Button(Text(f"[{choice.key}] {choice.label}"), id=f"choice-{choice.key}",
                                 variant="primary" if choice.value else "default")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        key = (event.button.id or "").removeprefix("choice-")
        for choice in self.choices:
            if choice.key == key:
                self.dismiss(choice.value or None)

    def action_choose(self, value: str) -> None:
        self.dismiss(value or None)

    def action_choose_default(self) -> None:
        focused = self.focused
        if isinstance(focused, Button):
            focused.press()
            return
        self.dismiss(self.choices[0].value or None)
