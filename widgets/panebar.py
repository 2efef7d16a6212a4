"""The top line: which pane is shown, the context, read-only."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class PaneBar(Static):
    DEFAULT_CSS = """
    PaneBar { height: 1; background: $primary-background; padding: 0 1; }
    """

    def __init__(self, panes: list[tuple[str, str]], active: str, context: str, read_only: bool,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.panes, self.active, self.context, self.read_only = panes, active, context, read_only
        self.trail: list[str] = []  # the rows jumped from (links), oldest first

    def on_mount(self) -> None:
        self.refresh_bar()

    def set_context(self, context: str, read_only: bool) -> None:
        self.context, self.read_only = context, read_only
        self.refresh_bar()

    def set_trail(self, crumbs: list[str]) -> None:
        self.trail = list(crumbs)
        self.refresh_bar()

    def refresh_bar(self) -> None:
        text = Text()
        if not self.trail:  # the breadcrumbs need the room
            text.append("mlops-console ", style="bold")
        for index, (key, title) in enumerate(self.panes, 1):
            # with breadcrumbs, the other panes are shown by their key alone: the crumbs need the room
            label = f" {index} {title} " if key == self.active or not self.trail else f" {index} "
            text.append(label, style="reverse bold" if key == self.active else "")
        text.append(f"  ctx: {self.context}", style="bold")
        if self.read_only:
            text.append("  [read-only]", style="bold reverse")
        if self.trail:
            shown = [crumb if len(crumb) <= 16 else crumb[:15] + "…" for crumb in self.trail[-2:]]
            more = "… › " if len(self.trail) > 2 else ""
            text.append(f"  back: {more}{' › '.join(shown)}", style="italic")
        self.update(text)
