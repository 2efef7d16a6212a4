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
    """Opens at once (saying that the links are being followed) and is filled by ``set_entries`` when they are
    known. ``enter`` dismisses with the index of the chosen entry, ``escape`` with None. Notes (what is not
    known) are listed too, and cannot be chosen."""

    DEFAULT_CSS = """
    LinkMenu { align: center middle; }
    LinkMenu > Vertical { width: 95%; max-width: 120; height: auto; max-height: 90%;
        border: thick $primary; background: $surface; }
    LinkMenu #title { text-style: bold; padding: 0 1; }
    LinkMenu #foot { color: $text-muted; padding: 0 1; }
    LinkMenu OptionList { height: auto; max-height: 30; }
    """
    BINDINGS = [Binding("escape,q", "dismiss_none", "Close", id="dialog.close")]

    def __init__(self, title: str, entries: Sequence[MenuEntry] | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.entries: tuple[MenuEntry, ...] = tuple(entries or ())
        self.loaded = entries is not None
        self.problem = ""

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, id="title", markup=False)
            yield OptionList(*self._options(), id="links")
            yield Label("enter: go there   escape: close   (backspace in a pane: back)", id="foot")

    def _options(self) -> list[Option]:
        if self.problem:
            return [Option(Text(self.problem, style="bold"), id="problem", disabled=True)]
        if not self.loaded:
            return [Option(Text("following the links ...", style="italic"), id="wait", disabled=True)]
        options = []
        for index, entry in enumerate(self.entries):
            text = Text()
            text.append(f"{entry.relation}: ", style="bold")
            text.append(entry.label or "-", style="bold" if entry.label else "italic")
            text.append(f"\n    {entry.evidence}", style="dim" if entry.label else "italic")
            options.append(Option(text, id=str(index), disabled=not entry.label))
        return options

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()
        if self.loaded:  # the answer may have come between compose and mount
            self._fill()

    def _fill(self) -> None:
        listing = next(iter(self.query(OptionList).results(OptionList)), None)
        if listing is None:  # the menu was closed (or is not built yet: on_mount fills it) as the links came in
            return
        listing.clear_options()
        listing.add_options(self._options())
        if not self.problem and any(e.label for e in self.entries):
            listing.highlighted = next(i for i, e in enumerate(self.entries) if e.label)

    def set_entries(self, entries: Sequence[MenuEntry]) -> None:
        self.entries, self.loaded = tuple(entries), True
        if self.is_mounted and self.is_attached:
            self._fill()

    def set_problem(self, text: str) -> None:
        self.problem, self.loaded = text, True
        if self.is_mounted and self.is_attached:
            self._fill()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        if event.option.id and event.option.id.isdigit():
            self.dismiss(int(event.option.id))

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
