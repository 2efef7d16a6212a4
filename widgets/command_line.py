"""The `:` command line: an input at the bottom with tab completion, dismissing with the line."""

from __future__ import annotations

from collections.abc import Callable

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.suggester import Suggester
from textual.widgets import Input, Label

from widgets.dialog import Dialog
from widgets.typeahead import focus_for_typing


class _CallableSuggester(Suggester):
    def __init__(self, complete: Callable[[str], list[str]]) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self._complete = complete

    async def get_suggestion(self, value: str) -> str | None:
        matches = self._complete(value)
        return matches[0] if matches else None


class CommandLine(Dialog[str | None]):
    """``complete(text)`` returns full-line candidates; ``tab`` accepts the first, ``escape`` cancels."""

    # the candidates stand above the line, never on it: what is typed is always visible
    DEFAULT_CSS = """
    CommandLine { align: left bottom; background: transparent; }
    CommandLine #cmdline { dock: bottom; height: auto; background: $panel; }
    CommandLine #hint { height: auto; max-height: 6; padding: 0 1; color: $text-muted; }
    CommandLine #hint.empty { display: none; }
    CommandLine #prompt { width: 1; height: 1; }
    CommandLine #line { height: 1; }
    CommandLine Input, CommandLine Input:focus { border: none; height: 1; padding: 0 0; width: 1fr;
        background: $panel; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="cmdline.cancel"),
        Binding("tab", "complete", "Complete", id="cmdline.complete", priority=True),
    ]

    def __init__(self, complete: Callable[[str], list[str]], initial: str = "", history: list[str] | None = None
                 ) -> None:
        super().__init__()
        self.complete = complete
        self.initial = initial
        self.history = history if history is not None else []
        self._history_index = len(self.history)

    def compose(self) -> ComposeResult:
        with Vertical(id="cmdline"):
            yield Label("", id="hint", classes="empty")
            with Horizontal(id="line"):
                yield Label(":", id="prompt")
                yield Input(value=self.initial, placeholder="command (tab completes, escape cancels)",
                            suggester=_CallableSuggester(self.complete), id="cmd")

    def on_mount(self) -> None:
        cmd = self._line()
        if cmd is None:  # the app is closing (a :quit just before): the line was taken apart as it was built
            return
        cmd.cursor_position = len(self.initial)
        focus_for_typing(cmd)  # the keys typed since `:` go in first
        self._show_hint(self.initial)

    def _show_hint(self, value: str) -> None:
        matches = self.complete(value)[:6]
        hint = self.query_one("#hint", Label)
        hint.update("\n".join(f":{m}" for m in matches))
        hint.set_class(not matches, "empty")

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        self._show_hint(event.value)

    def _line(self) -> Input | None:
        """The input, once built (a key typed in the same burst as `:` can come first)."""
        return next(self.query(Input).results(Input), None)

    def action_complete(self) -> None:
        cmd = self._line()
        if cmd is None:
            return
        matches = self.complete(cmd.value)
        if matches:
            cmd.value = matches[0]
            cmd.cursor_position = len(cmd.value)

    def key_up(self) -> None:
        if self.history and self._history_index > 0:
            self._history_index -= 1
            line = self._line()
            if line is not None:
                line.value = self.history[self._history_index]

    def key_down(self) -> None:
        if self._history_index < len(self.history) - 1:
            self._history_index += 1
            line = self._line()
            if line is not None:
                line.value = self.history[self._history_index]

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
