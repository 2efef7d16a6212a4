"""The `L` menu: what a row links to in the other panes, each entry with the evidence the link rests on."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from widgets.dialog import Dialog


class MenuEntry(NamedTuple):
    relation: str  # "trained on", "served by" ...
    label: str  # the row it leads to; "" for a note (nothing to jump to)
    evidence: str


class LinkMenu(Dialog[int | None]):
    """``enter`` dismisses with the index of the chosen entry, ``escape`` with None. Notes (what is not known)
    are listed too, and cannot be chosen."""

    DEFAULT_CSS = """
    LinkMenu { align: center middle; }
    LinkMenu > Vertical { width: 95%; max-width: 120; height: auto; max-height: 90%;
        border: thick $primary; background: $surface; }
    LinkMenu #title { text-style: bold; padding: 0 1; }
    LinkMenu #foot { color: $text-muted; padding: 0 1; }
    LinkMenu OptionList { height: auto; max-height: 30; }
    """
    BINDINGS = [Binding("escape,q", "dismiss_none", "Close", id="dialog.close")]

    def __init__(self, title: str, entries: Sequence[MenuEntry]) -> None:
        super().__init__()
        self.title_text, self.entries = title, tuple(entries)

    def compose(self) -> ComposeResult:
        options = []
        for index, entry in enumerate(self.entries):
            text = Text()
            text.append(f"{entry.relation}: ", style="bold")
            text.append(entry.label or "-", style="bold" if entry.label else "italic")
            text.append(f"\n    {entry.evidence}", style="dim" if entry.label else "italic")
            options.append(Option(text, id=str(index), disabled=not entry.label))
        with Vertical():
            yield Label(self.title_text, id="title", markup=False)
            yield OptionList(*options, id="links")
            yield Label("enter: go there   escape: close   (backspace in a pane: back)", id="foot")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(int(event.option.id or "0"))

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
